// Beast's doTest for the websocket Stream specs: `doTest` runs a scenario written against a
// handshaken pair under the fail-count loop, and `scenario` registers a spec twice, as it is and
// under the loop, with every pair and recorder of the fixture taking part in the run.

import { expect } from 'chai';
import type { Context } from 'mocha';

import { SystemError } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { makePair, pump, type Ec, type Pair, type PairOptions } from './fixture.js';
import { setRunScope, type RunScope } from './run-scope.js';

// ---- Beast's doTest -----------------------------------------------------------------------------

/** One run of a {@link doTest} scenario: a pair sharing the run's FailCount, and counted handlers. */
export interface TestRun {
  readonly fc: FailCount;
  readonly p: Pair;
  /**
   * A handler for an operation the scenario starts, counted: each must run exactly once per run.
   * An error closes both endpoints, so that nothing waits forever after an injected failure.
   */
  handler<A extends readonly unknown[]>(name: string, then?: (...args: A) => void): (...args: A) => void;
}

/**
 * Beast's `doTest` (test/beast/websocket/test.hpp): runs `scenario` under Beast's fail-count loop
 * (`failLoop`: FailCount n = 0, 1, 2, … shared by both endpoints, until a run never hits the
 * injected failure), with the opening handshake as its first steps. After every run each handler
 * made through {@link TestRun.handler} must have run exactly once, and no work may be left.
 * Returns the number of runs.
 */
export async function doTest(scenario: (run: TestRun) => void, opts: PairOptions = {}): Promise<number> {
  return failLoop((fc) => {
    const p = makePair({ ...opts, fcA: fc, fcB: fc });
    const calls = new Map<string, number>();
    const run: TestRun = {
      fc,
      p,
      handler<A extends readonly unknown[]>(name: string, then?: (...args: A) => void) {
        expect(calls.has(name), `handler name ${name} used twice`).to.equal(false);
        calls.set(name, 0);
        return (...args: A): void => {
          calls.set(name, calls.get(name)! + 1);
          if (args[0] !== null) {
            p.a.close();
            p.b.close();
          }
          then?.(...args);
        };
      },
    };
    p.server.asyncAccept(run.handler<[Ec]>('accept'));
    p.client.asyncHandshake('localhost', '/', run.handler<[Ec]>('handshake'));
    pump(p.ioc);
    if (p.client.isOpen() && p.server.isOpen()) scenario(run);
    pump(p.ioc);
    p.a.close();
    p.b.close();
    pump(p.ioc);
    for (const [name, n] of calls) expect(n, `${name}: calls (FailCount ${fc.fired ? 'fired' : 'not fired'})`).to.equal(1);
    expect(p.ioc.outstandingWork(), 'outstanding work').to.equal(0);
  }, { limit: 5000 });
}

// ---- scenarios: each spec as it is, and under doTest ----------------------------------------------

/**
 * Whether `err` is what a run that hit the injected failure may throw: a failed expectation, or
 * an operation's error (through a Promise token).
 */
function expectedAfterFailure(err: unknown): boolean {
  return err instanceof SystemError || (err instanceof Error && err.name === 'AssertionError');
}

/** Runs what is ready on `ioc` until nothing is; tolerated failed expectations are ignored. */
function drain(ioc: IoContext, tolerate: (err: unknown) => boolean): void {
  for (let i = 0; i < 1000; i++) {
    try {
      if (pump(ioc) === 0) return;
    } catch (err) {
      if (!tolerate(err)) throw err;
    }
  }
}

/** The body of a scenario: a mocha test function (sync or async), without `done`. */
export type ScenarioBody = (this: Context) => void | Promise<void>;

/**
 * Registers `title` twice: as a plain test, and as "title (under doTest)", Beast's doTest around
 * the same body. The second runs `body` with FailCount n = 0, 1, 2, … (`failLoop`) shared by every
 * endpoint the body builds with the fixture ({@link makePair}, {@link openPair}, the raw peers),
 * so every I/O step, from the opening handshake on, fails once in turn, until a run never hits the
 * failure. That last run must pass every expectation of the body (the success path). An earlier
 * run may fail an expectation (or a Promise token may reject): it is then torn down (every
 * endpoint closed, every context run dry) and must show that every handler it handed out ran
 * exactly once, that some handler saw an error, and that no work is left.
 *
 * A spec with no I/O step (nothing to fail) or with a fail-count loop of its own stays a plain
 * `it`: the loop would make one run only.
 */
export function scenario(title: string, body: ScenarioBody): void {
  it(title, body);
  it(`${title} (under doTest)`, async function () {
    this.timeout(120_000);
    const ctx = this;
    const runs = await failLoop(async (fc) => {
      const run: RunScope = { fc, contexts: [], endpoints: [], handlers: [] };
      setRunScope(run);
      let thrown: unknown = null;
      try {
        await body.call(ctx);
      } catch (err) {
        thrown = err;
      } finally {
        setRunScope(null);
      }
      const tolerate = (err: unknown): boolean => fc.fired && expectedAfterFailure(err);
      if (thrown !== null && !tolerate(thrown)) throw thrown as Error;
      for (const e of run.endpoints) e.close();
      for (const ioc of run.contexts) drain(ioc, tolerate);
      const what = `FailCount run ${fc.fired ? 'that hit the failure' : 'without failure'}`;
      run.handlers.forEach((calls, i) => expect(calls.length, `${what}: calls of handler ${i}`).to.equal(run.handlers.filter((c) => c === calls).length));
      // A failed expectation must be explained by an error some handler saw (a rejected Promise
      // token is itself the error; a body of Promise tokens only hands out no handler).
      if (thrown !== null && !(thrown instanceof SystemError) && run.handlers.length > 0) {
        const errors = run.handlers.filter((calls) => calls.some((args) => args[0] !== null && args[0] !== undefined));
        expect(errors.length, `${what}: handlers that saw an error`).to.be.greaterThan(0);
      }
      for (const ioc of run.contexts) expect(ioc.outstandingWork(), `${what}: outstanding work`).to.equal(0);
    }, { limit: 2000 });
    expect(runs, 'runs of the fail-count loop').to.be.greaterThan(1);
  });
}
