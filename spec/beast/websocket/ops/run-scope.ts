// The doTest run in progress (do-test.ts), if any: the fixture's pairs take its FailCount and
// register their contexts and endpoints, and its recorders register each handler they hand out,
// so that the run can tear everything down and count the calls. Nothing here does I/O.

import type { IoContext } from '../../../../lib/net/io-context.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import type { TestStream } from '../../../../lib/beast/test/stream.js';

/** What one doTest run of a scenario built: its FailCount, contexts, endpoints, handlers. */
export interface RunScope {
  readonly fc: FailCount;
  readonly contexts: IoContext[];
  readonly endpoints: TestStream[];
  /** The calls of each handler handed out (a recorder's `h` read once per operation). */
  readonly handlers: ReadonlyArray<readonly unknown[]>[];
}

let current: RunScope | null = null;

/** The run in progress, or null outside a doTest run. */
export function runScope(): RunScope | null {
  return current;
}

/** Starts (`run`) or ends (`null`) a run. */
export function setRunScope(run: RunScope | null): void {
  current = run;
}
