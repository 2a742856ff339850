/**
 * The error of Beast's test support (`beast::test::error`): the one value a {@link FailCount}
 * injects. Pure data; nothing here performs I/O or knows about streams.
 */

import { ErrorCategory, type ErrorCode } from '../../net/error.js';

/** The category of the test-support errors, named `beast.test`. */
export const testCategory: ErrorCategory = new ErrorCategory('beast.test', (value) =>
  value === 1 ? 'An automatic unit test failure occurred' : `beast.test error ${value}`,
);

/**
 * The simulated failure a {@link FailCount} reports when its countdown is reached (Beast's
 * `test::error::test_failure`). Interned: compare with `===`.
 */
export const testFailure: ErrorCode = testCategory.code(1);

/** The test-support error values, as a namespace object (`test.error.testFailure`). */
export const error = Object.freeze({ testFailure });
