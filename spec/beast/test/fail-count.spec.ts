// Specs for lib/beast/test/fail-count.ts, fail-loop.ts and error.ts: Beast's countdown semantics
// (sticky failure, n = 0 and n = 1 both fail the first call), the loop driver, and the exhaustive
// fault loop over a TestStream echo exchange (every I/O step fails once, every handler runs once).

import { expect } from 'chai';

import { error as netError, SystemError, type ErrorCode } from '../../../lib/net/error.js';
import { IoContext } from '../../../lib/net/io-context.js';
import type { IoSignature } from '../../../lib/net/stream.js';
import { FailCount, failLoop, TestStream, testCategory, testFailure, error } from '../../../lib/beast/test/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('beast/test/FailCount', () => {
  it('testFailure is an interned code of the beast.test category', () => {
    expect(testFailure).to.equal(testCategory.code(1));
    expect(error.testFailure).to.equal(testFailure);
    expect(testCategory.name).to.equal('beast.test');
    expect(testFailure.message()).to.be.a('string').and.not.equal('');
  });

  it('n = 0 and n = 1 both fail the first call, and every call after it', () => {
    for (const n of [0, 1]) {
      const fc = new FailCount(n);
      expect(fc.fired).to.equal(false);
      expect(fc.fail()).to.equal(testFailure);
      expect(fc.fired).to.equal(true);
      for (let i = 0; i < 5; i++) expect(fc.fail()).to.equal(testFailure);
    }
  });

  it('lets n - 1 calls through, then fails the nth and is sticky', () => {
    const fc = new FailCount(4);
    expect([fc.fail(), fc.fail(), fc.fail()]).to.deep.equal([null, null, null]);
    expect(fc.fired).to.equal(false);
    expect(fc.fail()).to.equal(testFailure);
    expect(fc.fail()).to.equal(testFailure);
    expect(fc.fail()).to.equal(testFailure);
    expect(fc.n).to.equal(4);
  });

  it('reports the error it was given', () => {
    const fc = new FailCount(1, netError.connectionReset);
    expect(fc.errorCode).to.equal(netError.connectionReset);
    expect(fc.fail()).to.equal(netError.connectionReset);
  });

  it('failOrThrow throws a SystemError carrying the code', () => {
    const fc = new FailCount(2);
    expect(() => fc.failOrThrow()).not.to.throw();
    try {
      fc.failOrThrow();
      expect.fail('did not throw');
    } catch (err) {
      expect(err).to.be.instanceOf(SystemError);
      expect((err as SystemError).code).to.equal(testFailure);
    }
  });

  it('rejects a negative or fractional n', () => {
    expect(() => new FailCount(-1)).to.throw(RangeError);
    expect(() => new FailCount(1.5)).to.throw(RangeError);
  });
});

describe('beast/test/failLoop', () => {
  /** A scenario of `steps` checked calls that throws the injected error. */
  const steps = (k: number) => (fc: FailCount): void => {
    for (let i = 0; i < k; i++) {
      const ec = fc.fail();
      if (ec !== null) throw new SystemError(ec);
    }
  };

  it('runs until a run succeeds: k steps take k + 2 runs (n = 0 and 1 fail the same step)', async () => {
    expect(await failLoop(steps(0))).to.equal(1);
    expect(await failLoop(steps(1))).to.equal(3);
    expect(await failLoop(steps(3))).to.equal(5);
  });

  it('makes every step fail exactly once, in order', async () => {
    const failedAt: number[] = [];
    await failLoop((fc) => {
      for (let i = 0; i < 4; i++) {
        if (fc.fail() !== null) {
          failedAt.push(i);
          throw new SystemError(testFailure);
        }
      }
    });
    expect(failedAt).to.deep.equal([0, 0, 1, 2, 3]);
  });

  it('accepts async scenarios', async () => {
    const runs = await failLoop(async (fc) => {
      for (let i = 0; i < 2; i++) {
        await Promise.resolve();
        fc.failOrThrow();
      }
    });
    expect(runs).to.equal(4);
  });

  it('continues after a run that absorbed the failure and returned normally', async () => {
    let absorbed = 0;
    const runs = await failLoop((fc) => {
      for (let i = 0; i < 2; i++) if (fc.fail() !== null) absorbed++;
    });
    expect(runs).to.equal(4);
    expect(absorbed).to.be.greaterThan(0);
  });

  it('rethrows any other error, naming n and keeping the cause', async () => {
    const boom = new Error('boom');
    try {
      await failLoop((fc) => {
        fc.failOrThrow();
        fc.failOrThrow();
        throw boom;
      });
      expect.fail('did not throw');
    } catch (err) {
      expect((err as Error).message).to.contain('FailCount(3)').and.contain('boom');
      expect((err as Error).cause).to.equal(boom);
    }
  });

  it('treats a SystemError with another code as a failure of the loop', async () => {
    try {
      await failLoop(() => {
        throw new SystemError(netError.eof);
      });
      expect.fail('did not throw');
    } catch (err) {
      expect((err as Error).message).to.contain('FailCount(0)');
      expect(((err as Error).cause as SystemError).code).to.equal(netError.eof);
    }
  });

  it('throws when the limit is reached', async () => {
    try {
      await failLoop(steps(10), { limit: 5 });
      expect.fail('did not throw');
    } catch (err) {
      expect((err as Error).message).to.contain('5 runs');
    }
  });
});

