/**
 * The HTTP/1.1 serializer (Beast's `serializer` with `prepare_payload`'s framing rule): turns a
 * {@link Request} or {@link Response} into the buffers to send, the header as one buffer and
 * the body as it is (never copied). No I/O here; an invalid message throws `TypeError` at
 * construction, before any byte is produced.
 */

import { Buffer } from 'node:buffer';

import { BuffersSuffix } from '../../net/buffer.js';
import { isFieldValue, isTarget, isToken, listElements } from './field-syntax.js';
import { obsoleteReason, Request, type Message } from './message.js';

const CRLF = new Uint8Array([0x0d, 0x0a]);
const LAST_CHUNK = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]); // "0\r\n\r\n": no trailer
const CRLF_LAST_CHUNK = new Uint8Array([0x0d, 0x0a, 0x30, 0x0d, 0x0a, 0x0d, 0x0a]);

/** Plain `Uint8Array` views over Node buffers, so callers never see `Buffer`'s `slice`. */
function latin1(s: string): Uint8Array {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The body of `msg` as bytes: a string is encoded as UTF-8, bytes are used as they are. */
export function bodyBytes(msg: Message): Uint8Array {
  if (typeof msg.body !== 'string') return msg.body;
  const b = Buffer.from(msg.body, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function checkVersion(version: number): string {
  if (version !== 10 && version !== 11) throw new TypeError(`invalid HTTP version ${version}: use 10 or 11`);
  return version === 10 ? 'HTTP/1.0' : 'HTTP/1.1';
}

/** Whether the Transfer-Encoding fields end with `chunked` (RFC 9112 section 6.1). */
function isChunked(msg: Message): boolean {
  const codings = msg.fields.getAll('Transfer-Encoding').flatMap(listElements).filter((c) => c !== '');
  return codings.length > 0 && codings[codings.length - 1].toLowerCase() === 'chunked';
}

// Methods that define a meaning for enclosed content: they get `Content-Length: 0` when empty
// (RFC 9110 section 8.6; Beast's list is OPTIONS, PUT and POST, PATCH added).
const contentMethods = new Set(['POST', 'PUT', 'PATCH', 'OPTIONS']);

/**
 * The start line and the framing field the serializer adds: `Content-Length` when the message
 * has neither `Content-Length` nor `Transfer-Encoding`, for a non-empty body, a request whose
 * method carries content, and every response that may have a body (so the peer need not read
 * to end of stream). 1xx, 204 and 304 responses get none and must have an empty body.
 */
function header(msg: Message, body: Uint8Array): string {
  const fields = msg.fields;
  let start: string;
  let addLength: boolean;
  if (msg instanceof Request) {
    if (!isToken(msg.method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(msg.method)}`);
    if (!isTarget(msg.target)) throw new TypeError(`invalid HTTP request-target ${JSON.stringify(msg.target)}`);
    start = `${msg.method} ${msg.target} ${checkVersion(msg.version)}\r\n`;
    addLength = body.length > 0 || contentMethods.has(msg.method);
  } else {
    const status = msg.status;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new TypeError(`invalid HTTP status ${status}`);
    const reason = msg.reason === '' ? obsoleteReason(status) : msg.reason;
    if (!isFieldValue(reason)) throw new TypeError(`invalid HTTP reason phrase ${JSON.stringify(reason)}`);
    start = `${checkVersion(msg.version)} ${status} ${reason}\r\n`;
    const bodiless = status < 200 || status === 204 || status === 304;
    if (bodiless && body.length > 0) throw new TypeError(`a ${status} response cannot have a body`);
    addLength = !bodiless;
  }
  if (fields.has('Content-Length') || fields.has('Transfer-Encoding')) addLength = false;
  return `${start}${fields.toString()}${addLength ? `Content-Length: ${body.length}\r\n` : ''}\r\n`;
}

/**
 * Serializes one message (Beast's `serializer`): the header is built when constructed, then
 * {@link Serializer.next} gives what is left to send and {@link Serializer.consume} drops what
 * was sent, so a write loop can resume after a partial write.
 *
 * The body is sent as it is; with `Transfer-Encoding: chunked` (as the last coding) it goes as
 * one chunk followed by the last chunk. The message must not change until the serializer is done.
 */
export class Serializer {
  readonly #rest: BuffersSuffix;
  readonly #headerSize: number;
  readonly #total: number;

  /**
   * @param msg - the message to send.
   * @throws TypeError if the method, target, version, status or reason is invalid, or a 1xx,
   *   204 or 304 response has a body.
   */
  constructor(msg: Message) {
    const body = bodyBytes(msg);
    const head = latin1(header(msg, body));
    let bufs: Uint8Array[];
    if (!isChunked(msg)) bufs = body.length > 0 ? [head, body] : [head];
    else if (body.length === 0) bufs = [head, LAST_CHUNK];
    else bufs = [head, latin1(body.length.toString(16)), CRLF, body, CRLF_LAST_CHUNK];
    this.#rest = new BuffersSuffix(bufs);
    this.#headerSize = head.length;
    this.#total = this.#rest.size();
  }

  /** What is left to send, as views (no copy); valid until the next {@link Serializer.consume}. */
  next(): readonly Uint8Array[] {
    return this.#rest.data();
  }

  /** Drops `n` bytes that were sent. */
  consume(n: number): void {
    this.#rest.consume(n);
  }

  /** The number of bytes left to send. */
  size(): number {
    return this.#rest.size();
  }

  /** Whether the whole header has been consumed. */
  isHeaderDone(): boolean {
    return this.#total - this.#rest.size() >= this.#headerSize;
  }

  /** Whether everything has been consumed. */
  isDone(): boolean {
    return this.#rest.size() === 0;
  }
}

/**
 * The buffers of a whole message: the header as one buffer, then the body as it is (or, chunked,
 * the chunk framing around it). See {@link Serializer} for the framing rules.
 * @throws TypeError as {@link Serializer} does.
 */
export function serialize(msg: Message): Uint8Array[] {
  return [...new Serializer(msg).next()];
}
