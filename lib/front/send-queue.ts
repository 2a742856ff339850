/**
 * SendQueue: many writers, one WebSocket stream. A stream allows one write at a time (Beast's
 * rule, which its examples meet with a queue per session); the queue takes messages from any
 * number of callers, writes them one after the other, and completes each send when its message
 * was written. It is bounded in messages and bytes, with a policy for when the bound is reached.
 * It must never hold more than its bounds, never complete a send inside its call, and never let
 * a send wait on a stream that is closed.
 */

import { Buffer } from 'node:buffer';
import {
  asyncCompose,
  type ComposedSelf,
  bindCancellationSlot,
  CancellationType,
  getAssociatedCancellationSlot,
  error as netError,
  type AsyncResult,
  type TokenCheck,
  type AsyncStream,
  type ErrorCode,
  type Handler,
  type TokenFor,
  type UsePromise,
} from '../net/index.js';
import { CloseCode, PreparedMessage, error as wsError, type Stream } from '../beast/websocket/index.js';
import { closeWithin } from './close.js';
import { describe, initiateDescribed, placeOf } from './errors.js';

/** The completion signature of a send: the error alone. */
export type SendSignature = [ec: ErrorCode | null];

/**
 * What happens to a send that would take the queue past a bound:
 * - `'fail'`: that send completes with `net.error.noBufferSpace`; the queue and the stream go on.
 * - `'close'`: the peer is too slow to keep: the stream is closed with 1008 (policy violation),
 *   bounded by `closeTimeout`; this send and every queued one complete with `websocket.error.closed`.
 */
export type WhenFull = 'fail' | 'close';

/** The bounds of a {@link SendQueue}. */
export interface SendQueueOptions {
  /** The most messages waiting or being written. Default 1024. */
  readonly maxMessages?: number;
  /** The most bytes waiting or being written (strings count their UTF-8 bytes). Default 16 MiB. */
  readonly maxBytes?: number;
  /** The policy when a bound is reached. Default `'fail'`. */
  readonly whenFull?: WhenFull;
  /** With `'close'`: how long the closing handshake may take before the socket is closed. Default 5000 ms. */
  readonly closeTimeout?: number;
}

interface Entry {
  readonly data: Uint8Array | PreparedMessage;
  /** The payload's bytes, what the bounds count. */
  readonly size: number;
  readonly text: boolean;
  readonly handler: Handler<SendSignature>;
  onCancel: ((type: CancellationType) => void) | null;
}

/**
 * A bounded queue of outgoing messages for one stream. Strings go as text messages, bytes as
 * binary; a message's bytes are kept by reference until its send completes (do not change them).
 * A {@link PreparedMessage} goes as a text message, written with `asyncWritePrepared`: a
 * broadcast frames (and, without context takeover, compresses) it once for every member's queue.
 * Only the queue may write to the stream while it is in use: use it for every message, or for none.
 *
 * ```ts
 * const queue = new SendQueue(ws, { maxMessages: 100, whenFull: 'close' });
 * queue.send('tick', (ec) => { if (ec) console.error(ec.message()); });
 * await queue.send(bytes);
 * ```
 */
export class SendQueue<L extends AsyncStream = AsyncStream> {
  readonly #stream: Stream<L>;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #whenFull: WhenFull;
  readonly #closeTimeout: number;
  readonly #queue: Entry[] = [];
  #bytes = 0;
  #writing: Entry | null = null;
  #closed = false;

  constructor(stream: Stream<L>, options: SendQueueOptions = {}) {
    this.#stream = stream;
    this.#maxMessages = positive('maxMessages', options.maxMessages ?? 1024);
    this.#maxBytes = positive('maxBytes', options.maxBytes ?? 16 * 1024 * 1024);
    this.#whenFull = options.whenFull ?? 'fail';
    this.#closeTimeout = positive('closeTimeout', options.closeTimeout ?? 5000);
  }

  /** The stream the queue writes to. */
  stream(): Stream<L> {
    return this.#stream;
  }

  /** The messages waiting or being written. */
  pendingMessages(): number {
    return this.#queue.length + (this.#writing === null ? 0 : 1);
  }

  /** The bytes waiting or being written. */
  pendingBytes(): number {
    return this.#bytes;
  }

