/**
 * Masking (RFC 6455 section 5.3) and the source of client masking keys. No I/O here.
 *
 * Payloads under 64 bytes are XORed a byte at a time (a word view would cost more than them);
 * larger ones in whole words where the view is aligned, the head and tail bytes one at a time.
 * Large payloads go in 64-bit words through a `BigUint64Array`: V8's optimizing compiler
 * turns a BigInt XOR whose result is stored straight back into plain 64-bit machine operations,
 * with no BigInt allocated. Measured on 64 KiB (Node 20): bytes ~60 µs, 32-bit words 5.9 µs,
 * 64-bit words 2.7 µs. Before that compiler has run, each BigInt operation allocates, so small
 * payloads (most WebSocket frames) stay on the 32-bit path. From {@link simdMaskMin} up to
 * {@link simdMaskMax}, payloads go to WebAssembly SIMD (mask-simd.ts) where the runtime can run it; this file's path stays the
 * fallback, and spec/beast/websocket/mask-simd.spec.ts checks that both agree.
 */

import { getRandomValues } from 'node:crypto';
import { applyMaskSimd, copyMaskedSimd, simdMask } from './mask-simd.js';

/**
 * XORs `data` in place with the 4-byte masking `key` (big-endian, as it appears on the wire),
 * starting at byte `offset` of the key's cycle; returns the key offset after the data. Masking and
 * unmasking are the same operation; `offset` lets a payload be unmasked across several reads.
 */
export function applyMask(data: Uint8Array, key: number, offset = 0): number {
  const n = data.length;
  return n >= simdMaskMin && n < simdMaskMax && simdMask !== null ? applyMaskSimd(data, key, offset) : applyMaskJs(data, key, offset);
}

/**
 * Payloads from this size on stay on the JavaScript path, in place: a large read's payload
 * (a 1 MiB message read straight into the caller's buffer comes in pieces of hundreds of KiB) is
 * no longer in the cache by the time the SIMD path copies it in and back out, three passes where
 * the JavaScript path makes one. Measured with the native generator on examples/echo_server,
 * 1MiB-1x1, two interleaved pairs of 3 s profiles: unmasking fell from 24% to 10-12% of the
 * server's time, and its CPU per message by 12% (docs/topics/bench-profile.md).
 */
export const simdMaskMax = 256 * 1024;

/**
 * Payloads from this size on go to the WebAssembly SIMD path (mask-simd.ts) where the runtime has
 * it: below, copying them in and out of the module's memory costs about what SIMD saves. Measured
 * by bench/mask.ts (Node 20, CPU time, 8-aligned view / odd start): 512 B 0.95x / 0.53x of the
 * JavaScript path's time, 1 KiB 0.74x / 0.53x, 64 KiB 0.74x / 0.74x, 1 MiB 0.81x / 0.93x.
 */
export const simdMaskMin = 1024;

/**
 * `applyMask` on bytes `start..end` of `bytes`, without a view of them where the range is small:
 * most frames are, and a view costs more than masking a few dozen bytes (the frame reader unmasks
 * each frame's payload where it lies in the read buffer; a client's control frames are masked in
 * the buffer they are built in).
 */
export function applyMaskAt(bytes: Uint8Array, start: number, end: number, key: number, offset = 0): number {
  return end - start < bytewiseMaskMax ? maskBytes(bytes, start, end, key, offset) : applyMask(bytes.subarray(start, end), key, offset);
}

/**
 * Payloads under this size are masked where they lie, in a loop: the word path's view of the
 * payload costs more than the bytes (a typed-array view is an object made through a builtin,
 * about 100-150 ns; masking 64 bytes in the loop, less).
 */
const bytewiseMaskMax = 64;

/**
 * Masks bytes `start..end` of `data` in a loop, without a view; returns the key offset after them.
 * The key is turned to start at `offset`, then its four bytes are applied four at a time: half the
 * time of a loop that indexes an array of the key's bytes with a running offset (16 and 48 bytes,
 * Node 20).
 */
