/**
 * The buffers a client masks its frames into before writing them (the write operation's gather
 * buffers), lent for one write and handed back. The first ones live in the memory of the
 * WebAssembly masking module (mask-simd.ts), where they are masked in place with SIMD; the others,
 * and all of them where the module cannot run, are masked in JavaScript. No I/O here.
 */

import { BlockPool } from '../../net/block-pool.js';
import { applyMaskRange } from './mask.js';
import { claimSimdSlot, maskSlot } from './mask-simd.js';

/** The size of a lent buffer: 64 KiB of payload and the headers of 16 frames of 4 KiB. */
export const maskBufferBytes = 64 * 1024 + 16 * 8;

/** Buffers kept for reuse at most: a busy client needs one per write in flight. */
const maxSpares = 8;

/** A lent buffer: `bytes`, and how to mask a range of it in place. */
export class MaskBuffer {
  /** In the WebAssembly module's memory (a slot of it) when one was free, else an array of its own. */
  readonly bytes: Uint8Array;
  readonly inSimdMemory: boolean;
  // Kept with the buffer: a view made per 4 KiB frame costs about as much as masking it. A slot
  // starts 16-aligned in the memory, so index and address agree on 8-byte alignment.
  readonly #wide: BigUint64Array;

  constructor() {
    const slot = claimSimdSlot(maskBufferBytes);
    this.bytes = slot ?? new Uint8Array(maskBufferBytes);
    this.inSimdMemory = slot !== null;
    this.#wide = new BigUint64Array(this.bytes.buffer, this.bytes.byteOffset, maskBufferBytes >>> 3);
  }

  /**
   * XORs `bytes[start..end)` with `key` from key offset `offset` (as `applyMask`); returns the
   * key offset after the range.
   */
  mask(start: number, end: number, key: number, offset: number): number {
    // In the module's memory, SIMD wins at every size (bench/mask.ts, "in place": 2-4x).
    if (this.inSimdMemory) return maskSlot(this.bytes, start, end, key, offset);
    return applyMaskRange(this.bytes, this.#wide, start, end, key, offset);
  }
}

/** Spare buffers in the module's memory: all kept (there are few), and lent first. */
const simdSpares: MaskBuffer[] = [];
/** The others, bounded: a new buffer takes a slot of the module's memory while one is free. */
const spares = new BlockPool(maxSpares, () => new MaskBuffer());

/** Lends a buffer to mask into; hand it back with {@link giveMaskBuffer} once the write is over. */
export function takeMaskBuffer(): MaskBuffer {
  return simdSpares.pop() ?? spares.take();
}

/**
 * Takes a lent buffer back. The write it went to must be over (its handler called, whatever the
 * outcome): from then on the next layer no longer reads it, as for any buffer given to a write.
 */
export function giveMaskBuffer(b: MaskBuffer): void {
  // A buffer in the module's memory is never dropped: its slot is not handed out again.
  if (b.inSimdMemory) simdSpares.push(b);
  else spares.give(b);
}
