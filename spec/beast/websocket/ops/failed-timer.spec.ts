/**
 * A stream whose close or handshake fails keeps no timer: failing the stream (checkStopNow's
 * `fail()`) disarms the handshake and idle timers and closes the next layer, so nothing above it
 * (lib/front) has to disarm a timer left behind. Each case checks the stream's own timer when
 * the failed operation's handler runs, and that no work is left once the endpoints are closed.
 */

import { expect } from 'chai';

import { Timeout } from '../../../../lib/beast/websocket/index.js';
import { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { timerPending } from '../../../support/internals.js';
import { makePair, openPair, pump, recorder, type Ec, type Pair } from './fixture.js';

/** Every timeout of `ws` armed, long enough that only a disarm can end it within a test. */
const timeouts = new Timeout(60_000, 60_000, true);

/** Starts an operation and runs the context; what its handler saw of `ws`'s timer. */
function afterCompletion(p: Pair, ws: Pair['server'], start: (h: (ec: Ec) => void) => void): { ec: Ec; pending: boolean } {
  let seen: { ec: Ec; pending: boolean } | null = null;
  start((ec) => {
    seen = { ec, pending: timerPending(ws) };
  });
  pump(p.ioc);
  expect(seen, 'completed').to.not.equal(null);
  return seen!;
}

describe('websocket: a failed close or handshake leaves no timer armed', () => {
  it('a close whose close frame cannot be written (the peer is gone)', () => {
    const p = openPair();
    p.server.setOption(timeouts);
    expect(timerPending(p.server), 'idle timer armed while open').to.equal(true);
    p.a.close();
    pump(p.ioc);
    const r = afterCompletion(p, p.server, (h) => p.server.asyncClose(1000, h));
    expect(r.ec).to.not.equal(null);
    expect(r.pending, 'timer').to.equal(false);
    expect(p.server.isOpen()).to.equal(false);
    p.b.close();
    pump(p.ioc);
    expect(p.ioc.outstandingWork()).to.equal(0);
  });

  it('a close whose frame went out but whose peer ends the stream instead of answering', () => {
    const p = openPair();
    p.client.setOption(timeouts);
    const r = afterCompletion(p, p.client, (h) => {
      p.client.asyncClose(1000, h);
      pump(p.ioc);
      expect(timerPending(p.client), 'closing handshake timer armed').to.equal(true);
      p.b.close();
    });
    expect(r.ec).to.not.equal(null);
    expect(r.pending, 'timer').to.equal(false);
    p.a.close();
    pump(p.ioc);
    expect(p.ioc.outstandingWork()).to.equal(0);
  });

  it('a close that fails at each of its I/O steps in turn', () => {
    for (let n = 0; n < 4; n++) {
      const fc = new FailCount(n, netError.connectionReset);
      const p = makePair({ fcA: fc });
      p.server.asyncAccept(recorder<[Ec]>().h);
      p.client.asyncHandshake('localhost', '/', recorder<[Ec]>().h);
      pump(p.ioc);
      if (!p.client.isOpen()) continue;
      p.client.setOption(timeouts);
      p.server.asyncRead(new FlatBuffer(), () => {});
      const r = afterCompletion(p, p.client, (h) => p.client.asyncClose(1000, h));
      expect(r.pending, `timer (step ${n}: ${r.ec === null ? 'ok' : r.ec.message()})`).to.equal(false);
      p.a.close();
      p.b.close();
      pump(p.ioc);
      expect(p.ioc.outstandingWork(), `work (step ${n})`).to.equal(0);
    }
  });

  it('a client handshake declined by the server', () => {
    const p = makePair();
    p.client.setOption(timeouts);
    p.a.append('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    const r = afterCompletion(p, p.client, (h) => p.client.asyncHandshake('localhost', '/', h));
    expect(r.ec).to.not.equal(null);
    expect(r.pending, 'timer').to.equal(false);
    p.a.close();
    p.b.close();
    pump(p.ioc);
    expect(p.ioc.outstandingWork()).to.equal(0);
  });

  it('a server accept whose request is refused, and one whose peer vanishes', () => {
    for (const input of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHo']) {
      const p = makePair();
      p.server.setOption(timeouts);
      p.a.asyncWriteSome(Buffer.from(input), () => {});
      if (!input.endsWith('\r\n\r\n')) pump(p.ioc), p.a.close();
      const r = afterCompletion(p, p.server, (h) => p.server.asyncAccept(h));
      expect(r.ec, input).to.not.equal(null);
      expect(r.pending, `timer (${JSON.stringify(input)})`).to.equal(false);
      p.a.close();
      p.b.close();
      pump(p.ioc);
      expect(p.ioc.outstandingWork()).to.equal(0);
    }
  });
});
