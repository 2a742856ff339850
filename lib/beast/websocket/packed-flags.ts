/**
 * Boolean fields packed into one number field of their object, as accessors on its prototype:
 * each boolean field of an object costs 8 bytes, and the stream's state objects live as long as
 * their connection (bench/idle-memory). Used only where that figure needed it (StreamImpl,
 * FrameReader, Timeouts); reading and writing the fields is unchanged for their users.
 */

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
        this.bits = on ? this.bits | bit : this.bits & ~bit;
      },
      configurable: true,
      enumerable: false,
    });
  });
  return bitOf;
}
