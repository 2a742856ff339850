/**
 * TcpSocket: Asio's `ip::tcp::socket` over a Node `net.Socket`, an AsyncStream for the layers
 * above (WebSocket, TLS, the free read/write functions). It holds the connection's state and
 * starts its operations; each pending one lives with its side: a connect in `socket-connect.ts`,
 * a read in `socket-reader.ts`, a write in `socket-writer.ts`. It must never complete a handler
 * inside its initiating call, never lose a byte between reads, and never leave a per-operation
 * listener on the Node socket.
 *
 * Node listeners: a connect adds `'connect'` and `'error'` and removes both when it completes;
 * while connected, the socket carries exactly one `'error'`, `'end'` and `'close'` listener of
 * ours (`socket-events.ts`; plus `'data'` for an adopted socket), removed by `close()`.
 */

import * as net from 'node:net';
import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { copyBufferSequence, type ConstBufferSequence, type MutableBufferSequence } from '../buffer.js';
import { error, fromNodeError, SystemError } from '../error.js';
import { toExecutor, type Executor, type ExecutorLike } from '../executor.js';
import { HandlerWork } from '../handler-work.js';
import type { AsyncStream, IoSignature, LazyReadStream, ReadTargetSource } from '../stream.js';
import { asyncInitiate, type AsyncResult, type CompletionToken, type TokenCheck, type UsePromise } from '../token.js';
import { Endpoint } from './endpoint.js';
import { openAccepted, takeOver } from './socket-open.js';
import { kConnectDone, PendingConnect, type ConnectOwner, type ConnectSignature } from './socket-connect.js';
import { OnreadReader } from './onread-reader.js';
import { DataReader, readTarget, type SocketReader } from './socket-reader.js';
import { nonEmpty, SocketWriter } from './socket-writer.js';
import { optionIn, ShutdownType, socketOption, withOption, type SocketOption } from './socket-option.js';
import { kSocketEvent, listenTo, stopListening, type SocketEventOwner } from './socket-events.js';
import { trackOperations } from '../handler-tracking.js';

export { ShutdownType, type SocketOption, type ConnectSignature };

// The bits of TcpSocket's state field below the options' (see socket-option.ts).
const connectedBit = 1;
const readShutBit = 2;
const sendShutBit = 4;

/**
 * A TCP connection. Reads and writes follow Asio: `asyncReadSome` completes with at least one
 * byte or an error (`net.error.eof` once the peer has ended), `asyncWriteSome` with every byte
 * given (Node queues what the kernel does not take at once).
 *
 * Concurrency: at most one read and one write may be outstanding at a time (they may overlap
 * each other). A second read while one is pending, or a second write, completes with
 * `net.error.alreadyStarted` (posted) and leaves the first untouched.
 *
 * ```ts
 * const sock = new TcpSocket(ioc);
 * await sock.asyncConnect(new Endpoint('127.0.0.1', port));
 * await asyncWrite(sock, buffer('hello'));
 * ```
 */
export class TcpSocket implements AsyncStream, LazyReadStream, ConnectOwner, SocketEventOwner {
  readonly #executor: Executor;
  #socket: net.Socket | null = null;
  #reader: SocketReader | null = null;
  #writer: SocketWriter | null = null;
  /**
   * Connected, read side shut, send side shut, and the two options set by the caller (each a
   * bit saying it was set and one for its value; unset: the system default), as bits of one
   * field: every connection holds them, as five fields they cost 32 bytes more (bench/idle-memory).
   */
  #bits = 0;
  #connect: PendingConnect | null = null;

  /** @param executor - the I/O executor (an `IoContext` or any executor). The socket starts closed. */
  constructor(executor: ExecutorLike) {
    this.#executor = toExecutor(executor);
  }

  /**
   * Wraps a connected `net.Socket` that Node created (from an http server's `'upgrade'`, a
   * `net.Server` of your own). The TcpSocket becomes its only reader: it pauses the socket and
   * reads through `'data'` events (Node offers no `onread` for sockets it has already created),
   * keeping any bytes that do not fit for the next read. Do not set an encoding on it. Its
   * `allowHalfOpen` stays as Node made it (false for http servers: a peer's FIN ends both sides).
   */
  static adopt(executor: ExecutorLike, socket: net.Socket): TcpSocket {
    const s = new TcpSocket(executor);
    s.#attach(socket, new DataReader(socket));
    if (socket.readableEnded) s.#reader!.end(error.eof);
    else if (socket.destroyed) s.#reader!.end(error.notConnected);
    return s;
  }

  /**
   * @internal For `TcpAcceptor`: takes a socket `net.Server` accepted with `pauseOnConnect`,
   * reading through `onread` (see `takeOver`), or through `'data'` if that is not possible.
   */
  static fromAccepted(executor: ExecutorLike, accepted: net.Socket): TcpSocket {
    const taken = takeOver(accepted);
    if (taken === null) return TcpSocket.adopt(executor, accepted);
    const s = new TcpSocket(executor);
    s.#attach(taken.socket, taken.reader);
    return s;
  }

