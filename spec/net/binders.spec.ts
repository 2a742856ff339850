/**
 * Specs for lib/net/binders.ts beyond the per-token guarantees of token.spec.ts: the one shared
 * 'abort' listener of bindAbortSignal (present exactly while an operation bound to the signal is
 * in flight), many operations on one signal, an abort that cancels all of them, and the
 * rejection's cause through binders and adapters nested inside bindAbortSignal.
 */

import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { HandlerWork } from '../../lib/net/handler-work.js';
import {
  asyncInitiate,
  bindAbortSignal,
  bindCancellationSlot,
  CancellationSignal,
  getAssociatedCancellationSlot,
  bindExecutor,
  CancellationType,
  deferred,
  error,
  IoContext,
  makeStrand,
  SystemError,
  type ErrorCode,
} from '../../lib/net/index.js';
import { asyncStubLater, asyncStubNow } from '../support/stub-ops.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

async function rejection(p: Promise<unknown>): Promise<SystemError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).to.be.instanceOf(SystemError);
  return e as SystemError;
}

describe('net/binders: bindAbortSignal', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('leaves no listener once a promise operation completes, as seen right after await', async () => {
    const ac = new AbortController();
    const run = ioc.run();
    for (let i = 0; i < 3; i++) {
      const p = asyncStubLater(ioc.getExecutor(), i, 1, bindAbortSignal(ac.signal));
      expect(listeners(ac.signal)).to.equal(1);
      expect(await p).to.equal(i);
      expect(listeners(ac.signal)).to.equal(0);
    }
    await run;
  });

  it('leaves no listener once a callback operation completes, as seen inside its handler', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    asyncStubNow(ioc.getExecutor(), 1, bindAbortSignal(ac.signal, () => {
      seen.push(listeners(ac.signal));
      asyncStubLater(ioc.getExecutor(), 2, 1, bindAbortSignal(ac.signal, () => seen.push(listeners(ac.signal))));
      seen.push(listeners(ac.signal));
    }));
    expect(listeners(ac.signal)).to.equal(1);
    await ioc.run();
    expect(seen).to.deep.equal([0, 1, 0]);
    expect(listeners(ac.signal)).to.equal(0);
  });

  it('leaves no listener once an abort cancelled the operation', async () => {
    const ac = new AbortController();
    const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal));
    const run = ioc.run();
    ac.abort();
    expect(listeners(ac.signal)).to.equal(0);
    expect((await rejection(p)).code).to.equal(error.operationAborted);
    expect(listeners(ac.signal)).to.equal(0);
    await run;
  });

  it('keeps one listener for many operations in flight on one signal, without a MaxListeners warning', async () => {
    const ac = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      // Completing in an order unlike the start order takes operations out of the list's middle.
      const delays = [5, 1, 3, 1, 4, 2, 5, 1, 2, 3, 4, 1, 2, 3, 5, 1, 2, 4, 3, 1];
      const ps = delays.map((d, i) => asyncStubLater(ioc.getExecutor(), i, d, bindAbortSignal(ac.signal)));
      expect(listeners(ac.signal)).to.equal(1);
      const run = ioc.run();
      const counts: number[] = [];
      const values = await Promise.all(ps.map((p) => p.then((v) => (counts.push(listeners(ac.signal)), v))));
      expect(values).to.deep.equal(delays.map((_, i) => i));
      expect(counts.slice(-1)).to.deep.equal([0]);
      expect(counts.slice(0, -1).every((c) => c <= 1)).to.equal(true);
      expect(listeners(ac.signal)).to.equal(0);
      await run;
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
  });

  it('an abort with several operations in flight cancels each once, with the signal’s reason', async () => {
    const ac = new AbortController();
    const reason = new Error('shutting down');
    const calls: Array<[number, ErrorCode | null]> = [];
    for (let i = 0; i < 4; i++) {
      asyncStubLater(ioc.getExecutor(), i, 10_000, bindAbortSignal(ac.signal, (ec: ErrorCode | null) => void calls.push([i, ec])));
    }
    const ps = [0, 1, 2].map((i) => asyncStubLater(ioc.getExecutor(), i, 10_000, bindAbortSignal(ac.signal)));
    const run = ioc.run();
    setTimeout(() => ac.abort(reason), 1);
    const errs = await Promise.all(ps.map(rejection));
    for (const e of errs) {
      expect(e.code).to.equal(error.operationAborted);
      expect(e.cause).to.equal(reason);
    }
    await run;
    // Cancelled in the order they started.
    expect(calls).to.deep.equal([0, 1, 2, 3].map((i) => [i, error.operationAborted]));
    expect(listeners(ac.signal)).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('an abort cancels only the operations bound to that signal', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const pa = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(a.signal));
    const pb = asyncStubLater(ioc.getExecutor(), 2, 5, bindAbortSignal(b.signal));
    const run = ioc.run();
    a.abort();
    expect((await rejection(pa)).code).to.equal(error.operationAborted);
    expect(await pb).to.equal(2);
    await run;
    expect(listeners(a.signal) + listeners(b.signal)).to.equal(0);
  });

  it('an operation started from a cancelled one’s handler is cancelled at its start, with no listener', async () => {
    const ac = new AbortController();
    const calls: Array<ErrorCode | null> = [];
    asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, (ec: ErrorCode | null) => {
      calls.push(ec);
      asyncStubLater(ioc.getExecutor(), 2, 10_000, bindAbortSignal(ac.signal, (ec2: ErrorCode | null) => void calls.push(ec2)));
      expect(listeners(ac.signal)).to.equal(0);
    }));
    const run = ioc.run();
    setTimeout(() => ac.abort(), 1);
    await run;
    expect(calls).to.deep.equal([error.operationAborted, error.operationAborted]);
  });

  it('maps the abort to the given cancellation type', async () => {
    const ac = new AbortController();
    const types: CancellationType[] = [];
    const ex = ioc.getExecutor();
    asyncInitiate<[ErrorCode | null]>((h) => {
      const work = new HandlerWork(h, ex);
      const slot = getAssociatedCancellationSlot(h);
      slot.assign((t) => {
        types.push(t);
        slot.clear();
        work.post(error.operationAborted);
      });
    }, bindAbortSignal(ac.signal, () => {}, CancellationType.partial), ex);
    ac.abort();
    await ioc.run();
    expect(types).to.deep.equal([CancellationType.partial]);
  });

  it('one bindAbortSignal token can start several operations', async () => {
    const ac = new AbortController();
    const token = bindAbortSignal(ac.signal);
    const run = ioc.run();
    const [x, y] = await Promise.all([asyncStubLater(ioc.getExecutor(), 1, 1, token), asyncStubLater(ioc.getExecutor(), 2, 2, token)]);
    expect([x, y]).to.deep.equal([1, 2]);
    expect(listeners(ac.signal)).to.equal(0);
    await run;
  });

  describe('the rejection’s cause', () => {
    it('through bindExecutor inside bindAbortSignal', async () => {
      const ac = new AbortController();
      const strand = makeStrand(ioc);
      const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, bindExecutor(strand)));
      const run = ioc.run();
      ac.abort('why');
      expect((await rejection(p)).cause).to.equal('why');
      await run;
    });

    it('of a deferred operation launched later with the Promise token', async () => {
      const ac = new AbortController();
      const op = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, deferred));
      const p = op();
      expect(listeners(ac.signal)).to.equal(1);
      const run = ioc.run();
      ac.abort('later');
      expect((await rejection(p)).cause).to.equal('later');
      await run;
    });

    it('is the reason of the signal that aborted when two are nested', async () => {
      const outer = new AbortController();
      const inner = new AbortController();
      const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(outer.signal, bindAbortSignal(inner.signal)));
      expect(listeners(outer.signal) + listeners(inner.signal)).to.equal(2);
      const run = ioc.run();
      inner.abort('inner');
      expect((await rejection(p)).cause).to.equal('inner');
      expect(listeners(outer.signal) + listeners(inner.signal)).to.equal(0);
      await run;
    });

    it('is absent when the operation was cancelled through a slot bound inside, not the signal', async () => {
      const ac = new AbortController();
      const cs = new CancellationSignal();
      const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, bindCancellationSlot(cs.slot())));
      const run = ioc.run();
      cs.emit(CancellationType.terminal);
      const e = await rejection(p);
      expect(e.code).to.equal(error.operationAborted);
      expect(e.cause).to.equal(undefined);
      expect(listeners(ac.signal)).to.equal(0);
      await run;
    });
  });
});
