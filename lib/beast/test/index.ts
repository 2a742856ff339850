/**
 * `tsbeast/test`: Beast's test support for users' own tests: the in-memory {@link TestStream},
 * the {@link FailCount} fault injector, the {@link failLoop} driver and the `testFailure` error.
 * Nothing here is used by the library itself at run time.
 */

export { testCategory, testFailure, error } from './error.js';
export { FailCount } from './fail-count.js';
export { failLoop, type FailLoopOptions, type FailScenario } from './fail-loop.js';
export { TestStream, connect, type TeardownRole, type TeardownSignature, type TestInput } from './stream.js';
