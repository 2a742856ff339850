/**
 * `consign`: a completion token adapter that keeps values alive until the handler runs (Asio's
 * `consign`). The signature is unchanged. In Asio it keeps a shared object (a timer, a buffer)
 * alive for an operation's lifetime; here the garbage collector already keeps alive what a
 * closure references, so `consign` says in the code what the operation owns, and holds it
 * strongly even when nothing else does (an object with a `FinalizationRegistry` cleanup, a
 * `WeakRef` target, a resource freed by `using`).
 */

import { wrapHandler } from './associators.js';
import { makeBoundToken, type BoundToken, type TokenFor } from './token.js';

/**
 * Passes the token through unchanged, holding `values` until the operation's handler has been
 * invoked (or dropped); then they are released with the handler.
 *
 * ```ts
 * const timer = new SteadyTimer(ioc, 100);
 * socket.asyncReadSome(buf, consign(handler, timer));
 * ```
 */
export function consign<T extends TokenFor<never>>(token: T, ...values: readonly unknown[]): BoundToken<T> {
  return makeBoundToken(token, (h) => ({
    handler: wrapHandler(h, (...args: readonly unknown[]) => {
      held(values);
      h(...args);
    }),
  }));
}

// Reading the values from the handler is what keeps them reachable until it runs.
function held(values: readonly unknown[]): void {
  void values;
}