describe('beast/test/failLoop over a TestStream echo exchange', () => {
  const message = 'hello, fault injection';

  /**
   * a writes the message in pieces to b; b reads it (small reads) and echoes it back in one
   * write; a reads the echo. Every I/O call consults the shared FailCount. On the first error a
   * handler sees, both streams are closed so nothing waits forever; then every handler must
   * have run exactly once and no work may be left.
   */
  async function echoScenario(fc: FailCount, stats: { steps: number; eofTeardowns: number }): Promise<void> {
    const loop = new IoContext();
    const [a, b] = TestStream.pair(loop, fc, fc);
    a.writeSize(5);
    b.readSize(4);
    const handlers: { calls: number }[] = [];
    let firstError: ErrorCode | null = null;
    const step = <A extends IoSignature>(next: (...args: A) => void) => {
      const rec = { calls: 0 };
      handlers.push(rec);
      return (...args: A): void => {
        rec.calls++;
        const [ec] = args;
        if (ec !== null) {
          firstError ??= ec;
          a.close();
          b.close();
          return;
        }
        next(...args);
      };
    };
    const out = text(message);
    const got = new Uint8Array(out.length);
    const echoed = new Uint8Array(out.length);

    const aWrite = (off: number): void => {
      if (off === out.length) return aRead(0);
      a.asyncWriteSome(out.subarray(off), step((_ec, n) => aWrite(off + n)));
    };
    const bRead = (off: number): void => {
      if (off === got.length) return bWrite(0);
      b.asyncReadSome(got.subarray(off), step((_ec, n) => bRead(off + n)));
    };
    const bWrite = (off: number): void => {
      if (off === got.length) return;
      b.asyncWriteSome(got.subarray(off), step((_ec, n) => bWrite(off + n)));
    };
    const aRead = (off: number): void => {
      if (off === echoed.length) return aTeardown();
      a.asyncReadSome(echoed.subarray(off), step((_ec, n) => aRead(off + n)));
    };
    // Teardown consults the FailCount before and after closing; a failure after the close is
    // reported as eof, which a WebSocket treats as a clean end: the run then returns normally
    // with the FailCount fired, and failLoop goes on to the next n.
    const aTeardown = (): void => {
      const rec = { calls: 0 };
      handlers.push(rec);
      a.asyncTeardown('client', (ec) => {
        rec.calls++;
        if (ec !== null && ec !== netError.eof) firstError ??= ec;
        if (ec === netError.eof) tornDownWithEof = true;
      });
    };
    let tornDownWithEof = false;
    bRead(0);
    aWrite(0);
    await loop.run();

    for (const h of handlers) expect(h.calls, 'each handler exactly once').to.equal(1);
    expect(loop.outstandingWork()).to.equal(0);
    if (firstError !== null) {
      expect(firstError).to.equal(testFailure);
      throw new SystemError(firstError);
    }
    expect(decode(echoed)).to.equal(message);
    stats.steps = a.nread() + a.nwrite() + b.nread() + b.nwrite();
    if (tornDownWithEof) stats.eofTeardowns++;
  }

  it('fails every I/O step once, then completes', async () => {
    const stats = { steps: 0, eofTeardowns: 0 };
    const runs = await failLoop((fc) => echoScenario(fc, stats));
    // 5 writes of a (22 bytes, 5 at a time), 6 reads of b, 1 echo write, 1 read of a.
    expect(stats.steps).to.equal(13);
    expect(runs).to.be.greaterThan(stats.steps);
    // n = 0 and n = 1 fail the same first step; the teardown adds two checks; the last run passes.
    expect(runs).to.equal(stats.steps + 2 + 2);
    expect(stats.eofTeardowns).to.equal(1);
  });
});
