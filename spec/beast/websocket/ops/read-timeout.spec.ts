// Specs for the idle timeout while reading (the reference's section 6), with sinon's fake
// setTimeout and performance clock (the context is driven with poll): the idle timeout fails a
// pending read, unless data arrives, the peer pings, or keep-alive pings are answered.

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { error as beastError } from '../../../../lib/beast/core/error.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { none, Timeout } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  clientFrame,
  finish,
  Opcode,
  openPair,
  openServerAgainstRaw,
  parseFrames,
  peerClosed,
  pump,
  recorder,
  take,
  useFakeClock,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

describe('websocket/Stream read: the idle timeout', () => {
  const fake = useFakeClock();
  const tick = (ioc: IoContext, ms: number): void => fake.tick(ioc, ms);

  scenario('the idle timeout without pings: the pending read gets timeout and the socket is closed', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    tick(ioc, 999);
    expect(r.called).to.equal(false);
    tick(ioc, 1);
    expect(r.once()).to.deep.equal([beastError.timeout, 0]);
    expect(server.isOpen()).to.equal(false);
    expect(a.bufferedBytes(), 'no close frame').to.equal(0);
    expect(peerClosed(ioc, a)).to.equal(true);
    // Later operations are aborted.
    const w = recorder();
    server.asyncWrite(bytesOf('x'), w.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
    expect(fake.clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  scenario('the idle timeout with no read pending closes the socket; the next operation gets timeout, later ones aborted', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    tick(ioc, 1000);
    expect(server.isOpen()).to.equal(false);
    expect(peerClosed(ioc, a)).to.equal(true);
    const w = recorder();
    server.asyncWrite(bytesOf('x'), w.h);
    pump(ioc);
    const p = recorder<[Ec]>();
    server.asyncPing('', p.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([beastError.timeout, 0]);
    expect(p.ec()).to.equal(netError.operationAborted);
    finish(ioc, a, b);
  });

  scenario('received data and each new read restart the idle timer', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    const buf = new FlatBuffer();
    const r1 = recorder();
    server.asyncRead(buf, r1.h);
    pump(ioc);
    tick(ioc, 900);
    b.append(clientFrame({ opcode: Opcode.text, payload: 'hi' }));
    pump(ioc);
    expect(r1.once()).to.deep.equal([null, 2]);
    const r2 = recorder();
    server.asyncRead(buf, r2.h);
    pump(ioc);
    tick(ioc, 999);
    expect(r2.called).to.equal(false);
    tick(ioc, 1);
    expect(r2.once()).to.deep.equal([beastError.timeout, 0]);
    finish(ioc, a, b);
  });

  scenario('pings from the peer keep the connection alive', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    for (let i = 0; i < 5; i++) {
      tick(ioc, 800);
      b.append(clientFrame({ opcode: Opcode.ping, payload: `${i}` }));
      pump(ioc);
    }
    expect(r.called).to.equal(false);
    expect(parseFrames(take(a)).map((f) => f.opcode)).to.deep.equal(Array(5).fill(Opcode.pong));
    tick(ioc, 1000);
    expect(r.once()).to.deep.equal([beastError.timeout, 0]);
    finish(ioc, a, b);
  });

  scenario('keep-alive pings: an empty ping at half the idle time; no answer times out at the full time', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, true));
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    tick(ioc, 499);
    expect(a.bufferedBytes()).to.equal(0);
    tick(ioc, 1);
    const pings = parseFrames(take(a));
    expect(pings.map((f) => [f.opcode, f.masked, f.payload.length])).to.deep.equal([[Opcode.ping, false, 0]]);
    expect(r.called).to.equal(false);
    tick(ioc, 499);
    expect(r.called).to.equal(false);
    tick(ioc, 1);
    expect(r.once()).to.deep.equal([beastError.timeout, 0]);
    expect(a.bufferedBytes(), 'no second ping').to.equal(0);
    finish(ioc, a, b);
  });

  scenario('keep-alive pings answered by a Stream peer: the connection survives', () => {
    const { ioc, a, b, client, server } = openPair();
    server.setOption(new Timeout(none, 1000, true));
    const seen: string[] = [];
    client.controlCallback((kind) => seen.push(kind));
    const pongs: string[] = [];
    server.controlCallback((kind) => pongs.push(kind));
    const cr = recorder();
    const sr = recorder();
    client.asyncRead(new FlatBuffer(), cr.h);
    server.asyncRead(new FlatBuffer(), sr.h);
    pump(ioc);
    for (let i = 0; i < 10; i++) tick(ioc, 500);
    expect(sr.called).to.equal(false);
    expect(cr.called).to.equal(false);
    expect(seen).to.deep.equal(Array(10).fill('ping'));
    expect(pongs).to.deep.equal(Array(10).fill('pong'));
    expect(server.isOpen()).to.equal(true);
    // The connection still works and closes cleanly.
    const c = recorder<[Ec]>();
    client.asyncClose(1000, c.h);
    pump(ioc);
    expect(c.ec()).to.equal(null);
    expect(sr.once()).to.deep.equal([error.closed, 0]);
    expect(cr.once()).to.deep.equal([netError.operationAborted, 0]);
    expect(fake.clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  scenario('disabling both timeouts cancels the timer', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    server.setOption(new Timeout());
    pump(ioc);
    expect(fake.clock.countTimers()).to.equal(0);
    tick(ioc, 10_000);
    expect(r.called).to.equal(false);
    finish(ioc, a, b);
  });
});
