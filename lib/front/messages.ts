/**
 * `messages(stream)`: the messages a WebSocket stream receives, as an async iterable, over the
 * stream's own `asyncRead`. One read is outstanding at a time, and only while the consumer waits
 * for the next message: breaking out of the loop leaves the stream idle and usable.
 */

import { Buffer } from 'node:buffer';
import {
  asTuple,
  bindAbortSignal,
  FlatBuffer,
  error as netError,
  SystemError,
  type AsyncStream,
  type ErrorCode,
} from '../net/index.js';
import { CloseCode, error as wsError, type CloseReason, type Stream } from '../beast/websocket/index.js';
import { destroyStream } from './close.js';
import { describe, placeOf } from './errors.js';

/** A whole text message, as a string (UTF-8 already validated by the stream). */
export interface TextMessage {
  readonly kind: 'text';
  readonly data: string;
}

/** A whole binary message (its own copy: the stream's buffer is reused). */
export interface BinaryMessage {
  readonly kind: 'binary';
  readonly data: Buffer;
}

/** A whole message of either kind, the data as bytes (a text message's UTF-8). */
export interface ByteMessage {
  readonly kind: 'text' | 'binary';
  readonly data: Buffer;
}

/** A whole message: its kind tells how `data` is typed. */
export type Message = TextMessage | BinaryMessage;

/** The options of {@link messages}. */
export interface MessagesOptions {
  /** Ends the iteration: the pending read is cancelled (terminal) and the loop throws `operationAborted`. */
  readonly signal?: AbortSignal;
  /** `'string'` (default): text messages as strings; `'bytes'`: as their UTF-8 bytes. */
  readonly text?: 'string' | 'bytes';
}

/**
 * Whether a close code ends an iteration cleanly: a normal close, going away, no code at all, and
 * the codes applications define for themselves (3000-4999). Protocol and server errors (1002,
 * 1003, 1007-1014) are failures.
 */
export function isNormalClose(reason: CloseReason): boolean {
  const c = reason.code;
  return c === CloseCode.none || c === CloseCode.normal || c === CloseCode.goingAway || c === CloseCode.noStatus || (c >= 3000 && c <= 4999);
}

/**
 * The messages `stream` receives, whole, in order. Each is a {@link TextMessage} or a
 * {@link BinaryMessage} (with `{ text: 'bytes' }`, a {@link ByteMessage}).
 *
 * The loop ends cleanly when the peer closes with a normal code (1000, 1001, none, or 3000-4999;
 * `stream.reason()` holds it); it throws a `SystemError` on any failure: a close with an error
 * code (`.code` is `websocket.error.closed`, the message names the code), a protocol violation,
 * a lost connection, a timeout, an abort (`operationAborted`, `.cause` the signal's reason). The
 * error's message names the URL and the peer for streams the front door made. Pings are answered
 * by the reads, as always.
 *
 * ```ts
 * for await (const message of messages(ws)) console.log(message.kind, message.data);
 * ```
 */
export function messages<L extends AsyncStream>(stream: Stream<L>, options?: MessagesOptions & { text?: 'string' }): AsyncGenerator<Message, void, undefined>;
export function messages<L extends AsyncStream>(stream: Stream<L>, options: MessagesOptions & { text: 'bytes' }): AsyncGenerator<ByteMessage, void, undefined>;
export async function* messages<L extends AsyncStream>(
  stream: Stream<L>,
  options: MessagesOptions = {},
): AsyncGenerator<Message | ByteMessage, void, undefined> {
  const { signal } = options;
  const asBytes = options.text === 'bytes';
  const buffer = new FlatBuffer();
  for (;;) {
    const [ec] = await (signal === undefined
      ? stream.asyncRead(buffer, asTuple())
      : stream.asyncRead(buffer, asTuple(bindAbortSignal(signal))));
    if (ec !== null) {
      if (ec === wsError.closed && isNormalClose(stream.reason())) return;
      // Our own close finished while the loop waited (the consumer closed from inside it): the
      // read that was outstanding is aborted, and the stream ended as cleanly as a peer's close.
      if (ec === netError.operationAborted && signal?.aborted !== true && closedCleanly(stream)) return;
      // A failed stream is done with (DESIGN section 8): its socket goes now, whatever the layer
      // below did. After an abort the stream stays, fit for an asyncClose.
      if (ec !== netError.operationAborted) destroyStream(stream);
      throw readError(stream, ec, signal);
    }
    const kind = stream.gotText() ? 'text' : 'binary';
    const bytes = Buffer.concat(buffer.data()); // a copy: the buffer is reused for the next message
    buffer.consume(buffer.size());
    if (kind === 'text' && !asBytes) yield { kind, data: bytes.toString('utf8') };
    else yield { kind, data: bytes };
  }
}

function closedCleanly<L extends AsyncStream>(stream: Stream<L>): boolean {
  const r = stream.reason();
  return !stream.isOpen() && r.code !== CloseCode.none && isNormalClose(r);
}

function readError<L extends AsyncStream>(stream: Stream<L>, ec: ErrorCode, signal: AbortSignal | undefined): SystemError {
  let what = describe('read', placeOf(stream));
  if (ec === wsError.closed) {
    const r = stream.reason();
    what += `: the peer closed with ${r.code}${r.reason === '' ? '' : ` "${r.reason}"`}`;
  }
  const cause = ec === netError.operationAborted && signal?.aborted === true ? { cause: signal.reason as unknown } : undefined;
  return new SystemError(ec, what, cause);
}
