// Specs for lib/beast/http/parser.ts (with line-syntax.ts and field-syntax.ts): requests and
// responses in every framing, the consumed count that leaves following bytes to the caller,
// options, and one crafted input for each http.error the parser produces — each checked in one
// chunk and byte by byte, which must agree. Property tests are in parser-properties.spec.ts.

import { expect } from 'chai';

import type { ErrorCode } from '../../../lib/net/error.js';
import { error } from '../../../lib/beast/http/error.js';
import { RequestParser, ResponseParser, type ParserOptions } from '../../../lib/beast/http/parser.js';
import { bytes, feed, pieces, text, type Outcome } from './support.js';

type Kind = 'request' | 'response';
const parser = (kind: Kind, opts: ParserOptions = {}): RequestParser | ResponseParser =>
  kind === 'request' ? new RequestParser({ eager: true, ...opts }) : new ResponseParser({ eager: true, ...opts });

/** Parses `input` in one chunk and byte by byte; both must give the same outcome, returned. */
function parseBoth(kind: Kind, input: string, opts: ParserOptions = {}, eof = false): Outcome {
  const whole = feed(parser(kind, opts), [bytes(input)], eof);
  const split = feed(parser(kind, opts), pieces(bytes(input), 1), eof);
  expect(split, 'byte-by-byte parse differs').to.deep.equal(whole);
  return whole;
}

function expectError(kind: Kind, input: string, code: ErrorCode, opts: ParserOptions = {}, eof = false): void {
  const r = parseBoth(kind, input, opts, eof);
  expect(r.ec, `${JSON.stringify(input.slice(0, 80))} gave ${r.ec?.message() ?? 'success'}`).to.equal(code);
}

const WS_REQUEST =
  'GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

