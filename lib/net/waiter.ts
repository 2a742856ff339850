/**
 * The waits pending on a SteadyTimer or a SignalSet: a list of handlers, each cancellable on its
 * own (Asio's per-operation cancellation of `async_wait`), all completed together when the event
 * comes. Shared by both, which differ only in what they release when nothing waits any more. No
 * I/O here.
 */

import { getAssociatedCancellationSlot, type Handler } from './associators.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from './cancellation.js';
import type { HandlerWork } from './handler-work.js';

/** A pending wait: its handler's work and the cancellation it listens to. */
export interface Waiter<A extends readonly unknown[]> {
  readonly work: HandlerWork<A>;
  readonly slot: CancellationSlot;
  readonly onCancel: CancellationHandler;
}

/**
 * Adds a wait for `work` (whose handler is `handler`) at the end of `waiters`. A cancellation
 * request of any type takes it out of the list, if it is still there; then `removed()` runs (the
 * owner releases what no wait needs) and the wait completes with `aborted`, posted.
 */
export function addWaiter<A extends readonly unknown[]>(
  waiters: Waiter<A>[],
  work: HandlerWork<A>,
  handler: Handler<A>,
  aborted: A,
  removed: () => void,
): void {
  const slot = getAssociatedCancellationSlot(handler);
  const waiter: Waiter<A> = {
    work,
    slot,
    onCancel: (type) => {
      if ((type & CancellationType.all) === 0) return;
      const i = waiters.indexOf(waiter);
      if (i < 0) return;
      waiters.splice(i, 1);
      removed();
      finishWaiter(waiter, 'post', ...aborted);
    },
  };
  if (slot.isConnected()) slot.assign(waiter.onCancel);
  waiters.push(waiter);
}

/** Releases `w`'s slot and submits its completion: from the event (`true`) or posted. */
export function finishWaiter<A extends readonly unknown[]>(w: Waiter<A>, how: true | 'post', ...args: A): void {
  w.slot.release(w.onCancel);
  if (how === 'post') w.work.post(...args);
  else w.work.complete(true, ...args);
}
