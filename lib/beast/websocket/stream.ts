/**
 * `websocket.Stream<NextLayer>`: Beast's `websocket::stream`, over any next layer that reads and
 * writes some bytes (a `TcpStream`, a `TcpSocket`, an `SslStream`, a `TestStream`, a Node Duplex
 * through `DuplexStream`). The public class is built in three layers, one object per connection:
 * stream-settings.ts (the next layer, observers and options), stream-handshake.ts (the opening
 * handshakes), and this file (reads, writes, ping, pong and close). Each holds only initiating
 * functions; each operation is a composed operation of its own in `ops/`.
 */

import type { Handler } from '../../net/associators.js';
import {
  buffer as toBuffer,
  copyBufferSequence,
  ownBufferSequence,
  type ConstBufferSequence,
  type MutableBufferSequence,
} from '../../net/buffer.js';
import type { DynamicBuffer } from '../../net/dynamic-buffer.js';
import type { AsyncStream } from '../../net/stream.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/token.js';
import { checkCloseReason, closeReason, type CloseReason } from './close.js';
import { Opcode } from './frame.js';
import { asyncCloseOp } from './ops/close.js';
import { asyncPingOp, startIdlePing, type ControlSignature } from './ops/ping.js';
import { asyncReadSomeOp, type ReadSignature } from './ops/read.js';
import { asyncReadOp, readSizeHintFor } from './ops/read-message.js';
import { asyncWriteSomeOp, type WriteSignature } from './ops/write.js';
import type { PreparedMessage } from './prepared.js';
import { StreamHandshake } from './stream-handshake.js';
import { setIdlePingStarter, StreamImpl, tcpFrameSize, type NextLayerHooks } from './stream-impl.js';
import { trackOperations } from '../../net/handler-tracking.js';

export type { ReadSignature } from './ops/read.js';
export type { WriteSignature } from './ops/write.js';
export type { ControlSignature } from './ops/ping.js';
export type { HandshakeSignature } from './ops/handshake.js';

// What the keep-alive timer starts (ops/ping.js imports stream-impl.js, so the hook is set here,
// once, rather than a pointer per stream).
setIdlePingStarter(startIdlePing);

function isDynamicBuffer(x: unknown): x is DynamicBuffer {
  return typeof x === 'object' && x !== null && typeof (x as DynamicBuffer).prepare === 'function';
}

/** A payload given as bytes or as text (encoded as UTF-8). */
export type Payload = Uint8Array | string;

/**
 * A WebSocket stream (RFC 6455) over a next layer. Like Beast's, it is not safe to use from
 * several strands at once; at most one read, one write, one ping or pong, and one close may be
 * outstanding together, and a second operation of a kind that is already outstanding completes
 * with `net.error.alreadyStarted` instead of corrupting the stream. While the opening handshake
 * is outstanding, every other operation completes with `net.error.inProgress`. A `deferred`
 * operation counts once launched, each launch as one operation. Argument errors throw before
 * anything changes; buffer sequences are copied at initiation (the bytes stay the caller's).
 *
 * ```ts
 * const ws = new Stream(new TcpStream(ioc));
 * await ws.nextLayer().asyncConnect(endpoints);
 * await ws.asyncHandshake('example.com', '/');
 * await ws.asyncWrite(buffer('hello'));
 * const b = new FlatBuffer();
 * await ws.asyncRead(b);
 * await ws.asyncClose(CloseCode.normal);
 * ```
 */
export class Stream<NextLayer extends AsyncStream> extends StreamHandshake<NextLayer> {
  constructor(nextLayer: NextLayer & NextLayerHooks) {
    super(new StreamImpl(nextLayer));
  }

  // ---- reading ---------------------------------------------------------------------------------

