/**
 * The teardown of a TLS stream (Beast's `async_teardown` for SSL streams, what a WebSocket stream
 * runs after its closing handshake): shut TLS down, then close. One composed operation over the
 * stream's public operations; it must never leave the connection open, whatever the shutdown gave.
 */

import type { Handler } from '../associators.js';
import { asyncCompose, type ComposedSelf } from '../compose.js';
import { error as netError, type ErrorCode } from '../error.js';
import type { HasExecutor } from '../executor.js';
import type { AsyncResult, CompletionToken } from '../token.js';
import { error } from './error.js';

/** Which end of a WebSocket tears the connection down (Beast's `role_type`). */
export type TeardownRole = 'client' | 'server';

/** What the teardown uses of a TLS stream. */
export interface ShutdownCapable extends HasExecutor {
  asyncShutdown(handler: Handler<[ec: ErrorCode | null]>): void;
  close(): void;
}

/**
 * Shuts `stream` down and closes it. Both roles do the same: each side sends its close_notify and
 * waits for the other's. An end of stream during the shutdown (`eof`, `streamTruncated`: the peer
 * closed without answering) counts as success. Signature `[ec]`. Per-operation cancellation:
 * terminal (forwarded to the shutdown).
 */
export function asyncSslTeardown<T extends CompletionToken | Handler<[ec: ErrorCode | null]> | undefined>(
  stream: ShutdownCapable,
  _role: TeardownRole,
  token: T,
): AsyncResult<T, [ec: ErrorCode | null]> {
  return asyncCompose<[ec: ErrorCode | null], T>((self) => sslTeardownSteps(self, stream), token, stream);
}

/** The steps of {@link asyncSslTeardown} (a generator of the module: see `asyncCompose`). */
function* sslTeardownSteps(self: ComposedSelf<[ec: ErrorCode | null]>, stream: ShutdownCapable) {
  let [ec] = yield* self.call<[ec: ErrorCode | null]>((h) => stream.asyncShutdown(h));
  if (ec === netError.eof || ec === error.streamTruncated) ec = null;
  stream.close();
  self.complete(ec);
}
