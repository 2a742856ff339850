// Specs for lib/net/parallel-group.ts: the four wait conditions over timers of different
// durations, completion only after every child, forwarding of the group's own cancellation slot,
// and the Promise token. Driven on sinon's fake clock with ioc.poll().

import { expect } from 'chai';
import sinon from 'sinon';
import {
  asyncCompose,
  bindCancellationSlot,
  CancellationSignal,
  CancellationType,
  deferred,
  disableCancellation,
  error,
  IoContext,
  makeParallelGroup,
  SteadyTimer,
  waitForAll,
  waitForOne,
  waitForOneError,
  waitForOneSuccess,
  type AsyncResult,
  type ErrorCode,
  type TokenFor,
} from '../../lib/net/index.js';

type Ec = ErrorCode | null;
type Sig = [ec: Ec];

/** A composed op: waits `ms` on its own timer, then completes with `result` (or the wait's error). */
function finishAfter<T extends TokenFor<Sig> | undefined>(
  ioc: IoContext,
  ms: number,
  result: Ec,
  token: T,
): AsyncResult<T, Sig> {
  const timer = new SteadyTimer(ioc, ms);
  return asyncCompose<Sig, T>(
    function* (self) {
      const [ec] = yield* self.call(timer.asyncWait(deferred));
      self.complete(ec ?? result);
    },
    token,
    timer,
  );
}

/** A composed op that ignores cancellation: its timer wait cannot be cancelled. */
function stubbornWait<T extends TokenFor<Sig> | undefined>(ioc: IoContext, ms: number, token: T): AsyncResult<T, Sig> {
  const timer = new SteadyTimer(ioc, ms);
  return asyncCompose<Sig, T>(
    function* (self) {
      self.resetCancellationState(disableCancellation);
      const [ec] = yield* self.call(timer.asyncWait(deferred));
      self.complete(ec);
    },
    token,
    timer,
  );
}

const aborted = error.operationAborted;

