/**
 * Cancellation of the HTTP/2 front door's composed operations over real sockets on 127.0.0.1:
 * which types the SETTINGS wait accepts (every type: it has no side effect), and a request that
 * arrives exactly while a child's completion is queued, honoured at the next step of the
 * SETTINGS wait, the handshake and the layer's teardown (DESIGN section 4.5).
 */

import { expect } from 'chai';
import * as http2 from 'node:http2';
import * as net from 'node:net';

import {
  bindCancellationSlot,
  bindExecutor,
  buffer,
  CancellationSignal,
  CancellationType,
  error as netError,
  IoContext,
  makeWorkGuard,
  type ErrorCode,
  type Executor,
} from '../../../lib/net/index.js';
import { PermessageDeflate, Stream } from '../../../lib/beast/websocket/index.js';
import * as h2 from '../../../lib/front/http2/index.js';
import { Harness } from './support.js';

/**
 * An executor that queues everything on `inner`, and emits `type` on `signal` at the first
 * submission for which `when()` holds: that is, while the completion being submitted is queued
 * and no child holds the operation's slot.
 */
class CancelWhenQueued implements Executor {
  fired = false;
  constructor(
    readonly inner: Executor,
    readonly signal: CancellationSignal,
    readonly type: CancellationType,
    readonly when: () => boolean = () => true,
  ) {}
  #submit(fn: () => void): void {
    if (!this.fired && this.when()) {
      this.fired = true;
      this.signal.emit(this.type);
    }
    this.inner.post(fn);
  }
  post(fn: () => void): void { this.#submit(fn); }
  defer(fn: () => void): void { this.#submit(fn); }
  dispatch(fn: () => void): void { this.#submit(fn); }
  runningInThisThread(): boolean { return false; }
  onWorkStarted(): void { this.inner.onWorkStarted(); }
  onWorkFinished(): void { this.inner.onWorkFinished(); }
}

/** A handler bound to `ex` and to `signal`'s slot, and the promise of its arguments. */
function capture(ex: Executor, signal: CancellationSignal): [(...a: unknown[]) => void, Promise<unknown[]>] {
  let resolve!: (a: unknown[]) => void;
  const p = new Promise<unknown[]>((r) => (resolve = r));
  return [bindCancellationSlot(signal.slot(), bindExecutor(ex, (...a: unknown[]) => resolve(a))), p];
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with `p`'s value, or `'pending'` after `ms`. */
const settled = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)))]).finally(() => clearTimeout(timer));
};

