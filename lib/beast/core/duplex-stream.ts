/**
 * DuplexStream: adapts any Node `stream.Duplex` (a socket, a TLS socket, a PassThrough, one end of
 * `stream.duplexPair()`) into a next layer for the WebSocket stream (Asio's AsyncReadStream and
 * AsyncWriteStream). It must never lose or reorder bytes, never hand a read more than fits, never
 * leave a listener of an operation behind, and never let an 'error' event go unhandled (which
 * would crash the process).
 */

import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';

import { getAssociatedCancellationSlot, type Handler } from '../../net/associators.js';
import {
  bufferCopy,
  bufferSequence,
  bufferSize,
  copyBufferSequence,
  type ConstBufferSequence,
  type MutableBufferSequence,
} from '../../net/buffer.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../../net/cancellation.js';
import { error, fromNodeError, type ErrorCode } from '../../net/error.js';
import { toExecutor, type Executor, type ExecutorLike } from '../../net/executor.js';
import { HandlerWork } from '../../net/handler-work.js';
import type { AsyncStream, IoSignature } from '../../net/stream.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../../net/token.js';
import { trackOperations } from '../../net/handler-tracking.js';

/** An operation in flight: how to finish it without a second completion or a stray listener. */
interface PendingOp {
  readonly work: HandlerWork<IoSignature>;
  /** Removes the operation's listeners (and its cancellation handler). */
  readonly detach: () => void;
}

type Listener = (arg?: unknown) => void;

/**
 * A Node `Duplex` as an {@link AsyncStream}. At most one read and one write may be outstanding;
 * a second concurrent one completes with `net.error.alreadyStarted`. Each operation adds its own
 * listeners to the duplex and removes them before its handler runs; the adapter itself keeps one
 * 'error' listener for its whole life, so that an error between operations is recorded and
 * reported by the next operation instead of crashing the process.
 *
 * The duplex must carry bytes: no `setEncoding`, no object mode. The adapter switches its
 * readable side to paused mode (it consumes with `read()`); nothing else should read from it.
 *
 * Completions that are known inside the initiating call are posted (or go to a bound immediate
 * executor); completions from Node's events are dispatched to the handler's executor.
 */
export class DuplexStream implements AsyncStream {
  readonly #executor: Executor;
  readonly #duplex: Duplex;
  /** Bytes taken from the duplex that did not fit the read that took them. */
  #leftover: Uint8Array | null = null;
  /** The first error the duplex reported; every later operation fails with it. */
  #error: ErrorCode | null = null;
  #closed = false;
  #shutdown = false;
  #read: PendingOp | null = null;
  #write: PendingOp | null = null;

