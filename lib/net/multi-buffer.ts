/**
 * Beast's `multi_buffer`: a {@link DynamicBuffer} made of a list of blocks, whose bytes never move
 * once written. The other three storage strategies are in dynamic-buffer.ts. No I/O here.
 */

import { allocUnsafeBytes } from './buffer.js';
import { checkCount, checkSize, LengthError } from './dynamic-buffer-checks.js';
import type { DynamicBuffer } from './dynamic-buffer.js';

const MIN_BLOCK = 512;

/**
 * A dynamic buffer made of a list of blocks (Beast's `multi_buffer`); `data()` and `prepare()`
 * may have several elements.
 *
 * Bytes never move once written: `prepare` appends new blocks and `commit` only moves positions,
 * so views returned by `data()` stay valid (and keep their contents) across `prepare` and
 * `commit` — only `consume` invalidates the bytes it drops. Fully consumed blocks are released.
 * Blocks left over after a `commit` are reused by the next `prepare`, which releases any it does
 * not need.
 */
export class MultiBuffer implements DynamicBuffer {
  #blocks: Uint8Array[] = [];
  #total = 0; // sum of block lengths
  #inOff = 0; // start of the readable bytes, in blocks[0]
  #outIdx = 0; // block holding the end of the readable bytes (= start of the prepared area)
  #outOff = 0;
  #inSize = 0;
  #outSize = 0; // prepared bytes, which start at the out position and may span several blocks
  readonly #max: number;

  /**
   * @param maxSize - the most bytes the buffer may hold; unlimited by default.
   */
  constructor(maxSize: number = Number.MAX_SAFE_INTEGER) {
    checkSize(maxSize, 'MultiBuffer');
    this.#max = maxSize;
  }

  /** The number of readable bytes. */
  size(): number {
    return this.#inSize;
  }

  /** The most bytes the buffer may hold. */
  maxSize(): number {
    return this.#max;
  }

  /** The readable bytes plus the free space in the blocks already allocated. */
  capacity(): number {
    return this.#total - this.#inOff;
  }

  /** The readable bytes, one view per block they span (none when empty). */
  data(): readonly Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.#inSize === 0) return out;
    for (let i = 0; i <= this.#outIdx; i++) {
      const start = i === 0 ? this.#inOff : 0;
      const end = i === this.#outIdx ? this.#outOff : this.#blocks[i].length;
      if (end > start) out.push(this.#blocks[i].subarray(start, end));
    }
    return out;
  }

  /**
   * Exactly `n` writable bytes, one view per block they span. Views from `data()` stay valid.
   *
   * @throws LengthError if `size() + n > maxSize()`; the buffer is then unchanged.
   */
  prepare(n: number): readonly Uint8Array[] {
    checkCount(n, 'MultiBuffer.prepare');
    if (n > this.#max - this.#inSize) throw new LengthError('MultiBuffer overflow');
    const views: Uint8Array[] = [];
    let need = n;
    let idx = this.#outIdx;
    let off = this.#outOff;
    while (need > 0) {
      if (idx === this.#blocks.length) {
        // Grow with the content so block counts stay logarithmic, but never past maxSize.
        const room = this.#max - this.#inSize - (n - need);
        const len = Math.max(need, Math.min(Math.max(MIN_BLOCK, this.#inSize), room));
        this.#blocks.push(allocUnsafeBytes(len));
        this.#total += len;
      }
      const block = this.#blocks[idx];
      const take = Math.min(block.length - off, need);
      if (take > 0) {
        views.push(block.subarray(off, off + take));
        need -= take;
        off += take;
      }
      if (need > 0) {
        idx++;
        off = 0;
      }
    }
    // Release spare blocks past the prepared area: memory follows demand.
    if (idx + 1 < this.#blocks.length) {
      for (let i = idx + 1; i < this.#blocks.length; i++) this.#total -= this.#blocks[i].length;
      this.#blocks.length = idx + 1;
    }
    this.#outSize = n;
    return views;
  }

  /** Makes `min(n, prepared)` prepared bytes readable and discards the rest of the prepared area. */
  commit(n: number): void {
    checkCount(n, 'MultiBuffer.commit');
    let left = Math.min(n, this.#outSize);
    this.#inSize += left;
    while (left > 0) {
      const avail = this.#blocks[this.#outIdx].length - this.#outOff;
      if (avail === 0) {
        this.#outIdx++;
        this.#outOff = 0;
        continue;
      }
      const step = Math.min(avail, left);
      this.#outOff += step;
      left -= step;
    }
    this.#outSize = 0;
  }

  /** Drops `min(n, size())` readable bytes, releasing blocks that become empty; the prepared area is kept. */
  consume(n: number): void {
    checkCount(n, 'MultiBuffer.consume');
    let left = Math.min(n, this.#inSize);
    this.#inSize -= left;
    let drop = 0; // leading blocks wholly consumed
    let off = this.#inOff;
    while (left > 0) {
      const end = drop === this.#outIdx ? this.#outOff : this.#blocks[drop].length;
      const step = Math.min(end - off, left);
      off += step;
      left -= step;
      if (off === this.#blocks[drop].length && drop < this.#outIdx) {
        drop++;
        off = 0;
      }
    }
    // Steps over blocks that were already exhausted before this call (e.g. by commit to a block end).
    while (drop < this.#outIdx && off === this.#blocks[drop].length) {
      drop++;
      off = 0;
    }
    if (drop > 0) {
      for (let i = 0; i < drop; i++) this.#total -= this.#blocks[i].length;
      this.#blocks.splice(0, drop);
      this.#outIdx -= drop;
    }
    this.#inOff = off;
    if (this.#inSize === 0 && this.#outSize === 0 && this.#blocks.length > 0) {
      // Empty with nothing prepared, so every block before the out block was dropped above:
      // rewind within the out block so its whole length is reusable.
      this.#inOff = this.#outOff = this.#outIdx = 0;
    }
  }
}
