/**
 * cancelAfter: a completion token adapter that cancels an operation when a timeout expires
 * (Asio's `cancel_after`). The timer runs beside the operation on its I/O executor; the handler
 * runs only after both have finished, so no timer outlives the operation.
 */

import { associationsOf, getAssociatedExecutor, wrapHandler, type Handler } from './associators.js';
import { CancellationSignal, CancellationType } from './cancellation.js';
import type { ErrorCode } from './error.js';
import { bindExecutor } from './binders.js';
import { SteadyTimer, steadyNow } from './timer.js';
import { makeBoundToken, type BoundToken, type CompletionToken, type UsePromise } from './token.js';

/**
 * Cancels the operation with `type` (terminal by default) if it has not completed within `ms`
 * milliseconds. The operation then completes as its cancellation rules say (usually with
 * `net.error.operationAborted`). A slot already bound to the inner token keeps working.
 *
 * ```ts
 * await socket.asyncReadSome(buf, cancelAfter(5000));
 * ```
 */
export function cancelAfter(ms: number): BoundToken<UsePromise>;
export function cancelAfter<T extends CompletionToken | ((...args: never[]) => void)>(ms: number, token: T, type?: CancellationType): BoundToken<T>;
export function cancelAfter(ms: number, token?: unknown, type: CancellationType = CancellationType.terminal): BoundToken<unknown> {
  return cancelWhen(() => steadyNow() + ms, token, type);
}

/**
 * @internal The token of {@link cancelAfter} and `cancelAt`: cancels the operation with `type` at
 * the time `expiry()` returns when the operation starts (on the {@link steadyNow} clock).
 */
export function cancelWhen(expiry: () => number, token: unknown, type: CancellationType): BoundToken<unknown> {
  return makeBoundToken(token, (h, ioExecutor) => {
    const relay = new CancellationSignal();
    const outer = associationsOf(h).cancellationSlot;
    const forward = (t: CancellationType): void => relay.emit(t);
    if (outer !== undefined) outer.assign(forward);

    let pending = 2;
    let result: readonly unknown[] = [];
    const finish = (): void => {
      if (--pending > 0) return;
      outer?.release(forward);
      (h as Handler<readonly unknown[]>)(...result);
    };
    const timer = new SteadyTimer(ioExecutor);
    timer.expiresAt(expiry());
    // Both halves finish on the handler's executor, so they are serialised with each other.
    timer.asyncWait(
      bindExecutor(getAssociatedExecutor(h, ioExecutor), (ec: ErrorCode | null) => {
        if (ec === null) relay.emit(type);
        finish();
      }),
    );
    const handler = wrapHandler(
      h,
      (...args: readonly unknown[]) => {
        result = args;
        timer.cancel();
        finish();
      },
      { cancellationSlot: relay.slot() },
    );
    return { handler };
  });
}
