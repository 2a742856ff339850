/**
 * Incremental UTF-8 validation for text messages (RFC 6455 section 8.1, Unicode table 3-7).
 * It fails fast: a prefix that can no longer become valid is rejected at the byte that makes it
 * so, even when the code point is still incomplete. No I/O here.
 *
 * Whole spans are checked by Node's `buffer.isUtf8` (simdutf); the byte-wise state machine runs
 * only at the seams, for a code point split across reads or frames.
 */

import { isUtf8 } from 'node:buffer';

/** Whether `bytes` is complete, valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length === 0 || isUtf8(bytes);
}

// For a lead byte: how many continuation bytes follow, and the range allowed for the first of
// them (the later ones are always 80..BF). 0 continuation bytes with lo > hi marks an invalid lead.
function leadInfo(b: number): { need: number; lo: number; hi: number } | null {
  if (b < 0x80) return { need: 0, lo: 0x80, hi: 0xbf };
  if (b < 0xc2) return null; // continuation byte or overlong C0/C1
  if (b < 0xe0) return { need: 1, lo: 0x80, hi: 0xbf };
  if (b === 0xe0) return { need: 2, lo: 0xa0, hi: 0xbf }; // no overlongs
  if (b === 0xed) return { need: 2, lo: 0x80, hi: 0x9f }; // no surrogates
  if (b < 0xf0) return { need: 2, lo: 0x80, hi: 0xbf };
  if (b === 0xf0) return { need: 3, lo: 0x90, hi: 0xbf }; // no overlongs
  if (b < 0xf4) return { need: 3, lo: 0x80, hi: 0xbf };
  if (b === 0xf4) return { need: 3, lo: 0x80, hi: 0x8f }; // nothing above U+10FFFF
  return null; // F5..FF
}

/**
 * Validates a text message chunk by chunk (Beast's `utf8_checker`). Feed every payload chunk to
 * {@link Utf8Checker.write} in order, then call {@link Utf8Checker.finish} at the end of the
 * message; either returning false means the message is not UTF-8.
 */
export class Utf8Checker {
  // Continuation bytes still expected for the current code point, and the range of the next one.
  #need = 0;
  #lo = 0x80;
  #hi = 0xbf;

  /** Forgets any partial code point (start of a new message). */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /** Validates the next chunk; false as soon as the bytes so far cannot be UTF-8. */
  write(bytes: Uint8Array): boolean {
    let i = 0;
    const n = bytes.length;
    // Finish a code point carried over from the previous chunk.
    while (this.#need > 0 && i < n) if (!this.#step(bytes[i++]!)) return false;
    if (i === n) return true;
    // The rest up to the last code point boundary goes through simdutf in one call.
    const tail = incompleteTail(bytes, i);
    if (tail < 0) return false;
    const end = n - tail;
    if (end > i && !isUtf8(bytes.subarray(i, end))) return false;
    for (let j = end; j < n; j++) if (!this.#step(bytes[j]!)) return false;
    return true;
  }

  /** True when the message ends on a code point boundary (call after the last chunk). */
  finish(): boolean {
    const ok = this.#need === 0;
    this.reset();
    return ok;
  }

  #step(b: number): boolean {
    if (this.#need > 0) {
      if (b < this.#lo || b > this.#hi) return false;
      this.#need--;
      this.#lo = 0x80;
      this.#hi = 0xbf;
      return true;
    }
    const info = leadInfo(b);
    if (info === null) return false;
    this.#need = info.need;
    this.#lo = info.lo;
    this.#hi = info.hi;
    return true;
  }
}

/**
 * The number of bytes at the end of `bytes` (from `start`) that begin a code point not yet
 * complete: 0 to 3. -1 when the last lead byte is invalid, so the caller can fail at once.
 */
function incompleteTail(bytes: Uint8Array, start: number): number {
  const n = bytes.length;
  // Walk back over at most 3 continuation bytes to the lead byte.
  let k = n - 1;
  const stop = Math.max(start, n - 4);
  while (k > stop && (bytes[k]! & 0xc0) === 0x80) k--;
  const info = leadInfo(bytes[k]!);
  if (info === null) return (bytes[k]! & 0xc0) === 0x80 ? 0 : -1; // stray continuation: let isUtf8 reject it
  const have = n - k;
  return have <= info.need ? have : 0;
}
