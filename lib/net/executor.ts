/**
 * The executor concept: where and how a function runs. Executors decide ordering and
 * re-entrancy; they know nothing of sockets, tokens or promises.
 *
 * The free `post` / `dispatch` / `defer` functions that take completion tokens live in
 * `post.ts`, so this module stays free of the token machinery.
 */

/**
 * Something that runs functions: an {@link IoContext}'s executor, a {@link Strand}, or
 * {@link inlineExecutor}. Executors compare by identity.
 */
export interface Executor {
  /** Queue `fn`; it never runs inside this call (Asio's `post`: a new, independent piece of work). */
  post(fn: () => void): void;
  /** As {@link Executor.post}, hinting that `fn` continues the caller (Asio's `defer`). */
  defer(fn: () => void): void;
  /** Run `fn` now if the caller is already running inside this executor, otherwise queue it. */
  dispatch(fn: () => void): void;
  /** True when the current call stack is running inside this executor. */
  runningInThisThread(): boolean;
  /** Counts one more piece of outstanding work (keeps `IoContext.run()` from finishing). */
  onWorkStarted(): void;
  /** Counts one piece of outstanding work as finished. */
  onWorkFinished(): void;
}

/**
 * Something an executor can be obtained from: an execution context or an I/O object
 * (`ioc`, a socket, a stream). Functions in this library accept either form.
 */
export interface HasExecutor {
  getExecutor(): Executor;
}

/** An executor, or an object that provides one. */
export type ExecutorLike = Executor | HasExecutor;

/** The executor of `x`, whether it is one or provides one. */
export function toExecutor(x: ExecutorLike): Executor {
  return 'getExecutor' in x ? x.getExecutor() : x;
}

/**
 * An executor that runs functions in the caller (Asio's `inline_executor`). Valid as a handler's
 * associated or immediate executor, to opt in to synchronous completion; it tracks no work.
 * Its `post` and `defer` still never run inside the call: they queue a microtask.
 */
export const inlineExecutor: Executor = Object.freeze({
  post(fn: () => void): void { queueMicrotask(fn); },
  defer(fn: () => void): void { queueMicrotask(fn); },
  dispatch(fn: () => void): void { fn(); },
  runningInThisThread(): boolean { return true; },
  onWorkStarted(): void {},
  onWorkFinished(): void {},
});
