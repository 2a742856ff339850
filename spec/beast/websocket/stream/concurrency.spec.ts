// Specs for the websocket Stream's concurrency and per-operation cancellation over TestStream:
// the outcomes of the reference's section 3 (reads, writes, pings and a close outstanding
// together, in Beast's hand-off order), `alreadyStarted` for a second operation of a kind, and
// the cancellation rows of section 2 with a bound cancellation slot, an AbortSignal with the
// Promise token, and cancelAfter (with fake timers, so the timer's expiry is placed exactly).

import { Buffer } from 'node:buffer';

import { expect } from 'chai';
import sinon from 'sinon';

import { bindAbortSignal, bindCancellationSlot } from '../../../../lib/net/binders.js';
import { cancelAfter } from '../../../../lib/net/cancel-after.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { usePromise } from '../../../../lib/net/token.js';
import { CloseCode } from '../../../../lib/beast/websocket/close.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { giveMaskBuffer, takeMaskBuffer } from '../../../../lib/beast/websocket/mask-buffers.js';
import {
  bytesOf,
  closeCodeOf,
  closePayload,
  finish,
  onlyCloseCode,
  Opcode,
  clientFrame,
  openClientAgainstRaw,
  openPair,
  openServerAgainstRaw,
  parseFrames,
  pattern,
  peek,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
  type WsStream,
} from '../ops/fixture.js';
import { implOf } from '../../../support/internals.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** Runs single handlers until `done()` holds; fails if the context runs dry first. */
function stepUntil(ioc: IoContext, done: () => boolean): void {
  ioc.restart();
  while (!done()) {
    if (ioc.pollOne() === 0) throw new Error('stepUntil: nothing left to run');
  }
}

/**
 * An echo loop on `server`: every message read is written back; the loop ends at the first
 * error (a close frame is answered by the read itself). Returns the reads' results.
 */
function echo(server: WsStream): Array<[Ec, number]> {
  const reads: Array<[Ec, number]> = [];
  const buf = new FlatBuffer();
  const loop = (): void =>
    server.asyncRead(buf, (ec, n) => {
      reads.push([ec, n]);
      if (ec !== null) return;
      const data = Uint8Array.from(buf.dataView());
      buf.consume(n);
      server.binary(server.gotBinary());
      server.asyncWrite(data, () => {});
      loop();
    });
  loop();
  return reads;
}

/** Recorders that also log their name in `order` when they run. */
function ordered(order: string[]) {
  return {
    io: (name: string) => recorder<[Ec, number]>(() => void order.push(name)),
    ctl: (name: string) => recorder<[Ec]>(() => void order.push(name)),
  };
}