  /**
   * A suggested size for the next read: with a number, from that initial size (1536 by default);
   * with a dynamic buffer, also bounded by its free space. Never above `readMessageMax`.
   */
  readSizeHint(initialOrBuffer: number | DynamicBuffer = tcpFrameSize): number {
    if (isDynamicBuffer(initialOrBuffer)) return readSizeHintFor(this.impl, initialOrBuffer);
    return this.impl.readSizeHint(initialOrBuffer);
  }

  /**
   * Reads a whole message and appends it to `buffer`.
   *
   * Completes with `[ec, bytesAppended]` once the message is complete, or with an error:
   * `websocket.error.closed` when the peer closed (its reason is in {@link reason}), a
   * protocol error after the connection was failed with its close code, `bufferOverflow` when the
   * buffer cannot grow, `operationAborted` after our own close. Control frames received meanwhile
   * are handled (pings answered) and reported to the control callback.
   *
   * @param buffer The dynamic buffer the message is appended to; its `maxSize()` bounds what one
   *   read may append (`bufferOverflow` beyond it), as does {@link readMessageMax}.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesAppended: number)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types:
   * - `terminal`: the read stops and completes with `operationAborted`; the connection is failed
   *   and closed, the stream can only be discarded.
   * - `total`: only while the read waits behind a close that owns the read side; nothing was
   *   read, the stream is unchanged.
   */
  asyncRead(buffer: DynamicBuffer, handler: Handler<ReadSignature>): void;
  /**
   * {@inheritDoc Stream.asyncRead:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesAppended)`.
   */
  asyncRead<T extends CompletionToken = UsePromise>(buffer: DynamicBuffer, token?: T & TokenCheck<T, ReadSignature>): AsyncResult<T, ReadSignature>;
  asyncRead(buffer: DynamicBuffer, token?: TokenFor<ReadSignature>): unknown {
    return this.start('read', token, true, (h, done) => asyncReadOp(this.impl, buffer, 0, false, h, done));
  }

