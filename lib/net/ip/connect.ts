/**
 * The free `asyncConnect`: tries a list of endpoints in turn (Asio's range `async_connect`), as a
 * composed operation over any socket with `asyncConnect(endpoint)` and `close()`. It knows
 * nothing of TCP beyond that.
 */

import type { Handler } from '../associators.js';
import { CancellationType } from '../cancellation.js';
import { asyncCompose } from '../compose.js';
import { error, type ErrorCode } from '../error.js';
import type { HasExecutor } from '../executor.js';
import type { AsyncResult, CompletionToken, TokenFor, UsePromise } from '../token.js';
import { Endpoint } from './endpoint.js';

/** The completion signature of the free {@link asyncConnect}: the error and the endpoint connected to. */
export type RangeConnectSignature = [ec: ErrorCode | null, endpoint: Endpoint];

/** What {@link asyncConnect} needs of a socket (a `TcpSocket` has it). */
export interface ConnectableSocket extends HasExecutor {
  asyncConnect(endpoint: Endpoint, handler: Handler<[ec: ErrorCode | null]>): void;
  close(): void;
}

/**
 * Connects `socket` to the first endpoint of `endpoints` that accepts, closing the socket before
 * each attempt.
 *
 * Signature `[ec, endpoint]`: on success the endpoint connected to; otherwise the last attempt's
 * error (`net.error.notFound` for an empty list) and the default endpoint `0.0.0.0:0`.
 * Per-operation cancellation: terminal (forwarded to the attempt in progress; no further
 * endpoint is tried), completing with `operationAborted`.
 */
export function asyncConnect(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  handler: Handler<RangeConnectSignature>,
): void;
export function asyncConnect<T extends CompletionToken = UsePromise>(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  token?: T,
): AsyncResult<T, RangeConnectSignature>;
export function asyncConnect(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  token?: TokenFor<RangeConnectSignature>,
): unknown {
  const list = [...endpoints]; // the caller may change its array while we work through it
  return asyncCompose<RangeConnectSignature, TokenFor<RangeConnectSignature> | undefined>(function* (self) {
    let last: ErrorCode = error.notFound;
    for (const endpoint of list) {
      socket.close();
      const [ec] = yield* self.call<[ErrorCode | null]>((h) => socket.asyncConnect(endpoint, h));
      if (ec === null) return self.complete(null, endpoint);
      last = ec;
      if (ec === error.operationAborted || self.cancelled() !== CancellationType.none) {
        socket.close();
        return self.complete(error.operationAborted, new Endpoint());
      }
    }
    self.complete(last, new Endpoint());
  }, token, socket);
}