  /**
   * Queues `data` (a string or a {@link PreparedMessage} as a text message, bytes as a binary
   * message) and completes once it was written to the stream. A prepared message counts its
   * payload's size against `maxBytes`.
   *
   * Signature `[ec]`: `null` when written; `net.error.noBufferSpace` when the queue is full and
   * the policy is `'fail'`; `websocket.error.closed` when the stream is closed, or closes before
   * the message could be written, or the policy closed it; the write's error otherwise. With the
   * default token the promise rejects with a `SystemError` naming the URL and the peer.
   * Per-operation cancellation: any type while the message waits (it is removed, unsent); terminal
   * while it is being written (forwarded to the write; the stream is then fit only for closing).
   * Cancelled sends complete with `operationAborted`.
   */
  send(data: string | Uint8Array | PreparedMessage, handler: Handler<SendSignature>): void;
  send<T extends TokenFor<SendSignature> | undefined = undefined>(data: string | Uint8Array | PreparedMessage, token?: T & TokenCheck<T, SendSignature>): AsyncResult<T extends undefined ? UsePromise : T, SendSignature>;
  send(data: string | Uint8Array | PreparedMessage, token?: TokenFor<SendSignature>): unknown {
    const text = typeof data === 'string' || data instanceof PreparedMessage;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let reason = '';
    const queue = this;
    return initiateDescribed<SendSignature, TokenFor<SendSignature> | undefined>(
      (t) => asyncCompose<SendSignature, TokenFor<SendSignature>>(
        (self) => oneStep(self, (h) => (reason = queue.#enqueue(bytes, text, h))), t, this.#stream),
      token,
      (ec) => {
        const what = describe('send', placeOf(this.#stream));
        if (ec === wsError.closed) return `${what}: the stream is closed${reason}`;
        return `${what}${reason}`;
      },
    );
  }

  /** Takes a message; returns a note for the error message when it is refused. */
  #enqueue(data: Uint8Array | PreparedMessage, text: boolean, handler: Handler<SendSignature>): string {
    const size = data instanceof PreparedMessage ? data.size() : data.length;
    if (this.#closed || !this.#stream.isOpen()) {
      handler(wsError.closed);
      return '';
    }
    if (this.pendingMessages() + 1 > this.#maxMessages || this.#bytes + size > this.#maxBytes) {
      const note = ` (send queue full: ${this.pendingMessages()} messages, ${this.#bytes} bytes)`;
      if (this.#whenFull === 'fail') {
        handler(netError.noBufferSpace);
        return note;
      }
      this.#closeSlowPeer();
      handler(wsError.closed);
      return `, closed with 1008${note}`;
    }
    const entry: Entry = { data, size, text, handler, onCancel: null };
    const slot = getAssociatedCancellationSlot(handler);
    if (slot.isConnected()) {
      entry.onCancel = (type) => {
        if ((type & CancellationType.all) === 0) return;
        const i = this.#queue.indexOf(entry);
        if (i < 0) return; // being written: the write's own slot has it
        this.#queue.splice(i, 1);
        this.#bytes -= entry.size;
        slot.clear();
        // Not inside the caller's emit(): the handler runs after it returns.
        queueMicrotask(() => entry.handler(netError.operationAborted));
      };
      slot.assign(entry.onCancel);
    }
    this.#bytes += size;
    this.#queue.push(entry);
    if (this.#writing === null) this.#next();
    return '';
  }

  #next(): void {
    const entry = this.#queue.shift();
    if (entry === undefined) return;
    this.#writing = entry;
    const stream = this.#stream;
    if (!stream.isOpen()) return this.#finish(entry, wsError.closed);
    stream.text(entry.text);
    const slot = getAssociatedCancellationSlot(entry.handler);
    const onWrite = (ec: ErrorCode | null): void => this.#finish(entry, ec);
    const connected = slot.isConnected();
    if (connected) slot.clear();
    const h = connected ? bindCancellationSlot(slot, onWrite) : onWrite;
    if (entry.data instanceof PreparedMessage) stream.asyncWritePrepared(entry.data, h);
    else stream.asyncWrite(entry.data, h);
  }

  #finish(entry: Entry, ec: ErrorCode | null): void {
    this.#writing = null;
    this.#bytes -= entry.size;
    entry.handler(ec);
    if (ec === null) return this.#next();
    // The stream failed or closed: nothing queued can be written any more.
    this.#failAll(this.#stream.isOpen() ? ec : wsError.closed);
  }

  #failAll(ec: ErrorCode): void {
    const all = this.#queue.splice(0);
    for (const e of all) {
      this.#bytes -= e.size;
      e.handler(ec);
    }
  }

  #closeSlowPeer(): void {
    this.#closed = true;
    this.#failAll(wsError.closed);
    closeWithin(this.#stream, { code: CloseCode.policyError, reason: 'send queue full' }, this.#closeTimeout, () => {});
  }
}

function positive(name: string, v: number): number {
  if (!(v > 0)) throw new RangeError(`SendQueue: ${name} must be positive, not ${v}`);
  return v;
}

const queues = new WeakMap<object, SendQueue<AsyncStream>>();

/**
 * The stream's own send queue, made on first use with `options` (later calls return the same
 * queue and ignore `options`). {@link send} uses it.
 */
export function sendQueueOf<L extends AsyncStream>(stream: Stream<L>, options?: SendQueueOptions): SendQueue<L> {
  let q = queues.get(stream) as SendQueue<L> | undefined;
  if (q === undefined) {
    q = new SendQueue(stream, options);
    queues.set(stream, q as unknown as SendQueue<AsyncStream>);
  }
  return q;
}

/**
 * Sends `data` on `stream` through its send queue ({@link sendQueueOf}): a string as a text
 * message, bytes as a binary message. Any number of sends may be outstanding; each completes once
 * its message was written. Signature `[ec]`, as {@link SendQueue.send}.
 *
 * ```ts
 * await send(ws, 'hello');
 * ```
 */
export function send<L extends AsyncStream>(stream: Stream<L>, data: string | Uint8Array | PreparedMessage, handler: Handler<SendSignature>): void;
export function send<L extends AsyncStream, T extends TokenFor<SendSignature> | undefined = undefined>(
  stream: Stream<L>,
  data: string | Uint8Array | PreparedMessage,
  token?: T & TokenCheck<T, SendSignature>,
): AsyncResult<T extends undefined ? UsePromise : T, SendSignature>;
export function send<L extends AsyncStream>(stream: Stream<L>, data: string | Uint8Array | PreparedMessage, token?: TokenFor<SendSignature>): unknown {
  return sendQueueOf(stream).send(data, token);
}

/**
 * A composed operation of one step, `op`: what a send is. A generator of the module, where a
 * generator function expression per send would cost V8 a new prototype and map each time (see
 * `asyncCompose`).
 */
function* oneStep(self: ComposedSelf<SendSignature>, op: (h: Handler<SendSignature>) => void) {
  const [ec] = yield* self.call<SendSignature>(op);
  self.complete(ec);
}
