// Specs for the websocket Stream's timeouts (the reference's section 6) with sinon's fake
// setTimeout and performance clock (setImmediate stays real and is not used: the context is
// driven with poll): the handshake timeout bounds accept and handshake and the closing
// handshake; the idle timeout fails a pending read, unless keep-alive pings are answered or the
// peer pings; the first operation to see a timeout gets `timeout`, the others `operationAborted`.

import { expect } from 'chai';
import sinon from 'sinon';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { condition as beastCondition, error as beastError } from '../../../../lib/beast/core/error.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { none, Timeout } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  clientFrame,
  finish,
  makePair,
  Opcode,
  openPair,
  openServerAgainstRaw,
  parseFrames,
  peerClosed,
  pump,
  recorder,
  take,
  upgradeRequest,
  type Ec,
} from '../ops/fixture.js';

describe('websocket/Stream timeouts', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    clock.restore();
  });

  /** Advances the fake clock by `ms` and runs what became ready. */
  function tick(ioc: Parameters<typeof pump>[0], ms: number): void {
    clock.tick(ms);
    pump(ioc);
  }

  it('a new stream has every timeout disabled; suggested values for client and server', () => {
    const { ioc, a, b, client } = makePair();
    const t = client.getOption(Timeout);
    expect([t.handshakeTimeout, t.idleTimeout, t.keepAlivePings]).to.deep.equal([none, none, false]);
    const server = Timeout.suggested('server');
    expect([server.handshakeTimeout, server.idleTimeout, server.keepAlivePings]).to.deep.equal([30_000, 300_000, true]);
    const cl = Timeout.suggested('client');
    expect([cl.handshakeTimeout, cl.idleTimeout, cl.keepAlivePings]).to.deep.equal([30_000, none, false]);
    client.setOption(server);
    expect(client.getOption(Timeout)).to.equal(server);
    expect(clock.countTimers(), 'no timer before the handshake').to.equal(0);
    finish(ioc, a, b);
  });

  it('the handshake timeout bounds a client handshake with a silent server', () => {
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
    expect(clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  it('the handshake timeout bounds an accept with a silent client (after a partial request too)', () => {
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
      expect(clock.countTimers()).to.equal(0);
      finish(ioc, a, b);
    }
  });

  it('a completed handshake cancels the handshake timer; with no idle timeout none is left', () => {
    const { ioc, a, b, client, server } = makePair();
    client.setOption(Timeout.suggested('client'));
    server.setOption(new Timeout(1000, none, false));
    const acc = recorder<[Ec]>();
    const hs = recorder<[Ec]>();
    server.asyncAccept(acc.h);
    client.asyncHandshake('localhost', '/', hs.h);
    pump(ioc);
    expect([acc.ec(), hs.ec()]).to.deep.equal([null, null]);
    expect(clock.countTimers()).to.equal(0);
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    tick(ioc, 60_000);
    expect(r.called).to.equal(false);
    finish(ioc, a, b);
  });

  it('the idle timeout without pings: the pending read gets timeout and the socket is closed', () => {
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
    expect(clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  it('the idle timeout with no read pending closes the socket; the next operation gets timeout, later ones aborted', () => {
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

  it('received data and each new read restart the idle timer', () => {
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

  it('pings from the peer keep the connection alive', () => {
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

  it('keep-alive pings: an empty ping at half the idle time; no answer times out at the full time', () => {
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

  it('keep-alive pings answered by a Stream peer: the connection survives', () => {
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
    expect(clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  it('the handshake timeout bounds the closing handshake with a silent peer', () => {
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

  it('a close and a read pending when the peer goes silent: the read gets timeout, the close operationAborted', () => {
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
    expect(clock.countTimers()).to.equal(0);
    finish(ioc, a, b);
  });

  it('disabling both timeouts cancels the timer', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    server.setOption(new Timeout(none, 1000, false));
    const r = recorder();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    server.setOption(new Timeout());
    pump(ioc);
    expect(clock.countTimers()).to.equal(0);
    tick(ioc, 10_000);
    expect(r.called).to.equal(false);
    finish(ioc, a, b);
  });
});