describe('websocket/Stream concurrency', () => {
  describe('outcomes of operations outstanding together (section 3)', () => {
    it('ping pending, then close: both succeed, ping first', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { ctl } = ordered(order);
      const p = ctl('ping');
      const c = ctl('close');
      client.asyncPing('', p.h);
      expect(implOf(client).locks.isLocked('wr')).to.equal(true);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect([p.ec(), c.ec()]).to.deep.equal([null, null]);
      expect(order).to.deep.equal(['ping', 'close']);
      expect(reads).to.deep.equal([[error.closed, 0]]);
      expect(server.reason().code).to.equal(1000);
      finish(ioc, a, b);
    });

    it('write pending, then close: both succeed, write first', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const w = io('write');
      const c = ctl('close');
      client.asyncWrite(bytesOf('*'), w.h);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 1]);
      expect(c.ec()).to.equal(null);
      expect(order).to.deep.equal(['write', 'close']);
      expect(reads).to.deep.equal([[null, 1], [error.closed, 0]]);
      finish(ioc, a, b);
    });

    it('write and close pending, then ping: write and close succeed, the ping is aborted', () => {
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

    it('read pending with no input, then close: close succeeds first, the read gets operationAborted', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.called).to.equal(false);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      expect(reads).to.deep.equal([[error.closed, 0]]);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });

    it('close first, then read, write and ping: close succeeds, the other three get operationAborted', () => {
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

    it('ping, read, write, close: ping and close succeed (in that order), read and write are aborted', () => {
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

    it('read, write, ping, close: the write and close succeed, the ping is aborted (close goes first)', () => {
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

    it('read answering a ping (holding the write side), then close: both succeed', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      a.append(serverFrame({ opcode: Opcode.ping }));
      a.append(serverFrame({ opcode: Opcode.text, payload: '*' }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      const buf = new FlatBuffer();
      client.asyncRead(buf, r.h);
      stepUntil(ioc, () => implOf(client).locks.isLocked('wr'));
      expect(r.called).to.equal(false);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 1]);
      expect(c.ec()).to.equal(null);
      expect(order).to.deep.equal(['read', 'close']);
      finish(ioc, a, b);
    });

    it('read that receives a close frame while a close is queued: read closed, close operationAborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.close }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => implOf(client).locks.isLocked('wr'));
      const c = ctl('close');
      client.asyncClose(1001, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(order).to.deep.equal(['read', 'close']);
      // Only the read's reply went out (the echo of an empty close: 1000), not the close's 1001.
      expect(onlyCloseCode(take(b), true)).to.equal(CloseCode.normal);
      finish(ioc, a, b);
    });

    it('a close frame and our close crossing: the close completes the handshake, the read is aborted', () => {
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

    it('read that hits a protocol violation while a close is queued: the violation, close operationAborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.ping, fin: false }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => implOf(client).locks.isLocked('wr'));
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.badControlFragment, 0]);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(order).to.deep.equal(['read', 'close']);
      expect(onlyCloseCode(take(b), true)).to.equal(CloseCode.protocolError);
      expect(peerClosed(ioc, b)).to.equal(true);
      finish(ioc, a, b);
    });

    it('write, read, close with a close frame already received: write, close succeed; read aborted last', () => {
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

    it('write, read, close with a ping received: no deadlock; write, close succeed; read aborted last', () => {
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
      expect(implOf(client).locks.isLocked('rd')).to.equal(true);
      client.asyncClose(1000, c.h);
      expect(client.isOpen()).to.equal(true);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 13]);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['write', 'close', 'read']);
      finish(ioc, a, b);
    });

    it('close holding the read side, then read: close succeeds, the read is aborted', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      stepUntil(ioc, () => implOf(client).locks.isLocked('rd'));
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(order).to.deep.equal(['close', 'read']);
      finish(ioc, a, b);
    });

    it('read that must answer a ping while a write holds the write side: both succeed, pong after the message', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      a.append(serverFrame({ opcode: Opcode.ping }));
      const buf = new FlatBuffer();
      const r = recorder();
      client.asyncRead(buf, r.h);
      expect(implOf(client).locks.isLocked('rd')).to.equal(true);
      const w = recorder();
      client.asyncWrite(bytesOf('Hello, world'), w.h);
      expect(implOf(client).locks.isLocked('wr')).to.equal(true);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 12]);
      expect(r.once()).to.deep.equal([null, 12]);
      expect(text(buf.dataView())).to.equal('Hello, world');
      expect(reads).to.deep.equal([[null, 12]]);
      finish(ioc, a, b);
    });

    it('a ping received while closing is ignored: no pong, no callback; the message still completes', () => {
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
      expect(implOf(client).locks.isLocked('rd')).to.equal(true);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      expect(implOf(client).locks.isLocked('wr')).to.equal(true);
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

    it('a close frame inside a fragmented message while our close is going out: close succeeds, read aborted', () => {
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

    it('operations on a closed stream, and refused ones, never complete inside the initiating call', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      const c2 = recorder<[Ec]>();
      client.asyncClose(1000, c2.h);
      expect(c2.called).to.equal(false);
      pump(ioc);
      expect(c2.ec()).to.equal(netError.alreadyStarted);
      const w = recorder();
      const r = recorder();
      const p = recorder<[Ec]>();
      client.asyncWrite(bytesOf('x'), w.h);
      client.asyncRead(new FlatBuffer(), r.h);
      client.asyncPing('', p.h);
      expect([w.called, r.called, p.called]).to.deep.equal([false, false, false]);
      pump(ioc);
      expect([w.ec(), r.ec(), p.ec()]).to.deep.equal([netError.operationAborted, netError.operationAborted, netError.operationAborted]);
      finish(ioc, a, b);
    });

    it('an auto-fragmented write lets a read\'s pong go out between its gathered writes', () => {
      // A server gathers up to 64 frames into one write while nobody waits for the write side;
      // the pong that arrives meanwhile goes out before the next write, not at the message's end.
      const { ioc, a, b, server } = openServerAgainstRaw();
      server.writeBufferBytes(8);
      const payload = 'abcdefgh'.repeat(140);
      const w = recorder();
      server.asyncWrite(bytesOf(payload), w.h);
      b.append(clientFrame({ opcode: Opcode.ping, payload: 'p' }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, payload.length]);
      expect(r.called).to.equal(false);
      const frames = parseFrames(take(a));
      const pong = frames.findIndex((f) => f.opcode === Opcode.pong);
      expect(frames.length).to.equal(141);
      expect(pong % 64, 'the pong sits between two gathered writes').to.equal(0);
      expect(pong).to.be.within(64, 139);
      expect(frames.map((f) => f.fin)).to.deep.equal(frames.map((f, i) => f.opcode === Opcode.pong || i === 140));
      const data = frames.filter((f) => f.opcode !== Opcode.pong);
      expect(data.every((f) => f.payload.length === 8)).to.equal(true);
      expect(text(Buffer.concat(data.map((f) => f.payload)))).to.equal(payload);
      finish(ioc, a, b);
    });

    it('an unfragmented write delays the pong until the whole frame is out', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      server.autoFragment(false);
      a.writeSize(1);
      b.writeSize(3);
      const w = recorder();
      server.asyncWrite(bytesOf('aaaaaaaabbbbbbbbcccccccc'), w.h);
      b.append(clientFrame({ opcode: Opcode.ping, payload: 'p' }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 24]);
      expect(parseFrames(take(a)).map((f) => [f.opcode, f.fin, text(f.payload)])).to.deep.equal([
        [Opcode.text, true, 'aaaaaaaabbbbbbbbcccccccc'],
        [Opcode.pong, true, 'p'],
      ]);
      finish(ioc, a, b);
    });

    it('hand-off after a write fragment: a parked close goes before a parked ping; the rest of the message never goes', () => {
      // A client gathers up to 64 frames into one write, as a server does: the hand-off comes
      // after the first gathered write.
      const { ioc, a, b, client } = openClientAgainstRaw();
      client.writeBufferBytes(8);
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const w = io('write');
      const p = ctl('ping');
      const c = ctl('close');
      client.asyncWrite(bytesOf('abcdefgh'.repeat(130)), w.h);
      client.asyncPing('p', p.h);
      client.asyncClose(1000, c.h);
      pump(ioc);
      const frames = parseFrames(take(b));
      expect(frames.map((f) => [f.opcode, f.fin])).to.deep.equal([
        [Opcode.text, false],
        ...Array.from({ length: 63 }, () => [Opcode.cont, false]),
        [Opcode.close, true],
      ]);
      expect(frames.slice(0, 64).every((f) => f.masked && text(f.payload) === 'abcdefgh')).to.equal(true);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([netError.operationAborted, 64 * 8]);
      expect(p.ec()).to.equal(netError.operationAborted);
      expect(order[0]).to.equal('close');
      finish(ioc, a, b);
    });

    it('hand-off after a ping: a read waiting to send its pong goes before a parked write', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.writeSize(1);
      const p = recorder<[Ec]>();
      client.asyncPing('a long ping payload', p.h);
      const w = recorder();
      client.asyncWrite(bytesOf('msg'), w.h);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'q' }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => implOf(client).locks.waits('rd'));
      pump(ioc);
      expect(p.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([null, 3]);
      expect(parseFrames(take(b)).map((f) => [f.opcode, text(f.payload)])).to.deep.equal([
        [Opcode.ping, 'a long ping payload'],
        [Opcode.pong, 'q'],
        [Opcode.text, 'msg'],
      ]);
      finish(ioc, a, b);
    });

    it('hand-off after a read\'s pong: a parked ping goes before a parked write', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.writeSize(1);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'a long ping payload' }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => implOf(client).locks.isLocked('wr'));
      const w = recorder();
      client.asyncWrite(bytesOf('msg'), w.h);
      const p = recorder<[Ec]>();
      client.asyncPing('p', p.h);
      pump(ioc);
      expect(p.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([null, 3]);
      expect(parseFrames(take(b)).map((f) => [f.opcode, text(f.payload)])).to.deep.equal([
        [Opcode.pong, 'a long ping payload'],
        [Opcode.ping, 'p'],
        [Opcode.text, 'msg'],
      ]);
      finish(ioc, a, b);
    });

    it('ping (and pong) after the stream is closed: operationAborted; close twice: operationAborted', () => {
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

    it('a second operation of a kind already outstanding: alreadyStarted, the first is undisturbed', () => {
      const { ioc, a, b, client, server } = openPair();
      const r1 = recorder();
      const r2 = recorder();
      const buf = new FlatBuffer();
      server.asyncRead(buf, r1.h);
      server.asyncReadSome(new Uint8Array(4), r2.h);
      const w1 = recorder();
      const w2 = recorder();
      client.asyncWrite(bytesOf('one'), w1.h);
      client.asyncWriteSome(true, bytesOf('two'), w2.h);
      const p1 = recorder<[Ec]>();
      const p2 = recorder<[Ec]>();
      client.asyncPing('1', p1.h);
      client.asyncPong('2', p2.h);
      const c1 = recorder<[Ec]>();
      const c2 = recorder<[Ec]>();
      pump(ioc);
      expect(r2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      expect(w2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      expect(p2.ec()).to.equal(netError.alreadyStarted);
      expect(r1.once()).to.deep.equal([null, 3]);
      expect(w1.once()).to.deep.equal([null, 3]);
      expect(p1.ec()).to.equal(null);
      expect(text(buf.dataView())).to.equal('one');

      // Once complete, the kind is free again.
      const r3 = recorder();
      server.asyncRead(buf, r3.h);
      client.asyncClose(1000, c1.h);
      client.asyncClose(1000, c2.h);
      pump(ioc);
      expect(c2.ec()).to.equal(netError.alreadyStarted);
      expect(c1.ec()).to.equal(null);
      expect(r3.once()).to.deep.equal([error.closed, 0]);
      finish(ioc, a, b);
    });
  });

  describe('per-operation cancellation (section 2)', () => {
    let clock: sinon.SinonFakeTimers | null = null;
    afterEach(() => {
      clock?.restore();
      clock = null;
    });

    it('a write parked behind a ping, cancelled with total: nothing of it sent, the stream stays usable', () => {
      const { ioc, a, b, client, server } = openPair();
      const sig = new CancellationSignal();
      const p = recorder<[Ec]>();
      const w = recorder();
      client.asyncPing('p', p.h);
      client.asyncWrite(bytesOf('never'), bindCancellationSlot(sig.slot(), w.h));
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(p.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping]);
      expect(client.isOpen()).to.equal(true);
      // Usable: the next write goes out as a new message.
      const w2 = recorder();
      client.asyncWrite(bytesOf('fine'), w2.h);
      const r = recorder();
      const buf = new FlatBuffer();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(w2.once()).to.deep.equal([null, 4]);
      expect(r.once()).to.deep.equal([null, 4]);
      expect(text(buf.dataView())).to.equal('fine');
      finish(ioc, a, b);
    });

    it('a write parked between its fragments, cancelled with total: the next write continues the message', () => {
      const { ioc, a, b, client, server } = openPair();
      client.writeBufferBytes(8);
      const sig = new CancellationSignal();
      const w = recorder();
      const p = recorder<[Ec]>();
      client.asyncWrite(bytesOf('abcdefgh'.repeat(130)), bindCancellationSlot(sig.slot(), w.h));
      client.asyncPing('p', p.h);
      // The first gathered write (64 frames) goes, then the ping takes the write side and the write parks.
      stepUntil(ioc, () => implOf(client).locks.waits('wr'));
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.operationAborted, 64 * 8]);
      expect(p.ec()).to.equal(null);
      const w2 = recorder();
      client.asyncWrite(bytesOf('rest'), w2.h);
      pump(ioc);
      expect(w2.once()).to.deep.equal([null, 4]);
      const frames = parseFrames(peek(b));
      expect(frames.map((f) => [f.opcode, f.fin, text(f.payload)])).to.deep.equal([
        [Opcode.text, false, 'abcdefgh'],
        ...Array.from({ length: 63 }, () => [Opcode.cont, false, 'abcdefgh']),
        [Opcode.ping, true, 'p'],
        [Opcode.cont, true, 'rest'],
      ]);
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 64 * 8 + 4]);
      expect(text(buf.dataView())).to.equal('abcdefgh'.repeat(64) + 'rest');
      finish(ioc, a, b);
    });

    it('a parked write accepts terminal and partial too', () => {
      for (const type of [CancellationType.terminal, CancellationType.partial]) {
        const { ioc, a, b, client } = openPair();
        const sig = new CancellationSignal();
        const w = recorder();
        client.asyncPing('p', recorder<[Ec]>().h);
        client.asyncWrite(bytesOf('x'), bindCancellationSlot(sig.slot(), w.h));
        sig.emit(type);
        pump(ioc);
        expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
        expect(client.isOpen()).to.equal(true);
        expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping]);
        finish(ioc, a, b);
      }
    });

    it('a ping parked behind a write, cancelled with total through an AbortSignal: rejected, not sent', async () => {
      const { ioc, a, b, client } = openPair();
      const ac = new AbortController();
      const w = recorder();
      client.asyncWrite(bytesOf('message'), w.h);
      const ping = client.asyncPing('p', bindAbortSignal(ac.signal, usePromise, CancellationType.total));
      const settled = ping.then(
        () => null,
        (e: unknown) => e,
      );
      ac.abort('enough');
      pump(ioc);
      const err = await settled;
      expect(err).to.be.instanceOf(SystemError);
      expect((err as SystemError).code).to.equal(netError.operationAborted);
      expect((err as SystemError).cause).to.equal('enough');
      expect(w.once()).to.deep.equal([null, 7]);
      expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.text]);
      // The ping slot is free again.
      const p2 = recorder<[Ec]>();
      client.asyncPing('q', p2.h);
      pump(ioc);
      expect(p2.ec()).to.equal(null);
      finish(ioc, a, b);
    });

    it('a close parked behind a write, cancelled with total by cancelAfter: no close frame, still open', () => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const { ioc, a, b, client, server } = openPair();
      a.writeSize(1);
      const w = recorder();
      const c = recorder<[Ec]>();
      client.asyncWrite(bytesOf('a message of some length'), w.h);
      client.asyncClose(1000, cancelAfter(10, c.h, CancellationType.total));
      ioc.restart();
      ioc.pollOne();
      clock.tick(10);
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
      expect(clock.countTimers()).to.equal(0);
      finish(ioc, a, b);
    });

    for (const form of ['asyncRead(dynamic buffer)', 'asyncReadSome(dynamic buffer, limit)', 'asyncReadSome(buffers)'] as const) {
    it(`a read parked behind a close (waiting for the read side), cancelled with total: aborted at once (${form})`, () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(implOf(client).locks.isLocked('rd')).to.equal(true);
      const sig = new CancellationSignal();
      const r = io('read');
      const token = bindCancellationSlot(sig.slot(), r.h);
      if (form === 'asyncRead(dynamic buffer)') client.asyncRead(new FlatBuffer(), token);
      else if (form === 'asyncReadSome(dynamic buffer, limit)') client.asyncReadSome(new FlatBuffer(), 10, token);
      else client.asyncReadSome(new Uint8Array(10), token);
      expect(implOf(client).locks.waits('rRd'), 'parked').to.equal(true);
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.total);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(c.called).to.equal(false);
      // The close goes on.
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(order).to.deep.equal(['read', 'close']);
      finish(ioc, a, b);
    });
    }

    it('total while a read waits in the next layer is ignored; terminal aborts it and fails the stream', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const sig = new CancellationSignal();
      const r = recorder();
      const buf = new FlatBuffer();
      client.asyncRead(buf, bindCancellationSlot(sig.slot(), r.h));
      pump(ioc);
      sig.emit(CancellationType.total);
      sig.emit(CancellationType.partial);
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(client.isOpen()).to.equal(false);
      // The stream is now only fit to be closed: later operations are aborted, nothing is sent.
      const w = recorder();
      const c = recorder<[Ec]>();
      client.asyncWrite(bytesOf('x'), w.h);
      pump(ioc);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(b.bufferedBytes()).to.equal(0);
      finish(ioc, a, b);
    });

    it('a read whose bytes have arrived, its completion queued: total is ignored, terminal still aborts it', () => {
      for (const type of [CancellationType.total, CancellationType.terminal]) {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const sig = new CancellationSignal();
        const r = recorder();
        const buf = new FlatBuffer();
        client.asyncRead(buf, bindCancellationSlot(sig.slot(), r.h));
        pump(ioc);
        a.append(serverFrame({ opcode: Opcode.text, payload: 'hi' }));
        sig.emit(type);
        pump(ioc);
        if (type === CancellationType.total) {
          expect(r.once()).to.deep.equal([null, 2]);
          expect(client.isOpen()).to.equal(true);
        } else {
          expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
          expect(client.isOpen()).to.equal(false);
        }
        expect(sig.hasHandler(), 'nothing left in the slot').to.equal(false);
        finish(ioc, a, b);
      }
    });

    it('a whole-message write, its completion queued: total is ignored, terminal aborts it and fails the stream', () => {
      for (const type of [CancellationType.total, CancellationType.partial, CancellationType.terminal]) {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const sig = new CancellationSignal();
        const w = recorder();
        client.asyncWrite(bytesOf('hello'), bindCancellationSlot(sig.slot(), w.h));
        sig.emit(type);
        pump(ioc);
        if (type === CancellationType.terminal) {
          expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
          expect(client.isOpen()).to.equal(false);
        } else {
          expect(w.once()).to.deep.equal([null, 5]);
          expect(client.isOpen()).to.equal(true);
        }
        expect(sig.hasHandler(), 'nothing left in the slot').to.equal(false);
        finish(ioc, a, b);
      }
    });

    it('terminal through an AbortSignal on a pending read: the promise rejects with operationAborted', async () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const ac = new AbortController();
      const read = client.asyncRead(new FlatBuffer(), bindAbortSignal(ac.signal)).then(
        () => null,
        (e: unknown) => e,
      );
      pump(ioc);
      ac.abort();
      pump(ioc);
      const err = await read;
      expect((err as SystemError).code).to.equal(netError.operationAborted);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });

    it('a read parked to send a pong accepts terminal only; then it aborts and no pong goes out', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      b.writeSize(Infinity);
      a.writeSize(1);
      const w = recorder();
      client.asyncWrite(bytesOf('a long enough message'), w.h);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'x' }));
      const sig = new CancellationSignal();
      const r = recorder();
      client.asyncRead(new FlatBuffer(), bindCancellationSlot(sig.slot(), r.h));
      stepUntil(ioc, () => implOf(client).locks.waits('rd'));
      sig.emit(CancellationType.total);
      sig.emit(CancellationType.partial);
      for (let i = 0; i < 3; i++) ioc.pollOne();
      expect(implOf(client).locks.waits('rd'), 'still parked').to.equal(true);
      expect(r.called).to.equal(false);
      expect(w.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(w.once()).to.deep.equal([null, 21]);
      expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.text]);
      finish(ioc, a, b);
    });

    it('a close cancelled (terminal) while it waits for the read side: socket closed, operationAborted', () => {
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
      expect(implOf(client).locks.waits('rClose')).to.equal(true);
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

    it('a close cancelled (terminal) while it reads frames until the peer\'s close: operationAborted, failed', () => {
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

    it('terminal while a write or a ping is in the next layer: operationAborted, the stream failed; total ignored', () => {
      for (const kind of ['write', 'ping'] as const) {
        const { ioc, a, b, client } = openPair();
        const sig = new CancellationSignal();
        const h = recorder<[Ec, ...unknown[]]>();
        if (kind === 'write') client.asyncWrite(bytesOf('abc'), bindCancellationSlot(sig.slot(), h.h));
        else client.asyncPing('abc', bindCancellationSlot(sig.slot(), h.h));
        sig.emit(CancellationType.total);
        pump(ioc);
        expect(h.ec(`${kind} with total`)).to.equal(null);
        if (kind === 'write') client.asyncWrite(bytesOf('abc'), bindCancellationSlot(sig.slot(), h.h));
        else client.asyncPing('abc', bindCancellationSlot(sig.slot(), h.h));
        sig.emit(CancellationType.terminal);
        pump(ioc);
        expect(h.calls.length).to.equal(2);
        expect(h.calls[1]![0], `${kind} with terminal`).to.equal(netError.operationAborted);
        expect(client.isOpen()).to.equal(false);
        const w = recorder();
        client.asyncWrite(bytesOf('x'), w.h);
        pump(ioc);
        expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
        finish(ioc, a, b);
      }
    });

    it('terminal between the writes of one client frame longer than a gather buffer: operationAborted, failed, the buffer back', () => {
      const { ioc, a, b, client } = openPair();
      client.autoFragment(false);
      // The buffer on top of the pool is the one the write borrows.
      const top = takeMaskBuffer();
      giveMaskBuffer(top);
      const sig = new CancellationSignal();
      const w = recorder();
      client.asyncWrite(pattern(200_001, 9), bindCancellationSlot(sig.slot(), w.h));
      // The frame's header and first 64 KiB are in the peer's input: the frame is half sent.
      expect(peek(b).length).to.equal(64 * 1024 + 128);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(w.once()[0]).to.equal(netError.operationAborted);
      expect(client.isOpen()).to.equal(false);
      expect(peek(b).length, 'nothing more of the frame').to.equal(64 * 1024 + 128);
      const again = takeMaskBuffer();
      expect(again).to.equal(top);
      giveMaskBuffer(again);
      finish(ioc, a, b);
    });

    it('a close parked behind a ping, cancelled with total: no close frame, the ping still goes', () => {
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
