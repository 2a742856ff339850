// Specs for lib/net/buffer.ts: views, sizes, copies and sequence adaptors. No I/O.

import { expect } from 'chai';
import {
  ownBufferSequence,
  allocUnsafeBytes,
  buffer,
  bufferCopy,
  copyBytesAt,
  bufferSequence,
  bufferSize,
  BuffersSuffix,
  buffersCat,
  buffersFront,
  buffersPrefix,
  buffersToBytes,
  buffersToString,
} from '../../lib/net/buffer.js';

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const iota = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const flat = (seq: Uint8Array | readonly Uint8Array[]): number[] => Array.from(buffersToBytes(seq));

/** Splits `src` into fresh copies of the given lengths. */
function split(src: Uint8Array, ...lens: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (const n of lens) {
    out.push(src.slice(off, off + n));
    off += n;
  }
  return out;
}

describe('net/buffer', () => {
  describe('allocUnsafeBytes', () => {
    it('returns a plain Uint8Array of the requested length', () => {
      const b = allocUnsafeBytes(100);
      expect(b.length).to.equal(100);
      expect(Object.getPrototypeOf(b)).to.equal(Uint8Array.prototype);
      expect(allocUnsafeBytes(0).length).to.equal(0);
    });
  });

  describe('buffer', () => {
    it('returns a Uint8Array as is', () => {
      const u = bytes(1, 2, 3);
      expect(buffer(u)).to.equal(u);
    });

    it('wraps an ArrayBuffer without copying', () => {
      const ab = new ArrayBuffer(4);
      const v = buffer(ab);
      expect(v.buffer).to.equal(ab);
      v[0] = 7;
      expect(new Uint8Array(ab)[0]).to.equal(7);
    });

    it('encodes strings as UTF-8', () => {
      expect(Array.from(buffer('é€'))).to.deep.equal([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
      expect(buffer('').length).to.equal(0);
    });

    it('clamps to maxSize, sharing memory', () => {
      const u = bytes(1, 2, 3, 4);
      const v = buffer(u, 2);
      expect(Array.from(v)).to.deep.equal([1, 2]);
      expect(v.buffer).to.equal(u.buffer);
      expect(buffer(u, 10)).to.equal(u);
      expect(buffer(u, 0).length).to.equal(0);
      expect(buffer(u, -5).length).to.equal(0);
      expect(Array.from(buffer('abc', 1))).to.deep.equal([0x61]);
      expect(buffer(new ArrayBuffer(8), 3).length).to.equal(3);
    });
  });

  describe('bufferSequence', () => {
    it('wraps a single buffer and returns lists as is', () => {
      const u = bytes(1);
      expect(bufferSequence(u)).to.deep.equal([u]);
      const list = [u, bytes(2)];
      expect(bufferSequence(list)).to.equal(list);
      const empty: Uint8Array[] = [];
      expect(bufferSequence(empty)).to.equal(empty);
    });
  });

  describe('ownBufferSequence', () => {
    it('keeps a single buffer, takes the one buffer of a list of one, and copies longer lists', () => {
      const u = bytes(1);
      expect(ownBufferSequence(u)).to.equal(u);
      const one = [u];
      expect(ownBufferSequence(one)).to.equal(u);
      const list = [u, bytes(2)];
      const own = ownBufferSequence(list);
      expect(own).to.not.equal(list);
      expect(own).to.deep.equal(list);
      list.length = 0;
      expect(bufferSize(own)).to.equal(2);
      expect(ownBufferSequence([])).to.deep.equal([]);
    });
  });

  describe('bufferSize', () => {
    it('sums element lengths', () => {
      expect(bufferSize(bytes(1, 2))).to.equal(2);
      expect(bufferSize([])).to.equal(0);
      expect(bufferSize([bytes(1), new Uint8Array(0), bytes(2, 3, 4)])).to.equal(4);
      expect(bufferSize(new Uint8Array(0))).to.equal(0);
    });
  });

  describe('bufferCopy', () => {
    it('copies single to single, limited by the smaller side', () => {
      const dst = new Uint8Array(3);
      expect(bufferCopy(dst, bytes(1, 2, 3, 4, 5))).to.equal(3);
      expect(Array.from(dst)).to.deep.equal([1, 2, 3]);
      const big = new Uint8Array(5);
      expect(bufferCopy(big, bytes(9, 8))).to.equal(2);
      expect(Array.from(big)).to.deep.equal([9, 8, 0, 0, 0]);
    });

    it('honours maxBytes on single buffers', () => {
      const dst = new Uint8Array(4);
      expect(bufferCopy(dst, bytes(1, 2, 3, 4), 2)).to.equal(2);
      expect(Array.from(dst)).to.deep.equal([1, 2, 0, 0]);
      expect(bufferCopy(dst, bytes(5), 0)).to.equal(0);
      expect(bufferCopy(dst, bytes(5), -1)).to.equal(0);
      expect(dst[0]).to.equal(1);
    });

    it('copies across uneven element boundaries', () => {
      const src = iota(20, 1);
      const srcSeq = split(src, 3, 0, 7, 1, 9);
      const dstSeq = [new Uint8Array(5), new Uint8Array(0), new Uint8Array(2), new Uint8Array(13)];
      expect(bufferCopy(dstSeq, srcSeq)).to.equal(20);
      expect(flat(dstSeq)).to.deep.equal(Array.from(src));
    });

    it('stops at maxBytes in the middle of elements', () => {
      const src = iota(20, 1);
      const dstSeq = [new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)];
      expect(bufferCopy(dstSeq, split(src, 6, 6, 8), 7)).to.equal(7);
      expect(flat(dstSeq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0]);
    });

    it('stops when the destination is full or the source is exhausted', () => {
      const dstSeq = [new Uint8Array(2), new Uint8Array(3)];
      expect(bufferCopy(dstSeq, [iota(4), iota(4, 4)])).to.equal(5);
      expect(flat(dstSeq)).to.deep.equal([0, 1, 2, 3, 4]);
      const dst2 = new Uint8Array(10);
      expect(bufferCopy(dst2, [bytes(1), bytes(2, 3)])).to.equal(3);
      expect(Array.from(dst2.subarray(0, 4))).to.deep.equal([1, 2, 3, 0]);
    });

    it('mixes a single buffer with a list on either side', () => {
      const dst = new Uint8Array(6);
      expect(bufferCopy(dst, [bytes(1, 2), bytes(3, 4, 5)])).to.equal(5);
      expect(Array.from(dst)).to.deep.equal([1, 2, 3, 4, 5, 0]);
      const dstSeq = [new Uint8Array(1), new Uint8Array(2)];
      expect(bufferCopy(dstSeq, bytes(7, 8, 9, 10))).to.equal(3);
      expect(flat(dstSeq)).to.deep.equal([7, 8, 9]);
    });

    it('copies nothing from or to empty sequences', () => {
      expect(bufferCopy([], bytes(1))).to.equal(0);
      expect(bufferCopy(new Uint8Array(3), [])).to.equal(0);
      expect(bufferCopy([new Uint8Array(0)], [new Uint8Array(0), bytes(1)])).to.equal(0);
    });

    it('agrees with a byte model for many element layouts', () => {
      const src = iota(12, 100);
      const ones = Array<number>(12).fill(1);
      const layouts = [[12], [1, 11], [4, 4, 4], [0, 5, 0, 7], [3, 2, 1, 6], ones];
      for (const sl of layouts) {
        for (const dl of [...layouts, [5], [2, 3]]) {
          for (const max of [undefined, 0, 1, 5, 11, 100]) {
            const dstSeq = dl.map((n) => new Uint8Array(n));
            const dTotal = dl.reduce((a, b) => a + b, 0);
            const expected = Math.min(12, dTotal, max ?? Infinity);
            expect(bufferCopy(dstSeq, split(src, ...sl), max)).to.equal(expected);
            expect(flat(dstSeq).slice(0, expected)).to.deep.equal(Array.from(src.subarray(0, expected)));
          }
        }
      }
    });
  });

  describe('copyBytesAt', () => {
    it('copies a range to the front of the destination, either side of the bytewise limit', () => {
      const src = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
      for (const [start, end] of [[0, 0], [5, 6], [3, 5], [4, 8], [6, 11], [9, 16], [20, 36], [10, 73], [1, 65], [2, 66], [0, 64], [17, 300]] as const) {
        const dst = new Uint8Array(end - start + 3).fill(0xee);
        copyBytesAt(dst, src, start, end);
        expect([...dst.subarray(0, end - start)], `${start}..${end}`).to.deep.equal([...src.subarray(start, end)]);
        expect([...dst.subarray(end - start)], `${start}..${end}: nothing past the range`).to.deep.equal([0xee, 0xee, 0xee]);
      }
    });
  });

  describe('buffersPrefix', () => {
    it('views the front of a single buffer', () => {
      const u = bytes(1, 2, 3);
      const p = buffersPrefix(2, u);
      expect(Array.from(p)).to.deep.equal([1, 2]);
      expect(p.buffer).to.equal(u.buffer);
      expect(buffersPrefix(3, u)).to.equal(u);
      expect(buffersPrefix(99, u)).to.equal(u);
      expect(buffersPrefix(0, u).length).to.equal(0);
      expect(buffersPrefix(-1, u).length).to.equal(0);
    });

    it('cuts a list inside an element without copying', () => {
      const a = bytes(1, 2);
      const b = bytes(3, 4, 5);
      const p = buffersPrefix(3, [a, b]);
      expect(p).to.have.length(2);
      expect(p[0]).to.equal(a);
      expect(Array.from(p[1])).to.deep.equal([3]);
      expect(p[1].buffer).to.equal(b.buffer);
    });

    it('cuts a list at an element boundary', () => {
      const a = bytes(1, 2);
      const p = buffersPrefix(2, [a, bytes(3)]);
      expect(p).to.deep.equal([a]);
    });

    it('handles n = 0, n past the end and empty lists', () => {
      const list = [bytes(1), bytes(2)];
      expect(buffersPrefix(0, list)).to.deep.equal([]);
      expect(buffersPrefix(2, list)).to.equal(list);
      expect(buffersPrefix(50, list)).to.equal(list);
      expect(bufferSize(buffersPrefix(5, []))).to.equal(0);
      expect(bufferSize(buffersPrefix(0, []))).to.equal(0);
    });
  });

  describe('buffersFront', () => {
    it('returns the first buffer', () => {
      const a = bytes(1);
      expect(buffersFront(a)).to.equal(a);
      expect(buffersFront([a, bytes(2)])).to.equal(a);
      expect(buffersFront([]).length).to.equal(0);
    });
  });

  describe('BuffersSuffix', () => {
    it('starts with the whole sequence, not copied', () => {
      const list = [bytes(1, 2), bytes(3)];
      const s = new BuffersSuffix(list);
      expect(s.size()).to.equal(3);
      expect(s.data()).to.equal(list);
    });

    it('consumes progressively across elements', () => {
      const a = bytes(1, 2, 3);
      const s = new BuffersSuffix([a, new Uint8Array(0), bytes(4, 5), bytes(6)]);
      s.consume(1);
      expect(s.size()).to.equal(5);
      expect(flat(s.data())).to.deep.equal([2, 3, 4, 5, 6]);
      expect(s.data()[0].buffer).to.equal(a.buffer);
      s.consume(2);
      expect(flat(s.data())).to.deep.equal([4, 5, 6]);
      s.consume(0);
      expect(s.size()).to.equal(3);
      s.consume(1);
      expect(flat(s.data())).to.deep.equal([5, 6]);
      s.consume(1);
      expect(s.data()).to.have.length(1);
      expect(flat(s.data())).to.deep.equal([6]);
      s.consume(10);
      expect(s.size()).to.equal(0);
      expect(s.data()).to.deep.equal([]);
      s.consume(1);
      expect(s.size()).to.equal(0);
    });

    it('wraps a single buffer and an empty list', () => {
      const s = new BuffersSuffix(bytes(1, 2, 3));
      s.consume(2);
      expect(flat(s.data())).to.deep.equal([3]);
      const e = new BuffersSuffix([]);
      expect(e.size()).to.equal(0);
      e.consume(3);
      expect(e.data()).to.deep.equal([]);
    });

    it('returns the same list until the next consume', () => {
      const s = new BuffersSuffix([bytes(1, 2), bytes(3)]);
      s.consume(1);
      const d = s.data();
      expect(s.data()).to.equal(d);
      s.consume(1);
      expect(s.data()).to.not.equal(d);
    });

    it('agrees with a byte model at every split point', () => {
      const src = iota(10);
      for (let step = 1; step <= 4; step++) {
        const s = new BuffersSuffix(split(src, 3, 0, 4, 3));
        let pos = 0;
        while (pos < 10) {
          s.consume(step);
          pos = Math.min(10, pos + step);
          expect(s.size()).to.equal(10 - pos);
          expect(flat(s.data())).to.deep.equal(Array.from(src.subarray(pos)));
        }
      }
    });
  });

  describe('buffersCat', () => {
    it('flattens sequences in order without copying, skipping empty buffers', () => {
      const a = bytes(1);
      const b = bytes(2, 3);
      const c = bytes(4);
      const out = buffersCat(a, [], [new Uint8Array(0), b], new Uint8Array(0), [c]);
      expect(out).to.have.length(3);
      expect(out[0]).to.equal(a);
      expect(out[1]).to.equal(b);
      expect(out[2]).to.equal(c);
    });

    it('returns an empty list for nothing', () => {
      expect(buffersCat()).to.deep.equal([]);
      expect(buffersCat([], new Uint8Array(0))).to.deep.equal([]);
    });
  });

  describe('buffersToBytes', () => {
    it('returns a lone buffer itself', () => {
      const a = bytes(1, 2);
      expect(buffersToBytes(a)).to.equal(a);
      expect(buffersToBytes([a])).to.equal(a);
    });

    it('gathers several buffers into fresh memory', () => {
      const a = bytes(1, 2);
      const out = buffersToBytes([a, new Uint8Array(0), bytes(3)]);
      expect(Array.from(out)).to.deep.equal([1, 2, 3]);
      expect(out.buffer).to.not.equal(a.buffer);
      expect(buffersToBytes([]).length).to.equal(0);
      expect(buffersToBytes([new Uint8Array(0), new Uint8Array(0)]).length).to.equal(0);
    });
  });

  describe('buffersToString', () => {
    it('decodes UTF-8, even split inside a character', () => {
      const euro = buffer('a€b');
      expect(buffersToString(euro)).to.equal('a€b');
      expect(buffersToString(split(euro, 2, 1, 2))).to.equal('a€b');
      expect(buffersToString([])).to.equal('');
    });

    it('accepts other encodings', () => {
      expect(buffersToString([bytes(0xde), bytes(0xad)], 'hex')).to.equal('dead');
      expect(buffersToString(buffer('hi'), 'base64')).to.equal('aGk=');
    });

    it('honours the view offset', () => {
      const u = buffer('xxhelloxx').subarray(2, 7);
      expect(buffersToString(u)).to.equal('hello');
    });
  });
});
