/**
 * The free composed operations over the stream concepts: `asyncRead`, `asyncWrite` and
 * `asyncReadUntil` (Asio's `async_read`, `async_write`, `async_read_until`), and the completion
 * conditions that bound them. Written with `asyncCompose` against `AsyncReadStream` /
 * `AsyncWriteStream` only: nothing here may know what kind of stream it drives.
 */

import type { Handler } from './associators.js';
import { Buffer } from 'node:buffer';
import {
  BuffersSuffix,
  buffersPrefix,
  buffersToBytes,
  copyBufferSequence,
  type ConstBufferSequence,
  type MutableBufferSequence,
} from './buffer.js';
import { CancellationType, enablePartialCancellation } from './cancellation.js';
import { asyncCompose, type ComposedSelf } from './compose.js';
import type { DynamicBuffer } from './dynamic-buffer.js';
import { error, type ErrorCode } from './error.js';
import type { AsyncReadStream, AsyncWriteStream, IoSignature } from './stream.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from './token.js';

/** The most bytes one step of a transfer asks for by default (Asio's `default_max_transfer_size`). */
export const defaultMaxTransferSize = 65536;

const kCondition: unique symbol = Symbol('tsbeast.completionCondition');

/**
 * Decides when a transfer is done (Asio's CompletionCondition): `check(ec, total)` is called
 * before the first step (with `null`, 0) and after each, and returns the most bytes the next step
 * may transfer; 0 ends the transfer. Conditions are objects, so they can never be mistaken for a
 * callback token.
 */
export interface CompletionCondition {
  readonly [kCondition]: true;
  check(ec: ErrorCode | null, bytesTransferred: number): number;
}

/** Builds a {@link CompletionCondition} from a function. */
export function completionCondition(check: (ec: ErrorCode | null, bytesTransferred: number) => number): CompletionCondition {
  return Object.freeze({ [kCondition]: true as const, check });
}

const all = completionCondition((ec) => (ec === null ? defaultMaxTransferSize : 0));

/** Transfers until the buffers are full (or, for a dynamic buffer, until it is full) or an error occurs. */
export function transferAll(): CompletionCondition {
  return all;
}

/** Transfers until at least `n` bytes have moved or an error occurs. */
export function transferAtLeast(n: number): CompletionCondition {
  return completionCondition((ec, total) => (ec === null && total < n ? defaultMaxTransferSize : 0));
}

/** Transfers exactly `n` bytes (fewer on error): no step asks for more than is missing. */
export function transferExactly(n: number): CompletionCondition {
  return completionCondition((ec, total) => (ec === null && total < n ? Math.min(n - total, defaultMaxTransferSize) : 0));
}

function isCondition(x: unknown): x is CompletionCondition {
  return typeof x === 'object' && x !== null && kCondition in x;
}

function isDynamicBuffer(x: MutableBufferSequence | DynamicBuffer): x is DynamicBuffer {
  return typeof (x as Partial<DynamicBuffer>).prepare === 'function';
}

/** Splits the optional condition from the token. */
function args<A extends readonly unknown[]>(a: CompletionCondition | TokenFor<A> | undefined, b: TokenFor<A> | undefined): [CompletionCondition, TokenFor<A> | undefined] {
  return isCondition(a) ? [a, b] : [all, a];
}

const cancelled = <A extends readonly unknown[]>(self: ComposedSelf<A>): boolean => self.cancelled() !== CancellationType.none;

/** Accepts partial cancellation, as Asio's transfers do; skipped (it allocates) when no slot is bound. */
function enablePartial<A extends readonly unknown[]>(self: ComposedSelf<A>): void {
  if (self.getCancellationState().slot().isConnected()) self.resetCancellationState(enablePartialCancellation);
}

/**
 * The part of a buffer sequence not yet transferred. A single buffer, the common case, is
 * tracked with an offset so that a step costs no array.
 */
class Remaining {
  readonly #single: Uint8Array | null;
  readonly #list: BuffersSuffix | null;
  #offset = 0;

