/**
 * cancelAt: a completion token adapter that cancels an operation at an absolute time (Asio's
 * `cancel_at`), the sibling of `cancelAfter`. Same timer beside the operation, same rule: the
 * handler runs only after both have finished, so no timer outlives the operation.
 */

import { CancellationType } from './cancellation.js';
import { cancelWhen } from './cancel-after.js';
import type { BoundToken, CompletionToken, UsePromise } from './token.js';

/**
 * Cancels the operation with `type` (terminal by default) if it has not completed by `time`, a
 * time on the steady clock (`steadyNow()`, in milliseconds). A time already past cancels the
 * operation as soon as it has started. A slot already bound to the inner token keeps working.
 *
 * ```ts
 * const deadline = steadyNow() + 5000;
 * await ws.asyncRead(buf, cancelAt(deadline));
 * await ws.asyncWrite(reply, cancelAt(deadline));   // the same deadline for both
 * ```
 */
export function cancelAt(time: number): BoundToken<UsePromise>;
export function cancelAt<T extends CompletionToken | ((...args: never[]) => void)>(time: number, token: T, type?: CancellationType): BoundToken<T>;
export function cancelAt(time: number, token?: unknown, type: CancellationType = CancellationType.terminal): BoundToken<unknown> {
  return cancelWhen(() => time, token, type);
}
