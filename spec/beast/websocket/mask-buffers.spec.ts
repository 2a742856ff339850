// The buffers client frames are masked into: each masks a range as applyMask does (through views
// it keeps); a buffer is lent to one write at a time and comes back.

import { expect } from 'chai';

import { applyMask } from '../../../lib/beast/websocket/mask.js';
import { giveMaskBuffer, maskBufferBytes, takeMaskBuffer, type MaskBuffer } from '../../../lib/beast/websocket/mask-buffers.js';

describe('websocket/mask-buffers', () => {
  it('lends distinct buffers of maskBufferBytes, more than it keeps if asked, and takes them back', () => {
    const lent: MaskBuffer[] = [];
    for (let i = 0; i < 12; i++) lent.push(takeMaskBuffer());
    expect(new Set(lent.map((b) => b.bytes)).size).to.equal(12);
    expect(lent.every((b) => b.bytes.length === maskBufferBytes)).to.equal(true);
    // No two share memory: writing one leaves the others alone.
    for (const [i, b] of lent.entries()) b.bytes.fill(i);
    expect(lent.every((b, i) => b.bytes.every((x) => x === i))).to.equal(true);
    for (const b of lent) giveMaskBuffer(b);
    const again = takeMaskBuffer();
    expect(lent).to.include(again);
    giveMaskBuffer(again);
  });

  it('a buffer masks a range like applyMask, for every start, length and key offset', () => {
    const lent: MaskBuffer[] = [];
    for (let i = 0; i < 12; i++) lent.push(takeMaskBuffer());
    // A recycled buffer and a new one.
    for (const b of [lent[0]!, lent[11]!]) {
      for (let start = 0; start < 70; start += 3) {
        for (const len of [0, 1, 3, 63, 64, 65, 127, 128, 200, 4096, 4099]) {
          for (let off = 0; off < 4; off++) {
            for (let i = 0; i < 4400; i++) b.bytes[i] = (i * 31) & 0xff;
            const expected = b.bytes.slice(0, 4400);
            const next = b.mask(start, start + len, 0xdeadbeef, off);
            expect(next).to.equal(applyMask(expected.subarray(start, start + len), 0xdeadbeef, off));
            expect(Buffer.from(b.bytes.subarray(0, 4400)).equals(Buffer.from(expected)), `start ${start} len ${len} offset ${off}`).to.equal(true);
          }
        }
      }
    }
    // The last bytes of a buffer too.
    const b = lent[0]!;
    b.bytes.fill(0);
    b.mask(maskBufferBytes - 100, maskBufferBytes, 0x01020304, 0);
    expect(Array.from(b.bytes.subarray(maskBufferBytes - 4))).to.deep.equal([1, 2, 3, 4]);
    expect(b.bytes[maskBufferBytes - 101]).to.equal(0);
    for (const x of lent) giveMaskBuffer(x);
  });
});