  /**
   * Reads some message data: into a dynamic buffer (at most `limit` bytes; 0 for no limit), or
   * into `buffers` from their start. Completes after some data (or an empty frame) was read, with
   * the same errors and cancellation as {@link asyncRead}; {@link isMessageDone} tells whether the
   * message ended.
   *
   * @param buffer The dynamic buffer the data is appended to.
   * @param limit The most bytes to append; 0 for no limit but the buffer's.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesRead: number)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * As {@link asyncRead}: `terminal` (the connection is then failed and closed), and `total` only
   * while waiting behind a close.
   */
  asyncReadSome(buffer: DynamicBuffer, limit: number, handler: Handler<ReadSignature>): void;
  /**
   * {@inheritDoc Stream.asyncReadSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesRead)`.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffer: DynamicBuffer, limit: number, token?: T & TokenCheck<T, ReadSignature>): AsyncResult<T, ReadSignature>;
  /**
   * {@inheritDoc Stream.asyncReadSome:0}
   * @param buffers The buffers that receive the data, filled from their start.
   */
  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<ReadSignature>): void;
  /**
   * {@inheritDoc Stream.asyncReadSome:0}
   * @param buffers The buffers that receive the data, filled from their start.
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T & TokenCheck<T, ReadSignature>): AsyncResult<T, ReadSignature>;
  asyncReadSome(target: DynamicBuffer | MutableBufferSequence, a?: number | TokenFor<ReadSignature>, b?: TokenFor<ReadSignature>): unknown {
    if (isDynamicBuffer(target)) {
      const limit = typeof a === 'number' ? a : 0;
      return this.start('read', b, true, (h, done) => asyncReadOp(this.impl, target, limit, true, h, done));
    }
    const token = a as TokenFor<ReadSignature> | undefined;
    const buffers = copyBufferSequence(target); // the list is ours now, the bytes stay the caller's
    return this.start('read', token, true, (h, done) => asyncReadSomeOp(this.impl, buffers, h, done));
  }

  // ---- writing ---------------------------------------------------------------------------------

  /**
   * Writes a whole message (as {@link asyncWriteSome} with `fin` true). The opcode comes from
   * {@link binary} / {@link text}. Completes with `[ec, bytesSent]`.
   *
   * @param buffers The message; the buffers must stay unchanged until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesSent: number)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * As {@link asyncWriteSome}: `terminal` (the stream is then fit only to be closed), and `total`
   * while waiting behind other writes, when nothing was sent.
   */
  asyncWrite(buffers: ConstBufferSequence, handler: Handler<WriteSignature>): void;
  /**
   * {@inheritDoc Stream.asyncWrite:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesSent)`.
   */
  asyncWrite<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T & TokenCheck<T, WriteSignature>): AsyncResult<T, WriteSignature>;
  asyncWrite(buffers: ConstBufferSequence, token?: TokenFor<WriteSignature>): unknown {
    return this.asyncWriteSome(true, buffers, token as Handler<WriteSignature>);
  }

  /**
   * Writes part of a message: always whole frames, so pings, pongs and a close may go out
   * alongside; `fin` ends the message. The first part takes its opcode from {@link binary} /
   * {@link text}; later parts are continuations. Completes with `[ec, bytesSent]`.
   *
   * @param fin True for the last part of the message.
   * @param buffers The part to send. The list is copied at once; the bytes it refers to must stay
   *   unchanged until the handler runs.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesSent: number)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types:
   * - `terminal`: the write stops and completes with `operationAborted`; a frame may be half
   *   sent, so the stream is then fit only to be closed.
   * - `total`: only while it waits for the write side behind a ping, a pong or a close (ours, a
   *   read's reply, or a keep-alive ping): nothing of it was sent, the stream is unchanged.
   */
  asyncWriteSome(fin: boolean, buffers: ConstBufferSequence, handler: Handler<WriteSignature>): void;
  /**
   * {@inheritDoc Stream.asyncWriteSome:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, bytesSent)`.
   */
  asyncWriteSome<T extends CompletionToken = UsePromise>(fin: boolean, buffers: ConstBufferSequence, token?: T & TokenCheck<T, WriteSignature>): AsyncResult<T, WriteSignature>;
  asyncWriteSome(fin: boolean, buffers: ConstBufferSequence, token?: TokenFor<WriteSignature>): unknown {
    const seq = ownBufferSequence(buffers); // the list is ours now, the bytes stay the caller's
    return this.start('write', token, true, (h, done) => asyncWriteSomeOp(this.impl, fin, seq, h, done));
  }

  /**
   * Writes a whole message whose frames were built once for many streams (see
   * {@link PreparedMessage}): the bytes are those {@link asyncWrite} would send for the message's
   * payload, but a server stream shares them with every other stream of the same write settings
   * instead of framing (and, without context takeover, compressing) the payload again. A client
   * stream masks every frame with a fresh key, so it frames the payload itself. The opcode comes
   * from {@link binary} / {@link text}; the frames go out in one write (control frames wait for
   * the whole message). Counts as a write: one write at a time. Completes with
   * `[ec, payloadBytes]`.
   *
   * @param message The message, prepared once; it may be written to any number of streams, at
   *   the same time.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, bytesSent: number)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * As {@link asyncWriteSome}: `terminal` (a frame may be half sent, so the stream is then fit
   * only to be closed), and `total` only while it waits for the write side behind another
   * operation: nothing of it was sent, the stream is unchanged.
   */
  asyncWritePrepared(message: PreparedMessage, handler: Handler<WriteSignature>): void;
  /**
   * {@inheritDoc Stream.asyncWritePrepared:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, payloadBytes)`.
   */
  asyncWritePrepared<T extends CompletionToken = UsePromise>(message: PreparedMessage, token?: T & TokenCheck<T, WriteSignature>): AsyncResult<T, WriteSignature>;
  asyncWritePrepared(message: PreparedMessage, token?: TokenFor<WriteSignature>): unknown {
    return this.start('write', token, true, (h, done) => asyncWriteSomeOp(this.impl, true, message, h, done));
  }

  // ---- control frames --------------------------------------------------------------------------

  /**
   * Sends a ping with `data` (at most 125 bytes). Completes with `[ec]` once it was written; the
   * pong arrives through a read's control callback.
   *
   * @param data The payload: a string (UTF-8) or bytes, at most 125 bytes.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types:
   * - `terminal`: the ping stops and completes with `operationAborted`; the stream is then fit
   *   only to be closed.
   * - `total`: only while waiting behind a write; nothing was sent, the stream is unchanged.
   */
  asyncPing(data: Payload, handler: Handler<ControlSignature>): void;
  /**
   * {@inheritDoc Stream.asyncPing:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncPing<T extends CompletionToken = UsePromise>(data: Payload, token?: T & TokenCheck<T, ControlSignature>): AsyncResult<T, ControlSignature>;
  asyncPing(data: Payload, token?: TokenFor<ControlSignature>): unknown {
    const payload = controlPayload(data);
    return this.start('ping', token, false, (h, done) => asyncPingOp(this.impl, Opcode.ping, payload, h, done));
  }

  /**
   * Sends an unsolicited pong (a heartbeat); completes with `[ec]` once it was written.
   *
   * @param data The payload: a string (UTF-8) or bytes, at most 125 bytes.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * As {@link asyncPing}: `terminal` (the stream is then fit only to be closed), and `total` while
   * waiting behind a write.
   */
  asyncPong(data: Payload, handler: Handler<ControlSignature>): void;
  /**
   * {@inheritDoc Stream.asyncPong:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncPong<T extends CompletionToken = UsePromise>(data: Payload, token?: T & TokenCheck<T, ControlSignature>): AsyncResult<T, ControlSignature>;
  asyncPong(data: Payload, token?: TokenFor<ControlSignature>): unknown {
    const payload = controlPayload(data);
    return this.start('ping', token, false, (h, done) => asyncPingOp(this.impl, Opcode.pong, payload, h, done));
  }

  /**
   * Starts the closing handshake: sends a close frame with `reason` (a code, or a code and text;
   * code 0 sends an empty close frame), waits for the peer's close frame and tears the connection
   * down. Completes with `[ec]`. After it starts, only reads may be started; a pending read then
   * completes with `operationAborted`. Throws a `RangeError`, sending nothing, for a code an
   * endpoint may not send (RFC 6455 section 7.4: 1004, 1005, 1006, 1015, outside 1000–4999, a
   * reason without a code) or a reason over 123 bytes of UTF-8.
   *
   * @param reason The close code, or a code and reason text from {@link closeReason}.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types:
   * - `total`: only while waiting behind a write; nothing was sent, the stream is unchanged.
   * - `terminal`: otherwise; the close completes with `operationAborted` and the next layer is
   *   closed.
   */
  asyncClose(reason: CloseReason | number, handler: Handler<ControlSignature>): void;
  /**
   * {@inheritDoc Stream.asyncClose:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncClose<T extends CompletionToken = UsePromise>(reason: CloseReason | number, token?: T & TokenCheck<T, ControlSignature>): AsyncResult<T, ControlSignature>;
  asyncClose(reason: CloseReason | number, token?: TokenFor<ControlSignature>): unknown {
    const cr = typeof reason === 'number' ? closeReason(reason) : reason;
    checkCloseReason(cr);
    return this.start('close', token, false, (h, done) => asyncCloseOp(this.impl, cr, h, done));
  }
}

function controlPayload(data: Payload): Uint8Array {
  const bytes = typeof data === 'string' ? toBuffer(data) : data;
  if (bytes.length > 125) throw new RangeError('a control frame payload is at most 125 bytes');
  return bytes;
}

// Handler tracking names this class's operations `websocket@<id>.<method>` (nothing while it is off).
trackOperations(StreamHandshake, 'websocket');
trackOperations(Stream, 'websocket');
