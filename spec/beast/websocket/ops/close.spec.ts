// Specs for the close operation (ops/close.ts) over TestStream: our closing handshake, what is
// sent, what the read waiting meanwhile sees, and what arrives while we wait for the peer's close.
// What else can run during a close: reads, writes and pings started during it or outstanding
// when it starts, what arrives while it waits for the peer, its cancellation, the handshake
// timeout bounding it, and the arguments it refuses.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { cancelAfter } from '../../../../lib/net/cancel-after.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { error as beastError } from '../../../../lib/beast/core/error.js';
import { closeReason } from '../../../../lib/beast/websocket/close.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { none, Timeout } from '../../../../lib/beast/websocket/options.js';
import { parkedIn, sideHeld } from '../../../support/internals.js';
import {
  bytesOf,
  closeCodeOf,
  closePayload,
  echo,
  finish,
  frameBytes,
  onlyCloseCode,
  Opcode,
  openClientAgainstRaw,
  openPair,
  openServerAgainstRaw,
  ordered,
  parseFrames,
  pattern,
  peek,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  stepUntil,
  take,
  useFakeClock,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('websocket/Stream close', () => {
  describe('our closing handshake', () => {
    scenario('close drains data, pings and big frames until the peer\'s close: no pong, no callback', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const seen: string[] = [];
      client.controlCallback((kind) => seen.push(kind));
      const c = recorder<[Ec]>();
      client.asyncClose({ code: 1001, reason: 'bye' }, c.h);
      pump(ioc);
      const sent = parseFrames(take(b));
      expect(sent.length).to.equal(1);
      expect(closeCodeOf(sent[0]!)).to.equal(1001);
      expect(text(sent[0]!.payload.subarray(2))).to.equal('bye');
      a.append(serverFrame({ opcode: Opcode.text, payload: 'late' }));
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'p' }));
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(200_000) }));
      a.append(serverFrame({ opcode: Opcode.pong }));
      pump(ioc);
      expect(c.called).to.equal(false);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1001, 'ok') }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(seen).to.deep.equal([]);
      expect(client.reason()).to.deep.equal({ code: 1001, reason: 'ok' });
      expect(b.bufferedBytes(), 'no pong').to.equal(0);
      expect(peerClosed(ioc, b)).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('close drains the rest of a message a read left half-read', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(5000) }));
      const r = recorder();
      client.asyncReadSome(new Uint8Array(10), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 10]);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      finish(ioc, a, b);
    });

    for (const [name, frame, ec] of [
      ['a reserved opcode', serverFrame({ opcode: 3 }), error.badOpcode],
      ['a masked frame', frameBytes({ opcode: Opcode.text, payload: 'x', key: 5 }), error.badMaskedFrame],
      ['a close code of 1005', serverFrame({ opcode: Opcode.close, payload: closePayload(1005) }), error.badCloseCode],
      ['a close reason that is not UTF-8', serverFrame({ opcode: Opcode.close, payload: closePayload(1000, Uint8Array.of(0xc0)) }), error.badClosePayload],
      ['a close payload of 1 byte', serverFrame({ opcode: Opcode.close, payload: Uint8Array.of(3) }), error.badCloseSize],
    ] as const) {
      scenario(`${name} while close waits for the peer: close fails with it, no second close frame, torn down`, () => {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const c = recorder<[Ec]>();
        client.asyncClose(1000, c.h);
        pump(ioc);
        expect(onlyCloseCode(take(b), true)).to.equal(1000);
        a.append(frame);
        pump(ioc);
        expect(c.ec()).to.equal(ec);
        expect(b.bufferedBytes()).to.equal(0);
        expect(client.isOpen()).to.equal(false);
        expect(peerClosed(ioc, b)).to.equal(true);
        finish(ioc, a, b);
      });
    }

    scenario('readMessageMax still applies while close waits for the peer', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      client.readMessageMax(100);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(101) }));
      pump(ioc);
      expect(c.ec()).to.equal(error.messageTooBig);
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      finish(ioc, a, b);
    });

    scenario('control payloads over 125 bytes are refused when sending', () => {
      const { ioc, a, b, client } = openPair();
      expect(() => client.asyncPing(new Uint8Array(126), () => {})).to.throw(RangeError);
      expect(() => client.asyncPong('x'.repeat(126), () => {})).to.throw(RangeError);
      const p = recorder<[Ec]>();
      client.asyncPing('x'.repeat(125), p.h);
      pump(ioc);
      expect(p.ec()).to.equal(null);
      const f = parseFrames(take(b));
      expect(f.map((x) => [x.opcode, x.payload.length])).to.deep.equal([[Opcode.ping, 125]]);
      finish(ioc, a, b);
    });
  });

});

