/**
 * Stub operations for testing tokens and executors: one that completes inside its initiating
 * call and one that completes later, from a simulated I/O callback, with terminal cancellation.
 * Plus an executor that records whether code runs through it.
 */

import {
  asyncInitiate,
  CancellationType,
  error,
  getAssociatedCancellationSlot,
  type AsyncResult,
  type TokenCheck,
  type CompletionToken,
  type ErrorCode,
  type Executor,
  type Handler,
  type UsePromise,
} from '../../lib/net/index.js';
import { HandlerWork } from '../../lib/net/handler-work.js';

export type StubSignature = [ec: ErrorCode | null, value: number];

/** Completes inside the initiating call with `[result, value]` (so the rules must defer it). */
export function asyncStubNow(ex: Executor, value: number, handler: Handler<StubSignature>): void;
export function asyncStubNow<T extends CompletionToken = UsePromise>(ex: Executor, value: number, token?: T & TokenCheck<T, StubSignature>): AsyncResult<T, StubSignature>;
export function asyncStubNow(ex: Executor, value: number, token?: CompletionToken | Handler<StubSignature>): unknown {
  return asyncInitiate<StubSignature>((h) => new HandlerWork(h, ex).complete(false, null, value), token, ex);
}

/**
 * Completes after `delayMs` (from a Node timer callback, like I/O) with `[null, value]`, or with
 * `[operationAborted, 0]` when cancelled with any type.
 */
export function asyncStubLater(ex: Executor, value: number, delayMs: number, handler: Handler<StubSignature>): void;
export function asyncStubLater<T extends CompletionToken = UsePromise>(
  ex: Executor, value: number, delayMs: number, token?: T & TokenCheck<T, StubSignature>): AsyncResult<T, StubSignature>;
export function asyncStubLater(ex: Executor, value: number, delayMs: number, token?: CompletionToken | Handler<StubSignature>): unknown {
  return asyncInitiate<StubSignature>((h) => {
    const work = new HandlerWork(h, ex);
    const slot = getAssociatedCancellationSlot(h);
    const onCancel = (type: CancellationType): void => {
      if ((type & CancellationType.all) === 0) return;
      clearTimeout(timer);
      slot.release(onCancel);
      work.post(error.operationAborted, 0);
    };
    slot.assign(onCancel);
    const timer = setTimeout(() => {
      slot.release(onCancel);
      work.complete(true, null, value);
    }, delayMs);
  }, token, ex);
}

/** Delegates to another executor and records whether the current code runs through it. */
export class RecordingExecutor implements Executor {
  #depth = 0;
  ran = 0;
  constructor(readonly inner: Executor) {}
  #wrap(fn: () => void): () => void {
    return () => {
      this.#depth++;
      this.ran++;
      try { fn(); } finally { this.#depth--; }
    };
  }
  post(fn: () => void): void { this.inner.post(this.#wrap(fn)); }
  defer(fn: () => void): void { this.inner.defer(this.#wrap(fn)); }
  dispatch(fn: () => void): void {
    if (this.#depth > 0) fn();
    else this.inner.dispatch(this.#wrap(fn));
  }
  runningInThisThread(): boolean { return this.#depth > 0; }
  onWorkStarted(): void { this.inner.onWorkStarted(); }
  onWorkFinished(): void { this.inner.onWorkFinished(); }
}
