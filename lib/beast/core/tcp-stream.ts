/**
 * TcpStream: Beast's `tcp_stream` (`basic_stream<tcp>`), a TcpSocket with deadlines. Reads and
 * writes each run under their own expiry; when the deadline of a pending operation passes, the
 * socket is closed and that operation completes with `beast.error.timeout`. It holds at most one
 * Node timer, only while a timed operation is pending, and must never leave one behind, never
 * complete a handler inside its initiating call, and never apply a deadline to an operation that
 * started before the deadline was set.
 */

import type * as net from 'node:net';
import type { Handler } from '../../net/associators.js';
import { wrapHandler } from '../../net/associators.js';
import { bufferSize, copyBufferSequence, type ConstBufferSequence, type MutableBufferSequence } from '../../net/buffer.js';
import { error as netError, type ErrorCode } from '../../net/error.js';
import type { Executor, ExecutorLike } from '../../net/executor.js';
import { HandlerWork } from '../../net/handler-work.js';
import { asyncConnect as rangeConnect, type RangeConnectSignature } from '../../net/ip/connect.js';
import { Endpoint } from '../../net/ip/endpoint.js';
import { TcpSocket, type ConnectSignature, type ShutdownType } from '../../net/ip/tcp-socket.js';
import type { NativeSocketLayer, OperationKind, OperationScope } from '../../net/ssl/next-layer.js';
import type { AsyncStream, IoSignature, LazyReadStream, ReadTargetSource } from '../../net/stream.js';
import { steadyNow } from '../../net/timer.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../../net/token.js';
import { error } from './error.js';
import { expire, nextDeadline, type Timed } from './timed-operation.js';
import { trackOperations } from '../../net/handler-tracking.js';

export type { ConnectSignature, RangeConnectSignature };


/**
 * A TCP stream with timeouts (Beast's `tcp_stream`).
 *
 * Set a deadline with {@link TcpStream.expiresAfter} or {@link TcpStream.expiresAt} before
 * starting operations; {@link TcpStream.expiresNever} removes it. The read side and the write side
 * keep separate expiry times, and an operation takes its side's expiry when it starts (a connect
 * or a TLS handshake takes the write side's and occupies both). Changing the expiry affects only
 * the sides with no operation pending, as in Beast. The deadline is a point in time: it stays set
 * after an operation completes, so a sequence of operations shares it.
 *
 * When a pending operation's deadline passes, the socket is closed: that operation completes with
 * `beast.error.timeout` (`ec.matches(beast.condition.timeout)`), the other side's pending
 * operation with `net.error.operationAborted`, and the stream is then only fit to be closed or
 * destroyed. An operation started after its deadline closes the socket and fails with the timeout.
 *
 * Concurrency: one read and one write may be pending at once; another of the same side completes
 * with `net.error.alreadyStarted`.
 *
 * ```ts
 * const stream = new TcpStream(ioc);
 * stream.expiresAfter(30_000);
 * await stream.asyncConnect(await resolver.asyncResolve('example.com', 80));
 * stream.expiresAfter(30_000);
 * const n = await stream.asyncReadSome(buf);
 * ```
 */
export class TcpStream implements AsyncStream, LazyReadStream, NativeSocketLayer {
  #socket: TcpSocket;
  /**
   * The deadlines of the next operations, by side; null while neither side has one (an idle
   * WebSocket over a TcpStream sets none). Two number fields initialised to Infinity cost every
   * stream two boxed numbers, 32 B (bench/idle-heap.ts).
   */
  #expiry: { read: number; write: number } | null = null;
  /** The timed operation pending on each side (a connect or handshake holds both). */
  #reading: Timed | null = null;
  #writing: Timed | null = null;
  /** The Node timer and the deadline it is set for, while armed (the same saving: no boxed number per stream). */
  #timer: { handle: NodeJS.Timeout; at: number } | null = null;

