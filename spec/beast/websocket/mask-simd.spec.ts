// WebAssembly SIMD masking (mask-simd.ts) against the JavaScript path (mask.ts), which stays the
// fallback: both must give the same bytes and the same next key offset for every alignment of the
// view, every length (across the module's 64-byte, 16-byte, word and byte steps and its 64 KiB
// chunks) and every key offset, on random inputs.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';
import fc from 'fast-check';

import { applyMask, applyMaskAt, applyMaskJs, applyMaskRange, copyMasked, copyMaskedAt, copyMaskedJs, simdMaskMax, simdMaskMin } from '../../../lib/beast/websocket/mask.js';
import { applyMaskSimd, copyMaskedSimd, maskSlot, simdMask } from '../../../lib/beast/websocket/mask-simd.js';
import { takeMaskBuffer, giveMaskBuffer } from '../../../lib/beast/websocket/mask-buffers.js';

/** Random bytes (a cheap generator: the property is about positions, not about the values). */
function noise(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Runs `mask` and the JavaScript path on two copies of the same bytes, a view at `align` into each. */
function agree(mask: (d: Uint8Array, key: number, offset: number) => number, n: number, align: number, key: number, offset: number, seed: number): void {
  const source = noise(n + align + 8, seed);
  const a = source.slice();
  const b = source.slice();
  const ra = applyMaskJs(a.subarray(align, align + n), key, offset);
  const rb = mask(b.subarray(align, align + n), key, offset);
  expect(rb, `next key offset, n ${n} align ${align} offset ${offset}`).to.equal(ra);
  // The bytes around the view are left alone by both: compare the whole arrays.
  expect(Buffer.from(b).equals(Buffer.from(a)), `bytes, n ${n} align ${align} offset ${offset} key ${key}`).to.equal(true);
}

describe('websocket/mask-simd', () => {
  it('runs here: Node 20 and later have WebAssembly SIMD', () => {
    expect(simdMask).to.not.equal(null);
  });

  it('embeds the module tools/mask-wasm.mjs assembles, byte for byte', () => {
    const tool = fileURLToPath(new URL('../../../../tools/mask-wasm.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tool, '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
  });

  it('masks like the JavaScript path: every alignment, length 0..300 and key offset', () => {
    for (let align = 0; align < 16; align++) {
      for (let n = 0; n <= 300; n++) {
        for (let offset = 0; offset < 4; offset++) agree(applyMaskSimd, n, align, 0xa1b2c3d4, offset, n * 64 + align * 4 + offset);
      }
    }
  });

  it('masks like the JavaScript path around its 64 KiB chunks', () => {
    const chunk = 64 * 1024;
    for (const n of [chunk - 1, chunk, chunk + 1, chunk + 3, 2 * chunk - 5, 3 * chunk + 7, 1024 * 1024 + 1]) {
      for (const align of [0, 1, 3, 8]) agree(applyMaskSimd, n, align, 0x01020304, n & 3, n + align);
    }
  });

  it('masks like the JavaScript path on random inputs', () => {
    fc.assert(
      fc.property(fc.nat(140_000), fc.nat(15), fc.integer({ min: 1, max: 0xffffffff }), fc.nat(7), fc.integer(), (n, align, key, offset, seed) => {
        agree(applyMaskSimd, n, align, key | 0, offset, seed);
        agree(applyMask, n, align, key | 0, offset, seed); // the dispatch, either side of simdMaskMin
      }),
      { numRuns: 200 },
    );
  });

  it('applyMask hands payloads from simdMaskMin on to the SIMD path, and the result is the same', () => {
    expect(simdMaskMin).to.be.greaterThan(0);
    for (const n of [simdMaskMin - 1, simdMaskMin, simdMaskMin + 5]) agree(applyMask, n, 3, 0xdeadbeef, 2, n);
    // And back to the JavaScript path from simdMaskMax on (large payloads, in place).
    expect(simdMaskMax).to.be.greaterThan(simdMaskMin);
    for (const n of [simdMaskMax - 1, simdMaskMax, simdMaskMax + 5]) agree(applyMask, n, 3, 0xdeadbeef, 2, n);
  });

  it('applyMaskAt masks a range as a byte-at-a-time reference does, either side of its bytewise size', () => {
    // The reference: RFC 6455 section 5.3, one byte at a time.
    const reference = (d: Uint8Array, start: number, end: number, key: number, offset: number): number => {
      let o = offset & 3;
      for (let i = start; i < end; i++) {
        d[i]! ^= (key >>> (24 - 8 * o)) & 0xff;
        o = (o + 1) & 3;
      }
      return o;
    };
    for (const len of [0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 300, 1500]) {
      for (const start of [0, 1, 2, 3, 5, 8]) {
        for (let offset = 0; offset < 4; offset++) {
          const src = noise(start + len + 8, len * 31 + start * 4 + offset);
          const a = src.slice();
          const b = src.slice();
          expect(applyMaskAt(a, start, start + len, 0x9e3779b9, offset), `len ${len} start ${start} offset ${offset}`).to.equal(reference(b, start, start + len, 0x9e3779b9, offset));
          expect(Buffer.from(a).equals(Buffer.from(b)), `bytes, len ${len} start ${start} offset ${offset}`).to.equal(true);
        }
      }
    }
  });

  it('copies masked as a byte-at-a-time reference does: copyMasked, copyMaskedAt and both of their paths', () => {
    // The reference: copy, then RFC 6455 section 5.3 one byte at a time.
    const reference = (dst: Uint8Array, src: Uint8Array, start: number, end: number, key: number, offset: number): number => {
      let o = offset & 3;
      for (let i = start; i < end; i++) {
        dst[i - start] = src[i]! ^ ((key >>> (24 - 8 * o)) & 0xff);
        o = (o + 1) & 3;
      }
      return o;
    };
    type Copy = (dst: Uint8Array, src: Uint8Array, start: number, end: number, key: number, offset: number) => number;
    const paths: Array<[string, Copy]> = [
      ['copyMaskedAt', copyMaskedAt],
      ['copyMasked', (d, s, a, b, k, o) => copyMasked(d, s.subarray(a, b), k, o)],
      ['copyMaskedJs', (d, s, a, b, k, o) => copyMaskedJs(d, s.subarray(a, b), k, o)],
      ['copyMaskedSimd', (d, s, a, b, k, o) => copyMaskedSimd(d, s.subarray(a, b), k, o)],
    ];
    const lengths = [0, 1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 255, 256, 1023, 1024, 1025, 1500, 65535, 65536, 65537, 3 * 65536 + 5, simdMaskMax - 1, simdMaskMax];
    for (const len of lengths) {
      for (const start of [0, 1, 3, 8]) {
        for (let offset = 0; offset < 4; offset++) {
          const src = noise(start + len + 8, len * 31 + start * 4 + offset);
          const before = src.slice();
          const want = new Uint8Array(len + 8).fill(0xa5);
          const wantNext = reference(want, src, start, start + len, 0x9e3779b9, offset);
          for (const [name, copy] of paths) {
            // A destination longer than the bytes, not 8-aligned: the bytes after them stay as they were.
            const dst = new Uint8Array(len + 8).fill(0xa5);
            const next = copy(dst, src, start, start + len, 0x9e3779b9, offset);
            const at = `${name}, len ${len} start ${start} offset ${offset}`;
            expect(next, at).to.equal(wantNext);
            expect(Buffer.from(dst).equals(Buffer.from(want)), at).to.equal(true);
            expect(Buffer.from(src).equals(Buffer.from(before)), `${at}: the source is left alone`).to.equal(true);
          }
        }
      }
    }
  });

  it('masks in place in its memory like the gather-buffer path (maskSlot against applyMaskRange)', () => {
    const m = simdMask!;
    const view = m.bytes.subarray(0, 4096); // the scratch chunk: the same code as a slot
    const plain = new Uint8Array(4096);
    const wide = new BigUint64Array(plain.buffer);
    for (let start = 0; start < 40; start += 3) {
      for (const len of [0, 1, 2, 3, 4, 15, 16, 17, 63, 64, 65, 200, 4000]) {
        for (let offset = 0; offset < 4; offset++) {
          const src = noise(4096, start * 7 + len + offset);
          view.set(src);
          plain.set(src);
          const end = Math.min(4096, start + len);
          expect(maskSlot(view, start, end, 0xcafef00d, offset)).to.equal(applyMaskRange(plain, wide, start, end, 0xcafef00d, offset));
          expect(Buffer.from(view).equals(Buffer.from(plain)), `start ${start} len ${len} offset ${offset}`).to.equal(true);
        }
      }
    }
  });

  it('lends gather buffers in its memory first, and they mask like applyMask', () => {
    const b = takeMaskBuffer();
    try {
      // Slots are few and never reused by another buffer: this one is in the memory unless the
      // slots were all taken by buffers held at once earlier in this process.
      if (b.inSimdMemory) expect(b.bytes.buffer).to.equal(simdMask!.bytes.buffer);
      const src = noise(5000, 9);
      b.bytes.set(src, 0);
      const expected = src.slice();
      expect(b.mask(5, 4999, 0x11223344, 1)).to.equal(applyMaskJs(expected.subarray(5, 4999), 0x11223344, 1));
      expect(Buffer.from(b.bytes.subarray(0, 5000)).equals(Buffer.from(expected))).to.equal(true);
    } finally {
      giveMaskBuffer(b);
    }
  });
});
