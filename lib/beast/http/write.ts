/**
 * Writing HTTP messages to a stream (Beast's `http::async_write`): the serializer's buffers are
 * written with as many `asyncWriteSome` calls as it takes. Composed with `asyncCompose` against
 * `AsyncWriteStream` only; no serialization here beyond driving the serializer.
 */

import type { Handler } from '../../net/associators.js';
import { CancellationType } from '../../net/cancellation.js';
import { asyncCompose, type ComposedSelf } from '../../net/compose.js';
import { error as netError } from '../../net/error.js';
import type { AsyncWriteStream, IoSignature } from '../../net/stream.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/token.js';
import type { Message } from './message.js';
import { Serializer } from './serializer.js';

/**
 * Writes a whole HTTP message to `stream` (Beast's `http::async_write`). A message is serialized
 * first (see {@link Serializer} for the framing rules; an invalid message throws `TypeError`
 * here, before anything is sent); a serializer is written from where it stands. The message and
 * its body must not change until the handler runs.
 *
 * Completes with `[ec, bytesTransferred]`, the bytes written by this call: `null` once the
 * whole message is written (at once when the serializer is done already); the stream's error,
 * with the bytes written before it; `net.error.operationAborted` after a cancellation.
 *
 * @param stream The stream to write to; no other write may be started on it until this one
 *   completes.
 * @param message The message to write, or a {@link Serializer} to go on with.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, as Beast's does, when the stream's `asyncWriteSome`
 * supports it: the request is forwarded to the write in progress (or, arriving while a write's
 * completion is on its way, honoured before the next write), and the operation completes with
 * `operationAborted` and the bytes written so far. The message is then half sent: the stream is
 * only fit to be closed. A request that arrives while the last write's completion is on its way
 * finds the whole message sent: the operation succeeds, as Asio's `async_write` does. `partial`
 * and `total` alone are ignored.
 */
export function asyncWrite(stream: AsyncWriteStream, message: Message | Serializer, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncWrite:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncWrite<T extends CompletionToken = UsePromise>(
  stream: AsyncWriteStream,
  message: Message | Serializer,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncWrite(stream: AsyncWriteStream, message: Message | Serializer, token?: TokenFor<IoSignature>): unknown {
  const sr = message instanceof Serializer ? message : new Serializer(message);
  return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => writeSteps(self, stream, sr), token, stream);
}

/** The steps of {@link asyncWrite} (a generator of the module: see `asyncCompose`). */
function* writeSteps(self: ComposedSelf<IoSignature>, stream: AsyncWriteStream, sr: Serializer) {
  let total = 0;
  while (!sr.isDone()) {
    const [ec, n] = yield* self.call<IoSignature>((h) => stream.asyncWriteSome(sr.next(), h));
    sr.consume(n);
    total += n;
    // Asio's async_write order: an error or the end of the message completes as it is, so a
    // request that lands while the last write's completion is queued finds nothing left to
    // abort; only a message with bytes still to send is cut short.
    if (ec !== null) return self.complete(ec, total);
    if (sr.isDone()) break;
    if (self.cancelled() !== CancellationType.none) return self.complete(netError.operationAborted, total);
  }
  self.complete(null, total);
}