describe('websocket/Stream close: what else runs', () => {
  describe('a read, a write or a ping started during the close', () => {
    scenario('write and close pending, then ping: write and close succeed, the ping is aborted', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const w = io('write');
      const c = ctl('close');
      const p = ctl('ping');
      client.asyncWrite(bytesOf('*'), w.h);
      client.asyncClose(1000, c.h);
      client.asyncPing('', p.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 1]);
      expect([c.ec(), p.ec()]).to.deep.equal([null, netError.operationAborted]);
      expect(order).to.deep.equal(['write', 'close', 'ping']);
      finish(ioc, a, b);
    });

    scenario('close first, then read, write and ping: close succeeds, the other three get operationAborted', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const c = ctl('close');
      const r = io('read');
      const w = io('write');
      const p = ctl('ping');
      client.asyncClose(1000, c.h);
      client.asyncRead(new FlatBuffer(), r.h);
      client.asyncWrite(bytesOf('Hello, world!'), w.h);
      client.asyncPing('', p.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(p.ec()).to.equal(netError.operationAborted);
      expect(order[0]).to.equal('close');
      // The server saw only the close frame.
      expect(reads).to.deep.equal([[error.closed, 0]]);
      finish(ioc, a, b);
    });

    scenario('close holding the read side, then read: close succeeds, the read is aborted', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      stepUntil(ioc, () => sideHeld(client, 'rd'));
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      finish(ioc, a, b);
    });

    scenario('ping (and pong) after the stream is closed: operationAborted; close twice: operationAborted', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      const p = recorder<[Ec]>();
      client.asyncPing('x', p.h);
      pump(ioc);
      const q = recorder<[Ec]>();
      client.asyncPong('x', q.h);
      pump(ioc);
      const c2 = recorder<[Ec]>();
      client.asyncClose(1000, c2.h);
      pump(ioc);
      expect([p.ec(), q.ec(), c2.ec()]).to.deep.equal([netError.operationAborted, netError.operationAborted, netError.operationAborted]);
      expect(b.bufferedBytes()).to.equal(0);
      finish(ioc, a, b);
    });
  });

  describe('the close started while other operations are outstanding', () => {
    scenario('ping, read, write, close: ping and close succeed (in that order), read and write are aborted', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const p = ctl('ping');
      const r = io('read');
      const w = io('write');
      const c = ctl('close');
      client.asyncPing('', p.h);
      client.asyncRead(new FlatBuffer(), r.h);
      client.asyncWrite(bytesOf('Hello, world!'), w.h);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect([p.ec(), c.ec()]).to.deep.equal([null, null]);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order.slice(0, 2)).to.deep.equal(['ping', 'close']);
      expect(reads).to.deep.equal([[error.closed, 0]]);
      finish(ioc, a, b);
    });

    scenario('read, write, ping, close: the write and close succeed, the ping is aborted (close goes first)', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      const w = io('write');
      const p = ctl('ping');
      const c = ctl('close');
      const buf = new FlatBuffer();
      client.asyncRead(buf, r.h);
      client.asyncWrite(bytesOf('Hello, world!'), w.h);
      client.asyncPing('', p.h);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 13]);
      expect([c.ec(), p.ec()]).to.deep.equal([null, netError.operationAborted]);
      // The echo arrives before the server's close reply, so the read gets it.
      expect(r.once()).to.deep.equal([null, 13]);
      expect(text(buf.dataView())).to.equal('Hello, world!');
      expect(order.indexOf('write')).to.be.lessThan(order.indexOf('close'));
      expect(reads).to.deep.equal([[null, 13], [error.closed, 0]]);
      finish(ioc, a, b);
    });

    scenario('write, read, close with a close frame already received: write, close succeed; read aborted last', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.close }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const w = io('write');
      const r = io('read');
      const c = ctl('close');
      client.asyncWrite(bytesOf('Hello, world!'), w.h);
      client.asyncRead(new FlatBuffer(), r.h);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 13]);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['write', 'close', 'read']);
      const frames = parseFrames(take(b));
      expect(frames.map((f) => f.opcode)).to.deep.equal([Opcode.text, Opcode.close]);
      expect(closeCodeOf(frames[1]!)).to.equal(1000);
      finish(ioc, a, b);
    });

    scenario('write, read, close with a ping received: no deadlock; write, close succeed; read aborted last', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      a.append(serverFrame({ opcode: Opcode.ping }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const w = io('write');
      const r = io('read');
      const c = ctl('close');
      client.asyncWrite(bytesOf('Hello, world!'), w.h);
      client.asyncRead(new FlatBuffer(), r.h);
      expect(sideHeld(client, 'rd')).to.equal(true);
      client.asyncClose(1000, c.h);
      expect(client.isOpen()).to.equal(true);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 13]);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['write', 'close', 'read']);
      finish(ioc, a, b);
    });
  });

  describe("the peer's close, a ping or a fragment while our close goes out", () => {
    scenario('a close frame and our close crossing: the close completes the handshake, the read is aborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      // The peer's close arrives in the same turn as our close starts: the close owns the write side.
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1001) }));
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      expect(client.reason().code).to.equal(1001);
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      finish(ioc, a, b);
    });

    scenario('a ping received while closing is ignored: no pong, no callback; the message still completes', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const seen: string[] = [];
      client.controlCallback((kind) => seen.push(kind));
      a.append(serverFrame({ opcode: Opcode.text, fin: false, payload: '*' }));
      a.append(serverFrame({ opcode: Opcode.ping }));
      a.append(serverFrame({ opcode: Opcode.cont, payload: '*' }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const buf = new FlatBuffer();
      const r2 = io('read 2');
      const first = recorder<[Ec, number]>((ec) => {
        order.push('read');
        expect(ec).to.equal(null);
        client.asyncRead(new FlatBuffer(), r2.h);
      });
      client.asyncRead(buf, first.h);
      expect(sideHeld(client, 'rd')).to.equal(true);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      expect(sideHeld(client, 'wr')).to.equal(true);
      pump(ioc);
      expect(first.once()).to.deep.equal([null, 2]);
      expect(text(buf.dataView())).to.equal('**');
      expect(seen).to.deep.equal([]);
      expect(onlyCloseCode(take(b), true), 'only the close frame, no pong').to.equal(1000);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r2.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['read', 'close', 'read 2']);
      finish(ioc, a, b);
    });

    scenario('a close frame inside a fragmented message while our close is going out: close succeeds, read aborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.text, fin: false, payload: '*' }));
      a.append(serverFrame({ opcode: Opcode.close }));
      a.append(serverFrame({ opcode: Opcode.cont, payload: '*' }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 1]);
      expect(order).to.deep.equal(['close', 'read']);
      expect(client.reason().code).to.equal(0);
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      finish(ioc, a, b);
    });
  });
});

