/**
 * IoContext as Asio's io_context: handlers run only inside run / runOne / poll / pollOne, run()
 * resolves when no work is left (after pending microtasks), stop / restart / stopped, and the
 * free post / dispatch / defer.
 */

import { expect } from 'chai';
import {
  defer,
  dispatch,
  IoContext,
  makeStrand,
  makeWorkGuard,
  post,
  SteadyTimer,
} from '../../lib/net/index.js';
import { asyncStubLater } from '../support/stub-ops.js';

describe('net/io-context', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  describe('run()', () => {
    it('runs handlers only inside run(), in FIFO order, and resolves with their count', async () => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) post(ioc.getExecutor(), () => seen.push(i));
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).to.deep.equal([]);
      expect(await ioc.run()).to.equal(5);
      expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
      expect(ioc.stopped()).to.equal(true);
    });

    it('with no work resolves 0 at once and leaves the context stopped', async () => {
      expect(await ioc.run()).to.equal(0);
      expect(ioc.stopped()).to.equal(true);
      post(ioc, () => {});
      expect(await ioc.run()).to.equal(0); // stopped: restart() is needed, as in Asio
      ioc.restart();
      expect(await ioc.run()).to.equal(1);
    });

    it('keeps running while code after an await starts the next operation', async () => {
      const ex = ioc.getExecutor();
      const steps: string[] = [];
      const chain = (async () => {
        for (let i = 0; i < 3; i++) {
          await asyncStubLater(ex, i, 1);
          steps.push(`op${i}`);
          await Promise.resolve(); // extra microtask hops must not end run()
          await Promise.resolve();
        }
      })();
      await ioc.run();
      expect(steps).to.deep.equal(['op0', 'op1', 'op2']);
      await chain;
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('rejects with the exception a handler threw; the context stays usable', async () => {
      const boom = new Error('boom');
      const seen: string[] = [];
      post(ioc, () => seen.push('a'));
      post(ioc, () => {
        throw boom;
      });
      post(ioc, () => seen.push('c'));
      const err = await ioc.run().then(() => null, (e: unknown) => e);
      expect(err).to.equal(boom);
      expect(seen).to.deep.equal(['a']);
      expect(ioc.stopped()).to.equal(false);
      expect(await ioc.run()).to.equal(1);
      expect(seen).to.deep.equal(['a', 'c']);
    });

    it('keeps the order of a burst larger than its queue keeps, with handlers posted while it drains, and again after', async () => {
      // 5,000 handlers, the first 2,500 of which each post one more: the queue's array is
      // compacted while it drains and replaced when it empties (above 1,024 slots).
      const seen: number[] = [];
      for (let i = 0; i < 5000; i++) {
        post(ioc, () => {
          seen.push(i);
          if (i < 2500) post(ioc, () => seen.push(5000 + i));
        });
      }
      expect(await ioc.run()).to.equal(7500);
      expect(seen).to.deep.equal(Array.from({ length: 7500 }, (_, k) => k));
      // Polled in part, then run: the order still holds.
      ioc.restart();
      const after: number[] = [];
      for (let i = 0; i < 3000; i++) post(ioc, () => after.push(i));
      expect(ioc.poll()).to.equal(3000);
      for (let i = 0; i < 3; i++) post(ioc, () => after.push(3000 + i));
      expect(ioc.pollOne()).to.equal(1);
      expect(await ioc.run()).to.equal(2);
      expect(after).to.deep.equal(Array.from({ length: 3003 }, (_, k) => k));
      expect(ioc.outstandingWork()).to.equal(0);
    });

    it('a chain of handlers never starves I/O: an I/O callback runs within a bounded number of handlers', async () => {
      let handlers = 0;
      let ioAfter = -1;
      const again = (): void => {
        // The I/O callback is scheduled from inside the context, as a socket's would be.
        if (handlers++ === 0) setImmediate(() => (ioAfter = handlers));
        if (ioAfter < 0) post(ioc, again);
      };
      post(ioc, again);
      await ioc.run();
      expect(ioAfter).to.be.within(1, 1024);
    });

    it('promise continuations run between batches: an await chain needs no event-loop turn per step', async () => {
      const order: string[] = [];
      const chain = (async () => {
        for (let i = 0; i < 3; i++) {
          await post(ioc);
          if (i === 0) setImmediate(() => order.push('io'));
          order.push(`step${i}`);
        }
      })();
      await ioc.run();
      await chain;
      expect(order).to.deep.equal(['step0', 'step1', 'step2', 'io']);
    });

    it('a work guard keeps run() going until it is reset', async () => {
      const guard = makeWorkGuard(ioc);
      let resolved = false;
      const run = ioc.run().then((n) => {
        resolved = true;
        return n;
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(resolved).to.equal(false);
      post(ioc, () => guard.reset());
      expect(await run).to.equal(1);
    });
  });

  describe('stop() and restart()', () => {
    it('stop() ends run() without running queued handlers; restart() lets them run', async () => {
      const seen: number[] = [];
      post(ioc, () => {
        seen.push(1);
        ioc.stop();
      });
      post(ioc, () => seen.push(2));
      expect(await ioc.run()).to.equal(1);
      expect(seen).to.deep.equal([1]);
      expect(ioc.stopped()).to.equal(true);
      expect(ioc.poll()).to.equal(0);
      ioc.restart();
      expect(await ioc.run()).to.equal(1);
      expect(seen).to.deep.equal([1, 2]);
    });

    it('stop() from outside resolves a run() that waits for I/O', async () => {
      const guard = makeWorkGuard(ioc);
      const run = ioc.run();
      setTimeout(() => ioc.stop(), 2);
      expect(await run).to.equal(0);
      guard.reset();
    });
  });

  describe('runOne(), poll() and pollOne()', () => {
    it('runOne() resolves after exactly one handler', async () => {
      const seen: number[] = [];
      post(ioc, () => seen.push(1));
      post(ioc, () => seen.push(2));
      expect(await ioc.runOne()).to.equal(1);
      expect(seen).to.deep.equal([1]);
      expect(await ioc.runOne()).to.equal(1);
      expect(seen).to.deep.equal([1, 2]);
      expect(await ioc.runOne()).to.equal(0);
      expect(ioc.stopped()).to.equal(true);
    });

    it('runOne() waits for a completion from I/O', async () => {
      const seen: number[] = [];
      asyncStubLater(ioc.getExecutor(), 5, 2, (_ec, v) => seen.push(v));
      expect(await ioc.runOne()).to.equal(1);
      expect(seen).to.deep.equal([5]);
    });

    it('poll() runs every ready handler, including ones they post, and never waits', () => {
      const seen: number[] = [];
      post(ioc, () => {
        seen.push(1);
        post(ioc, () => seen.push(3));
      });
      post(ioc, () => seen.push(2));
      expect(ioc.poll()).to.equal(3);
      expect(seen).to.deep.equal([1, 2, 3]);
      // Out of work: the next poll stops the context, as Asio does.
      expect(ioc.poll()).to.equal(0);
      expect(ioc.stopped()).to.equal(true);
    });

    it('pollOne() runs at most one', () => {
      const seen: number[] = [];
      post(ioc, () => seen.push(1));
      post(ioc, () => seen.push(2));
      expect(ioc.pollOne()).to.equal(1);
      expect(seen).to.deep.equal([1]);
      expect(ioc.pollOne()).to.equal(1);
      expect(ioc.pollOne()).to.equal(0);
    });

    it('poll() does not run handlers of pending operations', () => {
      const timer = new SteadyTimer(ioc, 10_000);
      const seen: unknown[] = [];
      timer.asyncWait((ec) => seen.push(ec));
      expect(ioc.poll()).to.equal(0);
      expect(ioc.stopped()).to.equal(false);
      expect(timer.cancel()).to.equal(1);
      expect(ioc.poll()).to.equal(1);
      expect(seen).to.have.length(1);
    });

    it('an exception from a handler propagates out of poll()', () => {
      post(ioc, () => {
        throw new Error('from handler');
      });
      post(ioc, () => {});
      expect(() => ioc.poll()).to.throw('from handler');
      expect(ioc.poll()).to.equal(1);
    });
  });

  describe('post, dispatch and defer', () => {
    it('post and defer never run inside the call; dispatch from outside queues too', () => {
      const seen: string[] = [];
      post(ioc, () => seen.push('post'));
      defer(ioc, () => seen.push('defer'));
      dispatch(ioc, () => seen.push('dispatch'));
      expect(seen).to.deep.equal([]);
      ioc.poll();
      expect(seen).to.deep.equal(['post', 'defer', 'dispatch']);
    });

    it('dispatch from inside the executor runs inline; post does not', () => {
      const seen: string[] = [];
      post(ioc, () => {
        dispatch(ioc, () => seen.push('dispatched'));
        post(ioc, () => seen.push('posted'));
        seen.push('end of handler');
      });
      ioc.poll();
      expect(seen).to.deep.equal(['dispatched', 'end of handler', 'posted']);
    });

    it('a completion from I/O runs after the handlers queued before it became ready (FIFO)', async () => {
      // The timer falls due while 'first' and 'second' wait for the context's next batch; Node's
      // timers phase then runs before the check phase that drains the queue.
      const seen: string[] = [];
      post(ioc, () => seen.push('first'));
      post(ioc, () => seen.push('second'));
      new SteadyTimer(ioc, 1).asyncWait(() => seen.push('timer'));
      const running = ioc.run();
      const due = performance.now() + 15;
      while (performance.now() < due); // the timer is due before the loop turns
      expect(await running).to.equal(3);
      expect(seen).to.deep.equal(['first', 'second', 'timer']);
    });

    it('post with a handler bound to a strand runs on that strand', async () => {
      const strand = makeStrand(ioc);
      const { bindExecutor } = await import('../../lib/net/index.js');
      let onStrand = false;
      post(ioc, bindExecutor(strand, () => (onStrand = strand.runningInThisThread())));
      await ioc.run();
      expect(onStrand).to.equal(true);
    });

    it('await post(executor) resumes after a turn through the context', async () => {
      const order: string[] = [];
      const p = (async () => {
        order.push('before');
        await post(ioc);
        order.push('after');
      })();
      order.push('caller');
      await ioc.run();
      await p;
      expect(order).to.deep.equal(['before', 'caller', 'after']);
    });
  });
});
