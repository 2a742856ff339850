// Helpers shared by the HTTP specs: bytes from latin1 text, splitting input, and feeding a parser
// chunk by chunk the way a reader does (keep what it did not consume; stop at the end of the
// message or at an error).

import { Buffer } from 'node:buffer';

import type { ErrorCode } from '../../../lib/net/error.js';
import { error } from '../../../lib/beast/http/error.js';
import type { Message } from '../../../lib/beast/http/message.js';
import type { BasicParser } from '../../../lib/beast/http/parser.js';

/** The latin1 bytes of `s`, as a plain Uint8Array. */
export function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** The bytes of a body as latin1 text. */
export function text(body: Uint8Array | string): string {
  return typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
}

/** `b` cut at the given offsets (sorted, deduplicated, clamped). */
export function split(b: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => Math.max(0, Math.min(b.length, c))))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, b.length]) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** `b` in pieces of `n` bytes. */
export function pieces(b: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

/** What feeding a parser produced. */
export interface Outcome {
  ec: ErrorCode | null;
  consumed: number;
  done: boolean;
}

/**
 * Feeds `chunks` to `parser` in order, calling `put` again on what a call left over until the
 * message is done or an error stops it; then, if `eof`, calls `putEof`. Checks on every call that
 * `consumed` never exceeds the input and that the parser never holds more than `maxBuffered`
 * (a number, or a function of the parser's state).
 */
export function feed(
  parser: BasicParser<Message>,
  chunks: readonly Uint8Array[],
  eof = false,
  maxBuffered: number | ((p: BasicParser<Message>) => number) = Infinity,
): Outcome {
  const bound = typeof maxBuffered === 'number' ? () => maxBuffered : maxBuffered;
  let consumed = 0;
  let ec: ErrorCode | null = error.needMore;
  outer: for (const c of chunks) {
    let off = 0;
    while (off < c.length || c.length === 0) {
      const r = parser.put(c.subarray(off));
      if (r.consumed < 0 || r.consumed > c.length - off) throw new Error(`put consumed ${r.consumed} of ${c.length - off}`);
      if (parser.bufferedBytes() > bound(parser)) throw new Error(`parser holds ${parser.bufferedBytes()} bytes`);
      off += r.consumed;
      consumed += r.consumed;
      ec = r.ec;
      if ((ec !== null && ec !== error.needMore) || parser.isDone()) break outer;
      if (r.consumed === 0 || c.length === 0) break;
    }
  }
  if (eof && !parser.isDone() && (ec === null || ec === error.needMore)) ec = parser.putEof();
  if (parser.isDone()) ec = null;
  return { ec, consumed, done: parser.isDone() };
}