describe('http2: cancellation', () => {
  describe('asyncWaitForSettings against a server that never answers', () => {
    let server: net.Server;
    let sockets: net.Socket[];
    let ioc: IoContext;
    let running: Promise<number>;
    let guard: ReturnType<typeof makeWorkGuard>;
    let session: http2.ClientHttp2Session;
    beforeEach(async () => {
      sockets = [];
      server = net.createServer((s) => void sockets.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      ioc = new IoContext();
      session = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      session.on('error', () => {});
      guard = makeWorkGuard(ioc);
      running = ioc.run();
    });
    afterEach(async () => {
      guard.reset();
      session.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      await running;
    });

    for (const [name, type] of [['terminal', CancellationType.terminal], ['partial', CancellationType.partial], ['total', CancellationType.total]] as const) {
      it(`a ${name} request ends the wait with operationAborted, the session as it was`, async () => {
        const signal = new CancellationSignal();
        const p = h2.asyncWaitForSettings(ioc, session, bindCancellationSlot(signal.slot()));
        const result = p.then(
          (supported) => ['resolved', supported],
          (err: { code?: ErrorCode }) => ['rejected', err.code],
        );
        await delay(50); // connected, PING sent, no answer
        expect(session.connecting).to.equal(false);
        signal.emit(type);
        const r = await settled(result, 1000);
        if (r === 'pending') signal.emit(CancellationType.terminal); // release the wait before failing
        expect(r).to.deep.equal(['rejected', netError.operationAborted]);
        expect(signal.hasHandler()).to.equal(false);
        expect(session.destroyed || session.closed).to.equal(false);
      });
    }
  });

  describe('with a server (h2c)', () => {
    let h: Harness;
    afterEach(async () => {
      await h.stop();
    });

    for (const [name, type] of [['terminal', CancellationType.terminal], ['total', CancellationType.total]] as const) {
      it(`asyncWaitForSettings: a ${name} request arriving while the connect wait's completion is queued stops it before the PING`, async () => {
        // SETTINGS without the extended CONNECT: the wait can only end by asking, never early.
        h = await new Harness('h2c', {}).start();
        const session = await h.connect();
        expect(session.connecting).to.equal(true);
        const signal = new CancellationSignal();
        const ex = new CancelWhenQueued(h.ioc.getExecutor(), signal, type);
        const [handler, done] = capture(ex, signal);
        h2.asyncWaitForSettings(h.ioc, session, handler);
        expect(await done).to.deep.equal([netError.operationAborted, false]);
        expect(ex.fired).to.equal(true);
        expect(session.destroyed || session.closed).to.equal(false);
        // Not a trace of the cancelled wait: asking again settles it.
        expect(await h2.asyncWaitForSettings(h.ioc, session)).to.equal(false);
      });
    }

    it('asyncHandshake: a terminal request arriving while the SETTINGS wait\'s completion is queued sends nothing', async () => {
      h = await new Harness('h2c').start();
      const session = await h.connect();
      expect(await h2.asyncWaitForSettings(h.ioc, session)).to.equal(true);
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      const signal = new CancellationSignal();
      const ex = new CancelWhenQueued(h.ioc.getExecutor(), signal, CancellationType.terminal);
      const [handler, done] = capture(ex, signal);
      h2.asyncHandshake(ws, session, 'localhost', '/echo', handler);
      expect(await done).to.deep.equal([netError.operationAborted]);
      expect(ex.fired).to.equal(true);
      expect(ws.nextLayer().stream()).to.equal(null);
      // The session still works, and the server saw only the stream opened next.
      const next = await h.open(session);
      await next.asyncWrite(buffer('x'));
      expect(h.seen.streams).to.have.length(1);
    });

    it('asyncHandshake: a terminal request arriving while the response\'s completion is queued resets the stream', async () => {
      h = await new Harness('h2c').start();
      const session = await h.connect();
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      ws.setOption(new PermessageDeflate({ clientEnable: true }));
      const signal = new CancellationSignal();
      const ex = new CancelWhenQueued(h.ioc.getExecutor(), signal, CancellationType.terminal, () => ws.nextLayer().stream() !== null);
      const [handler, done] = capture(ex, signal);
      h2.asyncHandshake(ws, session, 'localhost', '/echo', handler);
      expect(await done).to.deep.equal([netError.operationAborted]);
      expect(ex.fired).to.equal(true);
      const s = ws.nextLayer().stream()!;
      expect(s.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
      expect(ws.nextLayer().isOpen()).to.equal(false);
      expect(session.destroyed || session.closed).to.equal(false);
    });

    /** A WebSocket opened over h2c, its server side, and both layers. */
    async function pair(): Promise<{ client: h2.Http2Layer; server: Stream<h2.Http2Layer> }> {
      h = new Harness('h2c');
      h.echo = false;
      await h.start();
      const ws = await h.open(await h.connect());
      return { client: ws.nextLayer(), server: h.serverStreams[0] as Stream<h2.Http2Layer> };
    }

    it('asyncTeardown: a terminal request arriving while a read\'s completion is queued resets the stream before the next read', async () => {
      const { client, server } = await pair();
      const signal = new CancellationSignal();
      const ex = new CancelWhenQueued(h.ioc.getExecutor(), signal, CancellationType.terminal);
      const [handler, done] = capture(ex, signal);
      client.asyncTeardown('client', handler);
      await server.asyncWrite(buffer('bytes before the end')); // the teardown's first read gets them
      await delay(20);
      server.nextLayer().shutdown(); // without the fix, the teardown would end in order
      expect(await done).to.deep.equal([netError.operationAborted]);
      expect(ex.fired).to.equal(true);
      expect(client.stream()!.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
    });

    it('asyncTeardown: a terminal request arriving while the end of stream\'s completion is queued resets the stream', async () => {
      const { client, server } = await pair();
      const signal = new CancellationSignal();
      const ex = new CancelWhenQueued(h.ioc.getExecutor(), signal, CancellationType.terminal);
      const [handler, done] = capture(ex, signal);
      client.asyncTeardown('client', handler);
      server.nextLayer().shutdown(); // END_STREAM: the read sees end of stream
      expect(await done).to.deep.equal([netError.operationAborted]);
      expect(ex.fired).to.equal(true);
      expect(client.stream()!.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
    });
  });
});
