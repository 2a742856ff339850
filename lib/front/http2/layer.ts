/**
 * Http2Layer: one HTTP/2 stream as the next layer of a WebSocket stream (RFC 8441 section 5:
 * after the extended CONNECT, the stream's DATA frames carry the WebSocket's bytes). Reading and
 * writing go through `DuplexStream`, so HTTP/2 flow control is the backpressure a writer sees;
 * this module adds what differs from a TCP connection (section 6): an orderly end is END_STREAM,
 * a failure RST_STREAM with CANCEL, and a reset by the peer reads as a reset connection. It never
 * touches the session: other streams on it go on.
 */

import type { Http2Stream } from 'node:http2';
import { constants } from 'node:http2';

import {
  type Handler,
  type ConstBufferSequence,
  type MutableBufferSequence,
  enableTotalCancellation,
  asyncCompose,
  type ComposedSelf,
  CancellationType,
  error as netError,
  type ErrorCode,
  toExecutor,
  type Executor,
  type ExecutorLike,
  type AsyncStream,
  type IoSignature,
} from '../../net/index.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/index.js';
import { DuplexStream } from '../../beast/core/index.js';
import { type Role } from '../../beast/websocket/index.js';
import { asyncWaitFor, type WaitSignature } from './wait.js';

const scratch = new Uint8Array(4096);

/** What a teardown completes with. */
type TeardownSignature = [ec: ErrorCode | null];

/**
 * The next layer over one `Http2Stream`. A server makes it from the stream its `'stream'` event
 * gave; a client makes it empty, and `http2.asyncHandshake` opens the stream on a session and
 * attaches it. At most one read and one write at a time, as with any next layer.
 *
 * Closing (`close()`, which the WebSocket stream calls when it fails or times out) resets the
 * stream with CANCEL unless it already ended; the orderly end after a closing handshake is the
 * teardown: END_STREAM both ways, as a TCP teardown is FIN both ways.
 */
export class Http2Layer implements AsyncStream {
  readonly #executor: Executor;
  #stream: Http2Stream | null = null;
  #io: DuplexStream | null = null;
  #closedHere = false;

  /**
   * @param executor - the I/O executor (handlers without an executor of their own run there).
   * @param stream - the HTTP/2 stream to adopt (a server's); omitted on a client.
   */
  constructor(executor: ExecutorLike, stream?: Http2Stream) {
    this.#executor = toExecutor(executor);
    if (stream !== undefined) this.attach(stream);
  }

  /** The I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** The HTTP/2 stream, or `null` before a client's handshake opened one. */
  stream(): Http2Stream | null {
    return this.#stream;
  }

