/**
 * Every completion token and binder, over an operation that completes inside its initiating call
 * and one that completes later: the handler runs exactly once, never inside the initiating call
 * (unless an immediate executor is bound), on its associated executor, and no work is left.
 */

import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { HandlerWork } from '../../lib/net/handler-work.js';
import {
  asTuple,
  asyncInitiate,
  getAssociatedCancellationSlot,
  bindAbortSignal,
  bindCancellationSlot,
  bindExecutor,
  bindImmediateExecutor,
  cancelAfter,
  CancellationSignal,
  CancellationType,
  deferred,
  detached,
  error,
  inlineExecutor,
  IoContext,
  makeStrand,
  redirectError,
  SystemError,
  usePromise,
  type CompletionToken,
  type ErrorCode,
  type ErrorOut,
  type Handler,
} from '../../lib/net/index.js';
import { asyncStubLater, asyncStubNow, RecordingExecutor, type StubSignature } from '../support/stub-ops.js';

type Launch = (token: CompletionToken | Handler<StubSignature>) => unknown;

interface Observed {
  calls: Array<readonly unknown[]>;
  insideInitiation: boolean[];
  onExecutor: boolean[];
}

describe('net/token: completion guarantees for every token', () => {
  let ioc: IoContext;
  let io: RecordingExecutor;
  beforeEach(() => {
    ioc = new IoContext();
    io = new RecordingExecutor(ioc.getExecutor());
  });

  const ops: Array<[string, (io: RecordingExecutor) => Launch]> = [
    ['an operation completing inside its initiating call', (io) => (t) => asyncStubNow(io, 7, t as Handler<StubSignature>)],
    ['an operation completing later', (io) => (t) => asyncStubLater(io, 7, 2, t as Handler<StubSignature>)],
  ];

  for (const [opName, makeLaunch] of ops) {
    describe(opName, () => {
      // Starts the op with a callback built by `wrap`, recording how the callback is called.
      function observe(wrap: (cb: Handler<readonly unknown[]>) => CompletionToken | Handler<StubSignature>, check: () => boolean) {
        const seen: Observed = { calls: [], insideInitiation: [], onExecutor: [] };
        let initiating = true;
        const cb = (...args: readonly unknown[]): void => {
          seen.calls.push(args);
          seen.insideInitiation.push(initiating);
          seen.onExecutor.push(check());
        };
        makeLaunch(io)(wrap(cb));
        initiating = false;
        return seen;
      }

      it('a callback: once, deferred, on the I/O executor', async () => {
        const seen = observe((cb) => cb, () => io.runningInThisThread());
        expect(seen.calls).to.have.length(0);
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
        expect(seen.onExecutor).to.deep.equal([true]);
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('nothing runs before the context runs', () => {
        const seen = observe((cb) => cb, () => true);
        expect(seen.calls).to.have.length(0);
        expect(ioc.outstandingWork()).to.be.greaterThan(0);
        ioc.poll();
        // A later op has not completed yet; an immediate one ran inside poll().
        return ioc.run().then(() => expect(seen.calls).to.have.length(1));
      });

      it('bindExecutor(strand, callback): runs on the strand', async () => {
        const strand = makeStrand(ioc);
        const seen = observe((cb) => bindExecutor(strand, cb), () => strand.runningInThisThread());
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
        expect(seen.onExecutor).to.deep.equal([true]);
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('bindImmediateExecutor(inlineExecutor, callback): inline only when the op completes at once', async () => {
        const seen = observe((cb) => bindImmediateExecutor(inlineExecutor, cb), () => true);
        const immediate = opName.includes('inside');
        expect(seen.calls).to.have.length(immediate ? 1 : 0);
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([immediate]);
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('bindImmediateExecutor(strand, callback): dispatched to that executor, not inline', async () => {
        const strand = makeStrand(ioc);
        const seen = observe((cb) => bindImmediateExecutor(strand, cb), () => true);
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
      });

      it('asTuple(callback): one tuple argument', async () => {
        const seen = observe((cb) => asTuple(cb), () => io.runningInThisThread());
        await ioc.run();
        expect(seen.calls).to.deep.equal([[[null, 7]]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
        expect(seen.onExecutor).to.deep.equal([true]);
      });

      it('redirectError(callback, out): the error goes to out', async () => {
        const out: ErrorOut = { ec: error.eof };
        const seen = observe((cb) => redirectError(cb, out), () => io.runningInThisThread());
        await ioc.run();
        expect(seen.calls).to.deep.equal([[7]]);
        expect(out.ec).to.equal(null);
        expect(seen.onExecutor).to.deep.equal([true]);
      });

      it('bindCancellationSlot(slot, callback): the slot is released after completion', async () => {
        const signal = new CancellationSignal();
        const seen = observe((cb) => bindCancellationSlot(signal.slot(), cb), () => io.runningInThisThread());
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(signal.hasHandler()).to.equal(false);
      });

      it('bindAbortSignal(signal, callback): one listener while pending, none after', async () => {
        const ac = new AbortController();
        const seen = observe((cb) => bindAbortSignal(ac.signal, cb), () => io.runningInThisThread());
        expect(getEventListeners(ac.signal, 'abort')).to.have.length(1);
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
        expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
      });

      it('cancelAfter(ms, callback): completes with the value, timer gone', async () => {
        const seen = observe((cb) => cancelAfter(1000, cb), () => io.runningInThisThread());
        await ioc.run();
        expect(seen.calls).to.deep.equal([[null, 7]]);
        expect(seen.insideInitiation).to.deep.equal([false]);
        expect(seen.onExecutor).to.deep.equal([true]);
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('usePromise and the default: resolve with the value', async () => {
        const launch = makeLaunch(io);
        const explicit = launch(usePromise) as Promise<number>;
        const implicit = asyncStubNow(io, 8);
        const run = ioc.run();
        expect(await explicit).to.equal(7);
        expect(await implicit).to.equal(8);
        await run;
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('asTuple(): a promise of the whole signature', async () => {
        const p = makeLaunch(io)(asTuple()) as Promise<StubSignature>;
        void ioc.run();
        expect(await p).to.deep.equal([null, 7]);
      });

      it('deferred: nothing starts until launched; each launch starts once', async () => {
        const op = makeLaunch(io)(deferred) as (t?: unknown) => unknown;
        expect(ioc.outstandingWork()).to.equal(0);
        expect(op).to.not.have.property('then');
        const calls: unknown[][] = [];
        op((...args: unknown[]) => calls.push(args));
        const p = op(usePromise) as Promise<number>;
        void ioc.run();
        expect(await p).to.equal(7);
        expect(calls).to.deep.equal([[null, 7]]);
      });

      it('detached: starts and holds work until done', async () => {
        makeLaunch(io)(detached);
        expect(ioc.outstandingWork()).to.be.greaterThan(0);
        await ioc.run();
        expect(ioc.outstandingWork()).to.equal(0);
      });

      it('bindExecutor(strand) with the promise token: the completion runs on the strand', async () => {
        const strand = new RecordingExecutor(makeStrand(ioc));
        const p = makeLaunch(io)(bindExecutor(strand)) as Promise<number>;
        void ioc.run();
        expect(await p).to.equal(7);
        expect(strand.ran).to.be.greaterThan(0);
      });
    });
  }
});

describe('net/token: cancellation through binders', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('bindAbortSignal: aborting cancels with operationAborted and the rejection carries the reason', async () => {
    const ac = new AbortController();
    const reason = new Error('user gave up');
    const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal));
    const run = ioc.run();
    setTimeout(() => ac.abort(reason), 1);
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(SystemError);
    expect((err as SystemError).code).to.equal(error.operationAborted);
    expect((err as SystemError).cause).to.equal(reason);
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
    await run;
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('bindAbortSignal: an already-aborted signal completes with operationAborted, posted, without a listener', async () => {
    const ac = new AbortController();
    ac.abort('early');
    const calls: unknown[][] = [];
    let initiating = true;
    const inside: boolean[] = [];
    asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, (ec: ErrorCode | null, n: number) => {
      calls.push([ec, n]);
      inside.push(initiating);
    }));
    initiating = false;
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
    expect(calls).to.have.length(0);
    await ioc.run();
    expect(calls).to.deep.equal([[error.operationAborted, 0]]);
    expect(inside).to.deep.equal([false]);
  });

  it('bindAbortSignal: the promise of an already-aborted signal rejects with cause === reason', async () => {
    const reason = { why: 'early' };
    const ac = new AbortController();
    ac.abort(reason);
    const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal));
    void ioc.run();
    const err = (await p.catch((e: unknown) => e)) as SystemError;
    expect(err.code).to.equal(error.operationAborted);
    expect(err.cause).to.equal(reason);
  });

  it('bindAbortSignal: a shared signal never accumulates listeners', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) await Promise.all([asyncStubNow(ioc.getExecutor(), i, bindAbortSignal(ac.signal)), runAgain(ioc)]);
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
  });

  it('bindAbortSignal relays a slot bound inside it', async () => {
    const ac = new AbortController();
    const sig = new CancellationSignal();
    const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, bindAbortSignal(ac.signal, bindCancellationSlot(sig.slot(), asTuple())));
    const run = ioc.run();
    setTimeout(() => sig.emit(CancellationType.terminal), 1);
    expect(await p).to.deep.equal([error.operationAborted, 0]);
    await run;
    expect(sig.hasHandler()).to.equal(false);
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
  });

  it('cancelAfter: the timeout cancels; the handler runs after both the op and its timer are done', async () => {
    const calls: unknown[][] = [];
    asyncStubLater(ioc.getExecutor(), 1, 10_000, cancelAfter(5, (ec: ErrorCode | null, n: number) => {
      calls.push([ec, n, ioc.outstandingWork()]);
    }));
    await ioc.run();
    // Inside a queued handler the only work left is that handler itself: the timer wait is done.
    expect(calls).to.deep.equal([[error.operationAborted, 0, 1]]);
  });

  it('cancelAfter with the promise token rejects with operationAborted', async () => {
    const p = asyncStubLater(ioc.getExecutor(), 1, 10_000, cancelAfter(5));
    void ioc.run();
    const err = (await p.catch((e: unknown) => e)) as SystemError;
    expect(err.code).to.equal(error.operationAborted);
  });

  it('cancelAfter passes its cancellation type to the operation', async () => {
    const ex = ioc.getExecutor();
    const seen: number[] = [];
    const p = asyncInitiate<[ErrorCode | null]>((h) => {
      const work = new HandlerWork(h, ex);
      getAssociatedCancellationSlot(h).assign((type) => {
        seen.push(type);
        work.post(error.operationAborted);
      });
    }, cancelAfter(2, usePromise, CancellationType.partial), ex) as Promise<void>;
    void ioc.run();
    const err = (await p.catch((e: unknown) => e)) as SystemError;
    expect(err.code).to.equal(error.operationAborted);
    expect(seen).to.deep.equal([CancellationType.partial]);
  });

  it('bindCancellationSlot: terminal cancellation completes once with operationAborted', async () => {
    const sig = new CancellationSignal();
    const calls: unknown[][] = [];
    asyncStubLater(ioc.getExecutor(), 1, 10_000, bindCancellationSlot(sig.slot(), (ec: ErrorCode | null, n: number) => calls.push([ec, n])));
    const run = ioc.run();
    setTimeout(() => {
      sig.emit(CancellationType.terminal);
      sig.emit(CancellationType.terminal); // after completion: no effect
    }, 1);
    await run;
    expect(calls).to.deep.equal([[error.operationAborted, 0]]);
  });
});

function runAgain(ioc: IoContext): Promise<number> {
  ioc.restart();
  return ioc.run();
}
