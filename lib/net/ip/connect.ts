/**
 * The free `asyncConnect`: tries a list of endpoints in turn (Asio's range `async_connect`), as a
 * composed operation over any socket with `asyncConnect(endpoint)` and `close()`. It knows
 * nothing of TCP beyond that.
 */

import type { Handler } from '../associators.js';
import { CancellationType } from '../cancellation.js';
import { asyncCompose, type ComposedSelf } from '../compose.js';
import { error, type ErrorCode } from '../error.js';
import type { HasExecutor } from '../executor.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../token.js';
import { Endpoint } from './endpoint.js';

/** The completion signature of the free {@link asyncConnect}: the error and the endpoint connected to. */
export type RangeConnectSignature = [ec: ErrorCode | null, endpoint: Endpoint];

/** What {@link asyncConnect} needs of a socket (a `TcpSocket` has it). */
export interface ConnectableSocket extends HasExecutor {
  asyncConnect(endpoint: Endpoint, handler: Handler<[ec: ErrorCode | null]>): void;
  close(): void;
}

/**
 * Connects `socket` to the first endpoint of `endpoints` that accepts, trying them in order and
 * closing the socket before each attempt (Asio's range `async_connect`).
 *
 * Completes with `[ec, endpoint]`: `null` and the endpoint connected to; otherwise the last
 * attempt's error (`net.error.notFound` for an empty list) and the default endpoint
 * `0.0.0.0:0`; `operationAborted` as soon as an attempt was aborted (by a cancellation, or the
 * socket's `cancel()` or `close()`), with no further endpoint tried and the socket closed.
 *
 * @param socket The socket to connect: a {@link TcpSocket}, or anything with `asyncConnect` and
 *   `close`.
 * @param endpoints The endpoints to try, in order (a resolver's results). The list is copied at
 *   once.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, endpoint: Endpoint)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, forwarded to the attempt in progress: the socket is
 * closed, no further endpoint is tried, and the operation completes with `operationAborted`. A
 * request that arrives while a failed attempt's completion is on its way is honoured before the
 * next attempt. Asio's range `async_connect` also supports `partial` when the socket's connect
 * does; the socket's connect here supports `terminal` only, and so does this.
 */
export function asyncConnect(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  handler: Handler<RangeConnectSignature>,
): void;
/**
 * {@inheritDoc asyncConnect:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, endpoint)`.
 */
export function asyncConnect<T extends CompletionToken = UsePromise>(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  token?: T & TokenCheck<T, RangeConnectSignature>,
): AsyncResult<T, RangeConnectSignature>;
export function asyncConnect(
  socket: ConnectableSocket,
  endpoints: readonly Endpoint[],
  token?: TokenFor<RangeConnectSignature>,
): unknown {
  const list = [...endpoints]; // the caller may change its array while we work through it
  return asyncCompose<RangeConnectSignature, TokenFor<RangeConnectSignature> | undefined>((self) => connectSteps(self, socket, list), token, socket);
}

/** The steps of the range {@link asyncConnect} (a generator of the module: see `asyncCompose`). */
function* connectSteps(self: ComposedSelf<RangeConnectSignature>, socket: ConnectableSocket, list: readonly Endpoint[]) {
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
}