function maskBytes(data: Uint8Array, start: number, end: number, key: number, offset: number): number {
  const o = offset & 3;
  const r = o === 0 ? key : (key << (8 * o)) | (key >>> (32 - 8 * o));
  const k0 = r >>> 24;
  const k1 = (r >>> 16) & 0xff;
  const k2 = (r >>> 8) & 0xff;
  const k3 = r & 0xff;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    data[i]! ^= k0;
    data[i + 1]! ^= k1;
    data[i + 2]! ^= k2;
    data[i + 3]! ^= k3;
  }
  // At most three left, from the key's first byte (the loop went round whole cycles).
  if (i < end) data[i]! ^= k0;
  if (i + 1 < end) data[i + 1]! ^= k1;
  if (i + 2 < end) data[i + 2]! ^= k2;
  return (o + end - start) & 3;
}

/**
 * Copies `src` to the front of `dst` (which must hold it) XORed with the masking `key` from byte
 * `offset` of its cycle; returns the key offset after the bytes. The same as copying and then
 * {@link applyMask} on the copy, which is what it does outside the SIMD path's sizes; on that path
 * the bytes are masked on their way through the module's memory, one pass less
 * (spec/beast/websocket/mask-simd.spec.ts checks both paths against a byte-at-a-time reference).
 */
export function copyMasked(dst: Uint8Array, src: Uint8Array, key: number, offset = 0): number {
  const n = src.length;
  return n >= simdMaskMin && n < simdMaskMax && simdMask !== null ? copyMaskedSimd(dst, src, key, offset) : copyMaskedJs(dst, src, key, offset);
}

/** {@link copyMasked} in JavaScript alone: a copy, then the copy masked in place. */
export function copyMaskedJs(dst: Uint8Array, src: Uint8Array, key: number, offset = 0): number {
  const n = src.length;
  dst.set(src);
  return n < bytewiseMaskMax ? maskBytes(dst, 0, n, key, offset) : applyMaskJs(dst.length === n ? dst : dst.subarray(0, n), key, offset);
}

/**
 * {@link copyMasked} from bytes `start..end` of `src`, without a view of them where the range is
 * small (as {@link applyMaskAt}): copied and masked in one loop, four bytes at a time. The loop is
 * maskBytes' with a destination of its own, kept apart from it on purpose: one loop shared by
 * both, called with Node's Buffers and plain Uint8Arrays from every caller of either, made its
 * element accesses megamorphic (bench/server-instructions, 16B-1x1: 28.9k -> 39.1k instructions
 * per message).
 */
export function copyMaskedAt(dst: Uint8Array, src: Uint8Array, start: number, end: number, key: number, offset = 0): number {
  if (end - start >= bytewiseMaskMax) return copyMasked(dst, src.subarray(start, end), key, offset);
  const o = offset & 3;
  const r = o === 0 ? key : (key << (8 * o)) | (key >>> (32 - 8 * o));
  const k0 = r >>> 24;
  const k1 = (r >>> 16) & 0xff;
  const k2 = (r >>> 8) & 0xff;
  const k3 = r & 0xff;
  let i = start;
  let j = 0;
  for (; i + 4 <= end; i += 4, j += 4) {
    dst[j] = src[i]! ^ k0;
    dst[j + 1] = src[i + 1]! ^ k1;
    dst[j + 2] = src[i + 2]! ^ k2;
    dst[j + 3] = src[i + 3]! ^ k3;
  }
  // At most three left, from the key's first byte (the loop went round whole cycles).
  if (i < end) dst[j] = src[i]! ^ k0;
  if (i + 1 < end) dst[j + 1] = src[i + 1]! ^ k1;
  if (i + 2 < end) dst[j + 2] = src[i + 2]! ^ k2;
  return (o + end - start) & 3;
}

/** {@link applyMask} in JavaScript alone: the path below {@link simdMaskMin}, and the fallback. */
export function applyMaskJs(data: Uint8Array, key: number, offset = 0): number {
  const n = data.length;
  if (n < bytewiseMaskMax) return maskBytes(data, 0, n, key, offset);
  const k = [(key >>> 24) & 0xff, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff] as const;
  let i = 0;
  let o = offset & 3;
  // Bytes until the view is 4-aligned.
  while (i < n && ((data.byteOffset + i) & 3) !== 0) {
    data[i++]! ^= k[o]!;
    o = (o + 1) & 3;
  }
  if (n - i >= wideMaskMin) {
    // On to 8-byte alignment, then 64-bit words.
    while (((data.byteOffset + i) & 7) !== 0) {
      data[i++]! ^= k[o]!;
      o = (o + 1) & 3;
    }
    const words = (n - i) >>> 3;
    xorWords64(new BigUint64Array(data.buffer, data.byteOffset + i, words), 0, words, wideKey(keyWord(k, o)));
    i += words << 3;
  }
  const words = (n - i) >>> 2;
  if (words > 0) {
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    xorWords32(view, keyWord(k, o));
    i += words << 2;
  }
  while (i < n) {
    data[i++]! ^= k[o]!;
    o = (o + 1) & 3;
  }
  return o;
}

