/**
 * BodyCollector: gathers the body bytes of one message as the parser finds them — a
 * Content-Length body into one buffer allocated once, chunks and bodies that run to end of
 * stream as copies joined at the end — and counts them against the body limit. No I/O and no
 * framing decisions here; the bytes are always copied, since the caller's buffer is reused.
 */

import type { Buffer } from 'node:buffer';

/** The body of one message, collected piece by piece. */
export class BodyCollector {
  #fixed: Uint8Array | null = null;
  #parts: Uint8Array[] = [];
  #remaining = 0;
  /** Body bytes counted against the limit: declared chunk sizes, or bytes to end of stream. */
  counted = 0;

  /** Bytes still expected of the Content-Length body or the current chunk. */
  remaining(): number {
    return this.#remaining;
  }

  /** Expects a Content-Length body of `len` bytes, allocated at once (bounded by the body limit). */
  expectLength(len: number): void {
    this.#fixed = new Uint8Array(len);
    this.#remaining = len;
  }

  /** Expects a chunk of `size` bytes, counted against the limit now (Beast checks it here). */
  expectChunk(size: number): void {
    this.#remaining = size;
    this.counted += size;
  }

  /** Copies what is expected of `b[pos, n)`; returns how many bytes it took. */
  takeExpected(b: Buffer, pos: number, n: number): number {
    const take = Math.min(this.#remaining, n - pos);
    const fixed = this.#fixed;
    if (fixed !== null) fixed.set(b.subarray(pos, pos + take), fixed.length - this.#remaining);
    else this.#parts.push(new Uint8Array(b.subarray(pos, pos + take)));
    this.#remaining -= take;
    return take;
  }

  /** Copies `b[pos, end)` of a body that runs to end of stream, and counts it. */
  append(b: Buffer, pos: number, end: number): void {
    if (end > pos) this.#parts.push(new Uint8Array(b.subarray(pos, end)));
    this.counted += end - pos;
  }

  /** The whole body (one array; empty when nothing came), releasing what was collected. */
  finish(): Uint8Array | null {
    const parts = this.#parts;
    let body: Uint8Array | null = this.#fixed;
    if (body === null && parts.length === 1) body = parts[0];
    else if (body === null && parts.length > 1) {
      let size = 0;
      for (const part of parts) size += part.length;
      body = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        body.set(part, at);
        at += part.length;
      }
    }
    this.#fixed = null;
    this.#parts = [];
    return body;
  }
}
