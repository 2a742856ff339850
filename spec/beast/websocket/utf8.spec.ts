import { expect } from 'chai';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { isValidUtf8, Utf8Checker } from '../../../lib/beast/websocket/utf8.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Feeds `bytes` in the given chunks; returns the index of the chunk that failed, or 'ok' / 'incomplete'.
function check(bytes: Uint8Array, cuts: number[]): number | 'ok' | 'incomplete' {
  const c = new Utf8Checker();
  let start = 0;
  const points = [...new Set(cuts.filter((x) => x > 0 && x < bytes.length))].sort((a, b) => a - b);
  points.push(bytes.length);
  for (let i = 0; i < points.length; i++) {
    if (!c.write(bytes.subarray(start, points[i]))) return i;
    start = points[i]!;
  }
  return c.finish() ? 'ok' : 'incomplete';
}

describe('websocket/utf8', () => {
  it('accepts valid text of every length class', () => {
    for (const s of ['', 'hello', 'κόσμε', '€', '\u{10FFFF}', '\u{1F600} 😀 mixed ascii']) {
      const b = Buffer.from(s, 'utf8');
      expect(isValidUtf8(b)).to.equal(true);
      for (let cut = 0; cut <= b.length; cut++) expect(check(b, [cut]), `${s} cut at ${cut}`).to.equal('ok');
    }
  });

  const invalid: Array<[string, string, number]> = [
    // [description, bytes, index of the byte at which a fail-fast checker must reject]
    ['lone continuation byte', '80', 0],
    ['overlong C0', 'c0 80', 0],
    ['overlong C1', 'c1 bf', 0],
    ['F5 lead', 'f5 80 80 80', 0],
    ['FF', 'ff', 0],
    ['overlong 3-byte (E0 80)', 'e0 80 80', 1],
    ['surrogate ED A0', 'ed a0 80', 1],
    ['overlong 4-byte (F0 80)', 'f0 80 80 80', 1],
    ['above U+10FFFF (F4 90)', 'f4 90 80 80', 1],
    ['truncated then ASCII', 'e2 82 41', 2],
    ['two-byte lead then lead', 'c2 c2', 1],
  ];
  for (const [what, bytes, at] of invalid) {
    it(`rejects ${what}, failing fast at byte ${at}`, () => {
      const b = hex(bytes);
      expect(isValidUtf8(b)).to.equal(false);
      // Byte by byte: the write of byte `at` is the first to fail.
      expect(check(b, [...Array(b.length).keys()])).to.equal(at);
    });
  }

  it('a valid prefix that ends mid code point is incomplete, not invalid', () => {
    expect(check(hex('e2 82'), [1])).to.equal('incomplete');
    expect(check(hex('f0 9f 98'), [])).to.equal('incomplete');
  });

  it('any split gives the same verdict as isUtf8 on the whole (property)', () => {
    const bytesArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Uint8Array.from(Buffer.from(s, 'utf8'))),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.constantFrom(0x41, 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xa0, 0xf0, 0xf4, 0x90, 0x8f), { maxLength: 12 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(bytesArb, fc.array(fc.nat(45), { maxLength: 6 }), (bytes, cuts) => {
        const verdict = check(bytes, cuts);
        const expected = bytes.length === 0 || isUtf8(bytes);
        return (verdict === 'ok') === expected;
      }),
      { numRuns: 3000 },
    );
  });
});
