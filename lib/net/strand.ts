/**
 * Strand: an executor that runs its handlers one at a time, in FIFO order, on top of another
 * executor (Asio's `strand<Executor>`). No I/O, no tokens.
 */

import { toExecutor, type Executor, type ExecutorLike } from './executor.js';

/**
 * Serialises handlers: never two of them nested, always in the order they were submitted.
 * In single-threaded JavaScript a strand matters for ordering and for
 * {@link Strand.runningInThisThread}, which composed operations use to keep every step of an
 * operation on the user's strand.
 */
export class Strand implements Executor {
  readonly #inner: Executor;
  #queue: Array<() => void> = [];
  #scheduled = false;
  #running = false;

  constructor(inner: ExecutorLike) {
    this.#inner = toExecutor(inner);
  }

  /** The executor the strand runs on. */
  innerExecutor(): Executor {
    return this.#inner;
  }

  post(fn: () => void): void {
    this.#queue.push(fn);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#inner.post(this.#invoke);
    }
  }

  defer(fn: () => void): void {
    this.post(fn);
  }

  /**
   * Runs `fn` inline when called from one of this strand's handlers. Otherwise queues it and, if
   * the strand is idle, dispatches the strand's turn to the inner executor, which may run it at
   * once (a completion from I/O while the context runs needs no extra event-loop turn).
   */
  dispatch(fn: () => void): void {
    if (this.#running) {
      fn();
      return;
    }
    this.#queue.push(fn);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#inner.dispatch(this.#invoke);
    }
  }

  /** True only while one of this strand's handlers is running. */
  runningInThisThread(): boolean {
    return this.#running;
  }

  onWorkStarted(): void {
    this.#inner.onWorkStarted();
  }

  onWorkFinished(): void {
    this.#inner.onWorkFinished();
  }

  // Runs the handlers queued before this turn began; later ones get a turn of their own, so a
  // strand cannot monopolise its context.
  readonly #invoke = (): void => {
    const batch = this.#queue;
    this.#queue = [];
    this.#running = true;
    let i = 0;
    try {
      while (i < batch.length) batch[i++]!();
    } finally {
      this.#running = false;
      if (i < batch.length) this.#queue = batch.slice(i).concat(this.#queue);
      if (this.#queue.length > 0) this.#inner.defer(this.#invoke);
      else this.#scheduled = false;
    }
  };
}

/** Makes a strand over an executor, an `IoContext` or an I/O object's executor. */
export function makeStrand(inner: ExecutorLike): Strand {
  return new Strand(inner);
}
