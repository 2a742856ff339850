// Specs for lib/net/strand.ts and lib/net/work-guard.ts: FIFO order, no nesting,
// runningInThisThread, exceptions, strands over strands, and work guards keeping run() alive.

import { expect } from 'chai';
import {
  dispatch,
  IoContext,
  makeStrand,
  makeWorkGuard,
  post,
  Strand,
  WorkGuard,
} from '../../lib/net/index.js';

describe('net/strand', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('keeps FIFO order across post and dispatch from outside', async () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    strand.post(() => log.push('a'));
    strand.dispatch(() => log.push('b'));
    post(strand, () => log.push('c'));
    dispatch(strand, () => log.push('d'));
    strand.defer(() => log.push('e'));
    strand.post(() => log.push('f'));
    expect(log).to.deep.equal([]); // nothing runs outside run()
    expect(await ioc.run()).to.be.greaterThan(0);
    expect(log).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('keeps FIFO order for submissions made from other handlers of the context', async () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    const ex = ioc.getExecutor();
    ex.post(() => {
      // The strand has s1 queued: a dispatch from outside the strand must queue behind it.
      strand.dispatch(() => log.push('s2'));
      strand.post(() => log.push('s3'));
      log.push('x');
    });
    strand.post(() => log.push('s1'));
    await ioc.run();
    expect(log).to.deep.equal(['x', 's1', 's2', 's3']);
  });

  it('never runs a handler posted from inside the strand nested in the current one', async () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    strand.post(() => {
      log.push('a:begin');
      strand.post(() => log.push('inner'));
      post(strand, () => log.push('inner2'));
      log.push('a:end');
    });
    strand.post(() => log.push('b'));
    await ioc.run();
    expect(log).to.deep.equal(['a:begin', 'a:end', 'b', 'inner', 'inner2']);
  });

  it('runs a dispatch from inside the strand inline', async () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    strand.post(() => {
      log.push('a:begin');
      strand.dispatch(() => log.push('inline'));
      dispatch(strand, () => log.push('inline2'));
      log.push('a:end');
    });
    strand.post(() => log.push('b'));
    await ioc.run();
    expect(log).to.deep.equal(['a:begin', 'inline', 'inline2', 'a:end', 'b']);
  });

  it('dispatch from a non-strand handler runs inline only when the strand is idle', () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    const ex = ioc.getExecutor();
    ex.post(() => {
      strand.dispatch(() => log.push('idle:inline'));
      log.push('after-idle');
      strand.post(() => log.push('queued'));
      strand.dispatch(() => log.push('behind-queued'));
      log.push('after-busy');
    });
    ioc.poll();
    expect(log).to.deep.equal(['idle:inline', 'after-idle', 'after-busy', 'queued', 'behind-queued']);
  });

  it('runningInThisThread is true only inside one of its handlers', async () => {
    const strand = makeStrand(ioc);
    const other = makeStrand(ioc);
    const seen: Array<[string, boolean]> = [];
    expect(strand.runningInThisThread()).to.equal(false);
    strand.post(() => {
      seen.push(['strand', strand.runningInThisThread()]);
      seen.push(['other-in-strand', other.runningInThisThread()]);
    });
    ioc.getExecutor().post(() => seen.push(['plain', strand.runningInThisThread()]));
    other.post(() => seen.push(['other', strand.runningInThisThread()]));
    await ioc.run();
    expect(seen).to.deep.equal([
      ['strand', true],
      ['other-in-strand', false],
      ['plain', false],
      ['other', false],
    ]);
    expect(strand.runningInThisThread()).to.equal(false);
  });

  it('a handler that throws does not lose later handlers: run() rejects, run() again continues', async () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    const boom = new Error('boom');
    strand.post(() => {
      log.push('a');
      throw boom;
    });
    strand.post(() => log.push('b'));
    strand.post(() => log.push('c'));
    let caught: unknown;
    try {
      await ioc.run();
    } catch (err) {
      caught = err;
    }
    expect(caught).to.equal(boom);
    expect(log).to.deep.equal(['a']);
    expect(strand.runningInThisThread()).to.equal(false);
    expect(ioc.stopped()).to.equal(false);
    await ioc.run();
    expect(log).to.deep.equal(['a', 'b', 'c']);
    expect(ioc.outstandingWork()).to.equal(0);
    // The strand is still usable afterwards.
    ioc.restart();
    strand.post(() => log.push('d'));
    await ioc.run();
    expect(log).to.deep.equal(['a', 'b', 'c', 'd']);
  });

  it('a throwing handler propagates out of poll() and the rest run on the next poll', () => {
    const strand = makeStrand(ioc);
    const log: string[] = [];
    strand.post(() => {
      throw new Error('first');
    });
    strand.post(() => log.push('second'));
    expect(() => ioc.poll()).to.throw('first');
    expect(log).to.deep.equal([]);
    ioc.poll();
    expect(log).to.deep.equal(['second']);
  });

  describe('strand over strand', () => {
    it('serialises with the inner strand in submission order', async () => {
      const inner = makeStrand(ioc);
      const outer = new Strand(inner);
      expect(outer.innerExecutor()).to.equal(inner);
      const log: string[] = [];
      inner.post(() => log.push(`inner1 outer=${outer.runningInThisThread()} inner=${inner.runningInThisThread()}`));
      outer.post(() => log.push(`outer1 outer=${outer.runningInThisThread()} inner=${inner.runningInThisThread()}`));
      inner.post(() => log.push('inner2'));
      outer.post(() => log.push('outer2'));
      await ioc.run();
      expect(log).to.deep.equal([
        'inner1 outer=false inner=true',
        'outer1 outer=true inner=true',
        'outer2',
        'inner2',
      ]);
    });

    it('does not nest a handler the outer strand posts to itself', async () => {
      const outer = makeStrand(makeStrand(ioc));
      const log: string[] = [];
      outer.post(() => {
        log.push('a:begin');
        outer.post(() => log.push('nested'));
        outer.dispatch(() => log.push('inline'));
        log.push('a:end');
      });
      await ioc.run();
      expect(log).to.deep.equal(['a:begin', 'inline', 'a:end', 'nested']);
    });
  });

  it('a dispatch from a Node callback while run() is active runs inside the strand at once', async () => {
    const strand = makeStrand(ioc);
    const guard = makeWorkGuard(ioc);
    const log: string[] = [];
    const running = ioc.run();
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        strand.dispatch(() => log.push(`inside=${strand.runningInThisThread()}`));
        log.push('after');
        guard.reset();
        resolve();
      }, 1);
    });
    await running;
    expect(log).to.deep.equal(['inside=true', 'after']);
  });
});

