/**
 * Reading HTTP messages from a stream (Beast's `http::async_read`, `async_read_header`): bytes
 * go from the stream into a dynamic buffer and from there into a parser. Only the message's own
 * bytes are consumed from the buffer; whatever follows it (the next request, or the first
 * WebSocket frames after a handshake) stays there for the next reader. Composed with
 * `asyncCompose` against `AsyncReadStream` only; no parsing here beyond feeding the parser.
 */

import type { Handler } from '../../net/associators.js';
import { CancellationType } from '../../net/cancellation.js';
import { asyncCompose, type ChildOp, type ComposedSelf } from '../../net/compose.js';
import { LengthError, type DynamicBuffer } from '../../net/dynamic-buffer.js';
import { error as netError, type ErrorCode } from '../../net/error.js';
import type { AsyncReadStream, IoSignature } from '../../net/stream.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/token.js';
import { error } from './error.js';
import { Request, type Response } from './message.js';
import { BasicParser, RequestParser, ResponseParser } from './parser.js';

/** What the HTTP reads fill: a parser (of either kind), or a message to overwrite on success. */
export type ReadTarget = BasicParser<Request> | BasicParser<Response> | Request | Response;

/** The most bytes one read asks for (Beast reads at most 64 KiB at a time into the buffer). */
const readChunk = 65536;

/** Puts the buffer's readable bytes into the parser and consumes what it took. */
function feed(parser: BasicParser<Request> | BasicParser<Response>, buffer: DynamicBuffer): [ErrorCode | null, number] {
  let used = 0;
  let ec: ErrorCode | null = error.needMore;
  for (const view of buffer.data()) {
    if (view.length === 0) continue;
    const r = parser.put(view);
    used += r.consumed;
    ec = r.ec;
    if (ec !== error.needMore) break;
  }
  buffer.consume(used);
  return [ec, used];
}

/** How much to prepare for the next read: Asio's rule, bounded by the buffer's maximum. */
function readRoom(b: DynamicBuffer): number {
  return Math.min(Math.max(512, b.capacity() - b.size()), Math.min(readChunk, b.maxSize() - b.size()));
}

/** What {@link readMessageSteps} needs of its composed operation. */
type StepSelf = Pick<ComposedSelf<readonly unknown[]>, 'call' | 'cancelled'>;

/**
 * The steps of reading one message into `parser` (Beast's `read_op`), for a composed operation
 * that reads a message as one of its own steps (a WebSocket accept or handshake) without a
 * nested operation. Returns the error (or null) and the bytes the parser consumed; terminal
 * cancellation is checked after every read.
 */
export function* readMessageSteps(
  self: StepSelf,
  stream: AsyncReadStream,
  buffer: DynamicBuffer,
  parser: BasicParser<Request> | BasicParser<Response>,
  headerOnly: boolean,
): Generator<ChildOp, [ErrorCode | null, number], readonly unknown[]> {
  const finished = (): boolean => (headerOnly ? parser.isHeaderDone() : parser.isDone());
  let total = 0;
  if (finished()) return [null, total];
  const failed = parser.error();
  if (failed !== null) return [failed, total];
  for (;;) {
    const [ec, used] = feed(parser, buffer);
    total += used;
    if (finished()) return [null, total];
    if (ec !== error.needMore && ec !== null) return [ec, total];
    const room = readRoom(buffer);
    if (room <= 0) return [error.bufferOverflow, total];
    let prepared: readonly Uint8Array[];
    try {
      prepared = buffer.prepare(room);
    } catch (e) {
      if (e instanceof LengthError) return [error.bufferOverflow, total];
      throw e;
    }
    const [rec, n] = yield* self.call<IoSignature>((h) => stream.asyncReadSome(prepared, h));
    buffer.commit(n);
    if (n > 0) {
      const [ec2, used2] = feed(parser, buffer);
      total += used2;
      if (finished()) return [null, total];
      if (ec2 !== error.needMore && ec2 !== null) return [ec2, total];
    }
    if (rec === netError.eof) {
      // End of stream: before any byte it is endOfStream; a body that runs to end of stream
      // is complete; anything else is a partialMessage (Beast's read_some_op).
      if (!parser.gotSome()) return [error.endOfStream, total];
      return [headerOnly ? error.partialMessage : parser.putEof(), total];
    }
    if (rec !== null) return [rec, total];
    if (self.cancelled() !== CancellationType.none) return [netError.operationAborted, total];
  }
}

function readOp(stream: AsyncReadStream, buffer: DynamicBuffer, target: ReadTarget, headerOnly: boolean, token: TokenFor<IoSignature> | undefined): unknown {
  const parser: BasicParser<Request> | BasicParser<Response> =
    target instanceof BasicParser ? target : target instanceof Request ? new RequestParser() : new ResponseParser();
  // Beast's read sets eager so one put takes the whole body; read_header clears it so the body
  // stays in the buffer.
  parser.eager(!headerOnly);
  return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => readOpSteps(self, stream, buffer, parser, target, headerOnly), token, stream);
}

