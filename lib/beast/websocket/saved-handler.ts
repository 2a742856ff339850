/**
 * SavedHandler (Beast's `saved_handler`): the slot where an operation parks while it waits for a
 * soft mutex. Waking it resumes the operation synchronously, so the lock can be handed over with
 * no moment in which it looks free. While parked, the operation can be cancelled with the types
 * given at `emplace`; it then completes with `operationAborted` through its own executor.
 */

import { getAssociatedCancellationSlot, getAssociatedExecutor, type Handler } from '../../net/associators.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../../net/cancellation.js';
import { error, type ErrorCode } from '../../net/error.js';
import type { Executor } from '../../net/executor.js';

export type ParkSignature = [ec: ErrorCode | null];

export class SavedHandler {
  #handler: Handler<ParkSignature> | null = null;
  #slot: CancellationSlot | null = null;
  #onCancel: CancellationHandler | null = null;

  constructor(private readonly executor: Executor) {}

  /** Whether an operation is parked here. */
  hasValue(): boolean {
    return this.#handler !== null;
  }

  /** Parks `handler`; a cancellation request of a type in `allowed` completes it with `operationAborted`. */
  emplace(handler: Handler<ParkSignature>, allowed: CancellationType = CancellationType.terminal): void {
    if (this.#handler !== null) throw new Error('SavedHandler: already holds an operation');
    this.#handler = handler;
    const slot = getAssociatedCancellationSlot(handler);
    if (!slot.isConnected()) return;
    const onCancel = (type: CancellationType): void => {
      if ((type & allowed) === 0) return;
      const h = this.#take();
      if (h !== null) getAssociatedExecutor(h, this.executor).post(() => h(error.operationAborted));
    };
    this.#slot = slot;
    this.#onCancel = onCancel;
    slot.assign(onCancel);
  }

  /** Resumes the parked operation, synchronously; returns whether there was one. */
  maybeInvoke(): boolean {
    const h = this.#take();
    if (h === null) return false;
    h(null);
    return true;
  }

  #take(): Handler<ParkSignature> | null {
    const h = this.#handler;
    if (h === null) return null;
    this.#handler = null;
    if (this.#slot !== null) this.#slot.release(this.#onCancel!);
    this.#slot = null;
    this.#onCancel = null;
    return h;
  }
}