  constructor(seq: ConstBufferSequence) {
    const one = !Array.isArray(seq) ? (seq as Uint8Array) : seq.length === 1 ? seq[0] : null;
    this.#single = one;
    this.#list = one === null ? new BuffersSuffix(seq) : null;
  }

  size(): number {
    return this.#single !== null ? this.#single.length - this.#offset : this.#list!.size();
  }

  consume(n: number): void {
    if (this.#single !== null) this.#offset = Math.min(this.#single.length, this.#offset + n);
    else this.#list!.consume(n);
  }

  /** At most `max` of the remaining bytes, as views. */
  prefix(max: number): Uint8Array | readonly Uint8Array[] {
    const b = this.#single;
    if (b === null) return buffersPrefix(max, this.#list!.data());
    if (this.#offset === 0 && max >= b.length) return b;
    return b.subarray(this.#offset, Math.min(b.length, this.#offset + max));
  }
}

/** How much room to prepare in a dynamic buffer for the next step (Asio's rule). */
function readRoom(b: DynamicBuffer, max: number): number {
  return Math.min(Math.max(512, b.capacity() - b.size()), Math.min(max, b.maxSize() - b.size()));
}

/**
 * Reads from `stream` until the condition (default {@link transferAll}) is satisfied, with as
 * many `asyncReadSome` calls as it takes (Asio's `async_read`).
 *
 * Into fixed buffers: completes when they are full, when the condition says so, or at the first
 * error, which ends the transfer: on end of stream with `[net.error.eof, bytes so far]`. Into a
 * dynamic buffer: bytes are appended (prepare / commit) until the condition says so, until the
 * buffer reaches its `maxSize()` (then with success), or until an error. Completes with
 * `[ec, bytesTransferred]`, the bytes read by all the steps; `[null, 0]` when there is nothing
 * to read into or the condition asks for nothing.
 *
 * @param stream The stream to read from; no other read may be started on it until this one
 *   completes.
 * @param buffers The buffers to fill, in order (the list is copied at once; the buffers must
 *   stay valid until the handler runs), or a dynamic buffer to append to.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation types `terminal` and `partial`, as Asio's does, when the stream's
 * `asyncReadSome` supports them: the request is forwarded to the read in progress, and the
 * operation completes with `operationAborted` and the bytes read so far, which are in the
 * buffers. A request that arrives while a step's completion is on its way is honoured before
 * the next step. `total` alone is ignored.
 */
export function asyncRead(stream: AsyncReadStream, buffers: MutableBufferSequence | DynamicBuffer, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncRead:0}
 * @param condition When the transfer is done (see {@link transferAll}, {@link transferAtLeast},
 *   {@link transferExactly}); it also bounds each step.
 */
export function asyncRead(stream: AsyncReadStream, buffers: MutableBufferSequence | DynamicBuffer, condition: CompletionCondition, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncRead:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncRead<T extends CompletionToken = UsePromise>(
  stream: AsyncReadStream,
  buffers: MutableBufferSequence | DynamicBuffer,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
/**
 * {@inheritDoc asyncRead:0}
 * @param condition When the transfer is done (see {@link transferAll}, {@link transferAtLeast},
 *   {@link transferExactly}); it also bounds each step.
 * @param token Any completion token; the Promise token when omitted.
 */
export function asyncRead<T extends CompletionToken = UsePromise>(
  stream: AsyncReadStream,
  buffers: MutableBufferSequence | DynamicBuffer,
  condition: CompletionCondition,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncRead(
  stream: AsyncReadStream,
  buffers: MutableBufferSequence | DynamicBuffer,
  a?: CompletionCondition | TokenFor<IoSignature>,
  b?: TokenFor<IoSignature>,
): unknown {
  const [condition, token] = args<IoSignature>(a, b);
  if (isDynamicBuffer(buffers)) {
    return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => readDynamicSteps(self, stream, buffers, condition), token, stream);
  }
  return transferSequence(stream, buffers, condition, token, (some, h) => stream.asyncReadSome(some, h));
}

/** The steps of {@link asyncRead} into a dynamic buffer (a generator of the module: see `asyncCompose`). */
function* readDynamicSteps(self: ComposedSelf<IoSignature>, stream: AsyncReadStream, buffers: DynamicBuffer, condition: CompletionCondition) {
  enablePartial(self);
  let total = 0;
  let room = readRoom(buffers, condition.check(null, 0));
  for (;;) {
    const [ec, n] = yield* self.call<IoSignature>((h) => stream.asyncReadSome(buffers.prepare(room), h));
    total += n;
    buffers.commit(n);
    room = readRoom(buffers, condition.check(ec, total));
    if ((ec === null && n === 0) || room === 0) return self.complete(ec, total);
    if (cancelled(self)) return self.complete(error.operationAborted, total);
  }
}

/**
 * Writes `buffers` to `stream` until the condition (default {@link transferAll}: every byte) is
 * satisfied, with as many `asyncWriteSome` calls as it takes (Asio's `async_write`).
 *
 * Completes with `[ec, bytesTransferred]`, the bytes written by all the steps: when every byte
 * was written or the condition says so, or at the first error; `[null, 0]` without writing when
 * there is nothing to write or the condition asks for nothing.
 *
 * @param stream The stream to write to; no other write may be started on it until this one
 *   completes.
 * @param buffers The bytes to write. The list is copied at once; the bytes must stay untouched
 *   until the handler runs.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation types `terminal` and `partial`, as Asio's does, when the stream's
 * `asyncWriteSome` supports them: the request is forwarded to the write in progress, and the
 * operation completes with `operationAborted` and the bytes written so far. A request that
 * arrives while a step's completion is on its way is honoured before the next step. `total`
 * alone is ignored. (A {@link TcpSocket}'s write supports `terminal` only, and closes the
 * connection when it is cancelled with bytes still queued.)
 */
export function asyncWrite(stream: AsyncWriteStream, buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncWrite:0}
 * @param condition When the transfer is done (see {@link transferAll}, {@link transferAtLeast},
 *   {@link transferExactly}); it also bounds each step.
 */
export function asyncWrite(stream: AsyncWriteStream, buffers: ConstBufferSequence, condition: CompletionCondition, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncWrite:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncWrite<T extends CompletionToken = UsePromise>(
  stream: AsyncWriteStream,
  buffers: ConstBufferSequence,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
/**
 * {@inheritDoc asyncWrite:0}
 * @param condition When the transfer is done (see {@link transferAll}, {@link transferAtLeast},
 *   {@link transferExactly}); it also bounds each step.
 * @param token Any completion token; the Promise token when omitted.
 */
export function asyncWrite<T extends CompletionToken = UsePromise>(
  stream: AsyncWriteStream,
  buffers: ConstBufferSequence,
  condition: CompletionCondition,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncWrite(stream: AsyncWriteStream, buffers: ConstBufferSequence, a?: CompletionCondition | TokenFor<IoSignature>, b?: TokenFor<IoSignature>): unknown {
  const [condition, token] = args<IoSignature>(a, b);
  return transferSequence(stream, buffers, condition, token, (some, h) => stream.asyncWriteSome(some, h));
}

/**
 * The loop of {@link asyncRead} and {@link asyncWrite} over a buffer sequence: `step` moves a
 * prefix of what is left (at most what the condition allows) until every byte moved, the
 * condition says done, the stream ended or failed, or the operation was cancelled.
 */
function transferSequence(
  stream: AsyncReadStream | AsyncWriteStream,
  buffers: MutableBufferSequence | ConstBufferSequence,
  condition: CompletionCondition,
  token: TokenFor<IoSignature> | undefined,
  step: (some: Uint8Array | readonly Uint8Array[], h: Handler<IoSignature>) => void,
): unknown {
  const seq = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
  return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => transferSteps(self, seq, condition, step), token, stream);
}

/** The steps of {@link transferSequence} (a generator of the module: see `asyncCompose`). */
function* transferSteps(
  self: ComposedSelf<IoSignature>,
  seq: MutableBufferSequence | ConstBufferSequence,
  condition: CompletionCondition,
  step: (some: Uint8Array | readonly Uint8Array[], h: Handler<IoSignature>) => void,
) {
  enablePartial(self);
  const rest = new Remaining(seq);
  let total = 0;
  let max = condition.check(null, 0);
  if (max === 0 || rest.size() === 0) return self.complete(null, 0);
  for (;;) {
    const [ec, n] = yield* self.call<IoSignature>((h) => step(rest.prefix(max), h));
    total += n;
    rest.consume(n);
    if ((ec === null && n === 0) || rest.size() === 0) return self.complete(ec, total);
    max = condition.check(ec, total);
    if (max === 0) return self.complete(ec, total);
    if (cancelled(self)) return self.complete(error.operationAborted, total);
  }
}

/** Finds `delim` in the readable bytes of `b` at or after `from`; -1 when absent. */
function search(b: DynamicBuffer, delim: Uint8Array, from: number): number {
  const bytes = buffersToBytes(b.data()); // no copy when the readable bytes are contiguous
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(delim, from);
}

/**
 * Reads into `buffer` until its readable bytes contain `delim` (Asio's `async_read_until`).
 *
 * Completes with `[ec, bytesTransferred]`: `null` and the number of bytes up to and including
 * the delimiter, bytes after it staying in the buffer for the caller's next operation. Bytes
 * already in the buffer are searched first, so a delimiter already there completes without
 * reading. Errors: `net.error.notFound` when the buffer reaches its `maxSize()` without the
 * delimiter; a read error (`eof`…) with 0, the bytes read staying in the buffer.
 *
 * @param stream The stream to read from; no other read may be started on it until this one
 *   completes.
 * @param buffer The dynamic buffer the bytes are appended to and searched in; its `maxSize()`
 *   bounds the search.
 * @param delim The delimiter: bytes, or a string (UTF-8 encoded).
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation types `terminal` and `partial`, as Asio's does, when the stream's
 * `asyncReadSome` supports them: the request is forwarded to the read in progress, and the
 * operation completes with `operationAborted` and 0, the bytes read staying in the buffer (a
 * later call searches them first). `total` alone is ignored.
 */
export function asyncReadUntil(stream: AsyncReadStream, buffer: DynamicBuffer, delim: string | Uint8Array, handler: Handler<IoSignature>): void;
/**
 * {@inheritDoc asyncReadUntil:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, bytesTransferred)`.
 */
export function asyncReadUntil<T extends CompletionToken = UsePromise>(
  stream: AsyncReadStream,
  buffer: DynamicBuffer,
  delim: string | Uint8Array,
  token?: T & TokenCheck<T, IoSignature>,
): AsyncResult<T, IoSignature>;
export function asyncReadUntil(stream: AsyncReadStream, buffer: DynamicBuffer, delim: string | Uint8Array, token?: TokenFor<IoSignature>): unknown {
  const needle = typeof delim === 'string' ? Buffer.from(delim, 'utf8') : delim;
  return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => readUntilSteps(self, stream, buffer, needle), token, stream);
}

/** The steps of {@link asyncReadUntil} (a generator of the module: see `asyncCompose`). */
function* readUntilSteps(self: ComposedSelf<IoSignature>, stream: AsyncReadStream, buffer: DynamicBuffer, needle: Uint8Array) {
  enablePartial(self);
  let from = 0;
  for (;;) {
    const at = search(buffer, needle, from);
    if (at >= 0) return self.complete(null, at + needle.length);
    if (buffer.size() >= buffer.maxSize()) return self.complete(error.notFound, 0);
    // The delimiter may straddle what is there and what comes next.
    from = Math.max(0, buffer.size() - needle.length + 1);
    const room = readRoom(buffer, defaultMaxTransferSize);
    const [ec, n] = yield* self.call<IoSignature>((h) => stream.asyncReadSome(buffer.prepare(room), h));
    buffer.commit(n);
    if (ec !== null) return self.complete(ec, 0);
    if (cancelled(self)) return self.complete(error.operationAborted, 0);
  }
}