describe('beast/http/parser', () => {
  describe('requests', () => {
    it('parses a WebSocket upgrade request and leaves the bytes after it unconsumed', () => {
      const input = bytes(`${WS_REQUEST}\x81\x05hello`);
      for (const chunks of [[input], pieces(input, 1), pieces(input, 7)]) {
        const p = new RequestParser();
        const r = feed(p, chunks);
        expect(r).to.deep.equal({ ec: null, consumed: WS_REQUEST.length, done: true });
        const req = p.get();
        expect([req.method, req.target, req.version]).to.deep.equal(['GET', '/chat?x=1', 11]);
        expect(req.fields.get('sec-websocket-key')).to.equal('dGhlIHNhbXBsZSBub25jZQ==');
        expect([...req.fields].map(([n]) => n)).to.deep.equal([
          'Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version',
        ]);
        expect(req.body.length).to.equal(0);
        expect(p.upgrade()).to.equal(true);
        expect(p.keepAlive()).to.equal(true);
      }
    });

    it('put consumes only through the header when the message is complete', () => {
      const p = new RequestParser();
      const r = p.put(bytes(`${WS_REQUEST}NEXT`));
      expect(r).to.deep.equal({ ec: null, consumed: WS_REQUEST.length });
      expect(p.isHeaderDone()).to.equal(true);
      expect(p.isDone()).to.equal(true);
    });

    it('reads a Content-Length body and stops at its end', () => {
      const msg = 'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello';
      const r = parseBoth('request', `${msg}GET / HTTP/1.1\r\n`);
      expect(r).to.deep.equal({ ec: null, consumed: msg.length, done: true });
      const p = parser('request');
      feed(p, [bytes(msg)]);
      expect(text(p.get().body)).to.equal('hello');
      expect(p.contentLength()).to.equal(5);
    });

    it('accepts a Content-Length list of equal values and repeated equal fields (RFC 9110 8.6)', () => {
      const p = parser('request');
      expect(feed(p, [bytes('PUT / HTTP/1.1\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\nabc')]).ec).to.equal(null);
      expect(text(p.get().body)).to.equal('abc');
    });

    it('reads a chunked body with extensions and trailers; trailers stay apart', () => {
      const msg =
        'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nTrailer: Digest\r\n\r\n' +
        '5;name=value;q="a \\"b\\"";flag\r\nhello\r\n1 ; x = y\r\n!\r\n000\r\nDigest: abc\r\nFold: a\r\n b\r\n\r\n';
      const r = parseBoth('request', `${msg}rest`);
      expect(r).to.deep.equal({ ec: null, consumed: msg.length, done: true });
      const p = parser('request');
      feed(p, [bytes(msg)]);
      expect(text(p.get().body)).to.equal('hello!');
      expect(p.chunked()).to.equal(true);
      expect([...p.trailers()]).to.deep.equal([
        ['Digest', 'abc'],
        ['Fold', 'a b'],
      ]);
      expect(p.get().fields.has('Digest')).to.equal(false);
    });

    it('has no body without Content-Length or Transfer-Encoding', () => {
      expect(parseBoth('request', 'GET / HTTP/1.1\r\n\r\nbody?')).to.deep.equal({ ec: null, consumed: 18, done: true });
    });

    it('skips empty lines before the request-line (RFC 9112 section 2.2)', () => {
      const p = parser('request');
      expect(feed(p, [bytes('\r\n\r\nGET / HTTP/1.0\r\n\r\n')]).ec).to.equal(null);
      expect(p.get().version).to.equal(10);
      expect(p.keepAlive()).to.equal(false);
    });

    it('replaces obs-fold with one space, as Beast does (RFC 9112 section 5.2)', () => {
      const p = parser('request');
      feed(p, [bytes('GET / HTTP/1.1\r\nX: a \r\n \t b\r\n\tc\r\nEmpty:\r\n  \r\n d\r\nY:  \r\n\r\n')]);
      expect([...p.get().fields]).to.deep.equal([
        ['X', 'a b c'],
        ['Empty', 'd'],
        ['Y', ''],
      ]);
    });

    it('keeps obs-text bytes of values as latin1 characters', () => {
      const p = new RequestParser({ eager: true });
      feed(p, [bytes('GET /\xe9 HTTP/1.1\r\nX: caf\xe9\r\n\r\n')]);
      expect(p.get().target).to.equal('/\xe9');
      expect(p.get().fields.get('x')).to.equal('caf\xe9');
    });

    it('with eager off, put returns after the header and the body follows on the next put', () => {
      const p = new RequestParser();
      const input = bytes('POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokZ');
      const r1 = p.put(input);
      expect(r1).to.deep.equal({ ec: null, consumed: 38 });
      expect([p.isHeaderDone(), p.isDone()]).to.deep.equal([true, false]);
      const r2 = p.put(input.subarray(38));
      expect(r2).to.deep.equal({ ec: null, consumed: 2 });
      expect(p.isDone()).to.equal(true);
    });

    it('reports needMore with everything consumed while a message is incomplete', () => {
      const p = new RequestParser();
      expect(p.put(bytes('GET / HT'))).to.deep.equal({ ec: error.needMore, consumed: 8 });
      expect(p.put(new Uint8Array(0))).to.deep.equal({ ec: error.needMore, consumed: 0 });
      expect(p.bufferedBytes()).to.equal(8);
      expect(p.put(bytes('TP/1.1\r\n\r\n'))).to.deep.equal({ ec: null, consumed: 10 });
    });

    it('exposes limits and modes as getters and setters', () => {
      const p = new RequestParser();
      expect([p.headerLimit(), p.bodyLimit(), p.eager(), p.skip()]).to.deep.equal([8192, 1024 * 1024, false, false]);
      p.headerLimit(100);
      p.bodyLimit(null);
      p.eager(true);
      expect([p.headerLimit(), p.bodyLimit(), p.eager()]).to.deep.equal([100, null, true]);
      expect(new ResponseParser().bodyLimit()).to.equal(8 * 1024 * 1024);
      expect(p.isRequest).to.equal(true);
    });
  });

  describe('responses', () => {
    it('parses a 101 Switching Protocols with no body, leaving frame bytes', () => {
      const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
      const p = new ResponseParser({ eager: true });
      expect(feed(p, [bytes(`${head}\x82\x00`)])).to.deep.equal({ ec: null, consumed: head.length, done: true });
      expect([p.get().status, p.get().reason, p.get().version]).to.deep.equal([101, 'Switching Protocols', 11]);
    });

    it('gives 1xx, 204 and 304 no body even with a Content-Length (Beast)', () => {
      for (const status of ['100 Continue', '204 No Content', '304 Not Modified']) {
        const head = `HTTP/1.1 ${status}\r\nContent-Length: 10\r\n\r\n`;
        expect(parseBoth('response', `${head}xx`)).to.deep.equal({ ec: null, consumed: head.length, done: true });
      }
    });

    it('reads the body until end of stream when there is no framing', () => {
      const p = new ResponseParser({ eager: true });
      const r = feed(p, pieces(bytes('HTTP/1.0 200 OK\r\n\r\nall of this'), 3), true);
      expect(r).to.deep.equal({ ec: null, consumed: 30, done: true });
      expect(text(p.get().body)).to.equal('all of this');
      expect(parseBoth('response', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz', {}, true).ec).to.equal(null);
    });

    it('needEof tells a body that runs to the end of stream', () => {
      const p = new ResponseParser({ eager: true });
      p.put(bytes('HTTP/1.1 200 OK\r\n\r\nab'));
      expect([p.needEof(), p.keepAlive()]).to.deep.equal([true, false]);
      expect(p.putEof()).to.equal(null);
      expect(p.isDone()).to.equal(true);
    });

    it('skip: the response to HEAD has no body', () => {
      const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n';
      expect(parseBoth('response', head, { skip: true })).to.deep.equal({ ec: null, consumed: head.length, done: true });
    });

    it('accepts an empty reason phrase after the status SP', () => {
      const p = new ResponseParser({ eager: true });
      expect(feed(p, [bytes('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n')]).ec).to.equal(null);
      expect([p.get().status, p.get().reason]).to.deep.equal([404, '']);
    });
  });

  describe('errors (one crafted input per code; one chunk and byte by byte agree)', () => {
    it('needMore: an incomplete message', () => {
      expectError('request', 'GET / HTTP/1.1\r\nHost: x\r\n', error.needMore);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc', error.needMore);
    });

    it('endOfStream: end of stream before any byte (empty lines do not count)', () => {
      expect(new RequestParser().putEof()).to.equal(error.endOfStream);
      expectError('request', '\r\n\r\n', error.endOfStream, {}, true);
    });

    it('partialMessage: end of stream inside a message', () => {
      expectError('request', 'GET / HTTP/1.1\r\nHo', error.partialMessage, {}, true);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc', error.partialMessage, {}, true);
      expectError('response', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', error.partialMessage, {}, true);
    });

    it('headerLimit: a header longer than the limit, and endless empty lines', () => {
      const head = 'GET / HTTP/1.1\r\nX: 12345\r\n\r\n'; // 28 bytes
      expect(parseBoth('request', head, { headerLimit: 28 }).ec).to.equal(null);
      expectError('request', head, error.headerLimit, { headerLimit: 27 });
      expectError('request', `GET /${'a'.repeat(100)} HTTP/1.1\r\n\r\n`, error.headerLimit, { headerLimit: 50 });
      expectError('request', '\r\n'.repeat(5000), error.headerLimit);
      expectError('response', `HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(2000)}\r\n`, error.headerLimit);
    });

    it('headerLimit: trailers share what the header left', () => {
      const msg = `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${'v'.repeat(100)}\r\n\r\n`;
      expect(parseBoth('request', msg, { headerLimit: 160 }).ec).to.equal(null);
      expectError('request', msg, error.headerLimit, { headerLimit: 100 });
    });

    it('bodyLimit: by Content-Length, by chunk sizes, and by a body to end of stream', () => {
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n', error.bodyLimit, { bodyLimit: 10 });
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n', error.bodyLimit, { bodyLimit: null });
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n', error.bodyLimit, { bodyLimit: 10 });
      expectError('response', `HTTP/1.1 200 OK\r\n\r\n${'z'.repeat(11)}`, error.bodyLimit, { bodyLimit: 10 });
      expect(parseBoth('request', 'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789', { bodyLimit: 10 }).ec).to.equal(null);
    });

    it('badLineEnding: bare LF anywhere, bare CR in a value, reason or chunk line', () => {
      expectError('request', 'GET / HTTP/1.1\n\n', error.badLineEnding);
      expectError('request', 'GET / HTTP/1.1\r\nHost: x\n\r\n', error.badLineEnding);
      expectError('request', 'GET / HTTP/1.1\r\nHost: x\r\n\n', error.badLineEnding);
      expectError('request', '\nGET / HTTP/1.1\r\n\r\n', error.badLineEnding);
      expectError('request', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', error.badLineEnding);
      expectError('response', 'HTTP/1.1 200 O\rK\r\n\r\n', error.badLineEnding);
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r;\r\n', error.badLineEnding);
      expectError('request', 'GET / HTTP/1.1\r\nX: a\r\n b\n\r\n', error.badLineEnding);
    });

    it('badMethod: not a token, empty, or not followed by one SP', () => {
      expectError('request', 'G@T / HTTP/1.1\r\n\r\n', error.badMethod);
      expectError('request', ' / HTTP/1.1\r\n\r\n', error.badMethod);
      expectError('request', 'GET\r\n\r\n', error.badMethod);
      expectError('request', 'GET\t/ HTTP/1.1\r\n\r\n', error.badMethod);
    });

    it('badTarget: empty, or holding a control character', () => {
      expectError('request', 'GET  HTTP/1.1\r\n\r\n', error.badTarget);
      expectError('request', 'GET /a\x01b HTTP/1.1\r\n\r\n', error.badTarget);
      expectError('request', 'GET /a\x7f HTTP/1.1\r\n\r\n', error.badTarget);
      expectError('request', 'GET /\r\n\r\n', error.badTarget);
    });

    it('badVersion: malformed, not 1.0 or 1.1, or followed by anything', () => {
      expectError('request', 'GET / HTTP/2.0\r\n\r\n', error.badVersion);
      expectError('request', 'GET / HTTP/0.9\r\n\r\n', error.badVersion);
      expectError('request', 'GET / HTTP/1.1 \r\n\r\n', error.badVersion);
      expectError('request', 'GET / http/1.1\r\n\r\n', error.badVersion);
      expectError('request', 'GET / HTTP/1\r\n\r\n', error.badVersion);
      expectError('response', 'HTTP/1.1200 OK\r\n\r\n', error.badVersion);
      expectError('response', '\r\nHTTP/1.1 200 OK\r\n\r\n', error.badVersion);
    });

    it('badStatus: not three digits and a SP', () => {
      expectError('response', 'HTTP/1.1 20 OK\r\n\r\n', error.badStatus);
      expectError('response', 'HTTP/1.1 2000 OK\r\n\r\n', error.badStatus);
      expectError('response', 'HTTP/1.1 200\r\n\r\n', error.badStatus);
      expectError('response', 'HTTP/1.1 2x0 OK\r\n\r\n', error.badStatus);
    });

    it('badReason: a control character in the reason phrase', () => {
      expectError('response', 'HTTP/1.1 200 O\x00K\r\n\r\n', error.badReason);
      expectError('response', 'HTTP/1.1 200 O\x7fK\r\n\r\n', error.badReason);
    });

    it('badField: empty name, non-token name, space before the colon, no colon, leading space', () => {
      expectError('request', 'GET / HTTP/1.1\r\n: x\r\n\r\n', error.badField);
      expectError('request', 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n', error.badField);
      expectError('request', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', error.badField);
      expectError('request', 'GET / HTTP/1.1\r\nNoColon\r\n\r\n', error.badField);
      expectError('request', 'GET / HTTP/1.1\r\n Host: x\r\n\r\n', error.badField);
      expectError('request', 'GET / HTTP/1.1\r\nX(y): x\r\n\r\n', error.badField);
    });

    it('badValue: a control character in a value or a fold; a Connection that is not a token list', () => {
      expectError('request', 'GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n', error.badValue);
      expectError('request', 'GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n', error.badValue);
      expectError('request', 'GET / HTTP/1.1\r\nX: a\r\n b\x00\r\n\r\n', error.badValue);
      expectError('request', 'GET / HTTP/1.1\r\nConnection: keep alive\r\n\r\n', error.badValue);
    });

    it('badContentLength: not a number, empty element, or after Transfer-Encoding', () => {
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n', error.badContentLength);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', error.badContentLength);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 1,,1\r\n\r\n', error.badContentLength);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', error.badContentLength);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 184467440737095516160\r\n\r\n', error.badContentLength);
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n', error.badContentLength);
    });

    it('badTransferEncoding: chunked not last, chunked in HTTP/1.0, after Content-Length, twice', () => {
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', error.badTransferEncoding);
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', error.badTransferEncoding);
      expectError('request', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', error.badTransferEncoding);
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', error.badTransferEncoding);
      expectError('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', error.badTransferEncoding);
    });

    it('badChunk: a size that is not hex or needs more than 64 bits; data not followed by CRLF', () => {
      const head = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
      expectError('request', `${head}zz\r\n`, error.badChunk);
      expectError('request', `${head};a\r\n`, error.badChunk);
      expectError('request', `${head}10000000000000000\r\n`, error.badChunk, { bodyLimit: null });
      expectError('request', `${head}3\r\nabcX\r\n`, error.badChunk);
      expectError('request', `${head}3\r\nabc\rX`, error.badChunk);
      expectError('request', `${head}3\r\nabc\n`, error.badChunk);
    });

    it('badChunkExtension: malformed extensions and chunk lines longer than 8 KiB', () => {
      const head = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
      expectError('request', `${head}5;\r\n`, error.badChunkExtension);
      expectError('request', `${head}5 \r\n`, error.badChunkExtension);
      expectError('request', `${head}5;a=\r\n`, error.badChunkExtension);
      expectError('request', `${head}5;a="x\r\n`, error.badChunkExtension);
      expectError('request', `${head}5;a=b c\r\n`, error.badChunkExtension);
      expectError('request', `${head}5;a \r\n`, error.badChunkExtension);
      expectError('request', `${head}5x\r\n`, error.badChunkExtension);
      expectError('request', `${head}5;a=${'b'.repeat(9000)}\r\n`, error.badChunkExtension);
    });

    it('badObsFold: a folded value longer than 4096 bytes', () => {
      const fold = `\r\n ${'f'.repeat(1000)}`.repeat(5);
      expectError('request', `GET / HTTP/1.1\r\nX: a${fold}\r\n\r\n`, error.badObsFold);
      expect(parseBoth('request', `GET / HTTP/1.1\r\nX: a${'\r\n b'.repeat(100)}\r\n\r\n`).ec).to.equal(null);
    });

    it('multipleContentLength: different values in a list or in repeated fields', () => {
      expectError('request', 'POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n', error.multipleContentLength);
      expectError('response', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', error.multipleContentLength);
    });

    it('staleParser: put after the message is done', () => {
      const p = new RequestParser();
      expect(p.put(bytes('GET / HTTP/1.1\r\n\r\n')).ec).to.equal(null);
      expect(p.put(bytes('GET'))).to.deep.equal({ ec: error.staleParser, consumed: 0 });
      expect(p.putEof()).to.equal(null);
    });

    it('an error is sticky: later calls return it and consume nothing', () => {
      const p = new RequestParser();
      expect(p.put(bytes('G@T / HTTP/1.1\r\n')).ec).to.equal(error.badMethod);
      expect(p.put(bytes('GET / HTTP/1.1\r\n\r\n'))).to.deep.equal({ ec: error.badMethod, consumed: 0 });
      expect(p.putEof()).to.equal(error.badMethod);
      expect(p.error()).to.equal(error.badMethod);
    });

    it('a field error is reported as soon as the next line starts (no wait for its end)', () => {
      const p = new RequestParser();
      expect(p.put(bytes('POST / HTTP/1.1\r\nContent-Length: x\r\n')).ec).to.equal(error.needMore);
      expect(p.put(bytes('A')).ec).to.equal(error.badContentLength);
    });
  });
});
