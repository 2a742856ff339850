// Specs for the websocket Stream's opening handshake over TestStream: the client's request, each
// check of the server's response (crafted by the test), the response out-parameter, bytes after
// the 101; each check of the client's request on the server (the 400 / 426 response written
// before the error is delivered, with the request split between pre-read bytes and the stream),
// 100-continue, end of stream, accept from a parsed request (with and without head bytes), the
// decorator, and Beast's fail-count loop over handshake and accept.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import { error as httpError } from '../../../../lib/beast/http/error.js';
import { Request, Response } from '../../../../lib/beast/http/message.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import { testFailure } from '../../../../lib/beast/test/error.js';
import { condition, error } from '../../../../lib/beast/websocket/error.js';
import { makeSecAccept } from '../../../../lib/beast/websocket/hybi13.js';
import { Decorator } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  clientFrame,
  finish,
  headerField,
  makePair,
  Opcode,
  openClientAgainstRaw,
  peek,
  pump,
  recorder,
  SAMPLE_ACCEPT,
  SAMPLE_KEY,
  serverFrame,
  take,
  upgradeRequest,
  upgradeResponse,
  type Ec,
  type PairOptions,
  type UpgradeRequestParts,
  type UpgradeResponseParts,
} from './fixture.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** Splits a raw HTTP message into its head lines and body. */
function splitMessage(message: string): { start: string; fields: string[]; body: string } {
  const end = message.indexOf('\r\n\r\n');
  const lines = message.slice(0, end).split('\r\n');
  return { start: lines[0]!, fields: lines.slice(1), body: message.slice(end + 4) };
}

