/**
 * append, prepend, consign and cancelAt (lib/net/append.ts, consign.ts, cancel-at.ts): Asio's
 * semantics over real timers, with the Promise token, handlers and nested tokens; the types of
 * what each returns are checked by the compiler through the annotations.
 */

import { expect } from 'chai';
import {
  append,
  asTuple,
  bindCancellationSlot,
  bindExecutor,
  cancelAt,
  CancellationSignal,
  consign,
  error,
  IoContext,
  makeStrand,
  prepend,
  SteadyTimer,
  steadyNow,
  SystemError,
  usePromise,
  type ErrorCode,
} from '../../lib/net/index.js';

describe('net/append, prepend, consign, cancelAt', () => {
  let ioc: IoContext;
  let running: Promise<number>;
  beforeEach(() => {
    ioc = new IoContext();
    running = ioc.run();
  });
  afterEach(async () => {
    await running;
  });

  describe('append', () => {
    it('gives the handler the values after the operation\'s own', async () => {
      const got = await new Promise<readonly unknown[]>((resolve) => {
        new SteadyTimer(ioc, 1).asyncWait(append((...args: unknown[]) => resolve(args), 'a', 2));
      });
      expect(got).to.deep.equal([null, 'a', 2]);
    });

    it('with the Promise token, resolves with the appended values (typed)', async () => {
      const v: [string, number] = await new SteadyTimer(ioc, 1).asyncWait(append(usePromise, 'a', 2));
      expect(v).to.deep.equal(['a', 2]);
      const one: string = await new SteadyTimer(ioc, 1).asyncWait(append(usePromise, 'x'));
      expect(one).to.equal('x');
    });

    it('keeps the error slot: a failed operation still rejects', async () => {
      const timer = new SteadyTimer(ioc, 10_000);
      const p = timer.asyncWait(append(usePromise, 1));
      timer.cancel();
      const err = await p.then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(SystemError);
      expect((err as SystemError).code).to.equal(error.operationAborted);
    });

    it('composes with asTuple and keeps the inner token\'s characteristics', async () => {
      const strand = makeStrand(ioc);
      let onStrand = false;
      const t: [ErrorCode | null, number] = await new Promise((resolve) => {
        new SteadyTimer(ioc, 1).asyncWait(
          bindExecutor(strand, append((ec: ErrorCode | null, n: number) => {
            onStrand = strand.runningInThisThread();
            resolve([ec, n]);
          }, 5)),
        );
      });
      expect(t).to.deep.equal([null, 5]);
      expect(onStrand).to.equal(true);
      const tuple: [ErrorCode | null, number] = await new SteadyTimer(ioc, 1).asyncWait(append(asTuple(), 9));
      expect(tuple).to.deep.equal([null, 9]);
    });
  });

  describe('prepend', () => {
    it('gives the handler the values before the operation\'s own', async () => {
      const got = await new Promise<readonly unknown[]>((resolve) => {
        new SteadyTimer(ioc, 1).asyncWait(prepend((...args: unknown[]) => resolve(args), 'id', 3));
      });
      expect(got).to.deep.equal(['id', 3, null]);
    });

    it('with the Promise token, resolves with the whole tuple, error included', async () => {
      const timer = new SteadyTimer(ioc, 10_000);
      const p: Promise<[number, ErrorCode | null]> = timer.asyncWait(prepend(usePromise, 7));
      timer.cancel();
      expect(await p).to.deep.equal([7, error.operationAborted]);
    });
  });

  describe('consign', () => {
    it('passes the completion through unchanged and holds the values until it runs', async () => {
      const got = await new Promise<readonly unknown[]>((resolve) => {
        new SteadyTimer(ioc, 1).asyncWait(consign((...args: unknown[]) => resolve(args), { big: 1 }, 'x'));
      });
      expect(got).to.deep.equal([null]);
      const v: void = await new SteadyTimer(ioc, 1).asyncWait(consign(usePromise, new SteadyTimer(ioc)));
      expect(v).to.equal(undefined);
    });

    it('keeps a bound cancellation slot working', async () => {
      const signal = new CancellationSignal();
      const p = new SteadyTimer(ioc, 10_000).asyncWait(consign(bindCancellationSlot(signal.slot(), asTuple()), 1));
      signal.emit(1);
      expect(await p).to.deep.equal([error.operationAborted]);
    });
  });

  describe('cancelAt', () => {
    it('cancels an operation still pending at the time', async () => {
      const start = steadyNow();
      const [ec] = await new SteadyTimer(ioc, 10_000).asyncWait(cancelAt(start + 20, asTuple()));
      expect(ec).to.equal(error.operationAborted);
      expect(steadyNow() - start).to.be.greaterThanOrEqual(19);
    });

    it('leaves an operation that completes first alone', async () => {
      const [ec] = await new SteadyTimer(ioc, 5).asyncWait(cancelAt(steadyNow() + 10_000, asTuple()));
      expect(ec).to.equal(null);
    });

    it('a time already past cancels the operation once started (posted, never inline)', async () => {
      let inline = true;
      const p = new Promise<ErrorCode | null>((resolve) => {
        new SteadyTimer(ioc, 10_000).asyncWait(cancelAt(steadyNow() - 1, (ec: ErrorCode | null) => resolve(ec)));
      });
      inline = false;
      expect(await p).to.equal(error.operationAborted);
      expect(inline).to.equal(false);
    });

    it('one deadline shared by two operations in sequence', async () => {
      const deadline = steadyNow() + 30;
      const [a] = await new SteadyTimer(ioc, 5).asyncWait(cancelAt(deadline, asTuple()));
      const [b] = await new SteadyTimer(ioc, 10_000).asyncWait(cancelAt(deadline, asTuple()));
      expect([a, b]).to.deep.equal([null, error.operationAborted]);
    });
  });
});

describe('net/io-context runFor and runUntil', () => {
  it('runFor returns when the work is done, before the time', async () => {
    const ioc = new IoContext();
    let fired = false;
    new SteadyTimer(ioc, 5).asyncWait(() => void (fired = true));
    const start = steadyNow();
    const n = await ioc.runFor(5_000);
    expect(fired).to.equal(true);
    expect(n).to.equal(1);
    expect(steadyNow() - start).to.be.lessThan(4_000);
    expect(ioc.stopped()).to.equal(true);
  });

  it('runFor returns at the time; the work stays pending and the context runs again', async () => {
    const ioc = new IoContext();
    let fired = false;
    const timer = new SteadyTimer(ioc, 10_000);
    timer.asyncWait(() => void (fired = true));
    expect(await ioc.runFor(20)).to.equal(0);
    expect(fired).to.equal(false);
    expect(ioc.stopped()).to.equal(false);
    expect(ioc.outstandingWork()).to.equal(1);
    timer.cancel();
    expect(await ioc.runUntil(steadyNow() + 5_000)).to.equal(1);
    expect(fired).to.equal(true);
  });

  it('runUntil counts the handlers it ran before the time', async () => {
    const ioc = new IoContext();
    const timer = new SteadyTimer(ioc, 10_000);
    timer.asyncWait(() => {});
    const ex = ioc.getExecutor();
    for (let i = 0; i < 3; i++) ex.post(() => {});
    expect(await ioc.runUntil(steadyNow() + 20)).to.equal(3);
    timer.cancel();
    expect(await ioc.run()).to.equal(1);
  });
});