describe('websocket/Stream close: cancellation', () => {
  const fake = useFakeClock();

  describe("a close parked, waiting for the read side, or reading until the peer's close", () => {
    scenario('a close parked behind a write, cancelled with total by cancelAfter: no close frame, still open', () => {
      const { ioc, a, b, client, server } = openPair();
      a.writeSize(1);
      const w = recorder();
      const c = recorder<[Ec]>();
      client.asyncWrite(bytesOf('a message of some length'), w.h);
      client.asyncClose(1000, cancelAfter(10, c.h, CancellationType.total));
      ioc.restart();
      ioc.pollOne();
      fake.clock.tick(10);
      pump(ioc);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(w.once()).to.deep.equal([null, 24]);
      expect(parseFrames(peek(b)).map((f) => f.opcode)).to.deep.equal([Opcode.text]);
      expect(client.isOpen()).to.equal(true);
      // A later close works.
      a.writeSize(Infinity);
      const reads = echo(server);
      const c2 = recorder<[Ec]>();
      client.asyncClose(1000, c2.h);
      pump(ioc);
      expect(c2.ec()).to.equal(null);
      expect(reads).to.deep.equal([[null, 24], [error.closed, 0]]);
      expect(fake.clock.countTimers()).to.equal(0);
      finish(ioc, a, b);
    });

    scenario('a close cancelled (terminal) while it waits for the read side: socket closed, operationAborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      const sig = new CancellationSignal();
      const c = ctl('close');
      client.asyncClose(1000, bindCancellationSlot(sig.slot(), c.h));
      pump(ioc);
      expect(parkedIn(client, 'rClose')).to.equal(true);
      expect(onlyCloseCode(peek(b), true)).to.equal(1000);
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(c.called, 'total is not honoured here').to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      expect(client.isOpen()).to.equal(false);
      // Dirty shutdown: the peer sees the end of the stream after our close frame.
      expect(peerClosed(ioc, b)).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('a close cancelled (terminal) while it reads frames until the peer\'s close: operationAborted, failed', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const sig = new CancellationSignal();
      const c = recorder<[Ec]>();
      client.asyncClose(1000, bindCancellationSlot(sig.slot(), c.h));
      pump(ioc);
      expect(c.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(client.isOpen()).to.equal(false);
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      finish(ioc, a, b);
    });

    scenario('a close parked behind a ping, cancelled with total: no close frame, the ping still goes', () => {
      const { ioc, a, b, client } = openPair();
      const sig = new CancellationSignal();
      const p = recorder<[Ec]>();
      const c = recorder<[Ec]>();
      client.asyncPing('p', p.h);
      client.asyncClose(1000, bindCancellationSlot(sig.slot(), c.h));
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(p.ec()).to.equal(null);
      expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping]);
      expect(client.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });
  });
});

