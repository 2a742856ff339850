/**
 * TestStream: Beast's `test::stream`, an in-memory duplex pipe for deterministic tests of the
 * layers above a socket, with fault injection through a {@link FailCount}. It holds no Node
 * resources (no timers, sockets or listeners); every completion is posted to the stream's
 * executor, so handlers run only inside that context's `run()` / `poll()` and never inside the
 * initiating call, whatever executor is bound to them.
 */

import { Buffer } from 'node:buffer';

import { getAssociatedCancellationSlot, type Handler } from '../../net/associators.js';
import { bufferCopy, bufferSize, copyBufferSequence, type ConstBufferSequence, type MutableBufferSequence } from '../../net/buffer.js';
import { CancellationType } from '../../net/cancellation.js';
import { FlatBuffer } from '../../net/dynamic-buffer.js';
import { error, type ErrorCode } from '../../net/error.js';
import { toExecutor, type Executor, type ExecutorLike } from '../../net/executor.js';
import { HandlerWork } from '../../net/handler-work.js';
import type { AsyncStream, IoSignature } from '../../net/stream.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../../net/token.js';
import { EndpointState, type PendingRead } from './endpoint-state.js';
import { FailCount } from './fail-count.js';

/** The completion signature of {@link TestStream.asyncTeardown}. */
export type TeardownSignature = [ec: ErrorCode | null];

/** Which end of a WebSocket connection tears the stream down (Beast's `role_type`). */
export type TeardownRole = 'client' | 'server';

/** What {@link TestStream.append} and the constructor accept as input. */
export type TestInput = string | Uint8Array;

const toBytes = (data: TestInput, encoding: BufferEncoding): Uint8Array =>
  typeof data === 'string' ? Buffer.from(data, encoding) : data;

/**
 * An in-memory stream endpoint (Beast's `test::stream`). Two endpoints connected with
 * {@link TestStream.connect}, {@link connect} or {@link TestStream.pair} form a pipe: what one
 * writes is appended to the other's input. An unconnected endpoint reads only what was given to
 * its constructor or {@link TestStream.append}ed, and its writes fail with `connectionReset`.
 *
 * Every read, write and teardown first consults the {@link FailCount} given at construction, if
 * any, and completes with its error when the countdown is reached.
 *
 * Completions are always posted to the stream's executor and then dispatched to the handler's
 * associated executor: never inside the initiating call, even when the context is running or an
 * immediate executor is bound (Beast's test stream posts every completion too).
 *
 * Strings are converted to bytes as `latin1` by default, one byte per character, so that a
 * string written like Beast's C++ literals (`"\x81\x05hello"`) gives exactly those bytes.
 */
export class TestStream implements AsyncStream {
  readonly #in: EndpointState;
  #out: EndpointState | null = null;

  /**
   * @param context - the executor (or context) every completion is posted to.
   * @param fc - the fault injector consulted by each read, write and teardown; may be omitted.
   * @param input - bytes (or a latin1 string) that the stream's reads return first.
   */
  constructor(context: ExecutorLike, fc?: FailCount | null, input?: TestInput);
  constructor(context: ExecutorLike, input: TestInput);
  constructor(context: ExecutorLike, fcOrInput?: FailCount | TestInput | null, input?: TestInput) {
    const fc = fcOrInput instanceof FailCount ? fcOrInput : null;
    const initial = fcOrInput instanceof FailCount || fcOrInput === null ? input : fcOrInput;
    this.#in = new EndpointState(toExecutor(context), fc);
    if (initial !== undefined) this.#in.append(toBytes(initial, 'latin1'));
  }

  /**
   * Makes two new endpoints on `context`, connected to each other.
   * @param fcA - the fault injector of the first endpoint (optional).
   * @param fcB - the fault injector of the second endpoint (optional; pass `fcA` to share one).
   */
  static pair(context: ExecutorLike, fcA?: FailCount | null, fcB?: FailCount | null): [TestStream, TestStream] {
    const a = new TestStream(context, fcA ?? null);
    const b = new TestStream(context, fcB ?? null);
    a.connect(b);
    return [a, b];
  }

  /** The stream's executor, where every completion is posted. */
  getExecutor(): Executor {
    return this.#in.executor;
  }

