// Specs for the write operations (ops/write.ts, Beast's write_some_op and write_op, after
// test/beast/websocket/write.cpp) over TestStream against a raw peer: the frames that go out for
// a message, its parts and its options, and the errors a write completes with.
// What else can run during a write: a read's pong, a ping or a close parked until the write side
// is free (Beast's hand-off order), and the cancellation of a write, parked or in the next layer.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { giveMaskBuffer, takeMaskBuffer } from '../../../../lib/beast/websocket/mask-buffers.js';
import { parkedIn } from '../../../support/internals.js';
import {
  bytesOf,
  clientFrame,
  closePayload,
  echo,
  finish,
  Opcode,
  openClientAgainstRaw,
  openPair,
  openServerAgainstRaw,
  ordered,
  parseFrames,
  pattern,
  peek,
  pump,
  recorder,
  serverFrame,
  stepUntil,
  take,
  text,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

describe('websocket/Stream write', () => {
  scenario("a server's message is one unmasked final frame; a client's is masked, with the same payload", () => {
    const s = openServerAgainstRaw();
    const w = recorder<[Ec, number]>();
    s.server.binary(true);
    s.server.asyncWrite(pattern(300), w.h);
    pump(s.ioc);
    expect(w.once()).to.deep.equal([null, 300]);
    const [f, ...rest] = parseFrames(take(s.a));
    expect(rest.length).to.equal(0);
    expect([f!.fin, f!.opcode, f!.masked, f!.len7]).to.deep.equal([true, Opcode.binary, false, 126]);
    expect(f!.payload).to.deep.equal(pattern(300));
    finish(s.ioc, s.a, s.b);

    const c = openClientAgainstRaw();
    const cw = recorder<[Ec, number]>();
    c.client.asyncWrite(new TextEncoder().encode('héllo'), cw.h);
    pump(c.ioc);
    expect(cw.once()).to.deep.equal([null, 6]);
    const [g] = parseFrames(take(c.b));
    expect([g!.fin, g!.opcode, g!.masked]).to.deep.equal([true, Opcode.text, true]);
    expect(new TextDecoder().decode(g!.payload)).to.equal('héllo');
    finish(c.ioc, c.a, c.b);
  });

  scenario('asyncWriteSome: a message in parts is its opcode, then continuations, FIN on the last only', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const parts = [pattern(10, 1), pattern(0), pattern(20, 2)];
    const writes = recorder<[Ec, number]>();
    const done = writes.calls;
    server.binary(true);
    for (const [i, p] of parts.entries()) server.asyncWriteSome(i === parts.length - 1, p, writes.h);
    pump(ioc);
    // One write at a time: the second and third were refused while the first was outstanding.
    expect(done[0]).to.deep.equal([null, 10]);
    expect(done.slice(1)).to.deep.equal([[netError.alreadyStarted, 0], [netError.alreadyStarted, 0]]);
    for (let i = 1; i < parts.length; i++) {
      const r = recorder<[Ec, number]>();
      server.asyncWriteSome(i === parts.length - 1, parts[i]!, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, parts[i]!.length]);
    }
    const frames = parseFrames(take(a));
    expect(frames.map((f) => [f.fin, f.opcode, f.payload.length])).to.deep.equal([
      [false, Opcode.binary, 10],
      [false, Opcode.cont, 0],
      [true, Opcode.cont, 20],
    ]);
    finish(ioc, a, b);
  });

  scenario('autoFragment with writeBufferBytes: a long message goes out in frames of at most that size', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    client.autoFragment(true);
    client.writeBufferBytes(1000);
    client.binary(true);
    const w = recorder<[Ec, number]>();
    client.asyncWrite(pattern(3500), w.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([null, 3500]);
    const frames = parseFrames(take(b));
    expect(frames.length).to.be.greaterThan(1);
    for (const f of frames) expect(f.payload.length).to.be.at.most(1000);
    expect(frames.map((f) => f.fin)).to.deep.equal(frames.map((_, i) => i === frames.length - 1));
    expect(frames.slice(1).every((f) => f.opcode === Opcode.cont)).to.equal(true);
    const whole = new Uint8Array(3500);
    let at = 0;
    for (const f of frames) whole.set(f.payload, (at += f.payload.length) - f.payload.length);
    expect(whole).to.deep.equal(pattern(3500));
    finish(ioc, a, b);
  });

  scenario('a write after the peer closed and the stream closed completes with operationAborted; nothing is sent', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    const r = recorder<[Ec, number]>();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    expect(r.ec()).to.equal(error.closed);
    take(a); // the echoed close
    const w = recorder<[Ec, number]>();
    server.asyncWrite(pattern(5), w.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
    expect(a.bufferedBytes()).to.equal(0);
    finish(ioc, a, b);
  });

  scenario('a write completes after the peer read it, never inside the initiating call', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    const w = recorder<[Ec, number]>();
    client.asyncWrite(pattern(1), w.h);
    expect(w.called).to.equal(false);
    pump(ioc);
    expect(w.once()).to.deep.equal([null, 1]);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });
});

describe('websocket/Stream write: what else runs', () => {
  describe("a close, a ping or a read's pong during a write", () => {
    scenario('write pending, then close: both succeed, write first', () => {
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

    scenario('an auto-fragmented write lets a read\'s pong go out between its gathered writes', () => {
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

    scenario('an unfragmented write delays the pong until the whole frame is out', () => {
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

    scenario('hand-off after a write fragment: a parked close goes before a parked ping; the rest of the message never goes', () => {
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
  });
});

describe('websocket/Stream write: cancellation', () => {
  describe('a write parked, or in the next layer', () => {
    scenario('a write parked behind a ping, cancelled with total: nothing of it sent, the stream stays usable', () => {
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

    scenario('a write parked between its fragments, cancelled with total: the next write continues the message', () => {
      const { ioc, a, b, client, server } = openPair();
      client.writeBufferBytes(8);
      const sig = new CancellationSignal();
      const w = recorder();
      const p = recorder<[Ec]>();
      client.asyncWrite(bytesOf('abcdefgh'.repeat(130)), bindCancellationSlot(sig.slot(), w.h));
      client.asyncPing('p', p.h);
      // The first gathered write (64 frames) goes, then the ping takes the write side and the write parks.
      stepUntil(ioc, () => parkedIn(client, 'wr'));
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

    scenario('a parked write accepts terminal and partial too', () => {
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

    scenario('a whole-message write, its completion queued: total is ignored, terminal aborts it and fails the stream', () => {
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

    scenario('terminal while a write or a ping is in the next layer: operationAborted, the stream failed; total ignored', () => {
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

    scenario('terminal between the writes of one client frame longer than a gather buffer: operationAborted, failed, the buffer back', () => {
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
  });
});
