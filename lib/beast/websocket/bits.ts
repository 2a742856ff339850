/**
 * Flags kept as bits of one number field. Every connection holds a stream and a frame decoder,
 * and a boolean field costs a word where a bit costs nothing (bench/idle-memory). Either by hand
 * with {@link withBit}, or as boolean accessors over a `bits` field with {@link packFlags}
 * (StreamImpl, FrameReader, Timeouts), which leaves reading and writing the fields unchanged for their users.
 */

/** `bits` with `bit` set when `on`, cleared otherwise. */
export function withBit(bits: number, bit: number, on: boolean): number {
  return on ? bits | bit : bits & ~bit;
}

/** An object whose booleans live in `bits`. */
export interface Packed {
  bits: number;
}

/**
 * Defines `names` on `proto` as booleans stored in its `bits` field, the first name in bit 0.
 * Declare them in the class with `declare name: boolean;` (so no own field hides the accessor).
 * Returns each name's bit, for initial values.
 */
export function packFlags<N extends string>(proto: Packed, names: readonly N[]): Record<N, number> {
  const bitOf = {} as Record<N, number>;
  names.forEach((name, i) => {
    const bit = 1 << i;
    bitOf[name] = bit;
    Object.defineProperty(proto, name, {
      get(this: Packed): boolean {
        return (this.bits & bit) !== 0;
      },
      set(this: Packed, on: boolean) {
        this.bits = withBit(this.bits, bit, on);
      },
      configurable: true,
      enumerable: false,
    });
  });
  return bitOf;
}