  /**
   * Connects this endpoint and `remote`: each one's writes go to the other's input, and both
   * inputs are open again (not at end of stream). Neither may already be connected.
   */
  connect(remote: TestStream): void {
    if (this.#out !== null || remote.#out !== null) throw new Error('TestStream.connect: already connected');
    this.#out = remote.#in;
    remote.#out = this.#in;
    this.#in.eof = remote.#in.eof = false;
    this.#in.closed = remote.#in.closed = false;
  }

  /** Caps the bytes one read returns (Beast's `read_size`); unlimited by default. */
  readSize(n: number): void {
    this.#in.readMax = n;
  }

  /** Caps the bytes one write moves (Beast's `write_size`); unlimited by default. */
  writeSize(n: number): void {
    this.#in.writeMax = n;
  }

  /**
   * The pending input itself (Beast's `buffer()`). Bytes committed here directly do not wake a
   * pending read; use {@link TestStream.append} for that.
   */
  buffer(): FlatBuffer {
    return this.#in.input;
  }

  /**
   * The pending input (what reads on this endpoint would return next) as a string, `latin1` by
   * default. On the receiving endpoint of a pair, this is what its peer wrote and it has not read.
   */
  str(encoding: BufferEncoding = 'latin1'): string {
    return Buffer.from(this.#in.input.dataView()).toString(encoding);
  }

  /** Appends bytes (or a string, `latin1` by default) to the pending input, waking a pending read. */
  append(data: TestInput, encoding: BufferEncoding = 'latin1'): void {
    this.#in.append(toBytes(data, encoding));
    if (this.#in.input.size() > 0) this.#in.notifyRead();
  }

  /** Discards the pending input. */
  clear(): void {
    this.#in.input.consume(this.#in.input.size());
  }

  /** The number of bytes of pending input. */
  bufferedBytes(): number {
    return this.#in.input.size();
  }

  /** The same as {@link TestStream.bufferedBytes}. */
  inputBytes(): number {
    return this.#in.input.size();
  }

  /** The number of reads started on this endpoint, failed ones included. */
  nread(): number {
    return this.#in.nread;
  }

  /** The number of bytes read from this endpoint. */
  nreadBytes(): number {
    return this.#in.nreadBytes;
  }

  /** The number of writes started on this endpoint, failed ones included. */
  nwrite(): number {
    return this.#in.nwrite;
  }

  /**
   * The number of bytes written into this endpoint's input by its peer. Beast counts it on the
   * receiving side, and its tests read it there (`in.nwrite_bytes()`), so this port does too.
   */
  nwriteBytes(): number {
    return this.#in.nwriteBytes;
  }

  /**
   * Closes this endpoint: a pending read completes with `operationAborted`, later reads return
   * any input left and then `eof`, later writes fail with `connectionReset`. The peer reads the
   * rest of its input and then `eof`, and its writes fail with `connectionReset`: there being no
   * destructors in JavaScript, a closed endpoint counts as the vanished peer of Beast.
   */
  close(): void {
    const self = this.#in;
    self.eof = true;
    self.closed = true;
    self.cancelRead();
    const out = this.#out;
    this.#out = null;
    if (out !== null && !out.eof) {
      out.eof = true;
      out.notifyRead();
    }
  }

  /** Ends this endpoint's input: reads return what is left and then `eof` (Beast's `close_remote`). */
  closeRemote(): void {
    if (this.#in.eof) return;
    this.#in.eof = true;
    this.#in.notifyRead();
  }

  /**
   * Reads some bytes from the pending input into `buffers` (Beast's `test::stream::async_read_some`).
   *
   * Completes (always posted) with `[ec, n]`: at least one byte, at most `readSize` and never more
   * than fits; `[null, 0]` at once for empty buffers; `eof` once the input is empty and ended;
   * the FailCount's error when it fires; `operationAborted` when the stream is closed or the read
   * is cancelled; `alreadyStarted` when another read is outstanding (waiting, or its completion
   * not yet run). A read with nothing to return waits for the peer to write or close. The bytes
   * are taken when the posted completion runs, so input that arrives meanwhile is included.
   *
   * @param buffers The buffers that receive the bytes, filled in order. The list is copied at
   *   once; the buffers themselves must stay valid until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, n: number)`, never inside
   *   this call, through the stream's executor and then its own associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total` while the read waits: it
   * completes with `operationAborted` and 0, and nothing was consumed, so the stream is as it
   * was. Beast's test stream offers no per-operation cancellation (only `close()`); this is an
   * addition.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TestStream.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, n)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return asyncInitiate<IoSignature>((h) => this.#initiateRead(bufs, h), token, this.#in.executor);
  }

  #initiateRead(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void {
    const s = this.#in;
    const work = new HandlerWork(handler, s.executor);
    // Beast throws a logic error for a read while one waits; a completion keeps the misuse
    // visible. A read whose completion is queued counts too: its bytes are taken when it runs,
    // so a second read started meanwhile could find the input drained and report a false eof.
    if (s.reading) return s.finishRead(work, buffers, error.alreadyStarted, false);
    s.reading = true;
    s.nread++;
    const failed = s.fc?.fail() ?? null;
    if (failed !== null) return s.finishRead(work, buffers, failed, true);
    if (bufferSize(buffers) === 0 || s.input.size() > 0) return s.finishRead(work, buffers, null, true);
    if (s.eof) return s.finishRead(work, buffers, error.eof, true);
    const slot = getAssociatedCancellationSlot(handler);
    const op: PendingRead = {
      work,
      buffers,
      slot,
      onCancel: (type) => {
        if ((type & CancellationType.all) !== 0 && s.op === op) s.cancelRead();
      },
    };
    if (slot.isConnected()) slot.assign(op.onCancel);
    s.op = op;
  }

  /**
   * Writes some bytes of `buffers` into the peer's input, waking the peer's pending read (Beast's
   * `test::stream::async_write_some`).
   *
   * Completes (always posted) with `[ec, n]`: `n` is at most `writeSize`; `[null, 0]` for empty
   * buffers; the FailCount's error when it fires; `connectionReset` when this endpoint is
   * unconnected or closed, or its peer was closed.
   *
   * @param buffers The bytes to write; they are copied before this call returns.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, n: number)`, never inside
   *   this call, through the stream's executor and then its own associated executor.
   *
   * #### Per-operation cancellation
   * None: the bytes are moved inside this call and only the completion is posted, so there is
   * nothing left to cancel.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TestStream.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, n)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers);
    return asyncInitiate<IoSignature>((h) => this.#initiateWrite(bufs, h), token, this.#in.executor);
  }

  #initiateWrite(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void {
    const s = this.#in;
    const work = new HandlerWork(handler, s.executor);
    const complete = (ec: ErrorCode | null, n: number): void => s.executor.post(() => work.complete(true, ec, n));
    s.nwrite++;
    const failed = s.fc?.fail() ?? null;
    if (failed !== null) return complete(failed, 0);
    const size = bufferSize(buffers);
    if (size === 0) return complete(null, 0);
    const out = this.#out;
    if (out === null || out.closed) return complete(error.connectionReset, 0);
    const n = Math.min(size, s.writeMax);
    const dst = out.input.prepareView(n);
    bufferCopy(dst, buffers, n);
    out.input.commit(n);
    out.nwriteBytes += n;
    out.notifyRead();
    complete(null, n);
  }

  /**
   * Tears the stream down at the end of a WebSocket session (Beast's `async_teardown` overload
   * for the test stream): consults the FailCount, closes the stream, and consults it again.
   *
   * Completes (always posted) with `[ec]`: the FailCount's error when the first check fires (the
   * stream stays open); `eof` when the second check fires (the stream is closed; Beast reports a
   * failure after the close as end of stream, which the WebSocket layer treats as a clean end);
   * `null` otherwise.
   *
   * @param role Which end of the WebSocket connection this is; it does not change what the test
   *   stream does.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through the stream's executor and then its own associated executor.
   *
   * #### Per-operation cancellation
   * None: the stream is closed inside this call and only the completion is posted.
   */
  asyncTeardown(role: TeardownRole, handler: Handler<TeardownSignature>): void;
  /**
   * {@inheritDoc TestStream.asyncTeardown:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncTeardown<T extends CompletionToken = UsePromise>(role: TeardownRole, token?: T & TokenCheck<T, TeardownSignature>): AsyncResult<T, TeardownSignature>;
  asyncTeardown(_role: TeardownRole, token?: CompletionToken | Handler<TeardownSignature>): unknown {
    const s = this.#in;
    return asyncInitiate<TeardownSignature>(
      (handler) => {
        const work = new HandlerWork(handler, s.executor);
        const complete = (ec: ErrorCode | null): void => s.executor.post(() => work.complete(true, ec));
        const failed = s.fc?.fail() ?? null;
        if (failed !== null) return complete(failed);
        this.close();
        complete((s.fc?.fail() ?? null) !== null ? error.eof : null);
      },
      token,
      s.executor,
    );
  }
}

/**
 * Connects two endpoints (`connect(a, b)`, the same as `a.connect(b)`), or makes a new endpoint
 * on `to`'s executor, optionally with its own FailCount, connected to `to` and returns it
 * (Beast's free `connect`).
 */
export function connect(a: TestStream, b: TestStream): void;
export function connect(to: TestStream, fc?: FailCount | null): TestStream;
export function connect(a: TestStream, b?: TestStream | FailCount | null): TestStream | void {
  if (b instanceof TestStream) return a.connect(b);
  const from = new TestStream(a.getExecutor(), b ?? null);
  from.connect(a);
  return from;
}
