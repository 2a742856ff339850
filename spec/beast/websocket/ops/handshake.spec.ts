// Specs for the client side of the opening handshake (ops/handshake.ts) over TestStream: the
// client's request, each check of the server's response (crafted by the test), the response
// out-parameter, bytes after the 101, its cancellation, Beast's fail-count loop over handshake and
// accept, the other operations started while the handshake is outstanding, and the handshake
// timeout. The server's side (asyncAccept) is in accept.spec.ts.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { condition as beastCondition, error as beastError } from '../../../../lib/beast/core/error.js';
import { error as httpError } from '../../../../lib/beast/http/error.js';
import { Response } from '../../../../lib/beast/http/message.js';
import { testFailure } from '../../../../lib/beast/test/error.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import { condition, error } from '../../../../lib/beast/websocket/error.js';
import { makeSecAccept } from '../../../../lib/beast/websocket/hybi13.js';
import { Decorator, none, Timeout } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  finish,
  headerField,
  makePair,
  Opcode,
  openClientAgainstRaw,
  peek,
  peerClosed,
  pump,
  recorder,
  SAMPLE_ACCEPT,
  serverFrame,
  take,
  upgradeResponse,
  useFakeClock,
  type Ec,
  type PairOptions,
  type UpgradeResponseParts,
} from './fixture.js';
import { scenario } from './do-test.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** Splits a raw HTTP message into its head lines and body. */
function splitMessage(message: string): { start: string; fields: string[]; body: string } {
  const end = message.indexOf('\r\n\r\n');
  const lines = message.slice(0, end).split('\r\n');
  return { start: lines[0]!, fields: lines.slice(1), body: message.slice(end + 4) };
}