  /**
   * @param executor - the I/O executor: handlers without an executor of their own run there.
   * @param duplex - the Node stream to adopt.
   */
  constructor(executor: ExecutorLike, duplex: Duplex) {
    this.#executor = toExecutor(executor);
    this.#duplex = duplex;
    duplex.on('error', this.#recordError);
  }

  readonly #recordError = (err: unknown): void => {
    if (this.#error === null) this.#error = fromNodeError(err);
  };

  /** The I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** The adopted Node stream. */
  nextLayer(): Duplex {
    return this.#duplex;
  }

  /** Whether the stream may still be used: not closed here, not destroyed by anyone. */
  isOpen(): boolean {
    return !this.#closed && !this.#duplex.destroyed;
  }

  /**
   * Closes the stream (destroys the duplex). A pending read and a pending write complete with
   * `operationAborted` (posted, never inside this call); later operations fail with
   * `badDescriptor`, as on a closed socket. Bytes not yet read are dropped.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leftover = null;
    for (const op of [this.#read, this.#write]) {
      if (op === null) continue;
      op.detach();
      op.work.post(error.operationAborted, 0);
    }
    this.#read = this.#write = null;
    this.#duplex.destroy();
  }

  /**
   * Shuts down the sending side (ends the duplex's writable side, after any pending write): the
   * peer reads end of stream; reading here goes on. Later writes fail with `brokenPipe`.
   */
  shutdown(): void {
    if (this.#closed || this.#shutdown) return;
    this.#shutdown = true;
    this.#duplex.end();
  }

  /**
   * Reads some bytes into `buffers` (the AsyncReadStream operation; no Beast counterpart).
   *
   * Completes with `[ec, n]`: at least one byte and never more than fits (the rest is kept for
   * the next read), without waiting when bytes are there already; `[null, 0]` at once for empty
   * buffers; `eof` at end of stream; the duplex's error, converted with `fromNodeError`;
   * `operationAborted` when closed (here or by whoever destroyed the duplex) or cancelled while
   * waiting; `badDescriptor` once closed; `alreadyStarted` when a read is outstanding (that one
   * goes on).
   *
   * @param buffers The buffers that receive the bytes, filled in order. The list is copied at
   *   once; the buffers themselves must stay valid until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, n: number)`, never inside
   *   this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total` while the read waits: it
   * completes with `operationAborted` and 0, its listeners are removed, and nothing was taken
   * from the duplex, so the stream is as it was.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc DuplexStream.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, n)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return asyncInitiate<IoSignature>((h) => this.#initiateRead(bufs, h), token, this.#executor);
  }

  #initiateRead(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    if (this.#read !== null) return work.complete(false, error.alreadyStarted, 0);
    if (bufferSize(buffers) === 0) return work.complete(false, null, 0);
    const now = this.#tryRead(buffers);
    if (now !== null) return work.complete(false, ...now);

    const d = this.#duplex;
    const slot: CancellationSlot = getAssociatedCancellationSlot(handler);
    const finish = (ec: ErrorCode | null, n: number): void => {
      if (this.#read !== op) return;
      this.#read = null;
      op.detach();
      work.complete(true, ec, n);
    };
    const listeners: [string, Listener][] = [
      ['readable', () => {
        const r = this.#tryRead(buffers);
        if (r !== null) finish(...r);
      }],
      ['end', () => finish(error.eof, 0)],
      ['error', (err: unknown) => finish(fromNodeError(err), 0)],
      // Destroyed by someone else while waiting: the read is aborted, as by a local close.
      ['close', () => finish(this.#error ?? (d.readableEnded ? error.eof : error.operationAborted), 0)],
    ];
    const onCancel: CancellationHandler = (type) => {
      if ((type & CancellationType.all) === 0 || this.#read !== op) return;
      this.#read = null;
      op.detach();
      work.post(error.operationAborted, 0);
    };
    const op: PendingOp = {
      work,
      detach: () => {
        for (const [event, fn] of listeners) d.removeListener(event, fn);
        slot.release(onCancel);
      },
    };
    this.#read = op;
    for (const [event, fn] of listeners) d.on(event, fn);
    if (slot.isConnected()) slot.assign(onCancel);
  }

  /** The result of a read that can complete now, or null when it has to wait. */
  #tryRead(buffers: MutableBufferSequence): IoSignature | null {
    if (this.#closed) return [error.badDescriptor, 0];
    const left = this.#leftover;
    if (left !== null) {
      const n = bufferCopy(buffers, left);
      this.#leftover = n < left.length ? left.subarray(n) : null;
      return [null, n];
    }
    if (this.#error !== null) return [this.#error, 0];
    const d = this.#duplex;
    if (d.readableEnded) return [error.eof, 0];
    if (d.destroyed) return [error.badDescriptor, 0];
    for (;;) {
      const chunk: unknown = d.read();
      if (chunk === null) return null;
      const bytes = chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk));
      if (bytes.length === 0) continue;
      const n = bufferCopy(buffers, bytes);
      if (n < bytes.length) this.#leftover = bytes.subarray(n);
      return [null, n];
    }
  }

  /**
   * Writes `buffers` (all of them: a Node write is never partial; the AsyncWriteStream
   * operation, no Beast counterpart).
   *
   * Completes with `[ec, n]` when the duplex's write callback runs, which is also how Node's
   * backpressure reaches the caller (a slow reader delays the callback): `null` and the total;
   * `[null, 0]` at once for empty buffers; the duplex's error; `brokenPipe` after
   * {@link DuplexStream.shutdown} or once the writable side ended; `operationAborted` when
   * closed (here or by whoever destroyed the duplex) while writing; `badDescriptor` once
   * closed; `alreadyStarted` when a write is outstanding (that one goes on).
   *
   * @param buffers The bytes to write. The list is copied at once; the bytes are not, since Node
   *   does not copy them: keep them untouched until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, n: number)`, never inside
   *   this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * None: bytes handed to Node cannot be taken back. A cancellation request is ignored; close
   * the stream to abandon the write.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc DuplexStream.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, n)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers);
    return asyncInitiate<IoSignature>((h) => this.#initiateWrite(bufs, h), token, this.#executor);
  }

  #initiateWrite(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    const d = this.#duplex;
    if (this.#write !== null) return work.complete(false, error.alreadyStarted, 0);
    if (this.#closed) return work.complete(false, error.badDescriptor, 0);
    if (this.#error !== null) return work.complete(false, this.#error, 0);
    if (this.#shutdown || d.writableEnded) return work.complete(false, error.brokenPipe, 0);
    if (d.destroyed) return work.complete(false, error.badDescriptor, 0);
    const size = bufferSize(buffers);
    if (size === 0) return work.complete(false, null, 0);

    let initiating = true;
    const finish = (ec: ErrorCode | null, n: number): void => {
      if (this.#write !== op) return;
      this.#write = null;
      op.detach();
      work.complete(!initiating, ec, n);
    };
    const onClose = (): void => finish(this.#error ?? error.operationAborted, 0);
    const op: PendingOp = { work, detach: () => d.removeListener('close', onClose) };
    this.#write = op;
    d.on('close', onClose);
    const done = (err?: Error | null): void => finish(err == null ? null : fromNodeError(err), err == null ? size : 0);
    const parts = bufferSequence(buffers).filter((b) => b.length > 0);
    try {
      if (parts.length === 1) {
        d.write(parts[0], done);
      } else {
        // One batch (writev where the duplex has it); the last part's callback covers them all,
        // since Node runs write callbacks in order and fails every later one after an error.
        d.cork();
        for (let i = 0; i < parts.length - 1; i++) d.write(parts[i]);
        d.write(parts[parts.length - 1], done);
        d.uncork();
      }
    } catch (err) {
      finish(fromNodeError(err), 0);
    } finally {
      initiating = false;
    }
  }
}

// Handler tracking names this class's operations `duplex@<id>.<method>` (nothing while it is off).
trackOperations(DuplexStream, 'duplex');
