// Specs for lib/net/compose.ts: asyncCompose (step order, bound strand, never-inline completion,
// immediate executors, work, cancellation between steps, cancellation states, exceptions),
// asyncImmediate and coSpawn. Timer-driven cases run on sinon's fake clock with ioc.poll().

import { expect } from 'chai';
import sinon from 'sinon';
import {
  asyncCompose,
  asyncImmediate,
  bindCancellationSlot,
  bindExecutor,
  bindImmediateExecutor,
  CancellationRequest,
  CancellationSignal,
  CancellationType,
  coSpawn,
  deferred,
  enableTerminalCancellation,
  enableTotalCancellation,
  error,
  inlineExecutor,
  IoContext,
  makeStrand,
  onInternalError,
  post,
  SteadyTimer,
  SystemError,
  type AsyncResult,
  type ComposedSelf,
  type CoSpawnContext,
  type ErrorCode,
  type Strand,
  type TokenFor,
} from '../../lib/net/index.js';

type Ec = ErrorCode | null;
type Sig = [ec: Ec];
const { none, terminal, partial, total } = CancellationType;

/** Completes with `[ec, cancelled()]` after waiting the timer; optionally resets the state first. */
type WaitSig = [ec: Ec, cancelled: CancellationType];

describe('net/compose', () => {
  describe('asyncCompose on a fake clock', () => {
    let clock: sinon.SinonFakeTimers;
    let ioc: IoContext;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      ioc = new IoContext();
    });
    afterEach(() => {
      clock.restore();
    });

    /**
     * Three children of different kinds (a timer wait, an immediate op, a post), recording for each
     * step whether it runs on `strand`.
     */
    function threeSteps<T extends TokenFor<[Ec, number]> | undefined>(
      timer: SteadyTimer,
      strand: Strand,
      log: Array<[string, boolean]>,
      token: T,
    ): AsyncResult<T, [Ec, number]> {
      return asyncCompose<[Ec, number], T>(
        function* (self) {
          log.push(['step0', strand.runningInThisThread()]);
          expect(self.getExecutor()).to.equal(strand);
          expect(self.getIoExecutor()).to.equal(ioc.getExecutor());
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          log.push([`step1 ${String(ec)}`, strand.runningInThisThread()]);
          yield* self.call(asyncImmediate(ioc, deferred));
          log.push(['step2', strand.runningInThisThread()]);
          yield* self.call(post(ioc, deferred));
          log.push(['step3', strand.runningInThisThread()]);
          self.complete(null, 3);
        },
        token,
        timer,
      );
    }

    it('runs the steps in order, every step after the first on the handler’s bound strand', () => {
      const strand = makeStrand(ioc);
      const timer = new SteadyTimer(ioc, 10);
      const log: Array<[string, boolean]> = [];
      threeSteps(
        timer,
        strand,
        log,
        bindExecutor(strand, (ec: Ec, n: number) => log.push([`done ${String(ec)} ${n}`, strand.runningInThisThread()])),
      );
      expect(log).to.deep.equal([['step0', false]]); // the first step runs in the initiating call
      clock.tick(10);
      ioc.poll();
      expect(log).to.deep.equal([
        ['step0', false],
        ['step1 null', true],
        ['step2', true],
        ['step3', true],
        ['done null 3', true],
      ]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('runs every step on the strand when initiated from inside it', () => {
      const strand = makeStrand(ioc);
      const timer = new SteadyTimer(ioc, 10);
      const log: Array<[string, boolean]> = [];
      strand.post(() =>
        threeSteps(timer, strand, log, bindExecutor(strand, () => log.push(['done', strand.runningInThisThread()]))),
      );
      ioc.poll();
      clock.tick(10);
      ioc.poll();
      expect(log).to.deep.equal([
        ['step0', true],
        ['step1 null', true],
        ['step2', true],
        ['step3', true],
        ['done', true],
      ]);
    });

    it('keeps other strand handlers from interleaving with a step (FIFO on the strand)', () => {
      const strand = makeStrand(ioc);
      const timer = new SteadyTimer(ioc, 10);
      const log: string[] = [];
      asyncCompose<Sig, (ec: Ec) => void>(
        function* (self) {
          yield* self.call(timer.asyncWait(deferred));
          log.push('step1');
          strand.post(() => log.push('posted by step1'));
          yield* self.call(asyncImmediate(ioc, deferred));
          log.push('step2');
          self.complete(null);
        },
        bindExecutor(strand, () => log.push('done')),
        timer,
      );
      clock.tick(10);
      ioc.poll();
      expect(log).to.deep.equal(['step1', 'posted by step1', 'step2', 'done']);
    });

    function completeAtOnce<T extends TokenFor<[Ec, number]> | undefined>(token: T): AsyncResult<T, [Ec, number]> {
      return asyncCompose<[Ec, number], T>(
        function* (self) {
          self.complete(error.eof, 7);
        },
        token,
        ioc,
      );
    }

    it('never completes inside the initiating call, even when the first step completes', () => {
      const calls: Array<[Ec, number]> = [];
      completeAtOnce((ec: Ec, n: number) => calls.push([ec, n]));
      expect(calls).to.deep.equal([]);
      expect(ioc.outstandingWork()).to.be.greaterThan(0);
      expect(ioc.poll()).to.equal(1);
      expect(calls).to.deep.equal([[error.eof, 7]]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('completes inline when inlineExecutor is bound as the immediate executor', () => {
      const calls: Array<[Ec, number]> = [];
      completeAtOnce(bindImmediateExecutor(inlineExecutor, (ec: Ec, n: number) => calls.push([ec, n])));
      expect(calls).to.deep.equal([[error.eof, 7]]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('a first-step completion goes to the handler’s strand', () => {
      const strand = makeStrand(ioc);
      const seen: boolean[] = [];
      completeAtOnce(bindExecutor(strand, () => seen.push(strand.runningInThisThread())));
      expect(seen).to.deep.equal([]);
      ioc.poll();
      expect(seen).to.deep.equal([true]);
    });

    it('holds work until completion', () => {
      const timer = new SteadyTimer(ioc, 10);
      const work: number[] = [];
      let done = false;
      asyncCompose<Sig, (ec: Ec) => void>(
        function* (self) {
          yield* self.call(timer.asyncWait(deferred));
          work.push(ioc.outstandingWork());
          timer.expiresAfter(10);
          yield* self.call(timer.asyncWait(deferred));
          self.complete(null);
        },
        () => {
          done = true;
        },
        timer,
      );
      expect(ioc.outstandingWork()).to.be.greaterThan(0);
      clock.tick(10);
      ioc.poll();
      expect(work.length).to.equal(1);
      expect(work[0]).to.be.greaterThan(0);
      expect(done).to.equal(false);
      expect(ioc.outstandingWork()).to.be.greaterThan(0); // between steps, waiting on the 2nd timer
      clock.tick(10);
      ioc.poll();
      expect(done).to.equal(true);
      expect(ioc.outstandingWork()).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    });

    /** Two timer waits; between them, a recorded cancellation ends the operation. */
    function twoWaits<T extends TokenFor<Sig> | undefined>(timer: SteadyTimer, steps: string[], token: T): AsyncResult<T, Sig> {
      return asyncCompose<Sig, T>(
        function* (self) {
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          steps.push(`wait1 ${String(ec)} cancelled=${self.cancelled()}`);
          if (ec !== null) return self.complete(ec);
          if (self.cancelled() !== none) return self.complete(error.operationAborted);
          timer.expiresAfter(10);
          const [ec2] = yield* self.call(timer.asyncWait(deferred));
          steps.push(`wait2 ${String(ec2)}`);
          self.complete(ec2);
        },
        token,
        timer,
      );
    }

    it('honours a cancellation that arrives while a child’s completion is queued', () => {
      const timer = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const steps: string[] = [];
      const calls: Ec[] = [];
      twoWaits(timer, steps, bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)));
      clock.tick(10); // the first wait's completion is now queued; no child holds the slot
      expect(steps).to.deep.equal([]);
      sig.emit(terminal);
      expect(calls).to.deep.equal([]);
      ioc.poll();
      expect(steps).to.deep.equal([`wait1 null cancelled=${terminal}`]);
      expect(calls).to.deep.equal([error.operationAborted]);
      expect(clock.countTimers()).to.equal(0); // the second wait never started
      expect(sig.hasHandler()).to.equal(false);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('without a request the same operation runs both steps', () => {
      const timer = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const steps: string[] = [];
      const calls: Ec[] = [];
      twoWaits(timer, steps, bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)));
      clock.tick(10);
      ioc.poll();
      clock.tick(10);
      ioc.poll();
      expect(steps).to.deep.equal([`wait1 null cancelled=${none}`, 'wait2 null']);
      expect(calls).to.deep.equal([null]);
      expect(sig.hasHandler()).to.equal(false);
    });

    it('forwards a request to the running child', () => {
      const timer = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const steps: string[] = [];
      const calls: Ec[] = [];
      twoWaits(timer, steps, bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)));
      clock.tick(5);
      sig.emit(terminal);
      expect(clock.countTimers()).to.equal(0);
      ioc.poll();
      expect(steps).to.deep.equal([`wait1 ${String(error.operationAborted)} cancelled=${terminal}`]);
      expect(calls).to.deep.equal([error.operationAborted]);
    });

    it('a non-terminal request is filtered out by the default state', () => {
      const timer = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const steps: string[] = [];
      twoWaits(timer, steps, bindCancellationSlot(sig.slot(), () => {}));
      clock.tick(5);
      sig.emit(partial | total);
      ioc.poll();
      expect(clock.countTimers()).to.equal(1);
      clock.tick(5);
      ioc.poll();
      expect(steps).to.deep.equal([`wait1 null cancelled=${none}`]);
      clock.tick(10);
      ioc.poll();
      expect(steps).to.deep.equal([`wait1 null cancelled=${none}`, 'wait2 null']);
    });

    function waitWithState<T extends TokenFor<WaitSig> | undefined>(
      timer: SteadyTimer,
      reset: ((self: ComposedSelf<WaitSig>) => void) | null,
      token: T,
    ): AsyncResult<T, WaitSig> {
      return asyncCompose<WaitSig, T>(
        function* (self) {
          reset?.(self);
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          self.complete(ec, self.cancelled());
        },
        token,
        timer,
      );
    }

    const stateCases: Array<[string, Parameters<typeof waitWithState>[1], number, Ec, number]> = [
      ['default state, total request', null, total, null, none],
      ['default state, terminal request', null, terminal, error.operationAborted, terminal],
      ['total filter, total request', (s) => s.resetCancellationState(enableTotalCancellation), total, error.operationAborted, total],
      ['total filter, partial request', (s) => s.resetCancellationState(enableTotalCancellation), partial, error.operationAborted, partial],
      [
        'total in-filter, terminal out-filter, partial request',
        (s) => s.resetCancellationState(enableTotalCancellation, enableTerminalCancellation),
        partial,
        null,
        partial,
      ],
      [
        'total in-filter, terminal out-filter, total|terminal request',
        (s) => s.resetCancellationState(enableTotalCancellation, enableTerminalCancellation),
        total | terminal,
        error.operationAborted,
        total | terminal,
      ],
    ];
    for (const [name, reset, request, ec, recorded] of stateCases) {
      it(`resetCancellationState: ${name}`, () => {
        const timer = new SteadyTimer(ioc, 10);
        const sig = new CancellationSignal();
        const calls: WaitSig[] = [];
        waitWithState(timer, reset, bindCancellationSlot(sig.slot(), (e: Ec, c: CancellationType) => calls.push([e, c])));
        clock.tick(5);
        sig.emit(request);
        ioc.poll();
        clock.tick(5);
        ioc.poll();
        expect(calls).to.deep.equal([[ec, recorded]]);
        expect(sig.hasHandler()).to.equal(false);
        expect(clock.countTimers()).to.equal(0);
      });
    }

    it('resetCancellationState forgets recorded requests and installs the new relay', () => {
      const timer = new SteadyTimer(ioc, 10);
      const sig = new CancellationSignal();
      const seen: number[] = [];
      const calls: Ec[] = [];
      asyncCompose<Sig, (ec: Ec) => void>(
        function* (self) {
          yield* self.call(timer.asyncWait(deferred));
          seen.push(self.cancelled());
          self.resetCancellationState(enableTotalCancellation);
          seen.push(self.cancelled());
          timer.expiresAfter(10);
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          seen.push(self.cancelled());
          self.complete(ec);
        },
        bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)),
        timer,
      );
      clock.tick(10);
      sig.emit(terminal); // recorded while the first completion is queued
      ioc.poll();
      expect(seen).to.deep.equal([terminal, none]);
      sig.emit(total); // accepted by the new state, forwarded to the timer
      ioc.poll();
      expect(seen).to.deep.equal([terminal, none, total]);
      expect(calls).to.deep.equal([error.operationAborted]);
      expect(clock.countTimers()).to.equal(0);
    });

    it('gives a typed result from self.call', () => {
      const timer = new SteadyTimer(ioc, 0);
      const results: unknown[] = [];
      asyncCompose<[Ec, number], (ec: Ec, n: number) => void>(
        function* (self) {
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          const asEc: Ec = ec;
          // @ts-expect-error an ErrorCode | null is not a number
          const asNumber: number = ec;
          const [ec2, n] = yield* self.call<[Ec, number]>((h) => asyncCompose<[Ec, number], typeof h>(
            function* (inner) {
              inner.complete(null, 42);
            },
            h,
            ioc,
          ));
          const count: number = n;
          results.push(asEc, asNumber, ec2, count);
          self.complete(ec2, count + 1);
        },
        (ec: Ec, n: number) => results.push(['done', ec, n]),
        timer,
      );
      ioc.poll();
      expect(results).to.deep.equal([null, null, null, 42, ['done', null, 43]]);
    });

    it('calls the handler exactly once when complete() is called twice, and throws', () => {
      const calls: Ec[] = [];
      expect(() =>
        asyncCompose<Sig, (ec: Ec) => void>(
          function* (self) {
            self.complete(null);
            self.complete(error.eof);
          },
          (ec: Ec) => calls.push(ec),
          ioc,
        ),
      ).to.throw(/complete\(\) called twice/);
      ioc.poll();
      expect(calls).to.deep.equal([null]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('requires an I/O object or executor', () => {
      expect(() =>
        asyncCompose<Sig, (ec: Ec) => void>(
          function* (self) {
            self.complete(null);
          },
          () => {},
        ),
      ).to.throw(TypeError);
    });
  });

  describe('asyncCompose on the real clock', () => {
    it('runs timer-driven steps on the bound strand inside run()', async () => {
      const ioc = new IoContext();
      const strand = makeStrand(ioc);
      const timer = new SteadyTimer(ioc, 3);
      const log: Array<[string, boolean]> = [];
      asyncCompose<Sig, (ec: Ec) => void>(
        function* (self) {
          const [ec] = yield* self.call(timer.asyncWait(deferred));
          log.push([`step1 ${String(ec)}`, strand.runningInThisThread()]);
          timer.expiresAfter(3);
          const [ec2] = yield* self.call(timer.asyncWait(deferred));
          log.push([`step2 ${String(ec2)}`, strand.runningInThisThread()]);
          self.complete(ec2);
        },
        bindExecutor(strand, (ec: Ec) => log.push([`done ${String(ec)}`, strand.runningInThisThread()])),
        timer,
      );
      await ioc.run();
      expect(log).to.deep.equal([
        ['step1 null', true],
        ['step2 null', true],
        ['done null', true],
      ]);
      expect(ioc.outstandingWork()).to.equal(0);
    });
  });

  describe('asyncCompose exceptions', () => {
    let ioc: IoContext;
    beforeEach(() => {
      ioc = new IoContext();
    });

    it('the initiating call throws when the first step throws, and releases work and slot', () => {
      const boom = new Error('first step');
      const sig = new CancellationSignal();
      const calls: Ec[] = [];
      let thrown: unknown;
      try {
        asyncCompose<Sig, (ec: Ec) => void>(
          function* () {
            throw boom;
          },
          bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)),
          ioc,
        );
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.equal(boom);
      expect(ioc.outstandingWork()).to.equal(0);
      expect(sig.hasHandler()).to.equal(false);
      expect(calls).to.deep.equal([]);
    });

    it('a later step that throws is a reported bug: the handler gets internalError once, run() resolves, other operations go on (issue 17.1)', async () => {
      const boom = new Error('second step');
      const sig = new CancellationSignal();
      const calls: Ec[] = [];
      const reported: unknown[] = [];
      const previous = onInternalError((err) => reported.push(err));
      try {
        asyncCompose<Sig, (ec: Ec) => void>(
          function* (self) {
            yield* self.call(asyncImmediate(ioc, deferred));
            throw boom;
          },
          bindCancellationSlot(sig.slot(), (ec: Ec) => calls.push(ec)),
          ioc,
        );
        // Another operation on the same context, completing after the failing one.
        const other: Ec[] = [];
        asyncCompose<Sig, (ec: Ec) => void>(
          function* (self) {
            yield* self.call(asyncImmediate(ioc, deferred));
            yield* self.call(asyncImmediate(ioc, deferred));
            self.complete(null);
          },
          (ec: Ec) => other.push(ec),
          ioc,
        );
        expect(await ioc.run()).to.be.greaterThan(0);
        expect(calls).to.deep.equal([error.internalError]);
        expect(other).to.deep.equal([null]);
        expect(reported).to.deep.equal([boom]);
        expect(ioc.outstandingWork()).to.equal(0);
        expect(sig.hasHandler()).to.equal(false);
      } finally {
        onInternalError(previous);
      }
    });

    it('without a listener, an internal error is a process warning, never an uncaught exception', async () => {
      const previous = onInternalError(null);
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on('warning', onWarning);
      try {
        const p = asyncCompose<Sig, undefined>(
          function* (self) {
            yield* self.call(asyncImmediate(ioc, deferred));
            throw new Error('bug');
          },
          undefined,
          ioc,
        );
        const rejected = p.then(() => null, (e: unknown) => e as SystemError);
        await ioc.run();
        expect((await rejected)?.code).to.equal(error.internalError);
        await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
        const ours = warnings.filter((w) => w.name === 'TsbeastInternalError');
        expect(ours.map((w) => (w.cause as Error).message)).to.deep.equal(['bug']);
      } finally {
        process.off('warning', onWarning);
        onInternalError(previous);
      }
    });

    it('a handler that throws, run inline from a step, still makes run() reject with its error', async () => {
      const boom = new Error('the user handler');
      asyncCompose<Sig, (ec: Ec) => void>(
        function* (self) {
          yield* self.call(asyncImmediate(ioc, deferred));
          self.complete(null);
        },
        () => {
          throw boom;
        },
        ioc,
      );
      let caught: unknown;
      try {
        await ioc.run();
      } catch (err) {
        caught = err;
      }
      expect(caught).to.equal(boom);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('returning without complete() throws from the initiating call', () => {
      expect(() =>
        asyncCompose<Sig, (ec: Ec) => void>(
          function* () {
            return;
          },
          () => {},
          ioc,
        ),
      ).to.throw(/returned without calling self\.complete\(\)/);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('returning without complete() from a later step is a reported bug: the handler gets internalError', async () => {
      const calls: Ec[] = [];
      const reported: unknown[] = [];
      const previous = onInternalError((err) => reported.push(err));
      try {
        asyncCompose<Sig, (ec: Ec) => void>(
          function* (self) {
            yield* self.call(asyncImmediate(ioc, deferred));
          },
          (ec: Ec) => calls.push(ec),
          ioc,
        );
        await ioc.run();
        expect(reported).to.have.length(1);
        expect((reported[0] as Error).message).to.match(/returned without calling self\.complete\(\)/);
        expect(ioc.outstandingWork()).to.equal(0);
        expect(calls).to.deep.equal([error.internalError]);
      } finally {
        onInternalError(previous);
      }
    });

    it('the Promise token resolves with the completion values after run()', async () => {
      const p = asyncCompose<[Ec, number, string], undefined>(
        function* (self) {
          yield* self.call(asyncImmediate(ioc, deferred));
          self.complete(null, 1, 'x');
        },
        undefined,
        ioc,
      );
      await ioc.run();
      expect(await p).to.deep.equal([1, 'x']);
    });
  });

  describe('asyncImmediate', () => {
    let ioc: IoContext;
    beforeEach(() => {
      ioc = new IoContext();
    });

    it('is posted, never inline, and holds work until it runs', () => {
      let calls = 0;
      asyncImmediate(ioc, () => calls++);
      expect(calls).to.equal(0);
      expect(ioc.outstandingWork()).to.equal(1);
      expect(ioc.poll()).to.equal(1);
      expect(calls).to.equal(1);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('runs inline with an immediate executor bound', () => {
      let calls = 0;
      asyncImmediate(ioc, bindImmediateExecutor(inlineExecutor, () => calls++));
      expect(calls).to.equal(1);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('dispatches to a bound immediate executor (a strand) rather than running inline', () => {
      const strand = makeStrand(ioc);
      const seen: boolean[] = [];
      asyncImmediate(ioc, bindImmediateExecutor(strand, () => seen.push(strand.runningInThisThread())));
      expect(seen).to.deep.equal([]);
      ioc.poll();
      expect(seen).to.deep.equal([true]);
    });

    it('resolves the Promise token with undefined', async () => {
      const p = asyncImmediate(ioc);
      expect(await ioc.run()).to.equal(1);
      expect(await p).to.equal(undefined);
    });
  });

  describe('coSpawn', () => {
    let ioc: IoContext;
    beforeEach(() => {
      ioc = new IoContext();
    });

    it('starts from a posted handler and delivers the value', async () => {
      let started = false;
      const calls: unknown[][] = [];
      coSpawn(
        ioc,
        (ctx: CoSpawnContext) => {
          started = true;
          expect(ctx.executor).to.equal(ioc.getExecutor());
          return 42;
        },
        (...args) => calls.push(args),
      );
      expect(started).to.equal(false);
      await ioc.run();
      expect(started).to.equal(true);
      expect(calls).to.deep.equal([[null, 42]]);
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('resolves the Promise token with the async function’s value', async () => {
      const p = coSpawn(ioc, async () => {
        await post(ioc);
        return 'value';
      });
      await ioc.run();
      expect(await p).to.equal('value');
    });

    it('rejects with the Error the function threw', async () => {
      const boom = new Error('boom');
      const p = coSpawn(ioc, async () => {
        await post(ioc);
        throw boom;
      });
      const settled = p.then(
        () => 'resolved',
        (err: unknown) => err,
      );
      await ioc.run();
      expect(await settled).to.equal(boom);
    });

    it('wraps a thrown non-Error in an Error with it as cause', async () => {
      const calls: unknown[][] = [];
      coSpawn(
        ioc,
        () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- the case under test
          throw 'plain string';
        },
        (...args) => calls.push(args),
      );
      await ioc.run();
      expect(calls.length).to.equal(1);
      const [err, value] = calls[0]!;
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.equal('plain string');
      expect((err as Error).cause).to.equal('plain string');
      expect(value).to.equal(undefined);
    });

    it('a terminal request on the bound slot aborts ctx.signal and shows in ctx.cancelled()', async () => {
      const sig = new CancellationSignal();
      const seen: unknown[] = [];
      const p = coSpawn(
        ioc,
        async (ctx) => {
          seen.push(ctx.signal.aborted, ctx.cancelled());
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          seen.push(ctx.signal.aborted, ctx.cancelled());
          const reason = ctx.signal.reason as unknown;
          seen.push(reason instanceof CancellationRequest, (reason as CancellationRequest).type);
          ctx.throwIfCancelled();
          return 'not reached';
        },
        bindCancellationSlot(sig.slot()),
      );
      const settled = p.then(
        () => null,
        (err: unknown) => err,
      );
      expect(sig.hasHandler()).to.equal(true);
      ioc.getExecutor().post(() => sig.emit(terminal));
      await ioc.run();
      expect(seen).to.deep.equal([false, none, true, terminal, true, terminal]);
      const err = await settled;
      expect(err).to.be.instanceOf(SystemError);
      expect((err as SystemError).code).to.equal(error.operationAborted);
      expect(sig.hasHandler()).to.equal(false);
    });

    it('ignores non-terminal requests by default', async () => {
      const sig = new CancellationSignal();
      const p = coSpawn(
        ioc,
        async (ctx) => {
          await post(ioc);
          ctx.throwIfCancelled();
          return [ctx.signal.aborted, ctx.cancelled()];
        },
        bindCancellationSlot(sig.slot()),
      );
      ioc.getExecutor().post(() => sig.emit(partial | total));
      await ioc.run();
      expect(await p).to.deep.equal([false, none]);
    });

    it('holds work for the whole async function', async () => {
      const log: string[] = [];
      const p = coSpawn(ioc, async () => {
        log.push('start');
        await new Promise((resolve) => setTimeout(resolve, 20));
        log.push('after timeout');
        await new Promise((resolve) => setImmediate(resolve));
        log.push('end');
        return 'done';
      });
      expect(ioc.outstandingWork()).to.be.greaterThan(0);
      await ioc.run();
      log.push('run resolved');
      expect(log).to.deep.equal(['start', 'after timeout', 'end', 'run resolved']);
      expect(await p).to.equal('done');
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('runs the handler on its bound executor', async () => {
      const strand = makeStrand(ioc);
      const seen: boolean[] = [];
      coSpawn(
        ioc,
        async () => 1,
        bindExecutor(strand, () => seen.push(strand.runningInThisThread())),
      );
      await ioc.run();
      expect(seen).to.deep.equal([true]);
    });
  });
});
