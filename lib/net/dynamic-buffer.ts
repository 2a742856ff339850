/**
 * Dynamic buffers (Asio's DynamicBuffer v1, as Beast uses it): a readable input sequence followed
 * by a writable output sequence, with Beast's four storage strategies — {@link FlatBuffer},
 * {@link MultiBuffer}, {@link StaticBuffer} and {@link FlatStaticBuffer}.
 *
 * These classes only manage memory. They must never do I/O, and never copy readable bytes except
 * where the strategy requires it (compaction or reallocation of a flat buffer).
 *
 * As in Asio, `prepare`, `commit` and `consume` invalidate previously returned sequences unless a
 * class says otherwise. JavaScript cannot detect a stale view: it still points at live memory,
 * whose contents may have moved. One guarantee is stronger than Asio's, for all four classes:
 * `consume` never moves or discards the prepared area, so a caller may consume while a read into
 * prepared memory is pending, then commit.
 *
 * To get the readable bytes as one array or a string, use `buffersToBytes(b.data())` or
 * `buffersToString(b.data())` from `buffer.ts`.
 *
 * @module
 */

import { allocUnsafeBytes } from './buffer.js';

/**
 * The DynamicBuffer v1 contract: readable bytes (`data()`) followed by writable bytes
 * (`prepare()`), moved from one to the other by `commit()` and dropped by `consume()`.
 */
export interface DynamicBuffer {
  /** The number of readable bytes. */
  size(): number;
  /** The most bytes the buffer may ever hold, readable and prepared together. */
  maxSize(): number;
  /** How many bytes (readable plus writable) fit without allocating. */
  capacity(): number;
  /** The readable bytes, as views (no copy). */
  data(): readonly Uint8Array[];
  /**
   * Returns exactly `n` writable bytes after the readable ones, discarding any earlier prepared
   * area. Throws {@link LengthError} if `size() + n > maxSize()`.
   */
  prepare(n: number): readonly Uint8Array[];
  /** Moves `min(n, prepared)` bytes to the readable bytes; the rest of the prepared area is discarded. */
  commit(n: number): void;
  /** Drops `min(n, size())` bytes from the front of the readable bytes. */
  consume(n: number): void;
}

/**
 * Thrown by `prepare` (and `reserve`) when a request would exceed the buffer's maximum size;
 * Asio throws `std::length_error` in the same place.
 */