describe('websocket/Stream close: the handshake timeout while closing', () => {
  const fake = useFakeClock();
  const tick = (ioc: IoContext, ms: number): void => fake.tick(ioc, ms);

  scenario('the handshake timeout bounds the closing handshake with a silent peer', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(1000, none, false));
    const c = recorder<[Ec]>();
    server.asyncClose(1000, c.h);
    pump(ioc);
    expect(parseFrames(take(a)).map((f) => f.opcode)).to.deep.equal([Opcode.close]);
    tick(ioc, 999);
    expect(c.called).to.equal(false);
    tick(ioc, 1);
    expect(c.ec()).to.equal(beastError.timeout);
    expect(peerClosed(ioc, a)).to.equal(true);
    finish(ioc, a, b);
  });

  scenario('a close and a read pending when the peer goes silent: the read gets timeout, the close operationAborted', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(1000, 5000, false));
    const order: string[] = [];
    const r = recorder(() => void order.push('read'));
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    const c = recorder<[Ec]>(() => void order.push('close'));
    server.asyncClose(1000, c.h);
    pump(ioc);
    // Closing uses the handshake timeout, not the idle one.
    tick(ioc, 1000);
    expect(r.once()).to.deep.equal([beastError.timeout, 0]);
    expect(c.ec()).to.equal(netError.operationAborted);
    expect(order).to.deep.equal(['read', 'close']);
    expect(fake.clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });
});

describe('websocket/Stream close: arguments', () => {
  describe('asyncClose refuses what RFC 6455 section 7.4 forbids to send (17.5)', () => {
    scenario('reserved and out-of-range codes, and reasons over 123 bytes, throw a RangeError; nothing is sent', () => {
      const p = openPair();
      for (const code of [1004, 1005, 1006, 1015, 1016, 2999, 5000, 70000, 999, 1, -1, 1000.5]) {
        expect(() => p.client.asyncClose(code, () => {}), String(code)).to.throw(RangeError);
      }
      expect(() => p.client.asyncClose(closeReason(1000, 'x'.repeat(124)), () => {})).to.throw(RangeError, /123 bytes/);
      expect(() => p.client.asyncClose(closeReason(1000, 'é'.repeat(62)), () => {})).to.throw(RangeError, /123 bytes/);
      expect(() => p.client.asyncClose(closeReason(0, 'why'), () => {})).to.throw(RangeError);
      pump(p.ioc);
      expect(peek(p.b)).to.have.length(0);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    scenario('valid codes (1000-1003, 1007-1014, 3000-4999, 0) and a 123-byte reason go out as given', () => {
      for (const [code, reason] of [[1000, 'é'.repeat(61) + 'x'], [1014, ''], [3000, 'a'], [4999, ''], [0, '']] as const) {
        const p = openPair();
        const c = recorder<[Ec]>();
        p.client.asyncClose(closeReason(code, reason), c.h);
        pump(p.ioc);
        const frames = parseFrames(take(p.b));
        expect(frames.map((f) => f.opcode)).to.deep.equal([Opcode.close]);
        const frame = frames[0];
        const payload = Buffer.from(frame!.payload);
        if (code === 0) expect(payload.length).to.equal(0);
        else expect([payload.readUInt16BE(0), payload.subarray(2).toString()]).to.deep.equal([code, reason]);
        finish(p.ioc, p.a, p.b);
      }
    });
  });
});
