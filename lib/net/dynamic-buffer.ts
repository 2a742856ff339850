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
import { checkCount, checkSize, EMPTY, LengthError } from './dynamic-buffer-checks.js';

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

export { LengthError } from './dynamic-buffer-checks.js';
export { MultiBuffer } from './multi-buffer.js';

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
   * The last views {@link FlatBuffer.prepareView} and {@link FlatBuffer.dataView} gave, handed
   * out again while they cover the same bytes of the same block: a connection that reads and
   * writes messages of one size asks for the same ranges message after message, and a view is an
   * object each (bench/ws-instructions). Dropped whenever the block changes (so their range is
   * all there is to compare: `.buffer` of a small typed array makes an ArrayBuffer), and a buffer
   * that let go of its block holds no view of it.
   */
  #prepared: Uint8Array = EMPTY;
  #readable: Uint8Array = EMPTY;

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
    const v = this.#readable;
    if (v.length === this.#out - this.#in && v.byteOffset === this.#buf.byteOffset + this.#in) return v;
    return (this.#readable = this.#buf.subarray(this.#in, this.#out));
  }

  /**
   * @internal The block the readable bytes are in: `size()` bytes from
   * {@link FlatBuffer.readOffset}. For a parser that looks at the bytes by index, several times a
   * message (the WebSocket frame reader), where a view per look cost an object each. Valid until
   * the next call that changes the buffer.
   */
  block(): Uint8Array {
    return this.#buf;
  }

  /** @internal Where the readable bytes start in {@link FlatBuffer.block}. */
  readOffset(): number {
    return this.#in;
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
    const v = this.#prepared;
    if (v.length === n && v.byteOffset === this.#buf.byteOffset + this.#out) return v;
    return (this.#prepared = this.#buf.subarray(this.#out, this.#last));
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
    this.#prepared = this.#readable = EMPTY;
    this.#in = 0;
    this.#out = this.#last = len;
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
  /**
   * A {@link FlatBuffer} whose limit is the block it starts with: it compacts, never reallocates,
   * which is this class's whole strategy. This class adds the fixed size and its own error names.
   */
  readonly #flat: FlatBuffer;

  /**
   * @param capacity - the fixed size, which is also `maxSize()` and `capacity()`.
   */
  constructor(capacity: number) {
    checkSize(capacity, 'FlatStaticBuffer');
    this.#flat = new FlatBuffer(capacity);
    this.#flat.reserve(capacity);
  }

  /** The number of readable bytes. */
  size(): number {
    return this.#flat.size();
  }

  /** The fixed size. */
  maxSize(): number {
    return this.#flat.maxSize();
  }

  /** The fixed size. */
  capacity(): number {
    return this.#flat.capacity();
  }

  /** The readable bytes, as a one-element list. */
  data(): readonly Uint8Array[] {
    return this.#flat.data();
  }

  /** The readable bytes as a single view; the fast path of {@link FlatStaticBuffer.data}. */
  dataView(): Uint8Array {
    return this.#flat.dataView();
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
    if (n > this.#flat.maxSize() - this.#flat.size()) throw new LengthError('FlatStaticBuffer overflow');
    return this.#flat.prepareView(n);
  }

  /** Makes `min(n, prepared)` prepared bytes readable and discards the rest of the prepared area. */
  commit(n: number): void {
    checkCount(n, 'FlatStaticBuffer.commit');
    this.#flat.commit(n);
  }

  /** Drops `min(n, size())` readable bytes; the prepared area is kept. */
  consume(n: number): void {
    checkCount(n, 'FlatStaticBuffer.consume');
    this.#flat.consume(n);
  }

  /** Discards every readable and prepared byte. */
  clear(): void {
    this.#flat.clear();
  }
}
