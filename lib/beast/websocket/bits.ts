/**
 * Flags kept as bits of one number field. Every connection holds a stream and a frame decoder,
 * and a boolean field costs a word where a bit costs nothing (bench/idle-memory).
 */

/** `bits` with `bit` set when `on`, cleared otherwise. */
export function withBit(bits: number, bit: number, on: boolean): number {
  return on ? bits | bit : bits & ~bit;
}