describe('websocket/Stream handshake', () => {
  describe('client', () => {
    scenario('sends Beast\'s request: GET target, Host, Upgrade, Connection, a fresh 16-byte key, version 13', () => {
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

    // No I/O: nothing for doTest to fail.
    it('throws for an empty target', () => {
      const { ioc, a, b, client } = makePair();
      expect(() => client.asyncHandshake('localhost', '', () => {})).to.throw(RangeError);
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
      scenario(`${name}: ${expected!.message()}, and resOut holds the response`, () => {
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

    scenario('checks the accept value exactly (case-sensitive)', () => {
      const { ioc, a, b, ec } = clientAgainst((req) => {
        const good = makeSecAccept(headerField(req, 'Sec-WebSocket-Key')!);
        const flipped = good.replace(/[a-z]/, (c) => c.toUpperCase());
        return upgradeResponse(req, { accept: flipped === good ? good.toLowerCase() : flipped });
      });
      expect(ec).to.equal(error.badSecAccept);
      finish(ioc, a, b);
    });

    scenario('accepts token lists and any case in Connection and Upgrade', () => {
      const { ioc, a, b, client, ec } = clientAgainst((req) =>
        upgradeResponse(req, { connection: 'keep-alive, UPGRADE', upgrade: 'foo/2, WebSocket' }),
      );
      expect(ec).to.equal(null);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('a 401 with a body is visible in resOut (Beast issue 2364)', () => {
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

    scenario('garbage instead of a response: an HTTP error, resOut keeps status 500', () => {
      const { ioc, a, b, res, ec } = clientAgainst(() => 'garbage\r\n\r\n');
      expect(ec).to.equal(httpError.badVersion);
      expect(res.status).to.equal(500);
      finish(ioc, a, b);
    });

    scenario('end of stream before a response: http endOfStream, resOut keeps status 500', () => {
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

    scenario('a subprotocol the client offered is accepted', () => {
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

    scenario('bytes after the 101 response are frame data', () => {
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

    scenario('accepts a response with a large header (Beast issue 1460)', () => {
      const { ioc, a, b, client, res, ec } = clientAgainst((req) =>
        upgradeResponse(req, { extra: [['X-Large', 'x'.repeat(6000)]] }),
      );
      expect(ec).to.equal(null);
      expect(res.fields.get('X-Large')!.length).to.equal(6000);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('reads a response delivered one byte at a time', () => {
      const { ioc, a, b, client, ec } = clientAgainst((req) => upgradeResponse(req), { readSize: 1 });
      expect(ec).to.equal(null);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });
  });

  describe('cancellation', () => {
    scenario('terminal cancels a handshake waiting for the response; total is ignored', () => {
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

describe('websocket/Stream handshake: other operations during the handshake (17.4)', () => {
  describe('a client', () => {
    scenario('a client: write, read, ping, pong and close complete with inProgress (posted); nothing but the request goes out', () => {
      const p = makePair();
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      const w = recorder();
      const r = recorder();
      const ping = recorder<[Ec]>();
      const pong = recorder<[Ec]>();
      const close = recorder<[Ec]>();
      const hs2 = recorder<[Ec]>();
      p.client.asyncWrite(bytesOf('too early'), w.h);
      p.client.asyncRead(new FlatBuffer(), r.h);
      p.client.asyncPing('', ping.h);
      p.client.asyncPong('', pong.h);
      p.client.asyncClose(1000, close.h);
      p.client.asyncHandshake('localhost', '/', hs2.h);
      // Never inside the initiating call.
      expect([w.called, r.called, ping.called, pong.called, close.called, hs2.called]).to.deep.equal([false, false, false, false, false, false]);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([netError.inProgress, 0]);
      expect(r.once()).to.deep.equal([netError.inProgress, 0]);
      expect([ping.ec(), pong.ec(), close.ec(), hs2.ec()]).to.deep.equal([
        netError.inProgress,
        netError.inProgress,
        netError.inProgress,
        netError.alreadyStarted,
      ]);
      // Only the upgrade request is on the wire (RFC 6455 section 4.1).
      const sent = Buffer.from(peek(p.b)).toString('latin1');
      expect(sent.startsWith('GET / HTTP/1.1\r\n')).to.equal(true);
      expect(sent.endsWith('\r\n\r\n')).to.equal(true);
      expect(hs.called).to.equal(false);
      // The handshake is undisturbed and completes exactly once.
      const acc = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      pump(p.ioc);
      expect([hs.ec(), acc.ec()]).to.deep.equal([null, null]);
      const w2 = recorder();
      p.client.asyncWrite(bytesOf('now'), w2.h);
      pump(p.ioc);
      expect(w2.once()).to.deep.equal([null, 3]);
      finish(p.ioc, p.a, p.b);
    });
  });
});

describe('websocket/Stream handshake: the handshake timeout', () => {
  const fake = useFakeClock();
  const tick = (ioc: IoContext, ms: number): void => fake.tick(ioc, ms);

  scenario('the handshake timeout bounds a client handshake with a silent server', () => {
    const { ioc, a, b, client } = makePair();
    client.setOption(new Timeout(1000, none, false));
    const hs = recorder<[Ec]>();
    client.asyncHandshake('localhost', '/', hs.h);
    pump(ioc);
    tick(ioc, 999);
    expect(hs.called).to.equal(false);
    tick(ioc, 1);
    expect(hs.ec()).to.equal(beastError.timeout);
    expect(hs.ec()!.matches(beastCondition.timeout)).to.equal(true);
    expect(client.isOpen()).to.equal(false);
    // The socket was closed: the peer reads the request, then the end of the stream.
    expect(peerClosed(ioc, b)).to.equal(true);
    expect(fake.clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  scenario('a completed handshake cancels the handshake timer; with no idle timeout none is left', () => {
    const { ioc, a, b, client, server } = makePair();
    client.setOption(Timeout.suggested('client'));
    server.setOption(new Timeout(1000, none, false));
    const acc = recorder<[Ec]>();
    const hs = recorder<[Ec]>();
    server.asyncAccept(acc.h);
    client.asyncHandshake('localhost', '/', hs.h);
    pump(ioc);
    expect([acc.ec(), hs.ec()]).to.deep.equal([null, null]);
    expect(fake.clock.countTimers()).to.equal(0);
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    tick(ioc, 60_000);
    expect(r.called).to.equal(false);
    finish(ioc, a, b);
  });
});
