/**
 * The buffers a client masks its frames into before writing them (the write operation's gather
 * buffers), lent for one write and handed back. No I/O here.
 *
 * Masking is the largest cost of a client's large messages that JavaScript controls: 64 KiB in
 * 4 KiB frames takes 5.4 µs in 32-bit words, 0.7 µs with 128-bit vector XOR. So the lent buffers
 * live, where possible, in a small WebAssembly memory, and a WebAssembly function with SIMD
 * masks them in place (a portable module built here, not a native addon). Where WebAssembly SIMD
 * is unavailable, or every slot of that memory is lent, a plain buffer is masked in JavaScript.
 */

/** Byte `i` (0..3) of the key's cycle, as the key appears on the wire (big-endian). */
function keyByte(key: number, i: number): number {
  return (key >>> (24 - 8 * (i & 3))) & 0xff;
}

/** The key rotated to `offset`, as a word of the platform's (little-endian) byte order. */
function keyWord(key: number, offset: number): number {
  return keyByte(key, offset) | (keyByte(key, offset + 1) << 8) | (keyByte(key, offset + 2) << 16) | (keyByte(key, offset + 3) << 24);
}

/**
 * `applyMask` on bytes `start..end` of `bytes`, where `words` views the same memory from
 * the same (4-aligned) start: for a buffer masked into again and again, which keeps both views.
 * Making an `Int32Array` per call cost more than masking a 4 KiB frame (64 KiB in 4 KiB frames:
 * 9.3 µs with a view per frame, 5.4 µs without).
 */
function applyMaskRange(bytes: Uint8Array, words: Int32Array, start: number, end: number, key: number, offset = 0): number {
  let i = start;
  let o = offset & 3;
  while (i < end && (i & 3) !== 0) {
    bytes[i++]! ^= keyByte(key, o);
    o = (o + 1) & 3;
  }
  const from = i >>> 2;
  const to = end >>> 2;
  if (to > from) {
    const w = keyWord(key, o);
    // Unrolled as in applyMask.
    const whole = from + ((to - from) & ~7);
    let j = from;
    for (; j < whole; j += 8) {
      words[j]! ^= w;
      words[j + 1]! ^= w;
      words[j + 2]! ^= w;
      words[j + 3]! ^= w;
      words[j + 4]! ^= w;
      words[j + 5]! ^= w;
      words[j + 6]! ^= w;
      words[j + 7]! ^= w;
    }
    for (; j < to; j++) words[j]! ^= w;
    i = to << 2;
  }
  while (i < end) {
    bytes[i++]! ^= keyByte(key, o);
    o = (o + 1) & 3;
  }
  return o;
}

/** The size of a lent buffer: 64 KiB of payload and the headers of 16 frames of 4 KiB. */
export const maskBufferBytes = 64 * 1024 + 16 * 8;

/** Slots in the WebAssembly memory (one memory for the process, made on the first loan). */
const arenaSlots = 8;
/** Plain buffers kept for reuse at most (where the memory is missing or all its slots are out). */
const maxPlainSpares = 8;

/** A lent buffer: `bytes`, and how to mask a range of it in place. */
export interface MaskBuffer {
  readonly bytes: Uint8Array;
  /**
   * XORs `bytes[start..end)` with `key` from key offset `offset` (as `applyMask`); returns the
   * key offset after the range.
   */
  mask(start: number, end: number, key: number, offset: number): number;
}

class PlainMaskBuffer implements MaskBuffer {
  readonly bytes = new Uint8Array(maskBufferBytes);
  // Kept with the buffer: a view made per call cost more than masking a 4 KiB frame.
  readonly #words = new Int32Array(this.bytes.buffer);

  mask(start: number, end: number, key: number, offset: number): number {
    return applyMaskRange(this.bytes, this.#words, start, end, key, offset);
  }
}

/** The WebAssembly side: `mask(at, n, word)` XORs `n` bytes (a multiple of 64) at `at` with `word`. */
interface Arena {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly mask: (at: number, n: number, word: number) => void;
}

class ArenaMaskBuffer implements MaskBuffer {
  readonly bytes: Uint8Array;

