/**
 * failLoop: Beast's exhaustive fault-injection loop (`doFailLoop` in its WebSocket test fixture).
 * It only drives a scenario the caller writes; it must never create I/O objects, contexts or
 * timers of its own, so every resource a run uses is the scenario's to release.
 */

import { SystemError } from '../../net/error.js';
import { FailCount } from './fail-count.js';

/** Options of {@link failLoop}. */
export interface FailLoopOptions {
  /** Runs allowed before the loop gives up and throws; 1000 by default (Beast uses 200). */
  readonly limit?: number;
}

/** One run of a fault-injection scenario: build fresh objects with `fc`, run them, assert. */
export type FailScenario = (fc: FailCount) => Promise<void> | void;

/**
 * Runs `scenario` with `new FailCount(n)` for n = 0, 1, 2, … until a run completes without the
 * injected failure firing, so that every I/O step of the scenario is made to fail once.
 *
 * A run ends the loop when it returns (or its promise resolves) and its FailCount never fired.
 * A run continues the loop when it throws a {@link SystemError} whose code is the FailCount's
 * error (`testFailure`), or returns after the FailCount fired (the scenario observed the failure
 * and handled it, e.g. a teardown that maps a late failure to `eof`). Anything else thrown fails
 * the loop: it is rethrown wrapped in an Error naming `n`, with the original as `cause`.
 *
 * How to write a scenario, so that each run is independent and leaves nothing behind:
 * - build a fresh `IoContext` and fresh streams constructed with `fc` inside the scenario;
 * - count every handler's calls and make each failed step close the streams, so that a read
 *   still waiting on the peer is aborted instead of holding work forever;
 * - run the context (`ioc.poll()` or `await ioc.run()`), then assert that each handler ran
 *   exactly once and `ioc.outstandingWork() === 0`;
 * - finally `throw new SystemError(ec)` for the first error a handler saw, so the loop sees
 *   `testFailure` and moves on (or assert on the results when no handler saw an error).
 *
 * ```ts
 * const runs = await failLoop(async (fc) => {
 *   const ioc = new IoContext();
 *   const [a, b] = TestStream.pair(ioc, fc);
 *   // … start operations whose handlers record their ec and close a and b on error …
 *   await ioc.run();
 *   if (firstError !== null) throw new SystemError(firstError);
 * });
 * ```
 *
 * @returns the number of runs made, the last being the successful one.
 * @throws when a run fails with another error, or when `limit` runs all hit the failure.
 */
export async function failLoop(scenario: FailScenario, options: FailLoopOptions = {}): Promise<number> {
  const limit = options.limit ?? 1000;
  for (let n = 0; n < limit; n++) {
    const fc = new FailCount(n);
    try {
      await scenario(fc);
    } catch (err) {
      if (err instanceof SystemError && err.code === fc.errorCode) continue;
      const what = err instanceof Error ? err.message : String(err);
      throw new Error(`failLoop: the run with FailCount(${n}) failed: ${what}`, { cause: err });
    }
    if (!fc.fired) return n + 1;
  }
  throw new Error(`failLoop: the scenario still hit the injected failure after ${limit} runs`);
}