describe('net/work-guard', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('keeps run() from resolving until reset', async () => {
    const guard = makeWorkGuard(ioc);
    expect(guard).to.be.instanceOf(WorkGuard);
    expect(guard.ownsWork()).to.equal(true);
    expect(guard.getExecutor()).to.equal(ioc.getExecutor());
    expect(ioc.outstandingWork()).to.equal(1);
    const log: string[] = [];
    setTimeout(() => {
      log.push('timer');
      ioc.getExecutor().post(() => log.push('posted while idle'));
      setTimeout(() => {
        log.push('reset');
        guard.reset();
      }, 5);
    }, 10);
    const count = await ioc.run();
    log.push('run resolved');
    expect(log).to.deep.equal(['timer', 'posted while idle', 'reset', 'run resolved']);
    expect(count).to.equal(1);
    expect(guard.ownsWork()).to.equal(false);
    expect(ioc.outstandingWork()).to.equal(0);
    expect(ioc.stopped()).to.equal(true);
  });

  it('reset twice releases the work once', () => {
    const g1 = makeWorkGuard(ioc);
    const g2 = makeWorkGuard(ioc.getExecutor());
    expect(ioc.outstandingWork()).to.equal(2);
    g1.reset();
    expect(g1.ownsWork()).to.equal(false);
    expect(ioc.outstandingWork()).to.equal(1);
    g1.reset();
    expect(g1.ownsWork()).to.equal(false);
    expect(ioc.outstandingWork()).to.equal(1);
    expect(g2.ownsWork()).to.equal(true);
    g2.reset();
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('counts work on a strand against its context', async () => {
    const strand = makeStrand(ioc);
    const guard = makeWorkGuard(strand);
    expect(guard.getExecutor()).to.equal(strand);
    expect(ioc.outstandingWork()).to.equal(1);
    let resolved = false;
    const running = ioc.run().then(() => {
      resolved = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).to.equal(false);
    guard.reset();
    await running;
    expect(resolved).to.equal(true);
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('without a guard, run() on an idle context resolves at once and stops it', async () => {
    expect(await ioc.run()).to.equal(0);
    expect(ioc.stopped()).to.equal(true);
  });
});