/** Payloads from this size on are masked in 64-bit words. */
const wideMaskMin = 256;

/** The key rotated to start at byte `o` of its cycle, as a little-endian 32-bit word. */
function keyWord(k: readonly [number, number, number, number], o: number): number {
  return (k[o]! | (k[(o + 1) & 3]! << 8) | (k[(o + 2) & 3]! << 16) | (k[(o + 3) & 3]! << 24)) | 0;
}

/**
 * The 32-bit words of a payload under {@link wideMaskMin} bytes (fewer than 64), and the one word a
 * wide pass may leave: too few for unrolling to pay, so a plain loop.
 */
function xorWords32(view: Int32Array, w: number): void {
  for (let j = 0; j < view.length; j++) view[j]! ^= w;
}

/** A key word repeated in both halves of a 64-bit word. */
function wideKey(w: number): bigint {
  const half = BigInt(w >>> 0);
  return (half << 32n) | half;
}

// Unrolled by sixteen: V8 keeps the bounds check of each access in a counted loop, and unrolling
// cuts the share of the loop's own work (64 KiB in 32-bit words: 15 µs rolled, 5.6 µs unrolled by
// eight).
function xorWords64(view: BigUint64Array, from: number, to: number, w: bigint): void {
  const whole = from + ((to - from) & ~15);
  let j = from;
  for (; j < whole; j += 16) {
    view[j]! ^= w;
    view[j + 1]! ^= w;
    view[j + 2]! ^= w;
    view[j + 3]! ^= w;
    view[j + 4]! ^= w;
    view[j + 5]! ^= w;
    view[j + 6]! ^= w;
    view[j + 7]! ^= w;
    view[j + 8]! ^= w;
    view[j + 9]! ^= w;
    view[j + 10]! ^= w;
    view[j + 11]! ^= w;
    view[j + 12]! ^= w;
    view[j + 13]! ^= w;
    view[j + 14]! ^= w;
    view[j + 15]! ^= w;
  }
  for (; j < to; j++) view[j]! ^= w;
}

/**
 * `applyMask` on bytes `start..end` of `bytes`, which starts 8-aligned in its ArrayBuffer, where
 * `wide` views the same bytes from the same start: for a buffer masked into again and again (a client's gather
 * buffer), which keeps both views, because making a view per 4 KiB frame cost about as much as
 * masking it (64 KiB in 4 KiB frames: 9.3 µs with a view per frame, 5.4 µs without, in 32-bit
 * words).
 */
export function applyMaskRange(bytes: Uint8Array, wide: BigUint64Array, start: number, end: number, key: number, offset = 0): number {
  const k = [(key >>> 24) & 0xff, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff] as const;
  let i = start;
  let o = offset & 3;
  while (i < end && (i & 7) !== 0) {
    bytes[i]! ^= k[o]!;
    i++;
    o = (o + 1) & 3;
  }
  const from = i >>> 3;
  const to = end >>> 3;
  if (to > from) {
    xorWords64(wide, from, to, wideKey(keyWord(k, o)));
    i = to << 3;
  }
  while (i < end) {
    bytes[i]! ^= k[o]!;
    i++;
    o = (o + 1) & 3;
  }
  return o;
}

/**
 * A pool of random 32-bit masking keys from `crypto.getRandomValues`, refilled in blocks so that
 * a key costs an array read rather than a call into the CSPRNG (Beast's `secure_prng`). Keys are
 * never 0, so every client frame is visibly masked.
 */
export class MaskKeyPool {
  readonly #pool: Uint32Array;
  #next: number;

  constructor(blockSize = 1024) {
    this.#pool = new Uint32Array(blockSize);
    this.#next = blockSize;
  }

  /** The next key (non-zero). */
  next(): number {
    for (;;) {
      if (this.#next === this.#pool.length) {
        getRandomValues(this.#pool);
        this.#next = 0;
      }
      const key = this.#pool[this.#next++]!;
      if (key !== 0) return key;
    }
  }
}

/** The process-wide key pool used by client streams. */
export const maskKeys = new MaskKeyPool();
