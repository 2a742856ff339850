/**
 * WorkGuard: holds one unit of outstanding work on an executor so that `IoContext.run()` keeps
 * going while the program waits for something the context cannot see (Asio's
 * `executor_work_guard`).
 */

import { toExecutor, type Executor, type ExecutorLike } from './executor.js';

/** Owns one unit of work on its executor until {@link WorkGuard.reset}. */
export class WorkGuard {
  readonly #executor: Executor;
  #owns = true;

  constructor(executor: ExecutorLike) {
    this.#executor = toExecutor(executor);
    this.#executor.onWorkStarted();
  }

  /** The executor whose work is held. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** Whether the guard still holds its work. */
  ownsWork(): boolean {
    return this.#owns;
  }

  /** Releases the work (once; later calls do nothing). */
  reset(): void {
    if (!this.#owns) return;
    this.#owns = false;
    this.#executor.onWorkFinished();
  }
}

/** Holds work on an executor, an `IoContext` or an I/O object's executor. */
export function makeWorkGuard(executor: ExecutorLike): WorkGuard {
  return new WorkGuard(executor);
}
