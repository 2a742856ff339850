/**
 * SslStream: Asio's `ssl::stream<NextLayer>` over `node:tls`, an AsyncStream that encrypts what
 * it writes to its next layer and decrypts what it reads. A next layer that owns a Node socket
 * (TcpSocket, TcpStream) hands that socket to TLS; any other AsyncStream is adapted as a Duplex.
 * It must never complete a handler inside its initiating call, never hand a read more bytes than
 * fit (the rest stays in the TLS socket for the next read), never report the end of the stream
 * as clean when the transport ended without a close_notify it could detect, and never let a TLS
 * error go unhandled.
 */

import type * as tls from 'node:tls';
import type { Handler } from '../associators.js';
import { copyBufferSequence, type ConstBufferSequence, type MutableBufferSequence } from '../buffer.js';
import { toExecutor, type Executor } from '../executor.js';
import type { AsyncStream, IoSignature, LazyReadStream, ReadTargetSource } from '../stream.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../token.js';
import type { HandshakeType, SslContext, VerifyMode } from './context.js';
import { SslOperations, type SslSignature } from './ssl-operations.js';
import { asyncSslTeardown, type TeardownRole } from './teardown.js';
import { trackOperations } from '../handler-tracking.js';

export { defaultSslHandshakeTimeout, type SslSignature } from './ssl-operations.js';
export type { TeardownRole };

/**
 * A TLS stream over `NextLayer`.
 *
 * Call {@link SslStream.asyncHandshake} first (a client should name the server with
 * {@link SslStream.setHostname} before), then read and write; end with {@link SslStream.asyncShutdown}
 * (or `asyncTeardown`, which a WebSocket stream calls) and {@link SslStream.close}. Once the TLS
 * layer has the next layer's socket, do not read or write the next layer directly.
 *
 * End of stream: a read completes with `net.error.eof` after the peer's close_notify, and with
 * `ssl.error.streamTruncated` when the transport ended without one. Node's TLS layer reports both
 * alike when it owns a Node socket, so over a TcpSocket or TcpStream a truncated stream reads as
 * `eof`; over an adapted next layer the difference is seen and reported.
 *
 * Concurrency: one handshake, one read, one write and one shutdown may be pending at a time (a
 * read and a write may overlap; a shutdown may overlap a read); another of the same kind completes
 * with `net.error.alreadyStarted`.
 */
export class SslStream<NextLayer extends AsyncStream = AsyncStream> implements AsyncStream, LazyReadStream {
  readonly #next: NextLayer;
  readonly #ops: SslOperations;

  /**
   * @param nextLayer - the stream to run TLS over: a connected TcpSocket or TcpStream, or any
   *   AsyncStream (a `TestStream`…).
   * @param context - the settings (certificate, key, authorities, verify mode).
   */
  constructor(nextLayer: NextLayer, context: SslContext) {
    this.#next = nextLayer;
    this.#ops = new SslOperations(nextLayer, context, toExecutor(nextLayer));
  }

  /** The I/O executor (the next layer's). */
  getExecutor(): Executor {
    return this.#ops.executor;
  }

  /** The stream under TLS. */
  nextLayer(): NextLayer {
    return this.#next;
  }

  /** The context the stream was made with. */
  context(): SslContext {
    return this.#ops.context;
  }

  /** The Node TLS socket once a handshake started, else `null` (Asio's `native_handle`). */
  nativeHandle(): tls.TLSSocket | null {
    return this.#ops.conn?.socket ?? null;
  }

  /**
   * Names the server, before a client handshake: sent as SNI (names only, not addresses) and the
   * name the certificate must match when the peer is verified. Without it, the certificate must
   * match the peer's IP address (over a Node socket) or the handshake fails with
   * `ssl.error.hostnameMismatch`.
   */
  setHostname(name: string): void {
    this.#ops.hostname = name;
  }