  /**
   * @param executorOrSocket - the I/O executor (the stream starts closed), or a `TcpSocket` to
   *   take over (Beast's construction from a socket), e.g. one an acceptor accepted.
   */
  constructor(executorOrSocket: ExecutorLike | TcpSocket) {
    this.#socket = executorOrSocket instanceof TcpSocket ? executorOrSocket : new TcpSocket(executorOrSocket);
  }

  /** Wraps a connected `net.Socket` created by Node code (see `TcpSocket.adopt`). */
  static adopt(executor: ExecutorLike, socket: net.Socket): TcpStream {
    return new TcpStream(TcpSocket.adopt(executor, socket));
  }

  /** The I/O executor. */
  getExecutor(): Executor {
    return this.#socket.getExecutor();
  }

  /** The socket underneath. Operations started on it directly run without deadlines. */
  socket(): TcpSocket {
    return this.#socket;
  }

  /**
   * Cancels the pending operations (as {@link TcpStream.cancel}) and gives up the socket: the
   * stream continues with a new, closed socket. Returns the old one (Beast's `release_socket`).
   */
  releaseSocket(): TcpSocket {
    this.cancel();
    const s = this.#socket;
    this.#socket = new TcpSocket(s.getExecutor());
    return s;
  }

  /** The Node socket underneath, or `null` when closed (for TLS; see `SslStream`). */
  nativeHandle(): net.Socket | null {
    return this.#socket.nativeHandle();
  }

  /** Whether the socket is open. */
  isOpen(): boolean {
    return this.#socket.isOpen();
  }

  /**
   * Sets the deadline of the next operations to `ms` milliseconds from now, on each side with no
   * operation pending. Pending operations keep the deadline they started with.
   */
  expiresAfter(ms: number): void {
    this.expiresAt(steadyNow() + ms);
  }

