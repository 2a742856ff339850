// Specs for lib/beast/core/duplex-stream.ts: a Node Duplex as a next layer. Reads keep what does
// not fit, EOF and errors map to net errors, cancellation and close abort a waiting read, and
// every operation removes the listeners it added before its handler runs.

import { expect } from 'chai';
import { duplexPair, PassThrough, type Duplex } from 'node:stream';

import { bindCancellationSlot } from '../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../lib/net/cancellation.js';
import { error, type ErrorCode } from '../../../lib/net/error.js';
import { IoContext } from '../../../lib/net/io-context.js';
import type { IoSignature } from '../../../lib/net/stream.js';
import { asTuple } from '../../../lib/net/token.js';
import { DuplexStream, error as beastError, condition } from '../../../lib/beast/core/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array, n = b.length): string => new TextDecoder().decode(b.subarray(0, n));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const events = ['readable', 'data', 'end', 'error', 'close', 'drain', 'finish'] as const;
const listeners = (d: Duplex): Record<string, number> =>
  Object.fromEntries(events.map((e) => [e, d.listenerCount(e)]));

/** Reads everything the peer side has buffered, as a string. */
const drain = (d: Duplex): string => {
  let s = '';
  for (let c: Buffer | null = d.read() as Buffer | null; c !== null; c = d.read() as Buffer | null) s += c.toString();
  return s;
};

describe('beast/core/error', () => {
  it('timeout belongs to the beast category and matches condition.timeout', () => {
    expect(beastError.timeout.category.name).to.equal('beast');
    expect(beastError.timeout.message()).to.equal('The socket was closed due to a timeout');
    expect(beastError.timeout.matches(condition.timeout)).to.equal(true);
    expect(error.timedOut.matches(condition.timeout)).to.equal(false);
  });
});