  constructor(private readonly arena: Arena, private readonly base: number) {
    this.bytes = arena.bytes.subarray(base, base + maskBufferBytes);
  }

  mask(start: number, end: number, key: number, offset: number): number {
    // Whole 64-byte blocks in WebAssembly (a multiple of 4 bytes: the key offset is unchanged),
    // the rest in JavaScript.
    const vec = (end - start) & ~63;
    if (vec > 0) this.arena.mask(this.base + start, vec, keyWord(key, offset));
    return applyMaskRange(this.arena.bytes, this.arena.words, this.base + start + vec, this.base + end, key, offset);
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/**
 * The module, assembled by hand: one fixed-size memory (it never grows, so views of it stay valid)
 * and `mask(p, n, w)`: `k = i32x4.splat(w); for (end = p + n; p < end; p += 64)` four
 * `v128.store(p + i, v128.xor(v128.load(p + i), k))`.
 */
function arenaModule(pages: number): Uint8Array {
  const block = (off: number): number[] => [0x20, 0, 0x20, 0, 0xfd, 0x00, 0, off, 0x20, 3, 0xfd, 0x51, 0xfd, 0x0b, 0, off];
  const body = [
    2, 1, 0x7b, 1, 0x7f, // locals: k v128, end i32
    0x20, 2, 0xfd, 0x11, 0x21, 3, // k = i32x4.splat(w)
    0x20, 0, 0x20, 1, 0x6a, 0x21, 4, // end = p + n
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0, 0x20, 4, 0x4f, 0x0d, 1, // if p >= end break
    ...block(0), ...block(16), ...block(32), ...block(48),
    0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0, // p += 64
    0x0c, 0, 0x0b, 0x0b, 0x0b, // continue; end loop, block, function
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), // type (i32, i32, i32) -> ()
    ...section(3, [1, 0]),
    ...section(5, [1, 1, ...leb(pages), ...leb(pages)]), // memory: min = max
    ...section(7, [2, 3, 0x6d, 0x65, 0x6d, 2, 0, 4, 0x6d, 0x61, 0x73, 0x6b, 0, 0]), // "mem", "mask"
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** What is used of the WebAssembly global (the project's type libraries do not declare it). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { mem: { buffer: ArrayBuffer }; mask: Arena['mask'] } };
}

function makeArena(): Arena | null {
  try {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
    const pages = Math.ceil((arenaSlots * maskBufferBytes) / 65536);
    const { mem, mask } = new wasm.Instance(new wasm.Module(arenaModule(pages))).exports;
    return { bytes: new Uint8Array(mem.buffer), words: new Int32Array(mem.buffer), mask };
  } catch {
    return null; // no WebAssembly, or no SIMD: plain buffers only
  }
}

let arenaMade = false;
const arenaSpares: MaskBuffer[] = [];
const plainSpares: MaskBuffer[] = [];

/** Lends a buffer to mask into; hand it back with {@link giveMaskBuffer} once the write is over. */
export function takeMaskBuffer(): MaskBuffer {
  if (!arenaMade) {
    arenaMade = true;
    const arena = makeArena();
    // Slot offsets are multiples of 64 (maskBufferBytes is), so the word views line up.
    if (arena !== null) for (let i = arenaSlots - 1; i >= 0; i--) arenaSpares.push(new ArenaMaskBuffer(arena, i * maskBufferBytes));
  }
  return arenaSpares.pop() ?? plainSpares.pop() ?? new PlainMaskBuffer();
}

/**
 * Takes a lent buffer back. The write it went to must be over (its handler called, whatever the
 * outcome): from then on the next layer no longer reads it, as for any buffer given to a write.
 */
export function giveMaskBuffer(b: MaskBuffer): void {
  if (b instanceof ArenaMaskBuffer) arenaSpares.push(b);
  else if (plainSpares.length < maxPlainSpares) plainSpares.push(b);
}