  /**
   * @internal For `TcpAcceptor`: wraps the TCP handle of a connection Node's listening handle
   * accepted, reading through `onread` (see `openAccepted`).
   */
  static fromHandle(executor: ExecutorLike, handle: object): TcpSocket {
    const { socket, reader } = openAccepted(handle);
    const s = new TcpSocket(executor);
    s.#attach(socket, reader);
    return s;
  }

  /** The option that turns Nagle's algorithm off (`true`) or on (Asio's `tcp::no_delay`). */
  static noDelay(value: boolean): SocketOption {
    return socketOption('noDelay', value);
  }

  /** The option that turns TCP keep-alive probes on or off (Asio's `socket_base::keep_alive`). */
  static keepAlive(value: boolean): SocketOption {
    return socketOption('keepAlive', value);
  }

  /** The socket's I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** Whether the socket is open: connecting or connected, until {@link TcpSocket.close}. */
  isOpen(): boolean {
    return this.#socket !== null;
  }

  /** The Node socket underneath, or `null` when closed (Asio's `native_handle`). */
  nativeHandle(): net.Socket | null {
    // Whoever writes to the Node socket directly must come after the bytes already written here.
    this.#writer?.flush();
    return this.#socket;
  }

  /** The local address and port. Throws a {@link SystemError} when not connected. */
  localEndpoint(): Endpoint {
    const s = this.#connectedSocket('localEndpoint');
    return toEndpoint(s.localAddress, s.localPort, 'localEndpoint');
  }

  /** The peer's address and port. Throws a {@link SystemError} when not connected. */
  remoteEndpoint(): Endpoint {
    const s = this.#connectedSocket('remoteEndpoint');
    return toEndpoint(s.remoteAddress, s.remotePort, 'remoteEndpoint');
  }

