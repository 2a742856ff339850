/**
 * The stream concepts (Asio's AsyncReadStream and AsyncWriteStream): what a next layer offers to
 * the layer above it. A WebSocket stream, the free `asyncRead` / `asyncWrite` functions and the
 * TLS stream are written against these interfaces only.
 */

import type { Handler } from './associators.js';
import type { MutableBufferSequence, ConstBufferSequence } from './buffer.js';
import type { ErrorCode } from './error.js';
import type { HasExecutor } from './executor.js';
import type { AsyncResult, CompletionToken, TokenCheck, UsePromise } from './token.js';

/** The completion signature of reads and writes: the error and the bytes transferred. */
export type IoSignature = [ec: ErrorCode | null, bytesTransferred: number];

/**
 * An I/O operation on `B` (buffers, or where they come from), in the two forms every tsbeast
 * operation has: with a completion handler, or with any completion token (the Promise token when
 * omitted), whose result it returns.
 */
export interface IoOperation<B> {
  (buffers: B, handler: Handler<IoSignature>): void;
  <T extends CompletionToken = UsePromise>(buffers: B, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
}

/**
 * A stream that reads some bytes: `asyncReadSome` completes once at least one byte was read into
 * `buffers` (never more than fits), or with an error (`net.error.eof` at end of stream). A read
 * into empty buffers completes at once with 0 bytes.
 */
export interface AsyncReadStream extends HasExecutor {
  asyncReadSome: IoOperation<MutableBufferSequence>;
}

/**
 * A stream that writes some bytes: `asyncWriteSome` completes once at least one byte of `buffers`
 * was written, or with an error. The buffers must not be modified until the handler runs.
 */
export interface AsyncWriteStream extends HasExecutor {
  asyncWriteSome: IoOperation<ConstBufferSequence>;
}

/** A stream that does both: what a WebSocket stream needs of its next layer. */
export interface AsyncStream extends AsyncReadStream, AsyncWriteStream {}

/**
 * Where a read that waits without buffers of its own (see {@link LazyReadStream}) puts its bytes.
 * `readTarget` is called at most once per read, only once bytes are there to take (possibly
 * inside the initiating call, when bytes were already waiting), and never for a read that ends
 * with an error, the end of the stream or a cancellation. The buffers it returns receive the
 * bytes as those of `asyncReadSome` would; bytes that do not fit wait for the next read. It runs
 * inside the stream's I/O callback: it must not throw, and must not start or end operations.
 */
export interface ReadTargetSource {
  readTarget(): MutableBufferSequence;
}

/**
 * A stream whose reads can wait without buffers: `asyncReadSomeLazy` completes as
 * `asyncReadSome` would into the buffers `source` gives when bytes arrive. What it is for: a
 * layer above with many quiet connections (a WebSocket server) need not hold a buffer for each
 * read that waits, only for bytes that came.
 */
export interface LazyReadStream {
  asyncReadSomeLazy: IoOperation<ReadTargetSource>;
}
