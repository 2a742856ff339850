/**
 * Writing HTTP messages to a stream (Beast's `http::async_write`): the serializer's buffers are
 * written with as many `asyncWriteSome` calls as it takes. Composed with `asyncCompose` against
 * `AsyncWriteStream` only; no serialization here beyond driving the serializer.
 */

import type { Handler } from '../../net/associators.js';
import { CancellationType } from '../../net/cancellation.js';
import { asyncCompose } from '../../net/compose.js';
import { error as netError } from '../../net/error.js';
import type { AsyncWriteStream, IoSignature } from '../../net/stream.js';
import type { AsyncResult, CompletionToken, TokenFor, UsePromise } from '../../net/token.js';
import type { Message } from './message.js';
import { Serializer } from './serializer.js';

/**
 * Writes a whole HTTP message to `stream` (Beast's `http::async_write`). A message is serialized
 * first (see {@link Serializer} for the framing rules; an invalid message throws `TypeError`
 * here, before anything is sent); a serializer is written from where it stands. The message and
 * its body must not change until the handler runs.
 *
 * Completion signature `[ec, bytesTransferred]`. Per-operation cancellation: terminal,
 * forwarded to the write in progress; the operation then completes with
 * `net.error.operationAborted` and the bytes written so far.
 */
export function asyncWrite(stream: AsyncWriteStream, message: Message | Serializer, handler: Handler<IoSignature>): void;
export function asyncWrite<T extends CompletionToken = UsePromise>(
  stream: AsyncWriteStream,
  message: Message | Serializer,
  token?: T,
): AsyncResult<T, IoSignature>;
export function asyncWrite(stream: AsyncWriteStream, message: Message | Serializer, token?: TokenFor<IoSignature>): unknown {
  const sr = message instanceof Serializer ? message : new Serializer(message);
  return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>(function* (self) {
    let total = 0;
    while (!sr.isDone()) {
      const [ec, n] = yield* self.call<IoSignature>((h) => stream.asyncWriteSome(sr.next(), h));
      sr.consume(n);
      total += n;
      if (ec !== null) return self.complete(ec, total);
      if (self.cancelled() !== CancellationType.none) return self.complete(netError.operationAborted, total);
    }
    self.complete(null, total);
  }, token, stream);
}