  /** Sets a socket option; before the socket is connected, it is applied when it connects. */
  setOption(option: SocketOption): void {
    this.#bits = withOption(this.#bits, option);
    const s = (this.#bits & connectedBit) !== 0 ? this.#socket : null;
    if (s !== null && option.name === 'noDelay') s.setNoDelay(option.value);
    else if (s !== null) s.setKeepAlive(option.value);
  }

  /** The value last set for an option (`undefined`: the system default). */
  getOption(name: SocketOption['name']): boolean | undefined {
    return optionIn(this.#bits, name);
  }

  /**
   * Connects to `endpoint`, opening the socket (Asio's `basic_socket::async_connect`).
   *
   * Completes once connected or failed, with `[ec]`: `null` when connected; Node's error
   * (`connectionRefused`, `timedOut`, `hostUnreachable`…); `alreadyConnected` when the socket is
   * open (close it first); `alreadyStarted` while another connect is pending (that one goes on);
   * `operationAborted` after {@link TcpSocket.cancel}, {@link TcpSocket.close} or a cancellation.
   * A failed connect leaves the socket closed. Options set with {@link TcpSocket.setOption}
   * before are applied once connected.
   *
   * @param endpoint The address and port to connect to.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`: the attempt is abandoned, the socket is closed, and
   * the connect completes with `operationAborted`. Requests of type `partial` or `total` alone are
   * ignored, where Asio's `async_connect` accepts all three.
   */
  asyncConnect(endpoint: Endpoint, handler: Handler<ConnectSignature>): void;
  /**
   * {@inheritDoc TcpSocket.asyncConnect:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncConnect<T extends CompletionToken = UsePromise>(endpoint: Endpoint, token?: T & TokenCheck<T, ConnectSignature>): AsyncResult<T, ConnectSignature>;
  asyncConnect(endpoint: Endpoint, token?: CompletionToken | Handler<ConnectSignature>): unknown {
    return asyncInitiate<ConnectSignature>((h) => this.#initiateConnect(endpoint, h), token, this.#executor);
  }

  /**
   * Reads at least one byte into `buffers` (Asio's `basic_stream_socket::async_read_some`).
   *
   * Completes when bytes arrive, with `[ec, bytesTransferred]`: never more than fit (bytes that
   * do not fit wait for the next read); `[null, 0]` without waiting for empty buffers; `eof` once
   * the peer has ended (and after `shutdown(receive)`); Node's error (`connectionReset`…);
   * `alreadyStarted` while another read is pending (that one goes on); `notConnected` while
   * connecting; `badDescriptor` when closed; `operationAborted` after {@link TcpSocket.cancel},
   * {@link TcpSocket.close} or a cancellation.
   *
   * @param buffers The buffers that receive the bytes, filled in order. The list is copied at
   *   once; the buffers themselves must stay valid until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, as Asio's does. A pending
   * read has taken no bytes, so whatever the type, the read completes with `operationAborted`
   * and 0, the socket stays open and connected, and the next read gets every byte: the promise
   * of `total` is kept.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TcpSocket.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return asyncInitiate<IoSignature>((h) => this.#initiateRead(bufs, h), token, this.#executor);
  }

  /**
   * Reads at least one byte, as {@link TcpSocket.asyncReadSome}, into the buffers
   * `source.readTarget()` gives once bytes have arrived: a read that waits holds no buffer. No
   * Asio counterpart (see {@link LazyReadStream}). `readTarget` is never called for a read that
   * completes without bytes (an error, `eof`, a cancellation). Completes with
   * `[ec, bytesTransferred]` and the same errors as `asyncReadSome`.
   *
   * @param source What gives the buffers, once bytes are there to take.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * As {@link TcpSocket.asyncReadSome}: `terminal`, `partial` and `total`, each leaving the socket
   * as it was (`readTarget` is not called).
   */
  asyncReadSomeLazy(source: ReadTargetSource, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TcpSocket.asyncReadSomeLazy:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSomeLazy<T extends CompletionToken = UsePromise>(source: ReadTargetSource, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSomeLazy(source: ReadTargetSource, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => this.#initiateRead(null, h, source), token, this.#executor);
  }

  /**
   * Writes all of `buffers` (Asio's `basic_stream_socket::async_write_some`, which may write
   * fewer; here a write is never partial, since Node queues what the kernel does not take).
   *
   * A small write (up to 16 KiB, while less than 256 KiB wait to be sent) is copied into a batch
   * that goes to Node at the end of the event loop's turn, with the turn's other small writes: it
   * completes without waiting, and a failure to send it is reported by a later operation (see
   * the differences from Asio). Any other write is handed to Node as it is (a list as one corked
   * batch), not copied, and completes when Node's write callback runs.
   *
   * Completes with `[ec, bytesTransferred]`: `null` and the total; `[null, 0]` for empty
   * buffers; `brokenPipe` after `shutdown(send)` or once the connection is gone; the socket's
   * error once it failed; `alreadyStarted` while another write is pending (that one goes on);
   * `notConnected` while connecting; `badDescriptor` when closed; `operationAborted` after
   * {@link TcpSocket.cancel}, {@link TcpSocket.close} or a cancellation.
   *
   * @param buffers The bytes to write. The list is copied at once; the bytes must stay untouched
   *   until the handler runs (a small write copies them, a large one does not).
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`. Node cannot take back bytes it has queued: while
   * some are still queued, the connection is destroyed and the socket closed (a pending read
   * completes with `operationAborted` too), and the write completes with `operationAborted` and
   * 0; once they all reached the kernel, the request comes too late and the write completes
   * normally. A batched small write completes without waiting, so there is nothing to cancel.
   * Asio's `async_write_some` also accepts `partial` and `total`; here they are ignored.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc TcpSocket.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers);
    return asyncInitiate<IoSignature>((h) => this.#initiateWrite(bufs, h), token, this.#executor);
  }

  /**
   * Shuts down one or both directions. `send` half-closes (Node's `end()`: queued writes go out,
   * then FIN), later writes fail with `brokenPipe`; `receive` makes pending and later reads
   * complete with `eof` (Node cannot shut the read side itself). Throws a {@link SystemError}
   * when the socket is not connected.
   */
  shutdown(what: ShutdownType): void {
    const s = this.#connectedSocket('shutdown');
    if (what !== ShutdownType.send) {
      this.#bits |= readShutBit;
      this.#reader?.abort(error.eof);
    }
    if (what !== ShutdownType.receive && (this.#bits & sendShutBit) === 0) {
      this.#bits |= sendShutBit;
      this.#writer?.flush();
      s.end();
    }
  }

  /**
   * Completes every pending operation with `operationAborted` (posted). The socket stays open;
   * a pending write is cancelled as by a terminal request (see {@link TcpSocket.asyncWriteSome}).
   */
  cancel(): void {
    this.#connect?.abort();
    this.#reader?.abort(error.operationAborted);
    this.#writer?.abort(this);
  }

  /**
   * Closes the socket: the connection is destroyed, pending operations complete with
   * `operationAborted` (posted), and the socket may connect again. Never fails.
   */
  close(): void {
    const s = this.#socket;
    if (s === null) return;
    if (this.#connect !== null) return this.#connect.abort();
    this.#reader?.abort(error.operationAborted);
    this.#writer?.end('post', error.operationAborted);
    stopListening(s);
    this.#reader?.detach();
    this.#socket = null;
    this.#reader = null;
    this.#bits &= ~(connectedBit | readShutBit | sendShutBit);
    // Like bytes already in the kernel's send buffer, batched bytes still go out before the close.
    this.#writer?.flush();
    this.#writer = null;
    s.destroy();
  }

  // ------------------------------------------------------------------------------------------

  #attach(socket: net.Socket, reader: SocketReader): void {
    if (reader instanceof OnreadReader) reader.attach(socket);
    this.#socket = socket;
    this.#writer = new SocketWriter(socket);
    this.#reader = reader;
    this.#bits |= connectedBit;
    listenTo(socket, this);
    // Nagle's algorithm off unless asked for: a message sent as several frames would otherwise
    // wait for the peer's delayed ACK (about 40 ms, 90 ms measured for 4 KiB frames). Small
    // writes are already coalesced per tick by the write batch. (Asio leaves it on.)
    socket.setNoDelay(this.getOption('noDelay') ?? true);
    const keepAlive = this.getOption('keepAlive');
    if (keepAlive !== undefined) socket.setKeepAlive(keepAlive);
  }

  #connectedSocket(what: string): net.Socket {
    if (this.#socket === null) throw new SystemError(error.badDescriptor, `TcpSocket.${what}`);
    if ((this.#bits & connectedBit) === 0) throw new SystemError(error.notConnected, `TcpSocket.${what}`);
    return this.#socket;
  }

  /** The Node socket's events. Not for users: the key is not exported. */
  [kSocketEvent](event: 'error' | 'end' | 'close', err?: Error): void {
    if (event === 'error') {
      const ec = fromNodeError(err);
      this.#writer?.fail(ec);
      this.#reader?.end(ec);
    } else if (event === 'end') {
      this.#reader?.end(error.eof);
    } else {
      // Destroyed, possibly without an error event (e.g. a cancelled write destroyed it): nothing more comes.
      const ec = this.#writer?.error() ?? error.operationAborted;
      this.#reader?.end(ec);
      this.#writer?.end(true, ec);
    }
  }

  #initiateConnect(endpoint: Endpoint, handler: Handler<ConnectSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    if (this.#connect !== null) return work.complete(false, error.alreadyStarted);
    if (this.#socket !== null) return work.complete(false, error.alreadyConnected);
    const op = PendingConnect.start(endpoint, work, handler, this);
    if (op === null) return;
    this.#socket = op.socket();
    this.#connect = op;
  }

  /** How the pending connect ended. Not for users: the key is not exported. */
  [kConnectDone](socket: net.Socket | null, reader: OnreadReader | null): void {
    this.#connect = null;
    if (socket !== null) this.#attach(socket, reader!);
    else this.#socket = null;
  }

  /** Starts a read into `buffers`, or (with `buffers` null) into what `source` gives. */
  #initiateRead(buffers: MutableBufferSequence | null, handler: Handler<IoSignature>, source?: ReadTargetSource): void {
    const work = new HandlerWork(handler, this.#executor);
    const reader = this.#reader;
    if (reader !== null && reader.reading()) return work.complete(false, error.alreadyStarted, 0);
    if (reader === null) return work.complete(false, this.#socket === null ? error.badDescriptor : error.notConnected, 0);
    const target = buffers === null ? null : readTarget(buffers);
    if (target === null && buffers !== null) return work.complete(false, null, 0);
    if ((this.#bits & readShutBit) !== 0) return work.complete(false, error.eof, 0);
    const slot = getAssociatedCancellationSlot(handler);
    if (target !== null) reader.read(target, work, slot);
    else reader.readLazy(source!, work, slot);
  }

  #initiateWrite(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    const writer = this.#writer;
    if (writer !== null && writer.writing()) return work.complete(false, error.alreadyStarted, 0);
    const s = this.#socket;
    if (s === null) return work.complete(false, error.badDescriptor, 0);
    if ((this.#bits & connectedBit) === 0) return work.complete(false, error.notConnected, 0);
    const list = nonEmpty(buffers);
    if (list.length === 0) return work.complete(false, null, 0);
    if ((this.#bits & sendShutBit) !== 0) return work.complete(false, error.brokenPipe, 0);
    const failed = writer!.error();
    if (failed !== null) return work.complete(false, failed, 0);
    if (s.destroyed) return work.complete(false, error.brokenPipe, 0);
    let total = 0;
    for (const b of list) total += b.length;
    if (writer!.accepts(total)) {
      // Copied: the bytes are ours, so the write is complete (the next op learns of a failure).
      writer!.append(list, total);
      return work.complete(false, null, total);
    }
    writer!.write(list, total, work, handler, this);
  }
}

function toEndpoint(address: string | undefined, port: number | undefined, what: string): Endpoint {
  if (address === undefined || port === undefined) throw new SystemError(error.notConnected, `TcpSocket.${what}`);
  return new Endpoint(address, port);
}

// Handler tracking names this class's operations `tcp@<id>.<method>` (nothing while it is off).
trackOperations(TcpSocket, 'tcp');
