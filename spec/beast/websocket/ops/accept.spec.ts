// Specs for the server's side of the opening handshake (ops/accept.ts): the 101 response, written
// as one string when no response decorator is set (the fast path), byte for byte the general
// path's (buildResponse and the HTTP serializer); every refused request answered with its status
// and error; requests split anywhere, pre-read bytes, asyncAccept(request), decorators;
// cancellation, a read started during the accept, and the handshake timeout bounding it.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';
import { error as beastError } from '../../../../lib/beast/core/error.js';
import { error as httpError } from '../../../../lib/beast/http/error.js';
import { Request, Response } from '../../../../lib/beast/http/message.js';
import { RequestParser } from '../../../../lib/beast/http/parser.js';
import { serialize } from '../../../../lib/beast/http/serializer.js';
import { PermessageDeflate } from '../../../../lib/beast/websocket/deflate.js';
import { condition, error } from '../../../../lib/beast/websocket/error.js';
import { buildResponse } from '../../../../lib/beast/websocket/ops/accept.js';
import { Decorator, Timeout } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  clientFrame,
  finish,
  headerField,
  makePair,
  Opcode,
  peek,
  pump,
  recorder,
  SAMPLE_ACCEPT,
  SAMPLE_KEY,
  take,
  upgradeRequest,
  useFakeClock,
  type Ec,
  type UpgradeRequestParts,
} from './fixture.js';
import { scenario } from './do-test.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** Splits a raw HTTP message into its head lines and body. */
function splitMessage(message: string): { start: string; fields: string[]; body: string } {
  const end = message.indexOf('\r\n\r\n');
  const lines = message.slice(0, end).split('\r\n');
  return { start: lines[0]!, fields: lines.slice(1), body: message.slice(end + 4) };
}

function parse(request: string) {
  const p = new RequestParser();
  p.eager(true);
  p.put(Buffer.from(request, 'latin1'));
  expect(p.isDone()).to.equal(true);
  return p.get();
}

/** What the general path writes for `request`. */
function serialized(request: string, pmd: PermessageDeflate): string {
  const { res } = buildResponse(parse(request), null, pmd);
  return serialize(res).map(latin1).join('');
}

describe('websocket/Stream accept: the 101 response', () => {
  const offers: [string, string | null][] = [
    ['no extension offered', null],
    ['a deflate offer', 'permessage-deflate; client_max_window_bits'],
    ['a deflate offer with parameters', 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10'],
    ['an offer that is declined', 'x-unknown-extension'],
  ];
  for (const [name, offer] of offers) {
    for (const enabled of [false, true]) {
      scenario(`is byte for byte the general path's (${name}, deflate ${enabled ? 'enabled' : 'disabled'})`, function () {
        // Without Node's synchronous zlib the extension is never accepted (net/node-internals.ts, 4).
        if (enabled && !hasSyncZlib()) this.skip();
        const request = upgradeRequest(offer === null ? {} : { extra: [['Sec-WebSocket-Extensions', offer]] });
        const pmd = new PermessageDeflate({ serverEnable: enabled });
        const { ioc, a, b, server } = makePair();
        server.setOption(pmd);
        // A decorator of requests only cannot change the response: the fast path still applies.
        server.setOption(new Decorator({ request: () => {} }));
        b.append(request);
        const acc = recorder<[Ec]>();
        server.asyncAccept(acc.h);
        pump(ioc);
        expect(acc.ec()).to.equal(null);
        expect(latin1(take(a))).to.equal(serialized(request, pmd));
        expect(server.getStatus().active).to.equal(enabled && offer !== null && offer.startsWith('permessage-deflate'));
        finish(ioc, a, b);
      });
    }
  }
});

describe('websocket/Stream accept: the server side of the handshake', () => {
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
      scenario(`${name}: ${status} written, then ${expected!.message()} (request split at 0, half, all)`, () => {
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

    scenario('answers a valid request with 101 (request split at several points)', () => {
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

    scenario('frames right after the request (in the pre-read bytes or the stream) are read as messages', () => {
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

    scenario('reads a request delivered one byte at a time', () => {
      const { ioc, a, b, server } = makePair({ readSize: 1 });
      b.append(upgradeRequest());
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(null);
      expect(latin1(take(a)).startsWith('HTTP/1.1 101 Switching Protocols\r\n')).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('sends 100 Continue first for Expect: 100-continue', () => {
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

    scenario('end of stream before a request: websocket closed', () => {
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

    scenario('end of stream inside a request: http partialMessage, nothing written', () => {
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

    // No I/O before the error: nothing for doTest to fail.
    it('pre-read bytes beyond the read buffer: bufferOverflow', () => {
      const { ioc, a, b, server } = makePair();
      const acc = recorder<[Ec]>();
      server.asyncAccept(new Uint8Array(65537), acc.h);
      pump(ioc);
      expect(acc.ec()).to.equal(error.bufferOverflow);
      expect(server.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });

    scenario('a request parsed by the application: asyncAccept(request) answers it', () => {
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

    scenario('asyncAccept(request, head): the head bytes are frame data', () => {
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

    scenario('the decorator chooses a subprotocol and a Server field; the default Server is tsbeast', () => {
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

    scenario('a second accept or handshake while one is outstanding: alreadyStarted', () => {
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

    scenario('works with the Promise token inside run()', async () => {
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
    scenario('terminal cancels an accept waiting for the request', () => {
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

  describe('other operations during the accept (17.4)', () => {
    scenario('a server: a read started during the accept is refused, and the accept completes once', () => {
      const p = makePair();
      const acc = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      const r = recorder();
      p.server.asyncRead(new FlatBuffer(), r.h);
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect(r.once()).to.deep.equal([netError.inProgress, 0]);
      expect([acc.ec(), hs.ec()]).to.deep.equal([null, null]);
      finish(p.ioc, p.a, p.b);
    });
  });
});

describe('websocket/Stream accept: the handshake timeout', () => {
  const fake = useFakeClock();
  const tick = (ioc: IoContext, ms: number): void => fake.tick(ioc, ms);

  scenario('the handshake timeout bounds an accept with a silent client (after a partial request too)', () => {
    for (const partial of ['', upgradeRequest().slice(0, 40)]) {
      const { ioc, a, b, server } = makePair();
      server.setOption(Timeout.suggested('server'));
      b.append(partial);
      const acc = recorder<[Ec]>();
      server.asyncAccept(acc.h);
      pump(ioc);
      tick(ioc, 29_999);
      expect(acc.called).to.equal(false);
      tick(ioc, 1);
      expect(acc.ec()).to.equal(beastError.timeout);
      expect(a.bufferedBytes(), 'no response').to.equal(0);
      expect(fake.clock.countTimers()).to.equal(0);
      finish(ioc, a, b);
    }
  });
});