describe('websocket/Stream handshake', () => {
  describe('client', () => {
    it('sends Beast\'s request: GET target, Host, Upgrade, Connection, a fresh 16-byte key, version 13', () => {
      const { ioc, a, b, client } = makePair();
      client.asyncHandshake('example.com:8080', '/chat?room=1', recorder<[Ec]>().h);
      pump(ioc);
      const req = splitMessage(latin1(take(b)));
      expect(req.start).to.equal('GET /chat?room=1 HTTP/1.1');
      expect(req.body).to.equal('');
      const names = req.fields.map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
      expect(names).to.deep.equal(['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version']);
      const get = (n: string) => req.fields.find((l) => l.toLowerCase().startsWith(`${n.toLowerCase()}:`))!.split(': ')[1];
      expect(get('Host')).to.equal('example.com:8080');
      expect(get('Upgrade')).to.equal('websocket');
      expect(get('Connection')).to.equal('Upgrade');
      expect(get('Sec-WebSocket-Version')).to.equal('13');
      const key = get('Sec-WebSocket-Key')!;
      expect(key).to.match(/^[A-Za-z0-9+/]{22}==$/);
      expect(Buffer.from(key, 'base64').length).to.equal(16);

      // Another handshake uses another key.
      const p = makePair();
      p.client.asyncHandshake('example.com', '/', recorder<[Ec]>().h);
      pump(p.ioc);
      expect(headerField(latin1(take(p.b)), 'Sec-WebSocket-Key')).to.not.equal(key);
      finish(ioc, a, b);
      finish(p.ioc, p.a, p.b);
    });

    it('throws for an empty target', () => {
      const { ioc, a, b, client } = makePair();
      expect(() => client.asyncHandshake('localhost', '', recorder<[Ec]>().h)).to.throw(RangeError);
      finish(ioc, a, b);
    });

    /** Runs a client handshake answered by `response(request)`; returns its result and resOut. */
    function clientAgainst(response: (request: string) => string, opts: PairOptions = {}) {
      const { ioc, a, b, client } = makePair(opts);
      const res = new Response({ status: 200 });
      const hs = recorder<[Ec]>();
      client.asyncHandshake(res, 'localhost', '/', hs.h);
      pump(ioc);
      expect(res.status, 'resOut before the response').to.equal(500);
      expect(hs.called).to.equal(false);
      const request = latin1(take(b));
      a.append(response(request));
      pump(ioc);
      return { ioc, a, b, client, res, ec: hs.ec('handshake'), request };
    }

    const cases: Array<[string, UpgradeResponseParts, Ec]> = [
      ['a 200 response', { status: '200 OK', extra: [['Content-Length', '0']] }, error.upgradeDeclined],
      ['a 400 response', { status: '400 Bad Request', extra: [['Content-Length', '0']] }, error.upgradeDeclined],
      ['an HTTP/1.0 101 response', { version: 'HTTP/1.0' }, error.badHttpVersion],
      ['no Connection field', { connection: null }, error.noConnection],
      ['Connection without upgrade', { connection: 'keep-alive' }, error.noConnectionUpgrade],
      ['no Upgrade field', { upgrade: null }, error.noUpgrade],
      ['Upgrade without websocket', { upgrade: 'h2c' }, error.noUpgradeWebsocket],
      ['no Sec-WebSocket-Accept', { accept: null }, error.noSecAccept],
      ['a wrong Sec-WebSocket-Accept', { accept: SAMPLE_ACCEPT }, error.badSecAccept],
      ['a subprotocol that was not offered', { extra: [['Sec-WebSocket-Protocol', 'chat']] }, error.badSubprotocol],
      ['an extension that was not offered', { extra: [['Sec-WebSocket-Extensions', 'permessage-deflate']] }, error.badExtensionResponse],
    ];
    for (const [name, parts, expected] of cases) {
      it(`${name}: ${expected!.message()}, and resOut holds the response`, () => {
        const { ioc, a, b, client, res, ec } = clientAgainst((req) => upgradeResponse(req, parts));
        expect(ec).to.equal(expected);
        expect(condition.handshakeFailed.equivalent(ec!)).to.equal(true);
        const status = Number((parts.status ?? '101').slice(0, 3));
        expect(res.status).to.equal(status);
        expect(res.version).to.equal(parts.version === 'HTTP/1.0' ? 10 : 11);
        expect(client.isOpen()).to.equal(false);
        // A failed stream only aborts.
        const w = recorder();
        client.asyncWrite(bytesOf('x'), w.h);
        pump(ioc);
        expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
        finish(ioc, a, b);
      });
    }

    it('checks the accept value exactly (case-sensitive)', () => {
      const { ioc, a, b, ec } = clientAgainst((req) => {
        const good = makeSecAccept(headerField(req, 'Sec-WebSocket-Key')!);
        const flipped = good.replace(/[a-z]/, (c) => c.toUpperCase());
        return upgradeResponse(req, { accept: flipped === good ? good.toLowerCase() : flipped });
      });
      expect(ec).to.equal(error.badSecAccept);
      finish(ioc, a, b);
    });

    it('accepts token lists and any case in Connection and Upgrade', () => {
      const { ioc, a, b, client, ec } = clientAgainst((req) =>
        upgradeResponse(req, { connection: 'keep-alive, UPGRADE', upgrade: 'foo/2, WebSocket' }),
      );
      expect(ec).to.equal(null);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });

    it('a 401 with a body is visible in resOut (Beast issue 2364)', () => {
      const { ioc, a, b, res, ec } = clientAgainst(
        () => 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 4\r\n\r\nnope',
      );
      expect(ec).to.equal(error.upgradeDeclined);
      expect(res.status).to.equal(401);
      expect(res.reason).to.equal('Unauthorized');
      expect(res.fields.get('WWW-Authenticate')).to.equal('Basic');
      expect(latin1(bytesOf(res.body))).to.equal('nope');
      finish(ioc, a, b);
    });

    it('garbage instead of a response: an HTTP error, resOut keeps status 500', () => {
      const { ioc, a, b, res, ec } = clientAgainst(() => 'garbage\r\n\r\n');
      expect(ec).to.equal(httpError.badVersion);
      expect(res.status).to.equal(500);
      finish(ioc, a, b);
    });

    it('end of stream before a response: http endOfStream, resOut keeps status 500', () => {
      const { ioc, a, b, client } = makePair();
      const res = new Response();
      const hs = recorder<[Ec]>();
      client.asyncHandshake(res, 'localhost', '/', hs.h);
      pump(ioc);
      b.close();
      pump(ioc);
      expect(hs.ec()).to.equal(httpError.endOfStream);
      expect(res.status).to.equal(500);
      finish(ioc, a, b);
    });

    it('a subprotocol the client offered is accepted', () => {
      const { ioc, a, b, client } = makePair();
      client.setOption(new Decorator({ request: (req) => void req.fields.set('Sec-WebSocket-Protocol', 'chat, superchat') }));
      const res = new Response();
      const hs = recorder<[Ec]>();
      client.asyncHandshake(res, 'localhost', '/', hs.h);
      pump(ioc);
      const request = latin1(take(b));
      expect(headerField(request, 'Sec-WebSocket-Protocol')).to.equal('chat, superchat');
      a.append(upgradeResponse(request, { extra: [['Sec-WebSocket-Protocol', 'superchat']] }));
      pump(ioc);
      expect(hs.ec()).to.equal(null);
      expect(res.status).to.equal(101);
      expect(res.fields.get('Sec-WebSocket-Protocol')).to.equal('superchat');

      const p = makePair();
      p.client.setOption(new Decorator({ request: (req) => void req.fields.set('Sec-WebSocket-Protocol', 'chat') }));
      const hs2 = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs2.h);
      pump(p.ioc);
      p.a.append(upgradeResponse(latin1(take(p.b)), { extra: [['Sec-WebSocket-Protocol', 'superchat']] }));
      pump(p.ioc);
      expect(hs2.ec()).to.equal(error.badSubprotocol);
      finish(ioc, a, b);
      finish(p.ioc, p.a, p.b);
    });

    it('bytes after the 101 response are frame data', () => {
      const after = Buffer.concat([
        serverFrame({ opcode: Opcode.text, payload: 'first' }),
        serverFrame({ opcode: Opcode.binary, payload: 'second' }),
      ]);
      const { ioc, a, b, client } = openClientAgainstRaw({}, new Uint8Array(after));
      const buf = new FlatBuffer();
      const r1 = recorder();
      client.asyncRead(buf, r1.h);
      pump(ioc);
      expect(r1.once()).to.deep.equal([null, 5]);
      expect(client.gotText()).to.equal(true);
      const r2 = recorder();
      client.asyncRead(buf, r2.h);
      pump(ioc);
      expect(r2.once()).to.deep.equal([null, 6]);
      expect(client.gotBinary()).to.equal(true);
      expect(latin1(buf.dataView())).to.equal('firstsecond');
      finish(ioc, a, b);
    });

    it('accepts a response with a large header (Beast issue 1460)', () => {
      const { ioc, a, b, client, res, ec } = clientAgainst((req) =>
        upgradeResponse(req, { extra: [['X-Large', 'x'.repeat(6000)]] }),
      );
      expect(ec).to.equal(null);
      expect(res.fields.get('X-Large')!.length).to.equal(6000);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });

    it('reads a response delivered one byte at a time', () => {
      const { ioc, a, b, client, ec } = clientAgainst((req) => upgradeResponse(req), { readSize: 1 });
      expect(ec).to.equal(null);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });
  });

  describe('server', () => {
    /** The response a server wrote, parsed. */
    function parseResponse(raw: string) {
      const m = splitMessage(raw);
      return { ...m, field: (n: string) => headerField(raw, n) };
    }

    const cases: Array<[string, UpgradeRequestParts, Ec, number]> = [
      ['an HTTP/1.0 request', { version: 'HTTP/1.0' }, error.badHttpVersion, 400],
      ['a POST request', { method: 'POST' }, error.badMethod, 400],
      ['no Host field', { host: null }, error.noHost, 400],
      ['no Connection field', { connection: null }, error.noConnection, 400],
      ['Connection without upgrade', { connection: 'close' }, error.noConnectionUpgrade, 400],
      ['no Upgrade field', { upgrade: null }, error.noUpgrade, 400],
      ['Upgrade without websocket', { upgrade: 'h2c' }, error.noUpgradeWebsocket, 400],
      ['no Sec-WebSocket-Key', { key: null }, error.noSecKey, 400],
      ['a key longer than 24 characters', { key: `${SAMPLE_KEY}A` }, error.badSecKey, 400],
      ['a short key ("1234")', { key: '1234' }, error.badSecKey, 400],
      ['a key of 15 bytes', { key: Buffer.alloc(15, 7).toString('base64') }, error.badSecKey, 400],
      ['a key of 17 bytes', { key: Buffer.alloc(17, 7).toString('base64') }, error.badSecKey, 400],
      ['a 24-character key that is not base64', { key: 'dGhlIHNhbXBsZSBub25jZQ!!' }, error.badSecKey, 400],
      ['no Sec-WebSocket-Version', { secVersion: null }, error.noSecVersion, 400],
      ['Sec-WebSocket-Version 12', { secVersion: '12' }, error.badSecVersion, 426],
      ['Sec-WebSocket-Version 14', { secVersion: '14' }, error.badSecVersion, 426],
    ];

    for (const [name, parts, expected, status] of cases) {
      it(`${name}: ${status} written, then ${expected!.message()} (request split at 0, half, all)`, () => {
        const request = bytes(upgradeRequest(parts));
        for (const split of [0, request.length >> 1, request.length]) {
          const { ioc, a, b, server } = makePair();
          b.append(request.subarray(split));
          let seenAtCompletion = '';
          const acc = recorder<[Ec]>(() => void (seenAtCompletion = latin1(peek(a))));
          server.asyncAccept(request.subarray(0, split), acc.h);
          pump(ioc);
          expect(acc.ec(`accept, split ${split}`)).to.equal(expected);
          expect(condition.handshakeFailed.equivalent(acc.ec()!)).to.equal(true);
          const res = parseResponse(seenAtCompletion);
          // The response reuses the request's version.
          const version = parts.version ?? 'HTTP/1.1';
          expect(res.start).to.equal(status === 400 ? `${version} 400 Bad Request` : `${version} 426 Upgrade Required`);
          expect(res.field('Sec-WebSocket-Version')).to.equal(status === 426 ? '13' : undefined);
          expect(res.body).to.equal(expected!.message());
          expect(res.field('Content-Length')).to.equal(String(Buffer.byteLength(expected!.message())));
          expect(res.field('Server')).to.equal('tsbeast');
          expect(res.field('Sec-WebSocket-Accept')).to.equal(undefined);
          expect(server.isOpen()).to.equal(false);
          finish(ioc, a, b);
        }
      });
    }

    it('answers a valid request with 101 (request split at several points)', () => {
      const request = bytes(upgradeRequest());
      for (const split of [0, 1, 50, request.length - 1, request.length]) {
        const { ioc, a, b, server } = makePair();
        b.append(request.subarray(split));
        const acc = recorder<[Ec]>();
        server.asyncAccept(request.subarray(0, split), acc.h);
        pump(ioc);
        expect(acc.ec(`split ${split}`)).to.equal(null);
        const res = parseResponse(latin1(take(a)));
        expect(res.start).to.equal('HTTP/1.1 101 Switching Protocols');
        expect(res.field('Upgrade')).to.equal('websocket');
        expect(res.field('Connection')).to.equal('Upgrade');
        expect(res.field('Sec-WebSocket-Accept')).to.equal(SAMPLE_ACCEPT);
        expect(res.field('Server')).to.equal('tsbeast');
        expect(res.body).to.equal('');
        expect(server.isOpen()).to.equal(true);
        finish(ioc, a, b);
      }
    });

    it('frames right after the request (in the pre-read bytes or the stream) are read as messages', () => {
      const request = bytes(upgradeRequest());
      const frame = clientFrame({ opcode: Opcode.text, payload: 'early' });
      const all = new Uint8Array(Buffer.concat([request, frame]));
      for (const split of [10, request.length, request.length + 3, all.length]) {
        const { ioc, a, b, server } = makePair();
        b.append(all.subarray(split));
        const acc = recorder<[Ec]>();
        server.asyncAccept(all.subarray(0, split), acc.h);
        pump(ioc);
        expect(acc.ec()).to.equal(null);
        const buf = new FlatBuffer();
        const r = recorder();
        server.asyncRead(buf, r.h);
        pump(ioc);
        expect(r.once(`split ${split}`)).to.deep.equal([null, 5]);
        expect(latin1(buf.dataView())).to.equal('early');
        finish(ioc, a, b);
      }
    });

    it('reads a request delivered one byte at a time', () => {
      const { ioc, a, b, server } = makePair({ readSize: 1 });
      b.append(upgradeRequest());
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      expect(latin1(take(a)).startsWith('HTTP/1.1 101 Switching Protocols\r\n')).to.equal(true);
      finish(ioc, a, b);
    });

    it('sends 100 Continue first for Expect: 100-continue', () => {
      const { ioc, a, b, server } = makePair();
      b.append(upgradeRequest({ extra: [['Expect', '100-continue']] }));
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      const raw = latin1(take(a));
      const first = raw.slice(0, raw.indexOf('\r\n\r\n') + 4);
      const second = raw.slice(first.length);
      expect(first.startsWith('HTTP/1.1 100 Continue\r\n')).to.equal(true);
      expect(second.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).to.equal(true);
      expect(headerField(second, 'Sec-WebSocket-Accept')).to.equal(SAMPLE_ACCEPT);
      finish(ioc, a, b);
    });

    it('end of stream before a request: websocket closed', () => {
      const { ioc, a, b, server } = makePair();
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      expect(acc.called).to.equal(false);
      a.close();
      pump(ioc);
      expect(acc.ec()).to.equal(error.closed);
      expect(b.bufferedBytes()).to.equal(0);
      finish(ioc, a, b);
    });

    it('end of stream inside a request: http partialMessage, nothing written', () => {
      const { ioc, a, b, server } = makePair();
      b.append(upgradeRequest().slice(0, 30));
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      a.close();
      pump(ioc);
      expect(acc.ec()).to.equal(httpError.partialMessage);
      finish(ioc, a, b);
    });

    it('pre-read bytes beyond the read buffer: bufferOverflow', () => {
      const { ioc, a, b, server } = makePair();
      const acc = recorder<[Ec]>();
      server.asyncAccept(new Uint8Array(65537), acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(error.bufferOverflow);
      expect(server.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });

    it('a request parsed by the application: asyncAccept(request) answers it', () => {
      const { ioc, a, b, server } = makePair();
      const req = new Request({
        method: 'GET',
        target: '/x',
        fields: [
          ['Host', 'h'],
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
          ['Sec-WebSocket-Key', SAMPLE_KEY],
          ['Sec-WebSocket-Version', '13'],
        ],
      });
      const acc = recorder<[Ec]>();
      server.asyncAccept(req, acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      const raw = latin1(take(a));
      expect(raw.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).to.equal(true);
      expect(headerField(raw, 'Sec-WebSocket-Accept')).to.equal(SAMPLE_ACCEPT);
      // Then frames from the stream.
      b.append(clientFrame({ opcode: Opcode.text, payload: 'after' }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 5]);

      // An invalid parsed request gets its 400 and error.
      const p = makePair();
      const bad = new Request({ method: 'GET', fields: [['Host', 'h'], ['Upgrade', 'websocket']] });
      const acc2 = recorder<[Ec]>();
      p.server.asyncAccept(bad, acc2.h);
      pump(p.ioc);
      expect(acc2.ec()).to.equal(error.noConnection);
      expect(latin1(take(p.a)).startsWith('HTTP/1.1 400 Bad Request\r\n')).to.equal(true);
      finish(ioc, a, b);
      finish(p.ioc, p.a, p.b);
    });

    it('asyncAccept(request, head): the head bytes are frame data', () => {
      const { ioc, a, b, server } = makePair();
      const req = new Request({
        fields: [
          ['Host', 'h'],
          ['Upgrade', 'websocket'],
          ['Connection', 'upgrade'],
          ['Sec-WebSocket-Key', SAMPLE_KEY],
          ['Sec-WebSocket-Version', '13'],
        ],
      });
      const frame = clientFrame({ opcode: Opcode.binary, payload: 'head bytes' });
      const acc = recorder<[Ec]>();
      server.asyncAccept(req, frame.subarray(0, 7), acc.h);
      b.append(frame.subarray(7));
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      take(a);
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 10]);
      expect(latin1(buf.dataView())).to.equal('head bytes');
      expect(server.gotBinary()).to.equal(true);
      finish(ioc, a, b);
    });

    it('the decorator chooses a subprotocol and a Server field; the default Server is tsbeast', () => {
      const { ioc, a, b, client, server } = makePair();
      client.setOption(
        new Decorator({
          request: (req) => {
            req.fields.set('Sec-WebSocket-Protocol', 'v1.proto, v2.proto');
            req.fields.set('User-Agent', 'spec');
          },
        }),
      );
      let offered = '';
      server.setOption(
        new Decorator({
          response: (res) => {
            res.fields.set('Sec-WebSocket-Protocol', 'v2.proto');
            res.fields.set('Server', 'spec-server');
          },
          request: () => {
            offered = 'server request decorator must not run';
          },
        }),
      );
      const acc = recorder<[Ec]>();
      const hs = recorder<[Ec]>();
      const res = new Response();
      server.asyncAccept(acc.h);
      client.asyncHandshake(res, 'localhost', '/', hs.h);
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      expect(hs.ec()).to.equal(null);
      expect(offered).to.equal('');
      expect(res.fields.get('Sec-WebSocket-Protocol')).to.equal('v2.proto');
      expect(res.fields.get('Server')).to.equal('spec-server');
      finish(ioc, a, b);

      // The decorator also runs on failure responses.
      const p = makePair();
      p.server.setOption(new Decorator({ response: (r) => void r.fields.set('X-Tag', 'decorated') }));
      p.b.append(upgradeRequest({ key: null }));
      const acc2 = recorder<[Ec]>();
      p.server.asyncAccept(acc2.h);
      pump(p.ioc);
      expect(acc2.ec()).to.equal(error.noSecKey);
      const raw = latin1(take(p.a));
      expect(headerField(raw, 'X-Tag')).to.equal('decorated');
      expect(headerField(raw, 'Server')).to.equal('tsbeast');
      finish(p.ioc, p.a, p.b);
    });

    it('a second accept or handshake while one is outstanding: alreadyStarted', () => {
      const { ioc, a, b, server } = makePair();
      const acc = recorder<[Ec]>();
      const acc2 = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      server.asyncAccept(acc2.h);
      pump(ioc);
      expect(acc2.ec()).to.equal(netError.alreadyStarted);
      expect(acc.called).to.equal(false);
      b.append(upgradeRequest());
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      finish(ioc, a, b);
    });

    it('works with the Promise token inside run()', async () => {
      const { ioc, a, b, client, server } = makePair();
      const run = ioc.run();
      await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);
      await client.asyncWrite(bytesOf('hello'));
      const buf = new FlatBuffer();
      expect(await server.asyncRead(buf)).to.equal(5);
      const [rd] = await Promise.allSettled([server.asyncRead(buf), client.asyncClose(1000)]);
      expect(rd.status).to.equal('rejected');
      expect(((rd as PromiseRejectedResult).reason as SystemError).code).to.equal(error.closed);
      await run;
      expect(ioc.outstandingWork()).to.equal(0);
      finish(ioc, a, b);
    });
  });

  describe('cancellation', () => {
    it('terminal cancels a handshake waiting for the response; total is ignored', () => {
      const { ioc, a, b, client } = makePair();
      const sig = new CancellationSignal();
      const hs = recorder<[Ec]>();
      client.asyncHandshake('localhost', '/', bindCancellationSlot(sig.slot(), hs.h));
      pump(ioc);
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(hs.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(hs.ec()).to.equal(netError.operationAborted);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });

    it('terminal cancels an accept waiting for the request', () => {
      const { ioc, a, b, server } = makePair();
      const sig = new CancellationSignal();
      const acc = recorder<[Ec]>();
      b.append(upgradeRequest().slice(0, 20));
      server.asyncAccept(bindCancellationSlot(sig.slot(), acc.h));
      pump(ioc);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(acc.ec()).to.equal(netError.operationAborted);
      expect(a.bufferedBytes(), 'no response').to.equal(0);
      finish(ioc, a, b);
    });
  });

  describe('fail-count loop', () => {
    for (const readSize of [Infinity, 1]) {
      it(`every I/O step of handshake and accept fails once; each handler runs exactly once (readSize ${readSize})`, async () => {
        let sawSuccess = false;
        const runs = await failLoop((fc) => {
          const opts: PairOptions = { fcA: fc, fcB: fc };
          if (readSize !== Infinity) opts.readSize = readSize;
          const { ioc, a, b, client, server } = makePair(opts);
          const closeAll = (ec: Ec): void => {
            if (ec === null) return;
            a.close();
            b.close();
          };
          const acc = recorder<[Ec]>(closeAll);
          const hs = recorder<[Ec]>(closeAll);
          server.asyncAccept(acc.h);
          client.asyncHandshake('localhost', '/', hs.h);
          pump(ioc);
          const ecs = [acc.ec('accept'), hs.ec('handshake')];
          expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
          if (ecs.includes(testFailure)) throw new SystemError(testFailure);
          expect(ecs).to.deep.equal([null, null]);
          // The streams work after a successful run (these steps are counted too).
          const w = recorder(closeAll);
          const r = recorder(closeAll);
          client.asyncWrite(bytesOf('ok'), w.h);
          server.asyncRead(new FlatBuffer(), r.h);
          pump(ioc);
          const more = [w.ec('write'), r.ec('read')];
          finish(ioc, a, b);
          if (more.includes(testFailure)) throw new SystemError(testFailure);
          expect([w.once(), r.once()]).to.deep.equal([[null, 2], [null, 2]]);
          sawSuccess = true;
        });
        expect(sawSuccess).to.equal(true);
        expect(runs).to.be.greaterThan(readSize === 1 ? 100 : 4);
      });
    }
  });
});
