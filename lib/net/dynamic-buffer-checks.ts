/**
 * What the dynamic buffers (dynamic-buffer.ts, multi-buffer.ts) share: the error a request beyond
 * the maximum size throws, and the checks of the counts and sizes they are given. No I/O here.
 */

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

export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Rejects negative, NaN and fractional counts, which would silently corrupt the positions.
 * `Infinity` passes: `consume(Infinity)` is a handy way to drain, and `prepare(Infinity)` ends
 * in a LengthError.
 */
export function checkCount(n: number, what: string): void {
  if (!(n >= 0) || (!Number.isInteger(n) && n !== Infinity)) {
    throw new RangeError(`${what}: invalid byte count ${n}`);
  }
}

export function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what}: invalid size ${n}`);
}
