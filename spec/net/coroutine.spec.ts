/**
 * Generator coroutines given to coSpawn (lib/net/coroutine.ts): every resumption runs through the
 * executor (a coroutine on a strand stays there, an async function does not), typed results
 * through `yield*`, errors as exceptions, cancellation as in asyncCompose, work held.
 */

import { expect } from 'chai';
import {
  asTuple,
  bindCancellationSlot,
  CancellationSignal,
  CancellationType,
  coSpawn,
  deferred,
  error,
  IoContext,
  makeStrand,
  post,
  SteadyTimer,
  SystemError,
  type ErrorCode,
} from '../../lib/net/index.js';

describe('net/coroutine coSpawn with a generator function', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('runs every step on its strand; an async function leaves it after the first await', async () => {
    const strand = makeStrand(ioc);
    const running = ioc.run();
    const onStrand = await coSpawn(strand, function* (co) {
      const seen: boolean[] = [strand.runningInThisThread()];
      for (let i = 0; i < 3; i++) {
        yield* co.await(new SteadyTimer(ioc, 1).asyncWait(deferred));
        seen.push(strand.runningInThisThread());
        yield* co.await(post(ioc, deferred)); // completes on the context, resumes on the strand
        seen.push(strand.runningInThisThread());
      }
      return seen;
    });
    expect(onStrand).to.deep.equal([true, true, true, true, true, true, true]);
    const asyncSeen = await coSpawn(strand, async () => {
      const seen = [strand.runningInThisThread()];
      await new SteadyTimer(ioc, 1).asyncWait();
      seen.push(strand.runningInThisThread());
      return seen;
    });
    expect(asyncSeen).to.deep.equal([true, false]);
    await running;
  });

  it('returns typed values through yield*: await gives the value, call the whole signature', async () => {
    const running = ioc.run();
    const got = await coSpawn(ioc, function* (co) {
      const v: void = yield* co.await(new SteadyTimer(ioc, 1).asyncWait(deferred));
      const [ec]: [ErrorCode | null] = yield* co.call(new SteadyTimer(ioc, 1).asyncWait(deferred));
      const tuple: [ErrorCode | null] = yield* co.await(new SteadyTimer(ioc, 1).asyncWait(asTuple(deferred)));
      const fromHandler: [ErrorCode | null, number] = yield* co.call<[ErrorCode | null, number]>((h) => post(ioc, () => h(null, 42)));
      const p: string = yield* co.promise(Promise.resolve('from a promise'));
      return { v, ec, tuple, fromHandler, p };
    });
    expect(got).to.deep.equal({ v: undefined, ec: null, tuple: [null], fromHandler: [null, 42], p: 'from a promise' });
    await running;
  });

  it('throws an operation error into the generator, where it can be caught', async () => {
    const running = ioc.run();
    const got = await coSpawn(ioc, function* (co) {
      const timer = new SteadyTimer(ioc, 10_000);
      post(ioc, () => timer.cancel());
      try {
        yield* co.await(timer.asyncWait(deferred));
        return 'no error';
      } catch (err) {
        return (err as SystemError).code === error.operationAborted ? 'caught operationAborted' : String(err);
      }
    });
    expect(got).to.equal('caught operationAborted');
    await running;
  });

  it('an exception that escapes the generator rejects the promise; a rejected promise throws inside', async () => {
    const running = ioc.run();
    const err = await coSpawn(ioc, function* (co) {
      yield* co.promise(Promise.reject(new RangeError('inner')));
      return 1;
    }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(RangeError);
    const viaHandler = await new Promise<[Error | null, number]>((resolve) =>
      coSpawn(ioc, function* (): Generator<never, number, readonly unknown[]> {
        throw new Error('at once');
      }, (e: Error | null, v: number) => resolve([e, v])),
    );
    expect(viaHandler[0]?.message).to.equal('at once');
    await running;
  });

  it('cancellation reaches the current child, and later children fail at once (throw_if_cancelled)', async () => {
    const running = ioc.run();
    const signal = new CancellationSignal();
    const p = coSpawn(ioc, function* (co) {
      const steps: string[] = [];
      try {
        yield* co.await(new SteadyTimer(ioc, 10_000).asyncWait(deferred));
      } catch (err) {
        steps.push(`child: ${(err as SystemError).code.message()}`);
      }
      steps.push(`cancelled: ${co.cancelled() === CancellationType.terminal}`, `signal: ${co.signal.aborted}`);
      try {
        yield* co.await(new SteadyTimer(ioc, 1).asyncWait(deferred));
      } catch {
        steps.push('next child refused');
      }
      return steps;
    }, bindCancellationSlot(signal.slot()));
    setTimeout(() => signal.emit(CancellationType.terminal), 5);
    expect(await p).to.deep.equal([
      `child: ${error.operationAborted.message()}`,
      'cancelled: true',
      'signal: true',
      'next child refused',
    ]);
    await running;
  });

  it('only terminal cancellation is taken, as in asyncCompose', async () => {
    const running = ioc.run();
    const signal = new CancellationSignal();
    const p = coSpawn(ioc, function* (co) {
      yield* co.await(new SteadyTimer(ioc, 20).asyncWait(deferred));
      return co.cancelled();
    }, bindCancellationSlot(signal.slot()));
    setTimeout(() => signal.emit(CancellationType.partial), 2);
    expect(await p).to.equal(CancellationType.none);
    await running;
  });

  it('holds work: run() resolves only after the coroutine returned', async () => {
    let done = false;
    coSpawn(ioc, function* (co) {
      yield* co.await(new SteadyTimer(ioc, 10).asyncWait(deferred));
      done = true;
    }, () => {});
    await ioc.run();
    expect(done).to.equal(true);
  });

  it('misuse: the generator-only methods in an async function throw a clear error', async () => {
    const running = ioc.run();
    const err = await coSpawn(ioc, async (co) => {
      co.await(new SteadyTimer(ioc, 1).asyncWait(deferred)).next();
    }).then(() => null, (e: unknown) => e);
    expect(String(err)).to.match(/are for generator functions/);
    await running;
  });
});
