/**
 * HandlerWork: the bookkeeping every asynchronous operation does for its completion handler
 * (Asio's `handler_work`, Beast's `async_base`): outstanding work on the I/O executor and on the
 * handler's executor while the operation is in flight, and the completion rules of DESIGN
 * section 4: never inside the initiating call unless an immediate executor is bound, always
 * through the handler's associated executor, work released before the handler runs.
 */

import { getAssociatedExecutor, getAssociatedImmediateExecutor, type Handler } from './associators.js';
import type { Executor } from './executor.js';
import { handlerTracker } from './handler-tracking.js';

export class HandlerWork<A extends readonly unknown[]> {
  /** The handler's associated executor. */
  readonly executor: Executor;
  #handler: Handler<A> | null;

  constructor(
    handler: Handler<A>,
    readonly ioExecutor: Executor,
  ) {
    this.#handler = handler;
    this.executor = getAssociatedExecutor(handler, ioExecutor);
    ioExecutor.onWorkStarted();
    if (this.executor !== ioExecutor) this.executor.onWorkStarted();
    if (handlerTracker !== null) handlerTracker.created(this, handler);
  }

  /** Whether the handler has been submitted. */
  get completed(): boolean {
    return this.#handler === null;
  }

  /**
   * Submits the handler with `args`, exactly once.
   *
   * @param isContinuation - false when the operation completes inside its initiating call: the
   *   handler then goes to its immediate executor if it has one, else is posted. True when the
   *   completion comes later (from I/O or a child operation): the handler is dispatched to its
   *   associated executor, which runs it at once when already inside it.
   */
  complete(isContinuation: boolean, ...args: A): void {
    const handler = this.#handler;
    if (handler === null) throw new Error('HandlerWork: completion handler invoked twice');
    this.#handler = null;
    let call = invoker(handler, args);
    if (handlerTracker !== null) call = handlerTracker.invocation(this, args, call);
    if (isContinuation) {
      this.#release();
      this.executor.dispatch(call);
      return;
    }
    const immediate = getAssociatedImmediateExecutor(handler);
    if (immediate !== undefined) {
      this.#release();
      immediate.dispatch(call);
      return;
    }
    // Queue first, then release: the queued handler is work of its own, so a run() cannot see
    // the count reach zero in between.
    this.executor.post(call);
    this.#release();
  }

  /**
   * Submits the handler with `args` by posting it to its associated executor: for completions
   * caused by a call of the user's (a `cancel()`, a cancellation request), which must not run the
   * handler inside that call.
   */
  post(...args: A): void {
    const handler = this.#handler;
    if (handler === null) throw new Error('HandlerWork: completion handler invoked twice');
    this.#handler = null;
    let call = invoker(handler, args);
    if (handlerTracker !== null) call = handlerTracker.invocation(this, args, call);
    this.executor.post(call);
    this.#release();
  }

  /** Releases the work without calling the handler (the operation was abandoned). */
  abandon(): void {
    if (this.#handler === null) return;
    this.#handler = null;
    if (handlerTracker !== null) handlerTracker.destroyed(this);
    this.#release();
  }

  #release(): void {
    this.ioExecutor.onWorkFinished();
    if (this.executor !== this.ioExecutor) this.executor.onWorkFinished();
  }
}

/**
 * The handler called with `args`, as a function of no arguments for an executor. Two arguments
 * (every I/O completion: an error and a count) are passed without a spread: a call with a spread
 * goes through two builtins, about 170 instructions, twice per message of an echo
 * (bench/server-instructions).
 */
function invoker<A extends readonly unknown[]>(handler: Handler<A>, args: A): () => void {
  if (args.length === 2) {
    const two = handler as unknown as (a: unknown, b: unknown) => void;
    return () => two(args[0], args[1]);
  }
  return () => handler(...args);
}