describe('net/parallel-group', () => {
  let clock: sinon.SinonFakeTimers;
  let ioc: IoContext;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    ioc = new IoContext();
  });
  afterEach(() => {
    clock.restore();
  });

  /** Advances the clock in steps of 1 ms, polling after each. */
  function advance(ms: number): void {
    for (let i = 0; i < ms; i++) {
      clock.tick(1);
      ioc.poll();
    }
  }

  it('rejects an empty group', () => {
    expect(() => makeParallelGroup()).to.throw(RangeError);
  });

  it('waitForAll waits for every child and cancels none', () => {
    const [t30, t10, t20] = [30, 10, 20].map((ms) => new SteadyTimer(ioc, ms));
    const results: unknown[][] = [];
    makeParallelGroup(t30!.asyncWait(deferred), t10!.asyncWait(deferred), t20!.asyncWait(deferred)).asyncWait(
      waitForAll(),
      (...args) => results.push(args),
    );
    advance(29);
    expect(results).to.deep.equal([]);
    advance(1);
    expect(results).to.deep.equal([[[1, 2, 0], null, null, null]]);
    expect(clock.countTimers()).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('waitForOne cancels the others on the first completion and includes their completions', () => {
    const [t30, t10, t20] = [30, 10, 20].map((ms) => new SteadyTimer(ioc, ms));
    const results: unknown[][] = [];
    makeParallelGroup(t30!.asyncWait(deferred), t10!.asyncWait(deferred), t20!.asyncWait(deferred)).asyncWait(
      waitForOne(),
      (...args) => results.push(args),
    );
    advance(9);
    expect(results).to.deep.equal([]);
    advance(1);
    expect(results).to.deep.equal([[[1, 0, 2], aborted, null, aborted]]);
    expect(clock.countTimers()).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('waitForOne(type) cancels with that type only', () => {
    // A timer honours every type; a composed op accepts terminal only, so `partial` leaves it be.
    const t10 = new SteadyTimer(ioc, 10);
    const t30 = new SteadyTimer(ioc, 30);
    const results: unknown[][] = [];
    makeParallelGroup(
      t10.asyncWait(deferred),
      finishAfter(ioc, 20, error.eof, deferred),
      t30.asyncWait(deferred),
    ).asyncWait(waitForOne(CancellationType.partial), (...args) => results.push(args));
    advance(10);
    expect(results).to.deep.equal([]);
    advance(10);
    expect(results).to.deep.equal([[[0, 2, 1], null, error.eof, aborted]]);
    expect(clock.countTimers()).to.equal(0);
  });

  it('waitForOneSuccess ignores failures and cancels the rest on the first success', () => {
    const results: unknown[][] = [];
    makeParallelGroup(
      finishAfter(ioc, 10, error.connectionReset, deferred),
      finishAfter(ioc, 20, null, deferred),
      finishAfter(ioc, 30, null, deferred),
      finishAfter(ioc, 40, error.eof, deferred),
    ).asyncWait(waitForOneSuccess(), (...args) => results.push(args));
    advance(19);
    expect(results).to.deep.equal([]);
    advance(1);
    expect(results).to.deep.equal([[[0, 1, 2, 3], error.connectionReset, null, aborted, aborted]]);
    expect(clock.countTimers()).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('waitForOneError ignores successes and cancels the rest on the first error', () => {
    const results: unknown[][] = [];
    makeParallelGroup(
      finishAfter(ioc, 10, null, deferred),
      finishAfter(ioc, 30, null, deferred),
      finishAfter(ioc, 20, error.connectionReset, deferred),
    ).asyncWait(waitForOneError(), (...args) => results.push(args));
    advance(19);
    expect(results).to.deep.equal([]);
    advance(1);
    expect(results).to.deep.equal([[[0, 2, 1], null, aborted, error.connectionReset]]);
    expect(clock.countTimers()).to.equal(0);
  });

  it('waitForOneError with only successes waits for all', () => {
    const results: unknown[][] = [];
    makeParallelGroup(finishAfter(ioc, 20, null, deferred), finishAfter(ioc, 10, null, deferred)).asyncWait(
      waitForOneError(),
      (...args) => results.push(args),
    );
    advance(20);
    expect(results).to.deep.equal([[[1, 0], null, null]]);
  });

  it('completes only after every child, even one that ignores cancellation', () => {
    const t10 = new SteadyTimer(ioc, 10);
    const results: unknown[][] = [];
    makeParallelGroup(stubbornWait(ioc, 50, deferred), t10.asyncWait(deferred)).asyncWait(
      waitForOne(),
      (...args) => results.push(args),
    );
    advance(10);
    expect(results).to.deep.equal([]);
    expect(clock.countTimers()).to.equal(1); // the stubborn child still waits
    expect(ioc.outstandingWork()).to.be.greaterThan(0);
    advance(39);
    expect(results).to.deep.equal([]);
    advance(1);
    expect(results).to.deep.equal([[[1, 0], null, null]]);
    expect(clock.countTimers()).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it("forwards a request on the group's own slot to every child", () => {
    const timers = [30, 10, 20].map((ms) => new SteadyTimer(ioc, ms));
    const sig = new CancellationSignal();
    const results: unknown[][] = [];
    makeParallelGroup(
      timers[0]!.asyncWait(deferred),
      timers[1]!.asyncWait(deferred),
      timers[2]!.asyncWait(deferred),
      finishAfter(ioc, 40, null, deferred),
    ).asyncWait(
      waitForAll(),
      bindCancellationSlot(sig.slot(), (...args: unknown[]) => results.push(args)),
    );
    expect(sig.hasHandler()).to.equal(true);
    advance(5);
    sig.emit(CancellationType.terminal);
    expect(results).to.deep.equal([]); // completions are posted, not run inside emit
    ioc.poll();
    expect(results).to.deep.equal([[[0, 1, 2, 3], aborted, aborted, aborted, aborted]]);
    expect(sig.hasHandler()).to.equal(false); // released before the handler ran
    expect(clock.countTimers()).to.equal(0);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it("a request on the group's slot still waits for a child that ignores it", () => {
    const sig = new CancellationSignal();
    const results: unknown[][] = [];
    const t50 = new SteadyTimer(ioc, 50);
    makeParallelGroup(t50.asyncWait(deferred), stubbornWait(ioc, 20, deferred)).asyncWait(
      waitForAll(),
      bindCancellationSlot(sig.slot(), (...args: unknown[]) => results.push(args)),
    );
    sig.emit(CancellationType.all);
    ioc.poll();
    expect(results).to.deep.equal([]);
    advance(20);
    expect(results).to.deep.equal([[[0, 1], aborted, null]]);
  });

  it('resolves the Promise token with [order, ...values]', async () => {
    const [t20, t10] = [20, 10].map((ms) => new SteadyTimer(ioc, ms));
    const p = makeParallelGroup(t20!.asyncWait(deferred), t10!.asyncWait(deferred)).asyncWait(waitForOne());
    advance(10);
    expect(await p).to.deep.equal([[1, 0], aborted, null]);
  });

  it('resolves the Promise token even when every child failed', async () => {
    const p = makeParallelGroup(finishAfter(ioc, 5, error.eof, deferred), finishAfter(ioc, 7, error.timedOut, deferred))
      .asyncWait(waitForAll());
    advance(7);
    const [order, ec0, ec1] = await p;
    expect(order).to.deep.equal([0, 1]);
    expect(ec0).to.equal(error.eof);
    expect(ec1).to.equal(error.timedOut);
  });

  it('holds work while children run and completes outside the initiating call', () => {
    const t = new SteadyTimer(ioc, 0); // already expired: its wait completes at once (posted)
    const results: unknown[][] = [];
    makeParallelGroup(t.asyncWait(deferred)).asyncWait(waitForAll(), (...args) => results.push(args));
    expect(results).to.deep.equal([]);
    expect(ioc.outstandingWork()).to.be.greaterThan(0);
    ioc.poll();
    expect(results).to.deep.equal([[[0], null]]);
    expect(ioc.outstandingWork()).to.equal(0);
  });
});
