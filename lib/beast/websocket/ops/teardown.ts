/**
 * Teardown (Beast's `async_teardown`): how the connection under a WebSocket is shut down once the
 * closing handshake is done. A next layer may provide its own `asyncTeardown(role, handler)` (the
 * test stream does); otherwise the TCP behaviour applies: a server half-closes its sending side
 * first and drains until the client's EOF, a client drains until the server's EOF and then
 * half-closes; then the connection is closed. End of stream while draining is success.
 */

import type { Handler } from '../../../net/associators.js';
import { asyncCompose, type ComposedSelf } from '../../../net/compose.js';
import { error as netError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { Role } from '../frame.js';

/** The completion signature of a teardown. */
export type TeardownSignature = [ec: ErrorCode | null];

/** What a next layer may offer for teardown. */
export interface TeardownHooks {
  /** A custom teardown (the role tells which side closes first). */
  asyncTeardown?(role: Role, handler: Handler<TeardownSignature>): void;
  /** Half-closes: `shutdown(1)` is Asio's `shutdown_send`. */
  shutdown?(what: 1): void;
  close?(): void;
}

const scratch = new Uint8Array(2048);

/** Tears down `next` for `role`; the handler gets `null` on a clean shutdown. */
export function asyncTeardown(role: Role, next: AsyncStream & TeardownHooks, handler: Handler<TeardownSignature>): void {
  if (typeof next.asyncTeardown === 'function') {
    next.asyncTeardown(role, handler);
    return;
  }
  asyncCompose<TeardownSignature, Handler<TeardownSignature>>((self) => tcpTeardownSteps(self, role, next), handler, next);
}

/** The TCP teardown's steps (a generator of the module: see `asyncCompose`). */
function* tcpTeardownSteps(self: ComposedSelf<TeardownSignature>, role: Role, next: AsyncStream & TeardownHooks) {
  try {
    if (role === 'server') next.shutdown?.(1);
  } catch {
    // Already shut or not connected: draining below reports what matters.
  }
  // Drain until the peer's EOF; the bytes are of no interest any more.
  let ec: ErrorCode | null = null;
  for (;;) {
    const [e, n] = yield* self.call<IoSignature>((h) => next.asyncReadSome(scratch, h));
    if (e !== null) {
      ec = e === netError.eof ? null : e;
      break;
    }
    if (n === 0) break;
  }
  if (ec === null && role === 'client') {
    try {
      next.shutdown?.(1);
    } catch {
      // The peer may already have closed completely.
    }
  }
  next.close?.();
  self.complete(ec);
}
