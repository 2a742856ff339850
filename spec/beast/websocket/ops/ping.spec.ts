// Specs for ping and pong (ops/ping.ts, Beast's ping_op, after test/beast/websocket/ping.cpp)
// over TestStream against a raw peer: what goes out, how a read answers the peer's ping, and the
// errors and argument checks.
// What else can run during a ping: a close parked behind it, a read's pong and a write waiting for
// the write side (Beast's hand-off order), and its cancellation while parked.

import { expect } from 'chai';

import { bindAbortSignal } from '../../../../lib/net/binders.js';
import { CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import { usePromise } from '../../../../lib/net/token.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { parkedIn, sideHeld } from '../../../support/internals.js';
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
  pump,
  recorder,
  serverFrame,
  stepUntil,
  take,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('websocket/Stream ping and pong', () => {
  scenario('asyncPing and asyncPong send one control frame each with the payload (a client masks it)', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    const p = recorder<[Ec]>();
    const q = recorder<[Ec]>();
    client.asyncPing('are you there', p.h);
    pump(ioc);
    client.asyncPong(new Uint8Array([1, 2, 3]), q.h);
    expect(q.called).to.equal(false);
    pump(ioc);
    expect([p.ec(), q.ec()]).to.deep.equal([null, null]);
    const frames = parseFrames(take(b));
    expect(frames.map((f) => [f.fin, f.opcode, f.masked])).to.deep.equal([
      [true, Opcode.ping, true],
      [true, Opcode.pong, true],
    ]);
    expect(text(frames[0]!.payload)).to.equal('are you there');
    expect([...frames[1]!.payload]).to.deep.equal([1, 2, 3]);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });

  scenario("a read answers the peer's ping with a pong of the same payload, reports it, and reads on", () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const seen: string[] = [];
    server.controlCallback((kind, payload) => seen.push(`${kind}:${payload}`));
    b.append(clientFrame({ opcode: Opcode.ping, payload: 'echo me' }));
    b.append(clientFrame({ opcode: Opcode.text, payload: 'data' }));
    const got = new FlatBuffer();
    const r = recorder<[Ec, number]>();
    server.asyncRead(got, r.h);
    pump(ioc);
    expect(r.once()).to.deep.equal([null, 4]);
    expect(seen).to.deep.equal(['ping:echo me']);
    const [pong, ...rest] = parseFrames(take(a));
    expect(rest.length).to.equal(0);
    expect([pong!.opcode, pong!.masked, text(pong!.payload)]).to.deep.equal([Opcode.pong, false, 'echo me']);
    finish(ioc, a, b);
  });

  scenario('a payload over 125 bytes throws RangeError and sends nothing; the stream stays usable', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    expect(() => client.asyncPing('x'.repeat(126), () => {})).to.throw(RangeError);
    expect(() => client.asyncPong(new Uint8Array(126), () => {})).to.throw(RangeError);
    pump(ioc);
    expect(b.bufferedBytes()).to.equal(0);
    const p = recorder<[Ec]>();
    client.asyncPing('x'.repeat(125), p.h);
    pump(ioc);
    expect(p.ec()).to.equal(null);
    expect(parseFrames(take(b))[0]!.payload.length).to.equal(125);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });

  scenario('a second ping while one is outstanding completes with alreadyStarted; after the stream closed, operationAborted', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const first = recorder<[Ec]>();
    const second = recorder<[Ec]>();
    server.asyncPing('1', first.h);
    server.asyncPing('2', second.h);
    pump(ioc);
    expect([first.ec(), second.ec()]).to.deep.equal([null, netError.alreadyStarted]);
    expect(parseFrames(take(a)).length).to.equal(1);
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    server.asyncRead(new FlatBuffer(), () => {});
    pump(ioc);
    take(a);
    const late = recorder<[Ec]>();
    server.asyncPing('late', late.h);
    pump(ioc);
    expect(late.ec()).to.equal(netError.operationAborted);
    expect(a.bufferedBytes()).to.equal(0);
    finish(ioc, a, b);
  });
});

describe('websocket/Stream ping: what else runs', () => {
  describe("a close, a write or a read's pong during a ping", () => {
    scenario('ping pending, then close: both succeed, ping first', () => {
      const { ioc, a, b, client, server } = openPair();
      const reads = echo(server);
      const order: string[] = [];
      const { ctl } = ordered(order);
      const p = ctl('ping');
      const c = ctl('close');
      client.asyncPing('', p.h);
      expect(sideHeld(client, 'wr')).to.equal(true);
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect([p.ec(), c.ec()]).to.deep.equal([null, null]);
      expect(order).to.deep.equal(['ping', 'close']);
      expect(reads).to.deep.equal([[error.closed, 0]]);
      expect(server.reason().code).to.equal(1000);
      finish(ioc, a, b);
    });

    scenario('hand-off after a ping: a read waiting to send its pong goes before a parked write', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.writeSize(1);
      const p = recorder<[Ec]>();
      client.asyncPing('a long ping payload', p.h);
      const w = recorder();
      client.asyncWrite(bytesOf('msg'), w.h);
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'q' }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => parkedIn(client, 'rd'));
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
  });

  describe('cancellation of a ping', () => {
    scenario('a ping parked behind a write, cancelled with total through an AbortSignal: rejected, not sent', async () => {
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
  });
});
