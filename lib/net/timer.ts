/**
 * SteadyTimer: Asio's `steady_timer` over one Node timer per armed timer. Time is measured in
 * milliseconds on `performance.now()`'s monotonic clock. Waits complete with `null` at expiry
 * or `net.error.operationAborted` when cancelled; after the last wait completes no Node timer is
 * left behind.
 */

import type { Handler } from './associators.js';
import { error, type ErrorCode } from './error.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from './token.js';
import { trackOperations } from './handler-tracking.js';
import { addWaiter, finishWaiter, type Waiter } from './waiter.js';

/** The completion signature of {@link SteadyTimer.asyncWait}. */
export type WaitSignature = [ec: ErrorCode | null];

/** The current time of the steady clock, in milliseconds. */
export function steadyNow(): number {
  return performance.now();
}

const aborted: WaitSignature = [error.operationAborted];

/**
 * A timer that waits until its expiry time. Setting the expiry cancels pending waits; waits on an
 * expired timer complete at once (posted). Per-operation cancellation of a wait: terminal,
 * partial and total (a cancelled wait has no side effect).
 */
export class SteadyTimer {
  readonly #executor: Executor;
  #expiry = 0;
  readonly #waiters: Waiter<WaitSignature>[] = [];
  #nodeTimer: NodeJS.Timeout | null = null;
  /** What a cancelled wait runs, made at the first wait: the Node timer goes with the last one. */
  #onRemoved: (() => void) | null = null;

  constructor(executor: ExecutorLike, expiresAfterMs?: number) {
    this.#executor = toExecutor(executor);
    if (expiresAfterMs !== undefined) this.#expiry = steadyNow() + expiresAfterMs;
  }

  /** The timer's I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** The expiry time on the {@link steadyNow} clock. */
  expiry(): number {
    return this.#expiry;
  }

  /**
   * Sets the expiry to an absolute time, cancelling pending waits.
   * @returns the number of waits cancelled (0 when they had already completed or been queued).
   */
  expiresAt(time: number): number {
    const n = this.cancel();
    this.#expiry = time;
    return n;
  }

  /** Sets the expiry relative to now, cancelling pending waits; returns the number cancelled. */
  expiresAfter(ms: number): number {
    return this.expiresAt(steadyNow() + ms);
  }

  /** Completes every pending wait with `operationAborted`; returns how many. Expiry unchanged. */
  cancel(): number {
    if (this.#waiters.length === 0) return 0;
    const waiters = this.#waiters.splice(0);
    this.#disarm();
    for (const w of waiters) finishWaiter(w, 'post', ...aborted);
    return waiters.length;
  }

  /** Completes the oldest pending wait with `operationAborted`; returns 0 or 1. */
  cancelOne(): number {
    const w = this.#waiters.shift();
    if (w === undefined) return 0;
    if (this.#waiters.length === 0) this.#disarm();
    finishWaiter(w, 'post', ...aborted);
    return 1;
  }

  /**
   * Waits for the timer to expire (Asio's `basic_waitable_timer::async_wait`).
   *
   * Completes with `[ec]`: `null` at expiry (without waiting when the expiry has passed already);
   * `net.error.operationAborted` after {@link SteadyTimer.cancel}, {@link SteadyTimer.cancelOne},
   * a change of the expiry ({@link SteadyTimer.expiresAt}, {@link SteadyTimer.expiresAfter}) or a
   * cancellation. Several waits may be pending on one timer; they complete together.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, as Asio's does: the wait
   * completes with `operationAborted`, the timer keeps its expiry and its other waits, and the
   * Node timer is released when no wait is left.
   */
  asyncWait(handler: Handler<WaitSignature>): void;
  /**
   * {@inheritDoc SteadyTimer.asyncWait:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncWait<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, WaitSignature>): AsyncResult<T, WaitSignature>;
  asyncWait(token?: CompletionToken | Handler<WaitSignature>): unknown {
    return asyncInitiate<WaitSignature>((h) => this.#initiateWait(h), token, this.#executor);
  }

  #initiateWait(handler: Handler<WaitSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    if (this.#expiry <= steadyNow()) {
      work.complete(false, null);
      return;
    }
    addWaiter(this.#waiters, work, handler, aborted, (this.#onRemoved ??= () => {
      if (this.#waiters.length === 0) this.#disarm();
    }));
    this.#arm();
  }

  #arm(): void {
    if (this.#nodeTimer !== null) return;
    const delay = Math.max(0, Math.ceil(this.#expiry - steadyNow()));
    this.#nodeTimer = setTimeout(this.#onExpired, delay);
  }

  #disarm(): void {
    if (this.#nodeTimer === null) return;
    clearTimeout(this.#nodeTimer);
    this.#nodeTimer = null;
  }

  readonly #onExpired = (): void => {
    this.#nodeTimer = null;
    // Node's millisecond timers may fire a fraction early against the monotonic clock.
    if (steadyNow() < this.#expiry) return this.#arm();
    for (const w of this.#waiters.splice(0)) finishWaiter(w, true, null);
  };
}

// Handler tracking names this class's operations `timer@<id>.<method>` (nothing while it is off).
trackOperations(SteadyTimer, 'timer');
