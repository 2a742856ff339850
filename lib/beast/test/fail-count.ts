/**
 * FailCount: Beast's `test::fail_count`, a countdown to a simulated failure shared by the I/O
 * objects of one test run. It only counts and answers; it must never perform I/O, schedule
 * anything, or reset itself (one FailCount serves exactly one run of a scenario).
 */

import { SystemError, type ErrorCode } from '../../net/error.js';
import { testFailure } from './error.js';

/**
 * A countdown to a simulated failure. Every read, write and teardown of a {@link TestStream}
 * built with it calls {@link FailCount.fail}; the call that brings the count to `n` fails, and so
 * does every call after it (the failure is sticky, as in Beast: an object that failed once keeps
 * failing, so a scenario cannot step around the injected fault).
 *
 * The count advances only while it is below `n`; the failure condition is "count equals n".
 * Hence `n = 0` fails the very first call without advancing, `n = 1` also fails the first call
 * (the count goes 0 → 1), `n = 2` lets one call through and fails the second, and so on.
 * Starting a fail loop at 0, as Beast does, therefore runs the "fail first call" case twice;
 * that is harmless and keeps Beast's numbering.
 *
 * ```ts
 * const fc = new FailCount(2);
 * fc.fail(); // null: the first call succeeds
 * fc.fail(); // testFailure
 * fc.fail(); // testFailure again (sticky)
 * ```
 */
export class FailCount {
  readonly #n: number;
  readonly #ec: ErrorCode;
  #i = 0;
  #fired = false;

  /**
   * @param n - the 0-based index of the call that fails, and after which every call fails.
   * @param ec - the error reported; Beast's `testFailure` by default.
   */
  constructor(n: number, ec: ErrorCode = testFailure) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`FailCount: n must be a non-negative integer, got ${n}`);
    this.#n = n;
    this.#ec = ec;
  }

  /**
   * Counts one call. Returns the configured error when the countdown is reached (now or
   * earlier), else `null` (Beast's `fail(error_code&)`, which sets the code and returns true).
   */
  fail(): ErrorCode | null {
    if (this.#i < this.#n) this.#i++;
    if (this.#i !== this.#n) return null;
    this.#fired = true;
    return this.#ec;
  }

  /**
   * Counts one call and throws a {@link SystemError} carrying the configured error when the
   * countdown is reached (Beast's `fail()` overload without an error code): for code that
   * reports failures by exception rather than by completion value.
   */
  failOrThrow(): void {
    const ec = this.fail();
    if (ec !== null) throw new SystemError(ec);
  }

  /** The index of the failing call, as given to the constructor. */
  get n(): number {
    return this.#n;
  }

  /** The error this counter injects. */
  get errorCode(): ErrorCode {
    return this.#ec;
  }

  /**
   * Whether a call has failed (a tsbeast addition): lets {@link failLoop} tell a run that
   * absorbed the injected failure from a run that never reached it.
   */
  get fired(): boolean {
    return this.#fired;
  }
}
