// Specs for the control frames that arrive during a read (ops/read.ts): the peer's close (the
// read gets closed and echoes it, also while our own close is queued), and a ping that the read
// must answer while a write, a ping or a close holds or wants the write side: who goes first, and
// what cancellation can do to a read parked to send its pong.

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { CloseCode } from '../../../../lib/beast/websocket/close.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { parkedIn, sideHeld } from '../../../support/internals.js';
import {
  bytesOf,
  clientFrame,
  closeCodeOf,
  closePayload,
  echo,
  finish,
  onlyCloseCode,
  Opcode,
  openClientAgainstRaw,
  openPair,
  openServerAgainstRaw,
  ordered,
  parseFrames,
  peek,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  stepUntil,
  take,
  text,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

describe('websocket/Stream read: control frames that arrive', () => {
  describe("the peer's close", () => {
    for (const [name, payload, echoed, code, reason] of [
      ['a close with code 1001 and a reason', closePayload(1001, 'going'), 1001, 1001, 'going'],
      ['a close with code 3000', closePayload(3000), 3000, 3000, ''],
      ['a close with code 4999', closePayload(4999, 'x'), 4999, 4999, 'x'],
      ['an empty close', new Uint8Array(0), 1000, 0, ''],
    ] as const) {
      scenario(`${name}: the read gets closed, reason() holds it, the echo carries ${echoed}`, () => {
        const { ioc, a, b, server } = openServerAgainstRaw();
        b.append(clientFrame({ opcode: Opcode.close, payload }));
        const r = recorder();
        server.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([error.closed, 0]);
        expect(server.reason()).to.deep.equal({ code, reason });
        const frames = parseFrames(take(a));
        expect(frames.length).to.equal(1);
        expect(closeCodeOf(frames[0]!)).to.equal(echoed);
        expect(frames[0]!.payload.length).to.equal(2);
        expect(server.isOpen()).to.equal(false);
        expect(peerClosed(ioc, a)).to.equal(true);
        // Every later operation is aborted.
        const r2 = recorder();
        server.asyncRead(new FlatBuffer(), r2.h);
        const c = recorder<[Ec]>();
        server.asyncClose(1000, c.h);
        pump(ioc);
        expect(r2.once()).to.deep.equal([netError.operationAborted, 0]);
        expect(c.ec()).to.equal(netError.operationAborted);
        finish(ioc, a, b);
      });
    }

    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) {
      scenario(`close code ${code} is valid and echoed`, () => {
        const { ioc, a, b, client } = openClientAgainstRaw();
        a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(code) }));
        const r = recorder();
        client.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([error.closed, 0]);
        expect(client.reason().code).to.equal(code);
        expect(onlyCloseCode(take(b), true)).to.equal(code);
        finish(ioc, a, b);
      });
    }

    scenario('a close with no code sends an empty close frame, answered with 1000', () => {
      const { ioc, a, b, client, server } = openPair();
      const c = recorder<[Ec]>();
      client.asyncClose(0, c.h);
      const sent = parseFrames(peek(b));
      expect(sent.map((f) => [f.opcode, f.payload.length, f.masked])).to.deep.equal([[Opcode.close, 0, true]]);
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(c.ec()).to.equal(null);
      expect(server.reason()).to.deep.equal({ code: 0, reason: '' });
      expect(client.reason()).to.deep.equal({ code: 1000, reason: '' });
      finish(ioc, a, b);
    });

    scenario('a Stream peer closing: the read gets closed with its code, then both are closed', () => {
      const { ioc, a, b, client, server } = openPair();
      const r = recorder();
      const c = recorder<[Ec]>();
      server.asyncRead(new FlatBuffer(), r.h);
      client.asyncClose({ code: 1001, reason: 'away' }, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(c.ec()).to.equal(null);
      expect(server.reason()).to.deep.equal({ code: 1001, reason: 'away' });
      expect(client.reason()).to.deep.equal({ code: 1001, reason: '' });
      expect([client.isOpen(), server.isOpen()]).to.deep.equal([false, false]);
      finish(ioc, a, b);
    });
  });

  describe("the peer's close while our close is queued", () => {
    scenario('read that receives a close frame while a close is queued: read closed, close operationAborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.close }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => sideHeld(client, 'wr'));
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
  });

  describe('a ping that the read must answer, and what else runs', () => {
    scenario('read answering a ping (holding the write side), then close: both succeed', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      a.append(serverFrame({ opcode: Opcode.ping }));
      a.append(serverFrame({ opcode: Opcode.text, payload: '*' }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      const buf = new FlatBuffer();
      client.asyncRead(buf, r.h);
      stepUntil(ioc, () => sideHeld(client, 'wr'));
      expect(r.called).to.equal(false);
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 1]);
      expect(c.ec()).to.equal(null);
      expect(order).to.deep.equal(['read', 'close']);
      finish(ioc, a, b);
    });

    scenario('read that must answer a ping while a write holds the write side: both succeed, pong after the message', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      a.append(serverFrame({ opcode: Opcode.ping }));
      const buf = new FlatBuffer();
      const r = recorder();
      client.asyncRead(buf, r.h);
      expect(sideHeld(client, 'rd')).to.equal(true);
      const w = recorder();
      client.asyncWrite(bytesOf('Hello, world'), w.h);
      expect(sideHeld(client, 'wr')).to.equal(true);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 12]);
      expect(r.once()).to.deep.equal([null, 12]);
      expect(text(buf.dataView())).to.equal('Hello, world');
      expect(reads).to.deep.equal([[null, 12]]);
      finish(ioc, a, b);
    });

    scenario('hand-off after a read\'s pong: a parked ping goes before a parked write', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.writeSize(1);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'a long ping payload' }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => sideHeld(client, 'wr'));
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

    scenario('a read parked to send a pong accepts terminal only; then it aborts and no pong goes out', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      b.writeSize(Infinity);
      a.writeSize(1);
      const w = recorder();
      client.asyncWrite(bytesOf('a long enough message'), w.h);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'x' }));
      const sig = new CancellationSignal();
      const r = recorder();
      client.asyncRead(new FlatBuffer(), bindCancellationSlot(sig.slot(), r.h));
      stepUntil(ioc, () => parkedIn(client, 'rd'));
      sig.emit(CancellationType.total);
      sig.emit(CancellationType.partial);
      for (let i = 0; i < 3; i++) ioc.pollOne();
      expect(parkedIn(client, 'rd'), 'still parked').to.equal(true);
      expect(r.called).to.equal(false);
      expect(w.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(w.once()).to.deep.equal([null, 21]);
      expect(parseFrames(take(b)).map((f) => f.opcode)).to.deep.equal([Opcode.text]);
      finish(ioc, a, b);
    });
  });
});