  /**
   * The longest a TLS handshake may take, in milliseconds (`Infinity`: no limit); read with no
   * argument. Not in Asio, where a deadline comes from the next layer (Beast's `tcp_stream`);
   * here a stalled peer must not hold a connection for good even when nothing else bounds it
   * (DESIGN section 8), so a handshake has {@link defaultSslHandshakeTimeout} unless set.
   * On expiry the handshake completes with `net.error.timedOut` and the connection is closed.
   * A deadline of a `TcpStream` next layer applies as well; the earlier one ends the handshake.
   */
  handshakeTimeout(): number;
  handshakeTimeout(ms: number): void;
  handshakeTimeout(ms?: number): number | void {
    if (ms === undefined) return this.#ops.handshakeTimeout;
    if (!(ms > 0)) throw new RangeError('handshakeTimeout: a positive number of milliseconds, or Infinity');
    this.#ops.handshakeTimeout = ms;
  }

  /** Overrides the context's verify mode for this stream (Asio's `stream::set_verify_mode`). */
  setVerifyMode(mode: VerifyMode): void {
    this.#ops.verifyMode = mode;
  }

  /**
   * Performs the TLS handshake as `type` (Asio's `ssl::stream::async_handshake`).
   *
   * Completes when the handshake is done and, when verification is on, the peer verified, with
   * `[ec]`: `null`; an `ssl.error` value (`hostnameMismatch`, `selfSignedCertificate`,
   * `handshakeFailure`…, all matching `ssl.condition.handshakeFailed`, the certificate ones also
   * `ssl.condition.verificationFailed`); `streamTruncated` when the transport ended first; the
   * next layer's errors (`connectionReset`, `beast.error.timeout` under a TcpStream deadline);
   * `alreadyStarted` / `alreadyConnected` when a handshake is pending / done; `badDescriptor`
   * after {@link SslStream.close}; `operationAborted` after `close()` or a cancellation. After a
   * failed handshake, later operations fail too (with the TLS error, or `notConnected`).
   *
   * @param type `'client'` or `'server'`: the side this stream takes.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`: the handshake completes with `operationAborted`,
   * the TLS connection is destroyed (and with it the next layer is closed), and the stream is
   * only fit to be closed. Asio's also supports `partial` when the next layer does; a TLS
   * handshake half done cannot be resumed here, so `partial` and `total` alone are ignored.
   */
  asyncHandshake(type: HandshakeType, handler: Handler<SslSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncHandshake:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncHandshake<T extends CompletionToken = UsePromise>(type: HandshakeType, token?: T & TokenCheck<T, SslSignature>): AsyncResult<T, SslSignature>;
  asyncHandshake(type: HandshakeType, token?: CompletionToken | Handler<SslSignature>): unknown {
    return asyncInitiate<SslSignature>((h) => this.#ops.initiateHandshake(type, h), token, this.#ops.executor);
  }

  /**
   * Reads at least one byte of decrypted data into `buffers` (Asio's
   * `ssl::stream::async_read_some`).
   *
   * Completes with `[ec, bytesTransferred]`: at least one byte and never more than fits (the
   * rest waits for the next read); `[null, 0]` without waiting for empty buffers; `eof` after
   * the peer's close_notify; `ssl.error.streamTruncated` (see the class notes); the TLS or
   * transport error (`beast.error.timeout` under a TcpStream deadline); `notConnected` before
   * the handshake; `alreadyStarted` while a read is pending (that one goes on); `badDescriptor`
   * after {@link SslStream.close}; `operationAborted` after `close()` or a cancellation.
   *
   * @param buffers The buffers that receive the bytes, filled in order. The list is copied at
   *   once; the buffers themselves must stay valid until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`: a pending read has taken
   * nothing (Node's TLS socket keeps what arrives), so it completes with `operationAborted` and
   * 0 and the stream is as it was; the next read gets every byte. Asio's supports `terminal`
   * and `partial`, when the next layer does.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return asyncInitiate<IoSignature>((h) => this.#ops.initiateRead(bufs, h), token, this.#ops.executor);
  }

  /**
   * Reads as {@link SslStream.asyncReadSome}, into the buffers `source.readTarget()` gives once
   * decrypted bytes are there: a read that waits holds no buffer of its caller's (an idle
   * WebSocket over TLS holds no read block). No Asio counterpart (see `LazyReadStream`).
   * `readTarget` is never called for a read that completes without bytes. Same errors,
   * completion and cancellation as `asyncReadSome`.
   *
   * @param source Gives the buffers to fill, asked only once bytes are there.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   */
  asyncReadSomeLazy(source: ReadTargetSource, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncReadSomeLazy:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSomeLazy<T extends CompletionToken = UsePromise>(source: ReadTargetSource, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSomeLazy(source: ReadTargetSource, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => this.#ops.initiateRead(source, h), token, this.#ops.executor);
  }

  /**
   * Encrypts and writes all of `buffers` (Asio's `ssl::stream::async_write_some`, which may
   * write fewer; here a write is never partial).
   *
   * Completes when Node's write callback runs, with `[ec, bytesTransferred]`: `null` and the
   * total; `[null, 0]` for empty buffers; `brokenPipe` once a shutdown started or the connection
   * is gone; the TLS or transport error (`beast.error.timeout` under a TcpStream deadline);
   * `notConnected` before the handshake; `alreadyStarted` while a write is pending (that one
   * goes on); `badDescriptor` after {@link SslStream.close}; `operationAborted` after `close()`
   * or a cancellation.
   *
   * @param buffers The bytes to write. The list is copied at once; the bytes are not: keep them
   *   untouched until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`. Bytes still queued in Node cannot be taken back:
   * while some are, the write completes with `operationAborted` and 0 and the TLS connection is
   * destroyed (the next layer closed with it), so the stream is only fit to be closed; once all
   * reached TLS and the transport, the request comes too late and the write completes normally.
   * Asio's also supports `partial` when the next layer does; here `partial` and `total` alone
   * are ignored.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    const bufs = copyBufferSequence(buffers);
    return asyncInitiate<IoSignature>((h) => this.#ops.initiateWrite(bufs, h), token, this.#ops.executor);
  }

  /**
   * Shuts TLS down (Asio's `ssl::stream::async_shutdown`): sends our close_notify (after pending
   * writes), then waits for the peer's. Data the peer sends meanwhile is discarded unless a read
   * is pending. Later writes fail with `brokenPipe`.
   *
   * Completes with `[ec]`: `null` once the peer's close_notify arrived; `streamTruncated` when
   * the transport ended without it (detectable over adapted next layers only); the TLS or
   * transport error; `notConnected` before the handshake; `alreadyStarted` while a shutdown is
   * pending; `badDescriptor` after {@link SslStream.close}; `operationAborted` after `close()`
   * or a cancellation.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`: the shutdown completes with `operationAborted`
   * and the TLS connection is destroyed (the next layer closed with it). Asio's also supports
   * `partial` when the next layer does; here `partial` and `total` alone are ignored.
   */
  asyncShutdown(handler: Handler<SslSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncShutdown:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncShutdown<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, SslSignature>): AsyncResult<T, SslSignature>;
  asyncShutdown(token?: CompletionToken | Handler<SslSignature>): unknown {
    return asyncInitiate<SslSignature>((h) => this.#ops.initiateShutdown(h), token, this.#ops.executor);
  }

  /**
   * Tears the connection down after a WebSocket closing handshake (Beast's `async_teardown` for
   * SSL streams): {@link SslStream.asyncShutdown}, then {@link SslStream.close}, whatever the
   * shutdown gave. Completes with `[ec]`: `null`, also when the shutdown met an end of stream
   * (`eof`, `streamTruncated`: the peer closed without answering); otherwise the shutdown's error.
   *
   * @param role Which end of the WebSocket connection this is; both do the same here (each side
   *   sends its close_notify and waits for the other's).
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`, forwarded to the shutdown: the stream is closed
   * and the teardown completes with `operationAborted`.
   */
  asyncTeardown(role: TeardownRole, handler: Handler<SslSignature>): void;
  /**
   * {@inheritDoc SslStream.asyncTeardown:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncTeardown<T extends CompletionToken = UsePromise>(role: TeardownRole, token?: T & TokenCheck<T, SslSignature>): AsyncResult<T, SslSignature>;
  asyncTeardown(role: TeardownRole, token?: CompletionToken | Handler<SslSignature>): unknown {
    return asyncSslTeardown(this, role, token);
  }

  /**
   * Closes the connection: the TLS socket is destroyed and the next layer closed. Pending
   * operations complete with `operationAborted` (posted); later ones fail with `badDescriptor`.
   */
  close(): void {
    this.#ops.close();
  }
}

// Handler tracking names this class's operations `ssl@<id>.<method>` (nothing while it is off).
trackOperations(SslStream, 'ssl');