describe('beast/core/DuplexStream', () => {
  let ioc: IoContext;
  let local: Duplex;
  let peer: Duplex;
  let ds: DuplexStream;
  let baseline: Record<string, number>;

  beforeEach(() => {
    ioc = new IoContext();
    [local, peer] = duplexPair();
    ds = new DuplexStream(ioc, local);
    baseline = listeners(local);
  });
  afterEach(async () => {
    expect(listeners(local), 'listeners back to baseline').to.deep.equal(baseline);
    expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
    local.destroy();
    peer.destroy();
    await turn();
  });

  /** Runs the context until every started operation has completed. */
  const run = async (): Promise<void> => {
    ioc.restart();
    await ioc.run();
  };

  it('reads what the peer wrote; a read never returns more than fits and keeps the rest', async () => {
    peer.write('hello world');
    await turn();
    const buf = new Uint8Array(4);
    const r1 = ds.asyncReadSome(buf, asTuple());
    await run();
    expect(await r1).to.deep.equal([null, 4]);
    expect(decode(buf)).to.equal('hell');
    const parts: string[] = [];
    for (;;) {
      const p = ds.asyncReadSome(buf, asTuple());
      await run();
      const [ec, n] = await p;
      expect(ec).to.equal(null);
      parts.push(decode(buf, n));
      if (parts.join('') === 'o world') break;
    }
    expect(parts.every((p) => p.length <= 4)).to.equal(true);
  });

  it('a waiting read holds one listener set and removes it when the bytes arrive', async () => {
    const buf = new Uint8Array(16);
    const calls: IoSignature[] = [];
    ds.asyncReadSome(buf, (...a) => void calls.push(a));
    const during = listeners(local);
    for (const e of ['readable', 'end', 'error', 'close']) expect(during[e], e).to.equal(baseline[e] + 1);
    const done = run();
    peer.write('abc');
    await done;
    expect(calls).to.deep.equal([[null, 3]]);
    expect(decode(buf, 3)).to.equal('abc');
  });

  it('completions known at once are posted: never inside the initiating call', () => {
    const calls: IoSignature[] = [];
    ds.asyncReadSome(new Uint8Array(0), (...a) => void calls.push(a));
    ds.asyncWriteSome([], (...a) => void calls.push(a));
    expect(calls).to.deep.equal([]);
    ioc.poll();
    expect(calls).to.deep.equal([[null, 0], [null, 0]]);
  });

  it('writes reach the peer, several buffers in one call', async () => {
    const p = ds.asyncWriteSome([text('ab'), new Uint8Array(0), text('cd'), text('e')], asTuple());
    await run();
    expect(await p).to.deep.equal([null, 5]);
    await turn();
    expect(drain(peer)).to.equal('abcde');
  });

  // duplexPair's end() leaves a listener of Node's own on the other side, so these two use a
  // PassThrough, whose readable side ends when its writable side is ended.
  it('end of stream reads as eof, after the bytes before it', async () => {
    const loop = new PassThrough();
    const s = new DuplexStream(ioc, loop);
    const base = listeners(loop);
    loop.end('last');
    const buf = new Uint8Array(16);
    const r1 = s.asyncReadSome(buf, asTuple());
    await run();
    expect(await r1).to.deep.equal([null, 4]);
    const r2 = s.asyncReadSome(buf, asTuple());
    await run();
    expect(await r2).to.deep.equal([error.eof, 0]);
    const r3 = s.asyncReadSome(buf, asTuple());
    await run();
    expect(await r3).to.deep.equal([error.eof, 0]);
    expect(listeners(loop)).to.deep.equal(base);
  });

  it('eof arriving while a read waits completes it', async () => {
    const loop = new PassThrough();
    const s = new DuplexStream(ioc, loop);
    const base = listeners(loop);
    const p = s.asyncReadSome(new Uint8Array(8), asTuple());
    const done = run();
    loop.end();
    await done;
    expect(await p).to.deep.equal([error.eof, 0]);
    expect(listeners(loop)).to.deep.equal(base);
  });

  it('an error while a read waits completes it with the mapped code; later operations see it', async () => {
    const p = ds.asyncReadSome(new Uint8Array(8), asTuple());
    const done = run();
    local.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await done;
    expect(await p).to.deep.equal([error.connectionReset, 0]);
    const w = ds.asyncWriteSome(text('x'), asTuple());
    const r = ds.asyncReadSome(new Uint8Array(8), asTuple());
    await run();
    expect(await w).to.deep.equal([error.connectionReset, 0]);
    expect(await r).to.deep.equal([error.connectionReset, 0]);
  });

  it('an error between operations is recorded, not thrown', async () => {
    local.destroy(Object.assign(new Error('pipe'), { code: 'EPIPE' }));
    await turn();
    const r = ds.asyncReadSome(new Uint8Array(8), asTuple());
    await run();
    expect(await r).to.deep.equal([error.brokenPipe, 0]);
  });

  for (const [name, type] of Object.entries({
    terminal: CancellationType.terminal,
    partial: CancellationType.partial,
    total: CancellationType.total,
  })) {
    it(`${name} cancellation of a waiting read: operationAborted, nothing consumed, listeners removed`, async () => {
      const sig = new CancellationSignal();
      const calls: IoSignature[] = [];
      const buf = new Uint8Array(8);
      ds.asyncReadSome(buf, bindCancellationSlot(sig.slot(), (...a: IoSignature) => void calls.push(a)));
      expect(sig.hasHandler()).to.equal(true);
      sig.emit(type);
      expect(calls).to.deep.equal([]); // posted, not inside emit()
      expect(sig.hasHandler()).to.equal(false);
      expect(listeners(local)).to.deep.equal(baseline);
      await run();
      expect(calls).to.deep.equal([[error.operationAborted, 0]]);
      peer.write('next');
      const r = ds.asyncReadSome(buf, bindCancellationSlot(sig.slot(), asTuple()));
      await run();
      expect(await r).to.deep.equal([null, 4]);
      expect(sig.hasHandler()).to.equal(false);
    });
  }

  it('close aborts a waiting read and a pending write; later operations fail with badDescriptor', async () => {
    const slow = new PassThrough({ highWaterMark: 4 });
    const s = new DuplexStream(ioc, slow);
    const base = listeners(slow);
    const calls: [string, ErrorCode | null, number][] = [];
    // Bytes the PassThrough holds unread keep the write's callback back (backpressure).
    s.asyncWriteSome(new Uint8Array(64), (ec, n) => void calls.push(['write', ec, n]));
    await turn();
    expect(calls).to.deep.equal([]);
    ds.asyncReadSome(new Uint8Array(4), (ec, n) => void calls.push(['read', ec, n]));
    s.close();
    ds.close();
    expect(calls).to.deep.equal([]);
    await run();
    expect(calls).to.deep.equal([
      ['write', error.operationAborted, 0],
      ['read', error.operationAborted, 0],
    ]);
    expect(listeners(slow)).to.deep.equal(base);
    const r = ds.asyncReadSome(new Uint8Array(4), asTuple());
    const w = ds.asyncWriteSome(text('x'), asTuple());
    await run();
    expect(await r).to.deep.equal([error.badDescriptor, 0]);
    expect(await w).to.deep.equal([error.badDescriptor, 0]);
    expect(ds.isOpen()).to.equal(false);
  });

  it('a write completes only when the reader makes room (backpressure through the write callback)', async () => {
    const loop = new PassThrough({ highWaterMark: 16 });
    const s = new DuplexStream(ioc, loop);
    const base = listeners(loop);
    const order: string[] = [];
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    s.asyncWriteSome(data, (ec, n) => void order.push(`write ${String(ec)} ${n}`));
    for (let i = 0; i < 5; i++) await turn();
    expect(order).to.deep.equal([]);
    const got = new Uint8Array(100);
    let off = 0;
    const readMore = (): void =>
      s.asyncReadSome(got.subarray(off), (ec, n) => {
        expect(ec).to.equal(null);
        off += n;
        order.push('read');
        if (off < got.length) readMore();
      });
    readMore();
    await run();
    expect(off).to.equal(100);
    expect(Array.from(got)).to.deep.equal(Array.from(data));
    expect(order.filter((o) => o.startsWith('write'))).to.deep.equal(['write null 100']);
    expect(listeners(loop)).to.deep.equal(base);
  });

  it('a second concurrent read or write completes with alreadyStarted', async () => {
    const slow = new PassThrough({ highWaterMark: 1 });
    const s = new DuplexStream(ioc, slow);
    const calls: string[] = [];
    s.asyncWriteSome(new Uint8Array(8), (ec) => void calls.push(`w1 ${String(ec)}`));
    s.asyncWriteSome(new Uint8Array(8), (ec) => void calls.push(`w2 ${ec === error.alreadyStarted}`));
    ds.asyncReadSome(new Uint8Array(8), (ec) => void calls.push(`r1 ${String(ec)}`));
    ds.asyncReadSome(new Uint8Array(8), (ec) => void calls.push(`r2 ${ec === error.alreadyStarted}`));
    ioc.poll();
    expect(calls).to.deep.equal(['w2 true', 'r2 true']);
    peer.write('x');
    s.asyncReadSome(new Uint8Array(64), () => void calls.push('drained'));
    await run();
    expect(calls.slice(2).sort()).to.deep.equal(['drained', 'r1 null', 'w1 null']);
  });

  it('shutdown ends the sending side: the peer sees end, later writes fail with brokenPipe', async () => {
    let ended = false;
    peer.on('end', () => (ended = true));
    peer.resume();
    ds.shutdown();
    const w = ds.asyncWriteSome(text('late'), asTuple());
    await run();
    expect(await w).to.deep.equal([error.brokenPipe, 0]);
    for (let i = 0; i < 5 && !ended; i++) await turn();
    expect(ended).to.equal(true);
    // Reading still works after shutdown.
    peer.write('still');
    const r = ds.asyncReadSome(new Uint8Array(8), asTuple());
    await run();
    expect(await r).to.deep.equal([null, 5]);
  });
});