export class LengthError extends RangeError {
  /**
   * @param message - names the buffer type, e.g. "FlatBuffer overflow".
   */
  constructor(message: string) {
    super(message);
    this.name = 'LengthError';
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Rejects negative, NaN and fractional counts, which would silently corrupt the positions.
 * `Infinity` passes: `consume(Infinity)` is a handy way to drain, and `prepare(Infinity)` ends
 * in a LengthError.
 */
function checkCount(n: number, what: string): void {
  if (!(n >= 0) || (!Number.isInteger(n) && n !== Infinity)) {
    throw new RangeError(`${what}: invalid byte count ${n}`);
  }
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what}: invalid size ${n}`);
}

/**
 * A dynamic buffer in one contiguous block (Beast's `flat_buffer`), so `data()` and `prepare()`
 * always have exactly one element. The best choice when the bytes must be parsed in place.
 *
 * `prepare` first uses the free space after the readable bytes, then compacts (moves the
 * readable bytes to the front) if that makes room, and only then reallocates, growing
 * geometrically to `min(maxSize, max(2 * size, size + n))`.
 */
export class FlatBuffer implements DynamicBuffer {
  #buf: Uint8Array = EMPTY;
  #in = 0; // start of the readable bytes
  #out = 0; // end of the readable bytes, start of the prepared area
  #last = 0; // end of the prepared area
  #max: number;

  /**
   * @param maxSize - the most bytes the buffer may hold; unlimited by default.
   */
  constructor(maxSize: number = Number.MAX_SAFE_INTEGER) {
    checkSize(maxSize, 'FlatBuffer');
    this.#max = maxSize;
  }

  /** The number of readable bytes. */
  size(): number {
    return this.#out - this.#in;
  }

  /** The most bytes the buffer may hold. */
  maxSize(): number {
    return this.#max;
  }

  /**
   * Changes the maximum size. Bytes already held are kept even if they exceed it; the new limit
   * applies to the next `prepare` or `reserve`.
   */
  setMaxSize(n: number): void {
    checkSize(n, 'FlatBuffer.setMaxSize');
    this.#max = n;
  }

  /** The size of the allocated block. */
  capacity(): number {
    return this.#buf.length;
  }

  /** The readable bytes, as a one-element list. */
  data(): readonly Uint8Array[] {
    return [this.dataView()];
  }

  /** The readable bytes as a single view; the fast path of {@link FlatBuffer.data}. */
  dataView(): Uint8Array {
    return this.#buf.subarray(this.#in, this.#out);
  }

  /** Exactly `n` writable bytes, as a one-element list. See {@link FlatBuffer.prepareView}. */
  prepare(n: number): readonly Uint8Array[] {
    return [this.prepareView(n)];
  }

  /**
   * Exactly `n` writable bytes as a single view; the fast path of {@link FlatBuffer.prepare}.
   * Invalidates earlier views when it compacts or reallocates.
   *
   * @throws LengthError if `size() + n > maxSize()`; the buffer is then unchanged.
   */
  prepareView(n: number): Uint8Array {
    checkCount(n, 'FlatBuffer.prepare');
    const len = this.#out - this.#in;
    if (n > this.#max - len) throw new LengthError('FlatBuffer overflow');
    if (n > this.#buf.length - this.#out) {
      if (n <= this.#buf.length - len) {
        this.#buf.copyWithin(0, this.#in, this.#out);
      } else {
        this.#reallocate(Math.min(this.#max, Math.max(2 * len, len + n)));
      }
      this.#in = 0;
      this.#out = len;
    }
    this.#last = this.#out + n;
    return this.#buf.subarray(this.#out, this.#last);
  }

  /** Makes `min(n, prepared)` prepared bytes readable and discards the rest of the prepared area. */
  commit(n: number): void {
    checkCount(n, 'FlatBuffer.commit');
    this.#out += Math.min(n, this.#last - this.#out);
    this.#last = this.#out;
  }

  /** Drops `min(n, size())` readable bytes; the prepared area is kept. */
  consume(n: number): void {
    checkCount(n, 'FlatBuffer.consume');
    if (n < this.#out - this.#in) {
      this.#in += n;
    } else if (this.#last === this.#out) {
      // Empty with nothing prepared: rewind so the whole block is free without a compaction.
      this.#in = this.#out = this.#last = 0;
    } else {
      this.#in = this.#out;
    }
  }

  /**
   * Ensures the capacity is at least `n`, reallocating if needed. Reallocation keeps the
   * readable bytes and discards the prepared area.
   *
   * @throws LengthError if `n > maxSize()`.
   */
  reserve(n: number): void {
    checkSize(n, 'FlatBuffer.reserve');
    if (n > this.#max) throw new LengthError('FlatBuffer overflow');
    if (n > this.#buf.length) this.#reallocate(n);
  }

  /** Reallocates to exactly `size()` bytes, releasing the rest; discards the prepared area. */
  shrinkToFit(): void {
    const len = this.#out - this.#in;
    if (this.#buf.length > len) this.#reallocate(len);
  }

  /** Discards every readable and prepared byte; the allocated block is kept for reuse. */
  clear(): void {
    this.#in = this.#out = this.#last = 0;
  }

  /**
   * Makes a new block of `n` (> 0) bytes, contents arbitrary. Small blocks come from Node's
   * shared pool; a subclass that keeps a small block for long may want one of its own.
   */
  protected allocate(n: number): Uint8Array {
    return allocUnsafeBytes(n);
  }

  #reallocate(capacity: number): void {
    const len = this.#out - this.#in;
    const next = capacity === 0 ? EMPTY : this.allocate(capacity);
    if (len > 0) next.set(this.#buf.subarray(this.#in, this.#out));
    this.#buf = next;
    this.#in = 0;
    this.#out = this.#last = len;
  }
}

/** Smallest block a {@link MultiBuffer} allocates, so byte-at-a-time writers do not allocate each time. */
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

/**
 * A fixed-size circular dynamic buffer (Beast's `static_buffer`). It allocates once, in the
 * constructor; every operation is constant-time, and `data()` and `prepare()` have at most two
 * elements (two when the bytes wrap around the end of the block).
 */
export class StaticBuffer implements DynamicBuffer {
  readonly #buf: Uint8Array;
  #in = 0; // start of the readable bytes
  #inSize = 0;
  #outSize = 0;

  /**
   * @param capacity - the fixed size, which is also `maxSize()` and `capacity()`.
   */
  constructor(capacity: number) {
    checkSize(capacity, 'StaticBuffer');
    this.#buf = allocUnsafeBytes(capacity);
  }

  /** The number of readable bytes. */
  size(): number {
    return this.#inSize;
  }

  /** The fixed size. */
  maxSize(): number {
    return this.#buf.length;
  }

  /** The fixed size. */
  capacity(): number {
    return this.#buf.length;
  }

  /** The readable bytes: none, one or two views. */
  data(): readonly Uint8Array[] {
    return this.#range(this.#in, this.#inSize);
  }

  /**
   * Exactly `n` writable bytes after the readable ones: none, one or two views.
   *
   * @throws LengthError if `size() + n > maxSize()`; the buffer is then unchanged.
   */
  prepare(n: number): readonly Uint8Array[] {
    checkCount(n, 'StaticBuffer.prepare');
    if (n > this.#buf.length - this.#inSize) throw new LengthError('StaticBuffer overflow');
    this.#outSize = n;
    return this.#range(this.#wrap(this.#in + this.#inSize), n);
  }

  /** Makes `min(n, prepared)` prepared bytes readable and discards the rest of the prepared area. */
  commit(n: number): void {
    checkCount(n, 'StaticBuffer.commit');
    this.#inSize += Math.min(n, this.#outSize);
    this.#outSize = 0;
  }

  /** Drops `min(n, size())` readable bytes; the prepared area is kept. */
  consume(n: number): void {
    checkCount(n, 'StaticBuffer.consume');
    if (n < this.#inSize) {
      this.#in = this.#wrap(this.#in + n);
      this.#inSize -= n;
    } else {
      // Rewinding when idle keeps later sequences in one piece for as long as possible.
      this.#in = this.#outSize === 0 ? 0 : this.#wrap(this.#in + this.#inSize);
      this.#inSize = 0;
    }
  }

  /** Positions stay below 2 * capacity, so one subtraction replaces `%` (and capacity 0 is safe). */
  #wrap(pos: number): number {
    return pos >= this.#buf.length ? pos - this.#buf.length : pos;
  }

  #range(start: number, len: number): Uint8Array[] {
    if (len === 0) return [];
    const end = start + len;
    if (end <= this.#buf.length) return [this.#buf.subarray(start, end)];
    return [this.#buf.subarray(start), this.#buf.subarray(0, end - this.#buf.length)];
  }
}

/**
 * A fixed-size contiguous dynamic buffer (Beast's `flat_static_buffer`). It allocates once, in
 * the constructor; `data()` and `prepare()` always have exactly one element. When the free space
 * after the readable bytes is too small, the readable bytes are moved to the front.
 */
export class FlatStaticBuffer implements DynamicBuffer {
  readonly #buf: Uint8Array;
  #in = 0; // start of the readable bytes
  #out = 0; // end of the readable bytes, start of the prepared area
  #last = 0; // end of the prepared area

  /**
   * @param capacity - the fixed size, which is also `maxSize()` and `capacity()`.
   */
  constructor(capacity: number) {
    checkSize(capacity, 'FlatStaticBuffer');
    this.#buf = allocUnsafeBytes(capacity);
  }

  /** The number of readable bytes. */
  size(): number {
    return this.#out - this.#in;
  }

  /** The fixed size. */
  maxSize(): number {
    return this.#buf.length;
  }

  /** The fixed size. */
  capacity(): number {
    return this.#buf.length;
  }

  /** The readable bytes, as a one-element list. */
  data(): readonly Uint8Array[] {
    return [this.dataView()];
  }

  /** The readable bytes as a single view; the fast path of {@link FlatStaticBuffer.data}. */
  dataView(): Uint8Array {
    return this.#buf.subarray(this.#in, this.#out);
  }

  /** Exactly `n` writable bytes, as a one-element list. See {@link FlatStaticBuffer.prepareView}. */
  prepare(n: number): readonly Uint8Array[] {
    return [this.prepareView(n)];
  }

  /**
   * Exactly `n` writable bytes as a single view; the fast path of {@link FlatStaticBuffer.prepare}.
   * Invalidates earlier views when it compacts.
   *
   * @throws LengthError if `size() + n > maxSize()`; the buffer is then unchanged.
   */
  prepareView(n: number): Uint8Array {
    checkCount(n, 'FlatStaticBuffer.prepare');
    const len = this.#out - this.#in;
    if (n > this.#buf.length - len) throw new LengthError('FlatStaticBuffer overflow');
    if (n > this.#buf.length - this.#out) {
      this.#buf.copyWithin(0, this.#in, this.#out);
      this.#in = 0;
      this.#out = len;
    }
    this.#last = this.#out + n;
    return this.#buf.subarray(this.#out, this.#last);
  }

  /** Makes `min(n, prepared)` prepared bytes readable and discards the rest of the prepared area. */
  commit(n: number): void {
    checkCount(n, 'FlatStaticBuffer.commit');
    this.#out += Math.min(n, this.#last - this.#out);
    this.#last = this.#out;
  }

  /** Drops `min(n, size())` readable bytes; the prepared area is kept. */
  consume(n: number): void {
    checkCount(n, 'FlatStaticBuffer.consume');
    if (n < this.#out - this.#in) {
      this.#in += n;
    } else if (this.#last === this.#out) {
      this.#in = this.#out = this.#last = 0; // empty and idle: rewind, sparing a later compaction
    } else {
      this.#in = this.#out;
    }
  }

  /** Discards every readable and prepared byte. */
  clear(): void {
    this.#in = this.#out = this.#last = 0;
  }
}
