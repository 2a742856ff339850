/**
 * The buffers a client masks its frames into before writing them (the write operation's gather
 * buffers), lent for one write and handed back. No I/O here.
 */

import { BlockPool } from '../../net/block-pool.js';
import { applyMaskRange } from './mask.js';

/** The size of a lent buffer: 64 KiB of payload and the headers of 16 frames of 4 KiB. */
export const maskBufferBytes = 64 * 1024 + 16 * 8;

/** Buffers kept for reuse at most: a busy client needs one per write in flight. */
const maxSpares = 8;

/** A lent buffer: `bytes`, and how to mask a range of it in place. */
export class MaskBuffer {
  readonly bytes = new Uint8Array(maskBufferBytes);
  // Kept with the buffer: a view made per 4 KiB frame costs about as much as masking it.
  readonly #wide = new BigUint64Array(this.bytes.buffer, 0, maskBufferBytes >>> 3);

  /**
   * XORs `bytes[start..end)` with `key` from key offset `offset` (as `applyMask`); returns the
   * key offset after the range.
   */
  mask(start: number, end: number, key: number, offset: number): number {
    return applyMaskRange(this.bytes, this.#wide, start, end, key, offset);
  }
}

const spares = new BlockPool(maxSpares, () => new MaskBuffer());

/** Lends a buffer to mask into; hand it back with {@link giveMaskBuffer} once the write is over. */
export function takeMaskBuffer(): MaskBuffer {
  return spares.take();
}

/**
 * Takes a lent buffer back. The write it went to must be over (its handler called, whatever the
 * outcome): from then on the next layer no longer reads it, as for any buffer given to a write.
 */
export function giveMaskBuffer(b: MaskBuffer): void {
  spares.give(b);
}
