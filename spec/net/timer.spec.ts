// Specs for lib/net/timer.ts: SteadyTimer's expiry setters, cancel / cancelOne, immediate
// completion, per-operation cancellation, and the "exactly once, no Node timer left" rules.
// Most run on sinon's fake clock (setImmediate stays real, so the root hook still works) and are
// driven with ioc.poll(); a few use real short timers and run().

import { expect } from 'chai';
import sinon from 'sinon';
import {
  bindCancellationSlot,
  bindExecutor,
  CancellationSignal,
  CancellationType,
  error,
  IoContext,
  makeStrand,
  SteadyTimer,
  steadyNow,
  SystemError,
  type ErrorCode,
} from '../../lib/net/index.js';

type Ec = ErrorCode | null;

/** A callback recording each completion. */
function recorder(): ((ec: Ec) => void) & { calls: Ec[] } {
  const calls: Ec[] = [];
  return Object.assign((ec: Ec) => void calls.push(ec), { calls });
}

describe('net/timer SteadyTimer', () => {
  describe('on a fake clock', () => {
    let clock: sinon.SinonFakeTimers;
    let ioc: IoContext;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      clock.tick(1000); // start away from zero so absolute times are distinguishable
      ioc = new IoContext();
    });
    afterEach(() => {
      clock.restore();
    });

    it('reads the expiry set by the constructor, expiresAfter and expiresAt', () => {
      expect(steadyNow()).to.equal(1000);
      const t = new SteadyTimer(ioc, 250);
      expect(t.expiry()).to.equal(1250);
      expect(t.getExecutor()).to.equal(ioc.getExecutor());
      t.expiresAfter(40);
      expect(t.expiry()).to.equal(1040);
      t.expiresAt(5000);
      expect(t.expiry()).to.equal(5000);
      clock.tick(10);
      t.expiresAfter(0);
      expect(t.expiry()).to.equal(1010);
      expect(new SteadyTimer(ioc).expiry()).to.be.at.most(steadyNow()); // a new timer has expired
    });

    it('completes a wait at expiry through the context, with null', () => {
      const t = new SteadyTimer(ioc, 100);
      const h = recorder();
      t.asyncWait(h);
      expect(clock.countTimers()).to.equal(1);
      expect(ioc.outstandingWork()).to.equal(1);
      clock.tick(99);
      expect(ioc.poll()).to.equal(0);
      expect(h.calls).to.deep.equal([]);
      clock.tick(1);
      expect(h.calls).to.deep.equal([]); // queued, runs only inside poll()
      expect(ioc.poll()).to.equal(1);
      expect(h.calls).to.deep.equal([null]);
      expect(clock.countTimers()).to.equal(0);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('expiresAfter cancels pending waits and returns how many', () => {
      const t = new SteadyTimer(ioc, 100);
      const a = recorder();
      const b = recorder();
      t.asyncWait(a);
      t.asyncWait(b);
      expect(t.expiresAfter(50)).to.equal(2);
      expect(a.calls).to.deep.equal([]); // never inside the call
      expect(clock.countTimers()).to.equal(0);
      expect(ioc.poll()).to.equal(2);
      expect(a.calls).to.deep.equal([error.operationAborted]);
      expect(b.calls).to.deep.equal([error.operationAborted]);
      expect(t.expiresAfter(50)).to.equal(0);
      // A new wait uses the new expiry.
      const c = recorder();
      t.asyncWait(c);
      clock.tick(49);
      ioc.poll();
      expect(c.calls).to.deep.equal([]);
      clock.tick(1);
      ioc.poll();
      expect(c.calls).to.deep.equal([null]);
      expect(clock.countTimers()).to.equal(0);
    });

    it('expiresAt cancels pending waits and returns how many', () => {
      const t = new SteadyTimer(ioc, 100);
      const a = recorder();
      t.asyncWait(a);
      expect(t.expiresAt(steadyNow() + 10)).to.equal(1);
      expect(t.expiresAt(steadyNow() + 10)).to.equal(0);
      ioc.poll();
      expect(a.calls).to.deep.equal([error.operationAborted]);
      expect(clock.countTimers()).to.equal(0);
    });

    it('returns 0 from the setters once the expiry handler is queued, which then succeeds', () => {
      const t = new SteadyTimer(ioc, 20);
      const a = recorder();
      t.asyncWait(a);
      clock.tick(20); // the completion is queued, not yet run
      expect(t.expiresAfter(100)).to.equal(0);
      expect(t.cancel()).to.equal(0);
      expect(t.cancelOne()).to.equal(0);
      ioc.poll();
      expect(a.calls).to.deep.equal([null]);
      expect(clock.countTimers()).to.equal(0);
    });

    it('cancel completes every pending wait with operationAborted and keeps the expiry', () => {
      const t = new SteadyTimer(ioc, 100);
      const hs = [recorder(), recorder(), recorder()];
      const order: number[] = [];
      hs.forEach((h, i) => t.asyncWait((ec: Ec) => (h(ec), order.push(i))));
      const expiry = t.expiry();
      expect(t.cancel()).to.equal(3);
      expect(t.expiry()).to.equal(expiry);
      expect(clock.countTimers()).to.equal(0);
      expect(order).to.deep.equal([]);
      ioc.poll();
      expect(order).to.deep.equal([0, 1, 2]);
      for (const h of hs) expect(h.calls).to.deep.equal([error.operationAborted]);
      expect(t.cancel()).to.equal(0);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('cancelOne cancels the oldest wait first', () => {
      const t = new SteadyTimer(ioc, 100);
      const a = recorder();
      const b = recorder();
      const c = recorder();
      t.asyncWait(a);
      t.asyncWait(b);
      t.asyncWait(c);
      expect(t.cancelOne()).to.equal(1);
      ioc.poll();
      expect([a.calls, b.calls, c.calls]).to.deep.equal([[error.operationAborted], [], []]);
      expect(t.cancelOne()).to.equal(1);
      ioc.poll();
      expect([a.calls, b.calls, c.calls]).to.deep.equal([[error.operationAborted], [error.operationAborted], []]);
      expect(clock.countTimers()).to.equal(1);
      clock.tick(100);
      ioc.poll();
      expect(c.calls).to.deep.equal([null]);
      expect(t.cancelOne()).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    });

    it('cancelOne of the last wait disarms the Node timer', () => {
      const t = new SteadyTimer(ioc, 100);
      const a = recorder();
      t.asyncWait(a);
      expect(t.cancelOne()).to.equal(1);
      expect(clock.countTimers()).to.equal(0);
      ioc.poll();
      expect(a.calls).to.deep.equal([error.operationAborted]);
    });

    it('a wait on an expired timer completes posted, not inline, and arms no Node timer', () => {
      const t = new SteadyTimer(ioc, 10);
      clock.tick(10);
      const a = recorder();
      t.asyncWait(a);
      expect(a.calls).to.deep.equal([]);
      expect(clock.countTimers()).to.equal(0);
      expect(ioc.outstandingWork()).to.be.greaterThan(0);
      expect(t.cancel()).to.equal(0); // already submitted
      expect(ioc.poll()).to.equal(1);
      expect(a.calls).to.deep.equal([null]);
      const b = recorder();
      new SteadyTimer(ioc).asyncWait(b);
      expect(b.calls).to.deep.equal([]);
      ioc.restart();
      ioc.poll();
      expect(b.calls).to.deep.equal([null]);
    });

    for (const [name, type] of [
      ['terminal', CancellationType.terminal],
      ['partial', CancellationType.partial],
      ['total', CancellationType.total],
    ] as const) {
      it(`per-operation ${name} cancellation aborts only that wait`, () => {
        const t = new SteadyTimer(ioc, 100);
        const sig = new CancellationSignal();
        const a = recorder();
        const b = recorder();
        t.asyncWait(bindCancellationSlot(sig.slot(), a));
        t.asyncWait(b);
        expect(sig.hasHandler()).to.equal(true);
        sig.emit(type);
        expect(a.calls).to.deep.equal([]); // posted, never inside emit
        expect(sig.hasHandler()).to.equal(false); // released before the handler runs
        ioc.poll();
        expect(a.calls).to.deep.equal([error.operationAborted]);
        expect(b.calls).to.deep.equal([]);
        sig.emit(type); // after completion: nothing
        clock.tick(100);
        ioc.poll();
        expect(a.calls).to.deep.equal([error.operationAborted]);
        expect(b.calls).to.deep.equal([null]);
        expect(clock.countTimers()).to.equal(0);
        expect(ioc.outstandingWork()).to.equal(0);
      });
    }

    it('per-operation cancellation of the only wait disarms the Node timer', () => {
      const t = new SteadyTimer(ioc, 100);
      const sig = new CancellationSignal();
      const a = recorder();
      t.asyncWait(bindCancellationSlot(sig.slot(), a));
      sig.emit(CancellationType.terminal);
      expect(clock.countTimers()).to.equal(0);
      ioc.poll();
      expect(a.calls).to.deep.equal([error.operationAborted]);
    });

    it('a cancellation request after the expiry handler is queued has no effect', () => {
      const t = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const a = recorder();
      t.asyncWait(bindCancellationSlot(sig.slot(), a));
      clock.tick(10);
      expect(sig.hasHandler()).to.equal(false);
      sig.emit(CancellationType.all);
      ioc.poll();
      expect(a.calls).to.deep.equal([null]);
    });

    it('a wait on an expired timer installs no cancellation handler', () => {
      const t = new SteadyTimer(ioc, 0);
      const sig = new CancellationSignal();
      const a = recorder();
      t.asyncWait(bindCancellationSlot(sig.slot(), a));
      expect(sig.hasHandler()).to.equal(false);
      sig.emit(CancellationType.terminal);
      ioc.poll();
      expect(a.calls).to.deep.equal([null]);
    });

    it('calls each handler exactly once whatever happens after it completed', () => {
      const t = new SteadyTimer(ioc, 30);
      const sig = new CancellationSignal();
      const a = recorder();
      t.asyncWait(bindCancellationSlot(sig.slot(), a));
      expect(t.cancel()).to.equal(1);
      expect(t.cancel()).to.equal(0);
      sig.emit(CancellationType.terminal);
      expect(t.expiresAfter(5)).to.equal(0);
      clock.tick(100);
      ioc.poll();
      expect(a.calls).to.deep.equal([error.operationAborted]);
      expect(clock.countTimers()).to.equal(0);
    });

    it('completes through the handler’s bound executor', () => {
      const strand = makeStrand(ioc);
      const t = new SteadyTimer(ioc, 10);
      const seen: boolean[] = [];
      t.asyncWait(bindExecutor(strand, () => seen.push(strand.runningInThisThread())));
      t.asyncWait(bindExecutor(strand, () => seen.push(strand.runningInThisThread())));
      expect(t.cancelOne()).to.equal(1);
      clock.tick(10);
      ioc.poll();
      expect(seen).to.deep.equal([true, true]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('resolves and rejects the Promise token', async () => {
      const t = new SteadyTimer(ioc, 10);
      const ok = t.asyncWait();
      clock.tick(10);
      ioc.poll();
      expect(await ok).to.equal(undefined);

      t.expiresAfter(10);
      const aborted = t.asyncWait();
      expect(t.cancel()).to.equal(1);
      ioc.poll();
      let caught: unknown;
      try {
        await aborted;
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(SystemError);
      expect((caught as SystemError).code).to.equal(error.operationAborted);
      expect(clock.countTimers()).to.equal(0);
    });
  });

  describe('on the real clock', () => {
    it('completes after the expiry and leaves no Node timer', async () => {
      const ioc = new IoContext();
      const t = new SteadyTimer(ioc, 15);
      const calls: Array<[Ec, boolean]> = [];
      t.asyncWait((ec: Ec) => calls.push([ec, steadyNow() >= t.expiry()]));
      expect(await ioc.run()).to.equal(1);
      expect(calls).to.deep.equal([[null, true]]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('is cancelled by another timer’s handler and run() ends without waiting for it', async () => {
      const ioc = new IoContext();
      const long = new SteadyTimer(ioc, 10_000);
      const short = new SteadyTimer(ioc, 5);
      const log: string[] = [];
      long.asyncWait((ec: Ec) => log.push(`long ${ec === error.operationAborted ? 'aborted' : String(ec)}`));
      short.asyncWait((ec: Ec) => {
        log.push(`short ${String(ec)}`);
        log.push(`cancelled ${long.cancel()}`);
      });
      const t0 = performance.now();
      expect(await ioc.run()).to.equal(2);
      expect(performance.now() - t0).to.be.lessThan(5000);
      expect(log).to.deep.equal(['short null', 'cancelled 1', 'long aborted']);
    });

    it('per-operation cancellation from a Node callback while run() is active', async () => {
      const ioc = new IoContext();
      const t = new SteadyTimer(ioc, 10_000);
      const sig = new CancellationSignal();
      const calls: Ec[] = [];
      t.asyncWait(bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)));
      setTimeout(() => sig.emit(CancellationType.partial), 2);
      expect(await ioc.run()).to.equal(1);
      expect(calls).to.deep.equal([error.operationAborted]);
    });
  });
});