  /**
   * Adopts `stream` (what a client's handshake does once it opened the stream).
   *
   * @throws Error - when the layer already has a stream.
   */
  attach(stream: Http2Stream): void {
    if (this.#stream !== null) throw new Error('Http2Layer.attach: the layer already has a stream');
    this.#stream = stream;
    this.#io = new DuplexStream(this.#executor, stream);
  }

  /** Whether the layer has a stream that neither side closed. */
  isOpen(): boolean {
    return this.#io !== null && this.#io.isOpen() && !this.#stream!.closed;
  }

  /**
   * Whether the peer reset the stream: it closed with an error code that we did not send. Node
   * reports a peer's RST_STREAM as end of stream first and the code a turn later, so a read may
   * see end of stream before this becomes true.
   */
  wasReset(): boolean {
    const s = this.#stream;
    return s !== null && !this.#closedHere && s.rstCode !== undefined && s.rstCode !== constants.NGHTTP2_NO_ERROR;
  }

  /**
   * Resets the stream with CANCEL (RFC 8441 section 6: RST_STREAM stands for a TCP reset) unless
   * it already closed; pending operations complete with `operationAborted`. The session stays.
   */
  close(): void {
    const s = this.#stream;
    if (s === null || this.#closedHere) return;
    this.#closedHere = true;
    if (!s.closed && !s.destroyed) s.close(constants.NGHTTP2_CANCEL);
    this.#io!.close();
  }

  /** Ends the sending side: END_STREAM, which the peer reads as end of stream. */
  shutdown(): void {
    this.#io?.shutdown();
  }

  /**
   * Reads some bytes (DATA frames) into `buffers`. As `DuplexStream.asyncReadSome`, except that
   * a stream the peer reset completes with `net.error.connectionReset`, and a layer without a
   * stream with `notConnected`. Completes with `[ec, bytesTransferred]`.
   *
   * @param buffers The buffers that receive the bytes, filled in order; they must stay valid
   *   until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, forwarded to the
   * `DuplexStream` read: a waiting read completes with `operationAborted` and 0, nothing was
   * taken from the stream, and the layer is as it was.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc Http2Layer.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: TokenFor<IoSignature>): unknown {
    return this.#ioOp(token, (io, h) => io.asyncReadSome(buffers, h));
  }

  /**
   * Writes `buffers` as DATA frames. Completes when Node took the bytes, which HTTP/2 flow
   * control delays while the peer's window is closed: the backpressure of a slow reader. Completes
   * with `[ec, bytesTransferred]`: errors as `DuplexStream.asyncWriteSome`, with
   * `connectionReset` after a reset by the peer and `notConnected` for a layer without a stream.
   *
   * @param buffers The bytes to write; Node does not copy them: keep them untouched until the
   *   handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesTransferred: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * None, as for `DuplexStream.asyncWriteSome`: bytes handed to Node cannot be taken back. A
   * request is ignored; {@link Http2Layer.close} resets the stream and abandons the write.
   */
  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  /**
   * {@inheritDoc Http2Layer.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesTransferred)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, IoSignature>): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: TokenFor<IoSignature>): unknown {
    return this.#ioOp(token, (io, h) => io.asyncWriteSome(buffers, h));
  }

  #ioOp(token: TokenFor<IoSignature> | undefined, start: (io: DuplexStream, h: Handler<IoSignature>) => void): unknown {
    return asyncCompose<IoSignature, TokenFor<IoSignature> | undefined>((self) => this.#ioSteps(self, start), token, this.#executor);
  }

  // A generator method, made once with the class: a generator function expression per call
  // would cost V8 a new prototype and map on every read and write (see `asyncCompose`).
  *#ioSteps(self: ComposedSelf<IoSignature>, start: (io: DuplexStream, h: Handler<IoSignature>) => void) {
    self.resetCancellationState(enableTotalCancellation, enableTotalCancellation);
    const io = this.#io;
    if (io === null) return self.complete(netError.notConnected, 0);
    const [ec, n] = yield* self.call<IoSignature>((h) => start(io, h));
    self.complete(this.#translate(ec), n);
  }

  /** A failure caused by the peer's RST_STREAM, as a TCP reset would be reported. */
  #translate(ec: ErrorCode | null): ErrorCode | null {
    if (ec === null || ec === netError.operationAborted && this.#closedHere) return ec;
    return this.wasReset() ? netError.connectionReset : ec;
  }

  /**
   * The teardown after a closing handshake (what the WebSocket stream calls instead of the TCP
   * one): a server ends its side first and reads until the client's END_STREAM; a client reads
   * until the server's END_STREAM and then ends its side; both wait until Node closed the
   * stream, so that no RST_STREAM overtakes the END_STREAM. The layer is closed at the end,
   * whatever happened. Completes with `[ec]`: `null` (end of stream is success); the read's
   * error; `connectionReset` when the peer reset the stream; `notConnected` without a stream.
   *
   * @param role The side this layer's WebSocket stream takes.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`, forwarded to the read or wait in progress: the
   * stream is reset (the layer closed) and the teardown completes with `operationAborted`. A
   * request that arrives while a read's completion is on its way is honoured at the next step,
   * the same way, unless the stream has closed by then (nothing is left to do: the teardown
   * completes as it went). `partial` and `total` alone are ignored.
   */
  asyncTeardown(role: Role, handler: Handler<TeardownSignature>): void {
    asyncCompose<TeardownSignature, Handler<TeardownSignature>>((self) => this.#teardownSteps(self, role), handler, this.#executor);
  }

  /** The steps of {@link Http2Layer.asyncTeardown} (a generator method, made once with the class). */
  *#teardownSteps(self: ComposedSelf<TeardownSignature>, role: Role) {
    const s = this.#stream;
    if (s === null) return self.complete(netError.notConnected);
    if (role === 'server') this.shutdown();
    // A request recorded while a step's completion was queued stops the teardown before its
    // next step (DESIGN section 4.5); none is left once the stream closed.
    const stopped = (): boolean => self.cancelled() !== CancellationType.none;
    let ec: ErrorCode | null = null;
    for (;;) {
      const [e] = yield* self.call<IoSignature>((h) => this.asyncReadSome(scratch, h));
      if (e !== null) {
        ec = e === netError.eof ? null : e;
        break;
      }
      if (stopped()) {
        ec = netError.operationAborted;
        break;
      }
    }
    if (ec === null && !s.closed && stopped()) ec = netError.operationAborted;
    if (ec === null && role === 'client') this.shutdown();
    if (ec === null && !s.closed) {
      const [we] = yield* self.call<WaitSignature>((h) => asyncWaitFor(this.#executor, s, ['close'], h, () => (s.closed ? [null, 'close', undefined] : null)));
      ec = we;
      if (ec === null && this.wasReset()) ec = netError.connectionReset;
    }
    this.close();
    self.complete(ec);
  }
}