/** The steps of {@link readOp} (a generator of the module: see `asyncCompose`). */
function* readOpSteps(
  self: ComposedSelf<IoSignature>,
  stream: AsyncReadStream,
  buffer: DynamicBuffer,
  parser: BasicParser<Request> | BasicParser<Response>,
  target: ReadTarget,
  headerOnly: boolean,
) {
  const [ec, total] = yield* readMessageSteps(self, stream, buffer, parser, headerOnly);
  if (ec === null && !(target instanceof BasicParser)) adopt(target, parser);
  self.complete(ec, total);
}

/** Moves what the parser built into the caller's message (Beast's `m_ = p.release()`). */
function adopt(target: Request | Response, parser: BasicParser<Request> | BasicParser<Response>): void {
  Object.assign(target, parser.get());
}

/**
 * Reads one whole HTTP message from `stream` (Beast's `http::async_read`).
 *
 * Bytes already in `buffer` are parsed first; more are read into it until the message is
 * complete. Only the message's bytes are consumed from `buffer`: bytes after it stay there. With
 * a parser, the message is in `parser.get()`; with a {@link Request} or {@link Response}, that
 * object is overwritten on success (limits are then the parser defaults).
 *
 * Completes with `[ec, bytesTransferred]`, the bytes the parser consumed: `null` once the
 * message is complete (without reading when the parser is done already); `http.error.endOfStream`
 * at end of stream before any byte of a message; `partialMessage` at end of stream inside one;
 * `bufferOverflow` when `buffer` is full; any parser error (the parser's earlier error, at once,
 * when it failed before); any stream error; `net.error.operationAborted` after a cancellation.
 *
 * @param stream The stream to read from; no other read may be started on it until this one
 *   completes.
 * @param buffer The dynamic buffer bytes are read into and parsed from; bytes after the message
 *   stay in it. Its `maxSize()` bounds the part of the message not yet parsed.
 * @param target A parser (a {@link RequestParser} or {@link ResponseParser}, with its limits
 *   and whatever it already parsed), or a {@link Request} or {@link Response} to overwrite.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, as Beast's does, when the stream's `asyncReadSome`
 * supports it: the request is forwarded to the read in progress (or, arriving while a read's
 * completion is on its way, honoured before the next read), and the operation completes with
 * `operationAborted` and the bytes the parser consumed. Those bytes are gone from `buffer`: a
 * parser keeps what it parsed (it is not marked failed), but a {@link Request} or
 * {@link Response} target loses the partial message, so the stream is only fit to be closed.
 * `partial` and `total` alone are ignored.
 */
export function asyncRead(stream: AsyncReadStream, buffer: DynamicBuffer, target: ReadTarget, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncRead:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncRead<T extends CompletionToken = UsePromise>(
  stream: AsyncReadStream,
  buffer: DynamicBuffer,
  target: ReadTarget,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncRead(stream: AsyncReadStream, buffer: DynamicBuffer, target: ReadTarget, token?: TokenFor<IoSignature>): unknown {
  return readOp(stream, buffer, target, false, token);
}

/**
 * Reads the header of an HTTP message (Beast's `http::async_read_header`): like
 * {@link asyncRead}, but completes once the header is parsed; body bytes already read stay in
 * `buffer`, and the parser's eager option is cleared. Read the rest with {@link asyncRead} on the
 * same parser and buffer.
 *
 * Completes with `[ec, bytesTransferred]`, the bytes the parser consumed, and the errors of
 * {@link asyncRead}, except that end of stream inside the header gives `partialMessage`.
 *
 * @param stream The stream to read from; no other read may be started on it until this one
 *   completes.
 * @param buffer The dynamic buffer bytes are read into and parsed from; bytes after the header
 *   stay in it.
 * @param parser The parser that receives the header (a {@link RequestParser} or
 *   {@link ResponseParser}).
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * As {@link asyncRead}: `terminal`, when the stream's read supports it, completing with
 * `operationAborted`; the parser keeps what it parsed. `partial` and `total` alone are ignored.
 */
export function asyncReadHeader(stream: AsyncReadStream, buffer: DynamicBuffer, parser: BasicParser<Request> | BasicParser<Response>, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncReadHeader:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncReadHeader<T extends CompletionToken = UsePromise>(
  stream: AsyncReadStream,
  buffer: DynamicBuffer,
  parser: BasicParser<Request> | BasicParser<Response>,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncReadHeader(stream: AsyncReadStream, buffer: DynamicBuffer, parser: BasicParser<Request> | BasicParser<Response>, token?: TokenFor<IoSignature>): unknown {
  return readOp(stream, buffer, parser, true, token);
}
