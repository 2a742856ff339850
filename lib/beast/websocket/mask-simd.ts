/**
 * Masking with WebAssembly SIMD (the module's bytes are in mask-wasm.ts, embedded: no install step,
 * no native addon). WebAssembly code reads and writes only its own linear memory, so a payload is
 * copied in, XORed 16 bytes at a time, and copied back, in chunks of 64 KiB that stay in the
 * cache; see bench/mask.ts for where that beats the JavaScript path of mask.ts. The rest of the
 * memory is cut into slots that a client's gather buffers (mask-buffers.ts) live in: those are
 * masked where they are, with no copy. Where WebAssembly or its SIMD instructions are missing,
 * {@link simdMask} is null, no slot is handed out, and mask.ts keeps its own path. No I/O here.
 */

import { maskWasmBytes } from './mask-wasm.js';

/** Bytes copied in and masked at a time: a chunk stays in the L2 cache between the three passes. */
const chunkBytes = 64 * 1024;
/** The memory's size: the chunk, then slots for gather buffers (64 KiB pages, never grown). */
const memoryPages = 10;

/** What the module holds once instantiated. */
export interface SimdMask {
  /** The module's memory, as bytes (it never grows, so this view stays valid). */
  readonly bytes: Uint8Array;
  /** XORs `bytes[p .. p+n)` with `word`: the key as a little-endian 32-bit word, at its cycle's start. */
  readonly mask: (p: number, n: number, word: number) => void;
}

/**
 * The part of the `WebAssembly` global used here. TypeScript declares it only with the DOM's
 * types, which this project leaves out; reading it from `globalThis` also copes with a runtime
 * that lacks it.
 */
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

function instantiate(): SimdMask | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    // A fixed size: growing the memory would detach `bytes` and every slot handed out.
    const memory = new wasm.Memory({ initial: memoryPages, maximum: memoryPages });
    const instance = new wasm.Instance(new wasm.Module(maskWasmBytes), { env: { memory } });
    const mask = instance.exports['mask'] as (p: number, n: number, word: number) => void;
    return { bytes: new Uint8Array(memory.buffer), mask };
  } catch {
    return null; // no WebAssembly, or no SIMD: a CompileError
  }
}

/** The instantiated module, or null where this runtime cannot run it. */
export const simdMask: SimdMask | null = instantiate();

/**
 * `applyMask` (mask.ts) through the WebAssembly module: XORs `data` in place with the 4-byte
 * masking `key` (big-endian, as on the wire) from byte `offset` of the key's cycle; returns the key
 * offset after the data. Throws if the module is not available ({@link simdMask} is null).
 */
export function applyMaskSimd(data: Uint8Array, key: number, offset = 0): number {
  const m = simdMask;
  if (m === null) throw new Error('WebAssembly SIMD masking is not available');
  const o = offset & 3;
  const word = keyWord(key, o);
  const n = data.length;
  // Every chunk but the last is a multiple of 4 bytes long, so each starts at the same key byte.
  for (let i = 0; i < n; i += chunkBytes) {
    const part = data.subarray(i, Math.min(n, i + chunkBytes));
    m.bytes.set(part, 0);
    m.mask(0, part.length, word);
    part.set(m.bytes.subarray(0, part.length));
  }
  return (o + n) & 3;
}

/**
 * `copyMasked` (mask.ts) through the WebAssembly module: copies `src` to the front of `dst`,
 * XORed with `key` from byte `offset` of its cycle, and returns the key offset after the bytes.
 * The module masks its own copy of each chunk, which then goes to `dst`: two passes over the
 * bytes and the XOR, where unmasking in place and copying took three (a payload in the read
 * buffer copied out to the caller). Throws if the module is not available.
 */
export function copyMaskedSimd(dst: Uint8Array, src: Uint8Array, key: number, offset = 0): number {
  const m = simdMask;
  if (m === null) throw new Error('WebAssembly SIMD masking is not available');
  const o = offset & 3;
  const word = keyWord(key, o);
  const n = src.length;
  for (let i = 0; i < n; i += chunkBytes) {
    const end = Math.min(n, i + chunkBytes);
    m.bytes.set(i === 0 && end === n ? src : src.subarray(i, end), 0);
    m.mask(0, end - i, word);
    dst.set(m.bytes.subarray(0, end - i), i);
  }
  return (o + n) & 3;
}

/** The key (big-endian, as on the wire) rotated to start at byte `o`, as the little-endian word the module XORs with. */
function keyWord(key: number, o: number): number {
  const r = o === 0 ? key : (key << (8 * o)) | (key >>> (32 - 8 * o));
  return ((r >>> 24) | ((r >>> 8) & 0xff00) | ((r << 8) & 0xff0000) | (r << 24)) | 0;
}

/** Where the next slot starts: slots follow the chunk, 16-aligned. */
let nextSlot = chunkBytes;

/**
 * `bytes` of the module's memory for a buffer to live in for good (a gather buffer of
 * mask-buffers.ts, which keeps those it gets), or null when the memory is used up or the module
 * is not available. Slots are never taken back: their number is bounded by the memory's size.
 */
export function claimSimdSlot(bytes: number): Uint8Array | null {
  const m = simdMask;
  if (m === null || nextSlot + bytes > m.bytes.length) return null;
  const slot = m.bytes.subarray(nextSlot, nextSlot + bytes);
  nextSlot += (bytes + 15) & ~15;
  return slot;
}

/**
 * XORs `slot[start..end)` in place, where `slot` came from {@link claimSimdSlot}, with `key` from
 * key offset `offset`; returns the key offset after the range (as `applyMaskRange` of mask.ts).
 */
export function maskSlot(slot: Uint8Array, start: number, end: number, key: number, offset: number): number {
  const o = offset & 3;
  simdMask!.mask(slot.byteOffset + start, end - start, keyWord(key, o));
  return (o + end - start) & 3;
}