  /** Sets the deadline to `time` on the steady clock (`steadyNow()`), as {@link TcpStream.expiresAfter}. */
  expiresAt(time: number): void {
    if (time === Infinity && this.#expiry === null) return;
    const expiry = (this.#expiry ??= { read: Infinity, write: Infinity });
    if (this.#reading === null) expiry.read = time;
    if (this.#writing === null) expiry.write = time;
  }

  /** Removes the deadline, on each side with no operation pending. */
  expiresNever(): void {
    this.expiresAt(Infinity);
  }

  /**
   * Cancels the pending operations: they complete with `operationAborted` (posted). The socket
   * stays open (a pending write is cancelled as `TcpSocket.cancel` does it).
   */
  cancel(): void {
    this.#socket.cancel();
  }

  /** Closes the socket; pending operations complete with `operationAborted` (posted). */
  close(): void {
    this.#socket.close();
  }

  /**
   * Shuts down a direction of the socket (`TcpSocket.shutdown`): `shutdown(1)` half-closes the
   * sending side, as the WebSocket teardown does. Throws a `SystemError` when not connected.
   */
  shutdown(what: ShutdownType): void {
    this.#socket.shutdown(what);
  }

  /**
   * Connects to `endpoint` (the socket must be closed), under the write side's deadline
   * (Beast's `basic_stream::async_connect`). It occupies both sides: no read or write may be
   * pending, nor start, until it completes.
   *
   * Completes once connected or failed, with `[ec]`: `null`; `beast.error.timeout` when the
   * deadline passed (the socket is then closed); the socket's error (`connectionRefused`,
   * `alreadyConnected`…); `alreadyStarted` while a read or write is pending; `operationAborted`
   * after {@link TcpStream.cancel}, {@link TcpStream.close} or a cancellation.
   *
   * @param endpoint The address and port to connect to.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`, forwarded to the socket's connect (see
   * `TcpSocket.asyncConnect`): the attempt is abandoned and the socket closed. Beast's supports
   * `terminal`, `partial` and `total` when the socket's connect does; the socket's connect here
   * supports `terminal` only.
   */
  asyncConnect(endpoint: Endpoint, handler: Handler<ConnectSignature>): void;
  /**
   * {@inheritDoc TcpStream.asyncConnect:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncConnect<T extends CompletionToken = UsePromise>(endpoint: Endpoint, token?: T & TokenCheck<T, ConnectSignature>): AsyncResult<T, ConnectSignature>;
  /**
   * Connects to the first endpoint of `endpoints` that accepts (a resolver's result), closing the
   * socket before each attempt (Beast's range `basic_stream::async_connect`); the whole attempt
   * runs under the write side's deadline and occupies both sides.
   *
   * Completes with `[ec, endpoint]`: `null` and the endpoint connected to; or the last attempt's
   * error (`net.error.notFound` for an empty list); `beast.error.timeout` when the deadline
   * passed (the socket is then closed); `alreadyStarted` while a read or write is pending;
   * `operationAborted` after {@link TcpStream.cancel}, {@link TcpStream.close} or a
   * cancellation. On error, `endpoint` is `0.0.0.0:0`.
   *
   * @param endpoints The endpoints to try, in order. The list is copied at once.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, endpoint: Endpoint)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`, forwarded to the attempt in progress: the socket
   * is closed and no further endpoint is tried. Beast's supports `terminal`, `partial` and
   * `total` when the socket's connect does; the socket's connect here supports `terminal` only.
   */
  asyncConnect(endpoints: readonly Endpoint[], handler: Handler<RangeConnectSignature>): void;
  /**
   * {@inheritDoc TcpStream.asyncConnect:2}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, endpoint)`.
   */
  asyncConnect<T extends CompletionToken = UsePromise>(
    endpoints: readonly Endpoint[],
    token?: T & TokenCheck<T, RangeConnectSignature>,
  ): AsyncResult<T, RangeConnectSignature>;
  asyncConnect(target: Endpoint | readonly Endpoint[], token?: CompletionToken | Handler<never>): unknown {
    const ex = this.getExecutor();
    if (isEndpointList(target)) {
      return asyncInitiate<RangeConnectSignature>(
        (h) => this.#run<RangeConnectSignature>('both', h, [netError.operationAborted, new Endpoint()], (done) =>
          rangeConnect(this.#socket, target, done),
        ),
        token as CompletionToken | Handler<RangeConnectSignature> | undefined,
        ex,
      );
    }
    return asyncInitiate<ConnectSignature>(
      (h) => this.#run<ConnectSignature>('both', h, [netError.operationAborted], (done) => this.#socket.asyncConnect(target, done)),
      token as CompletionToken | Handler<ConnectSignature> | undefined,
      ex,
    );
  }

  /**
   * Reads at least one byte into `buffers` (`TcpSocket.asyncReadSome`), under the read side's
   * deadline (Beast's `basic_stream::async_read_some`).
   *
   * Completes with `[ec, bytesTransferred]`: at least one byte, never more than fit;
   * `[null, 0]` without waiting for empty buffers (even while another read is pending, as in
   * Beast); `beast.error.timeout` when the deadline passed (the socket is then closed, and a
   * pending write completes with `operationAborted`); `eof`; `alreadyStarted` while another read
   * is pending; the socket's errors; `operationAborted` after {@link TcpStream.cancel},
   * {@link TcpStream.close} or a cancellation.
   *
   * @param buffers The buffers that receive the bytes, filled in order. The list is copied at
   *   once; the buffers themselves must stay valid until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, as Beast's does, forwarded
   * to the socket's read: a pending read has taken nothing, so it completes with
   * `operationAborted` and 0, the socket stays open, and the deadline stays as it was.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TcpStream.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    // With no read deadline the read is the socket's own, as asyncReadSomeLazy's (a WebSocket
    // reads a large payload straight into the caller's buffer this way). Only for a handler: a
    // token may initiate later (deferred), when a deadline may be set. Empty buffers take the
    // timed path: they complete with 0 even while another read is pending, as in Beast.
    if (typeof token === 'function' && (this.#expiry?.read ?? Infinity) === Infinity && this.#reading === null && bufferSize(buffers) > 0) {
      return this.#socket.asyncReadSome(buffers, token);
    }
    const bufs = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return asyncInitiate<IoSignature>(
      (h) => this.#transfer('read', bufs, h, (done) => this.#socket.asyncReadSome(bufs, done)),
      token,
      this.getExecutor(),
    );
  }

  /**
   * Reads as {@link TcpStream.asyncReadSome}, into the buffers `source.readTarget()` gives once
   * bytes have arrived (`TcpSocket.asyncReadSomeLazy`): a read that waits holds no buffer. With
   * no read deadline the read is the socket's own, with nothing of this stream's around it, so an
   * idle WebSocket connection over a TcpStream (the examples' configuration: the WebSocket
   * timeouts, no stream deadline) costs what one over a bare TcpSocket does (bench/idle-memory).
   */
  asyncReadSomeLazy(source: ReadTargetSource, handler: Handler<IoSignature>): void;
  asyncReadSomeLazy<T extends CompletionToken = UsePromise>(source: ReadTargetSource, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSomeLazy(source: ReadTargetSource, token?: CompletionToken | Handler<IoSignature>): unknown {
    if ((this.#expiry?.read ?? Infinity) === Infinity && this.#reading === null) return this.#socket.asyncReadSomeLazy(source, token as Handler<IoSignature>);
    return asyncInitiate<IoSignature>(
      (h) => this.#run<IoSignature>('read', h, [netError.operationAborted, 0], (done) => this.#socket.asyncReadSomeLazy(source, done)),
      token,
      this.getExecutor(),
    );
  }

  /**
   * Writes all of `buffers` (`TcpSocket.asyncWriteSome`: a small write is copied and completes
   * without waiting), under the write side's deadline (Beast's `basic_stream::async_write_some`).
   *
   * Completes with `[ec, bytesTransferred]`: `null` and the total; `[null, 0]` for empty buffers
   * (even while another write is pending, as in Beast); `beast.error.timeout` when the deadline
   * passed (the socket is then closed, and a pending read completes with `operationAborted`);
   * `alreadyStarted` while another write is pending; the socket's errors; `operationAborted`
   * after {@link TcpStream.cancel}, {@link TcpStream.close} or a cancellation.
   *
   * @param buffers The bytes to write. The list is copied at once; the bytes must stay
   *   untouched until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`, forwarded to the socket's write: with bytes still
   * queued in Node, the connection is destroyed and the write completes with `operationAborted`;
   * once they all reached the kernel, it completes normally. Beast's supports `terminal`,
   * `partial` and `total` when the socket's write does; the socket's write here supports
   * `terminal` only.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TcpStream.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    // With no write deadline the write is the socket's own, as a lazy read is (every frame of a
    // WebSocket over a TcpStream with the WebSocket timeouts comes here); only for a handler, as
    // for reads. Empty buffers take the timed path, which lets them through while the side is
    // busy, as Beast does.
    if (typeof token === 'function' && (this.#expiry?.write ?? Infinity) === Infinity && this.#writing === null && bufferSize(buffers) > 0) {
      return this.#socket.asyncWriteSome(buffers, token);
    }
    const bufs = copyBufferSequence(buffers);
    return asyncInitiate<IoSignature>(
      (h) => this.#transfer('write', bufs, h, (done) => this.#socket.asyncWriteSome(bufs, done)),
      token,
      this.getExecutor(),
    );
  }

  /**
   * @internal For `SslStream`, which reads and writes the native socket itself: runs one of its
   * operations under this stream's deadline for `kind`, exactly as this stream's own operations
   * run. See {@link OperationScope}.
   */
  beginOperation(kind: OperationKind): OperationScope {
    const busy = kind === 'read' ? this.#reading !== null : kind === 'write' ? this.#writing !== null : this.#reading !== null || this.#writing !== null;
    if (busy) return { refused: netError.alreadyStarted, end: () => null };
    const deadline = (kind === 'read' ? this.#expiry?.read : this.#expiry?.write) ?? Infinity;
    // Beast checks the expiry itself rather than trusting a timer that may fire late.
    if (deadline <= steadyNow()) {
      this.close();
      return { refused: error.timeout, end: () => null };
    }
    const op: Timed = { deadline, timedOut: false };
    if (kind !== 'write') this.#reading = op;
    if (kind !== 'read') this.#writing = op;
    this.#arm();
    let ended = false;
    return {
      refused: null,
      end: () => {
        if (ended) return null;
        ended = true;
        if (this.#reading === op) this.#reading = null;
        if (this.#writing === op) this.#writing = null;
        this.#arm();
        return op.timedOut ? error.timeout : null;
      },
    };
  }

  // ------------------------------------------------------------------------------------------

  #transfer(kind: 'read' | 'write', buffers: ConstBufferSequence, handler: Handler<IoSignature>, start: (done: Handler<IoSignature>) => void): void {
    // Empty buffers: Beast lets the no-op through even while the side is busy (a TLS layer above
    // may issue one), so it completes with 0 without touching the deadline. On an open socket with
    // the deadline still ahead, Beast's socket completes it with 0 too: answered here, since an
    // untimed operation of the socket's own (see asyncReadSome) may be pending, which
    // TcpSocket would answer with alreadyStarted.
    const busy = (kind === 'read' ? this.#reading : this.#writing) !== null;
    const deadline = (kind === 'read' ? this.#expiry?.read : this.#expiry?.write) ?? Infinity;
    if (bufferSize(buffers) === 0 && (busy || (this.#socket.isOpen() && deadline > steadyNow()))) {
      new HandlerWork(handler, this.getExecutor()).complete(false, null, 0);
      return;
    }
    this.#run<IoSignature>(kind, handler, [netError.operationAborted, 0], start);
  }

  /**
   * Runs `start` (an operation of the socket) under the deadline of `kind`, then submits the
   * user's handler with the socket's result, the timeout replacing its error when the deadline
   * closed the socket. `failed` is the result shape used when the operation is refused.
   */
  #run<A extends [ErrorCode | null, ...unknown[]]>(kind: OperationKind, handler: Handler<A>, failed: A, start: (done: Handler<A>) => void): void {
    const work = new HandlerWork(handler, this.getExecutor());
    const scope = this.beginOperation(kind);
    if (scope.refused !== null) {
      const args = [...failed] as unknown as A;
      args[0] = scope.refused;
      return work.complete(false, ...args);
    }
    let initiating = true;
    // The socket's operation sees the user's handler's executor, immediate executor and
    // cancellation slot, so per-operation cancellation is forwarded as it is.
    const done: Handler<A> = (...args: A): void => {
      const timeout = scope.end();
      if (timeout !== null) args[0] = timeout;
      work.complete(!initiating, ...args);
    };
    wrapHandler(handler, done as unknown as () => void);
    try {
      start(done);
    } finally {
      initiating = false;
    }
  }

  /**
   * Keeps one Node timer for the earliest deadline of the pending operations that have not timed
   * out yet, or none.
   */
  #arm(): void {
    const at = nextDeadline(this.#reading, this.#writing);
    if (at === this.#timer?.at) return;
    if (this.#timer !== null) clearTimeout(this.#timer.handle);
    this.#timer = null;
    if (at === Infinity) return;
    // A closure per arming rather than one per stream: most streams never arm (an idle
    // WebSocket over a TcpStream sets no deadline; bench/idle-memory).
    this.#timer = { handle: setTimeout(() => this.#onTimer(), Math.max(0, Math.ceil(at - steadyNow()))), at };
  }

  #onTimer(): void {
    this.#timer = null;
    // The pending operations complete with operationAborted from the close; their scopes turn
    // that into the timeout. A timer that fired early (Node rounds) is simply armed again.
    if (expire(this.#reading, this.#writing, steadyNow())) this.#socket.close();
    this.#arm();
  }
}

function isEndpointList(x: Endpoint | readonly Endpoint[]): x is readonly Endpoint[] {
  return Array.isArray(x);
}

// Handler tracking names this class's operations `tcp_stream@<id>.<method>` (nothing while it is off).
trackOperations(TcpStream, 'tcp_stream');
