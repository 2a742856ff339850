// Specs for lib/net/dynamic-buffer.ts: the DynamicBuffer v1 contract for each storage strategy,
// checked by hand and against a plain byte-array model. No I/O.

import { expect } from 'chai';
import { bufferCopy, bufferSize, buffersToBytes, buffersToString } from '../../lib/net/buffer.js';
import {
  FlatBuffer,
  FlatStaticBuffer,
  LengthError,
  MultiBuffer,
  StaticBuffer,
} from '../../lib/net/dynamic-buffer.js';
import type { DynamicBuffer } from '../../lib/net/dynamic-buffer.js';

const enc = new TextEncoder();

/** Appends `text` through prepare/commit, as a reader would. */
function put(b: DynamicBuffer, text: string): void {
  const src = enc.encode(text);
  bufferCopy(b.prepare(src.length), src);
  b.commit(src.length);
}

const str = (b: DynamicBuffer): string => buffersToString(b.data());

/** Deterministic PRNG (mulberry32), so a failure replays identically. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Kind {
  name: string;
  make: (max: number) => DynamicBuffer;
  maxElements: number; // the most elements data() or prepare() may return
}

const kinds: Kind[] = [
  { name: 'FlatBuffer', make: (max) => new FlatBuffer(max), maxElements: 1 },
  { name: 'MultiBuffer', make: (max) => new MultiBuffer(max), maxElements: Infinity },
  { name: 'StaticBuffer', make: (max) => new StaticBuffer(max), maxElements: 2 },
  { name: 'FlatStaticBuffer', make: (max) => new FlatStaticBuffer(max), maxElements: 1 },
];

describe('net/dynamic-buffer', () => {
  describe('LengthError', () => {
    it('is a RangeError named LengthError', () => {
      const e = new LengthError('FlatBuffer overflow');
      expect(e).to.be.instanceOf(RangeError);
      expect(e).to.be.instanceOf(Error);
      expect(e.name).to.equal('LengthError');
      expect(e.message).to.equal('FlatBuffer overflow');
    });
  });

  // The contract, run identically against every class.
  for (const kind of kinds) {
    describe(`${kind.name} (DynamicBuffer contract)`, () => {
      it('starts empty', () => {
        const b = kind.make(64);
        expect(b.size()).to.equal(0);
        expect(b.maxSize()).to.equal(64);
        expect(bufferSize(b.data())).to.equal(0);
      });

      it('prepares exactly n bytes and commits them', () => {
        const b = kind.make(64);
        const out = b.prepare(5);
        expect(bufferSize(out)).to.equal(5);
        expect(b.size()).to.equal(0);
        bufferCopy(out, enc.encode('hello'));
        b.commit(5);
        expect(b.size()).to.equal(5);
        expect(str(b)).to.equal('hello');
        expect(bufferSize(b.prepare(0))).to.equal(0);
      });

      it('commits at most what was prepared and discards the rest', () => {
        const b = kind.make(64);
        bufferCopy(b.prepare(3), enc.encode('abc'));
        b.commit(100);
        expect(str(b)).to.equal('abc');
        b.commit(5); // nothing prepared any more
        expect(b.size()).to.equal(3);
        bufferCopy(b.prepare(4), enc.encode('defg'));
        b.commit(2);
        expect(str(b)).to.equal('abcde');
        b.commit(2); // the rest of the prepared area was discarded
        expect(str(b)).to.equal('abcde');
      });

      it('lets a later prepare replace an earlier one', () => {
        const b = kind.make(64);
        bufferCopy(b.prepare(4), enc.encode('xxxx'));
        bufferCopy(b.prepare(2), enc.encode('ok'));
        b.commit(4);
        expect(str(b)).to.equal('ok');
      });

      it('consumes at most size()', () => {
        const b = kind.make(64);
        put(b, 'abcdef');
        b.consume(2);
        expect(str(b)).to.equal('cdef');
        b.consume(0);
        expect(b.size()).to.equal(4);
        b.consume(100);
        expect(b.size()).to.equal(0);
        expect(bufferSize(b.data())).to.equal(0);
        b.consume(1);
        expect(b.size()).to.equal(0);
        put(b, 'again');
        b.consume(Infinity);
        expect(b.size()).to.equal(0);
      });

      it('keeps the prepared area across consume', () => {
        const b = kind.make(64);
        put(b, 'abc');
        const out = b.prepare(3);
        b.consume(2);
        bufferCopy(out, enc.encode('def'));
        b.consume(10);
        b.commit(3);
        expect(str(b)).to.equal('def');
      });

      it('throws LengthError when size() + n > maxSize(), leaving the buffer unchanged', () => {
        const b = kind.make(16);
        put(b, 'twelve bytes');
        const pending = b.prepare(2);
        bufferCopy(pending, enc.encode('!!'));
        expect(() => b.prepare(5)).to.throw(LengthError, kind.name);
        expect(() => b.prepare(Infinity)).to.throw(LengthError);
        expect(str(b)).to.equal('twelve bytes');
        b.commit(2);
        expect(str(b)).to.equal('twelve bytes!!');
        expect(bufferSize(b.prepare(2))).to.equal(2); // exactly up to maxSize is allowed
        expect(() => b.prepare(3)).to.throw(LengthError);
      });

      it('rejects negative, NaN and fractional counts', () => {
        const b = kind.make(16);
        for (const bad of [-1, NaN, 1.5]) {
          expect(() => b.prepare(bad)).to.throw(RangeError);
          expect(() => b.commit(bad)).to.throw(RangeError);
          expect(() => b.consume(bad)).to.throw(RangeError);
        }
      });

      it('never returns more elements than the strategy allows, and capacity covers size', () => {
        const b = kind.make(100);
        for (let i = 0; i < 50; i++) {
          put(b, 'x'.repeat((i * 7) % 23));
          expect(b.data().length).to.be.at.most(kind.maxElements);
          expect(b.capacity()).to.be.at.least(b.size());
          b.consume(Math.max((i * 5) % 19, b.size() - 60));
        }
      });

      it('matches a byte-array model under random prepare/commit/consume', () => {
        const max = 1000;
        const rnd = prng(0x5eed + kind.name.length);
        const int = (n: number): number => Math.floor(rnd() * (n + 1));
        const b = kind.make(max);
        let model: number[] = [];
        let pending: number[] | undefined; // bytes written to the current prepared area
        // MultiBuffer only: earlier data() views and what they held, to check they stay valid.
        let views: { view: Uint8Array; bytes: number[] }[] = [];
        const snapshot = (): void => {
          views = b.data().map((view) => ({ view, bytes: Array.from(view) }));
        };

        for (let i = 0; i < 2000; i++) {
          const op = rnd();
          if (op < 0.45) {
            const n = rnd() < 0.85 ? int(300) : int(max + 100);
            if (model.length + n > max) {
              expect(() => b.prepare(n)).to.throw(LengthError);
            } else {
              const out = b.prepare(n);
              expect(bufferSize(out)).to.equal(n);
              expect(out.length).to.be.at.most(kind.maxElements);
              pending = [];
              for (const v of out) {
                for (let j = 0; j < v.length; j++) {
                  v[j] = int(255);
                  pending.push(v[j]);
                }
              }
            }
          } else if (op < 0.75) {
            const n = pending === undefined ? int(20) : int(pending.length + 20);
            b.commit(n);
            if (pending !== undefined) model = model.concat(pending.slice(0, n));
            pending = undefined;
          } else {
            const n = rnd() < 0.05 ? Infinity : int(model.length + 20);
            b.consume(n);
            model = model.slice(Math.min(n, model.length));
          }

          expect(b.size(), `step ${i}`).to.equal(model.length);
          const data = b.data();
          expect(data.length).to.be.at.most(kind.maxElements);
          expect(bufferSize(data)).to.equal(model.length);
          expect(Array.from(buffersToBytes(data)), `step ${i}`).to.deep.equal(model);
          expect(b.capacity()).to.be.at.least(b.size());
          expect(b.maxSize()).to.equal(max);

          if (kind.name === 'MultiBuffer') {
            if (op < 0.75) {
              for (const s of views) expect(Array.from(s.view), `step ${i}`).to.deep.equal(s.bytes);
            } else {
              snapshot();
            }
          }
        }
      });
    });
  }

  describe('FlatBuffer', () => {
    it('defaults to an unlimited maximum and an empty block', () => {
      const b = new FlatBuffer();
      expect(b.maxSize()).to.equal(Number.MAX_SAFE_INTEGER);
      expect(b.capacity()).to.equal(0);
      expect(b.data()).to.have.length(1);
      expect(b.dataView().length).to.equal(0);
    });

    it('returns plain Uint8Array views', () => {
      const b = new FlatBuffer();
      expect(Object.getPrototypeOf(b.prepareView(4))).to.equal(Uint8Array.prototype);
      b.commit(4);
      expect(Object.getPrototypeOf(b.dataView())).to.equal(Uint8Array.prototype);
    });

    it('hands out the same view again for the same range of the same block, and new ones once the block changes', () => {
      const b = new FlatBuffer();
      const first = b.prepareView(8);
      first.set([1, 2, 3, 4, 5, 6, 7, 8]);
      b.commit(8);
      const data = b.dataView();
      expect(b.dataView()).to.equal(data);
      b.consume(8);
      // Empty again: the same range is prepared, and the view kept for it comes back.
      expect(b.prepareView(8)).to.equal(first);
      expect(b.prepareView(4)).to.not.equal(first);
      b.prepareView(8).set([9, 9, 9, 9, 9, 9, 9, 9]);
      b.commit(8);
      expect(b.dataView()).to.equal(data);
      expect([...b.dataView()]).to.deep.equal([9, 9, 9, 9, 9, 9, 9, 9]);
      // Growing moves the bytes to a new block: views of it, not of the old one.
      const grown = b.prepareView(100);
      expect(grown).to.not.equal(first);
      grown.set([7], 0);
      b.commit(1);
      expect([...b.dataView()]).to.deep.equal([9, 9, 9, 9, 9, 9, 9, 9, 7]);
      expect(b.dataView()).to.not.equal(data);
      b.consume(9);
      b.shrinkToFit();
      expect(b.prepareView(0).length).to.equal(0);
      expect(b.dataView().length).to.equal(0);
    });

    it('never hands out a kept view of a block it replaced, even for the same range', () => {
      // Blocks this large are not slices of Node's 8 KiB pool (on Node 20 each starts at offset 0
      // of memory of its own), so a kept view of the old block could match the new one's range.
      const b = new FlatBuffer();
      const before = b.prepareView(8192);
      b.reserve(20_000);
      const after = b.prepareView(8192);
      expect(after).to.not.equal(before);
      after.fill(5);
      b.commit(8192);
      expect(b.dataView()[8191]).to.equal(5);
    });

    it('reuses the free space after the readable bytes', () => {
      const b = new FlatBuffer();
      b.prepareView(10);
      b.commit(4);
      const cap = b.capacity();
      expect(cap).to.equal(10);
      const out = b.prepareView(6);
      expect(b.capacity()).to.equal(cap);
      expect(out.byteOffset).to.equal(b.dataView().byteOffset + 4);
    });

    it('compacts instead of reallocating when that makes room', () => {
      const b = new FlatBuffer();
      bufferCopy(b.prepareView(10), enc.encode('0123456789'));
      b.commit(10);
      const before = b.dataView();
      b.consume(6);
      const out = b.prepareView(5); // 0 bytes free at the tail, 6 at the front
      expect(b.capacity()).to.equal(10);
      expect(out.buffer).to.equal(before.buffer); // same block
      expect(b.dataView().byteOffset).to.equal(before.byteOffset); // moved to the front
      bufferCopy(out, enc.encode('abcde'));
      b.commit(5);
      expect(str(b)).to.equal('6789abcde');
    });

    it('reallocates geometrically when compaction is not enough', () => {
      const b = new FlatBuffer();
      put(b, 'x'.repeat(10));
      b.prepareView(1); // len 10 → max(20, 11)
      expect(b.capacity()).to.equal(20);
      b.commit(0);
      b.prepareView(25); // len 10 → max(20, 35)
      expect(b.capacity()).to.equal(35);
      b.commit(0);
      expect(str(b)).to.equal('x'.repeat(10));
    });

    it('never grows past maxSize', () => {
      const b = new FlatBuffer(15);
      put(b, 'x'.repeat(10));
      b.prepareView(2); // min(15, max(20, 12))
      expect(b.capacity()).to.equal(15);
      expect(() => b.prepareView(6)).to.throw(LengthError, 'FlatBuffer overflow');
    });

    it('reserves capacity, keeping the readable bytes', () => {
      const b = new FlatBuffer(100);
      put(b, 'abc');
      b.reserve(50);
      expect(b.capacity()).to.equal(50);
      expect(str(b)).to.equal('abc');
      b.reserve(10); // never shrinks
      expect(b.capacity()).to.equal(50);
      expect(() => b.reserve(101)).to.throw(LengthError);
    });

    it('shrinks to fit', () => {
      const b = new FlatBuffer();
      put(b, 'abcdef');
      b.prepareView(100);
      b.consume(2);
      b.shrinkToFit();
      expect(b.capacity()).to.equal(4);
      expect(str(b)).to.equal('cdef');
      b.consume(4);
      b.shrinkToFit();
      expect(b.capacity()).to.equal(0);
      put(b, 'z');
      expect(str(b)).to.equal('z');
    });

    it('clears without releasing the block', () => {
      const b = new FlatBuffer();
      put(b, 'abcdef');
      const cap = b.capacity();
      b.clear();
      expect(b.size()).to.equal(0);
      expect(b.capacity()).to.equal(cap);
      b.commit(3); // the prepared area went too
      expect(b.size()).to.equal(0);
    });

    it('changes maxSize, keeping bytes already held', () => {
      const b = new FlatBuffer();
      put(b, 'abcdef');
      b.setMaxSize(4);
      expect(b.maxSize()).to.equal(4);
      expect(str(b)).to.equal('abcdef');
      expect(() => b.prepareView(0)).to.throw(LengthError);
      b.consume(3);
      expect(b.prepareView(1).length).to.equal(1);
      expect(() => b.setMaxSize(-1)).to.throw(RangeError);
      expect(() => new FlatBuffer(NaN)).to.throw(RangeError);
    });
  });

  describe('MultiBuffer', () => {
    it('spans several blocks without moving bytes', () => {
      const b = new MultiBuffer();
      put(b, 'a'.repeat(300));
      const first = b.data();
      expect(first).to.have.length(1);
      const out = b.prepare(1000); // 212 left in the first block, then a new one
      expect(out.length).to.equal(2);
      expect(bufferSize(out)).to.equal(1000);
      expect(out[0].buffer).to.equal(first[0].buffer);
      bufferCopy(out, enc.encode('b'.repeat(1000)));
      b.commit(1000);
      expect(b.data()).to.have.length(2);
      expect(b.data()[0]).to.have.length(512);
      expect(str(b)).to.equal('a'.repeat(300) + 'b'.repeat(1000));
      expect(Array.from(first[0])).to.deep.equal(Array(300).fill(0x61)); // still valid
    });

    it('keeps data() views valid across prepare and commit', () => {
      const b = new MultiBuffer();
      put(b, 'hello');
      const views = b.data();
      for (let i = 0; i < 20; i++) {
        put(b, 'x'.repeat(400));
        b.prepare(700);
        b.commit(10);
      }
      expect(buffersToString(views)).to.equal('hello');
      expect(b.size()).to.equal(5 + 20 * 410);
    });

    it('releases consumed blocks and spare ones', () => {
      const b = new MultiBuffer();
      put(b, 'a'.repeat(512));
      put(b, 'b'.repeat(512));
      expect(b.data()).to.have.length(2);
      b.consume(600);
      expect(b.data()).to.have.length(1);
      expect(b.capacity()).to.be.lessThan(1024);
      expect(str(b)).to.equal('b'.repeat(424));
      b.consume(400); // 24 readable bytes, 0 free in their block
      b.prepare(1);
      b.commit(1);
      b.prepare(10_000); // the rest of the new 512-byte block, then a large one
      b.commit(0);
      expect(b.capacity()).to.be.greaterThan(10_000);
      b.prepare(1); // fits in the 512-byte block: the large spare block is released
      expect(b.capacity()).to.equal(24 + 512);
      b.consume(Infinity);
      expect(b.size()).to.equal(0);
      expect(b.data()).to.deep.equal([]);
    });

    it('reuses the freed room of an emptied block', () => {
      const b = new MultiBuffer();
      put(b, 'x'.repeat(500));
      b.consume(500);
      const out = b.prepare(512);
      expect(out).to.have.length(1);
      expect(b.capacity()).to.equal(512);
    });

    it('grows blocks with the content, capped by maxSize', () => {
      const b = new MultiBuffer(3000);
      put(b, 'x'.repeat(2000));
      const out = b.prepare(1);
      expect(out).to.have.length(1);
      expect(b.capacity()).to.equal(3000);
      expect(() => b.prepare(1001)).to.throw(LengthError, 'MultiBuffer overflow');
    });
  });

  describe('StaticBuffer', () => {
    it('has a fixed capacity and maxSize', () => {
      const b = new StaticBuffer(8);
      expect(b.capacity()).to.equal(8);
      expect(b.maxSize()).to.equal(8);
      expect(b.data()).to.deep.equal([]);
      expect(() => new StaticBuffer(-1)).to.throw(RangeError);
    });

    it('wraps around, producing two-element sequences', () => {
      const b = new StaticBuffer(8);
      put(b, 'abcdef');
      b.consume(4);
      const out = b.prepare(5); // 2 at the tail, 3 at the front
      expect(out.map((v) => v.length)).to.deep.equal([2, 3]);
      bufferCopy(out, enc.encode('ghijk'));
      b.commit(5);
      const data = b.data();
      expect(data.map((v) => v.length)).to.deep.equal([4, 3]);
      expect(str(b)).to.equal('efghijk');
      expect(data[0].buffer).to.equal(data[1].buffer); // one block, never reallocated
      b.consume(5);
      expect(b.data()).to.have.length(1);
      expect(str(b)).to.equal('jk');
    });

    it('fills to exactly its capacity', () => {
      const b = new StaticBuffer(4);
      put(b, 'ab');
      b.consume(1);
      put(b, 'cde');
      expect(str(b)).to.equal('bcde');
      expect(() => b.prepare(1)).to.throw(LengthError, 'StaticBuffer overflow');
    });

    it('rewinds when emptied with nothing prepared', () => {
      const b = new StaticBuffer(8);
      put(b, 'abcdef');
      b.consume(6);
      expect(b.prepare(8)).to.have.length(1);
    });

    it('works with capacity 0', () => {
      const b = new StaticBuffer(0);
      expect(b.prepare(0)).to.deep.equal([]);
      b.commit(0);
      b.consume(1);
      expect(() => b.prepare(1)).to.throw(LengthError);
    });
  });

  describe('FlatStaticBuffer', () => {
    it('has a fixed capacity and single-element sequences', () => {
      const b = new FlatStaticBuffer(8);
      expect(b.capacity()).to.equal(8);
      expect(b.maxSize()).to.equal(8);
      expect(b.data()).to.have.length(1);
      expect(b.prepare(3)).to.have.length(1);
    });

    it('compacts when the tail is too small', () => {
      const b = new FlatStaticBuffer(8);
      put(b, 'abcdef');
      const before = b.dataView();
      b.consume(4);
      const out = b.prepareView(5);
      expect(out.buffer).to.equal(before.buffer);
      expect(b.dataView().byteOffset).to.equal(before.byteOffset);
      bufferCopy(out, enc.encode('ghijk'));
      b.commit(5);
      expect(str(b)).to.equal('efghijk');
    });

    it('throws LengthError when the request cannot fit even after compaction', () => {
      const b = new FlatStaticBuffer(8);
      put(b, 'abcdef');
      b.consume(2);
      expect(() => b.prepareView(5)).to.throw(LengthError, 'FlatStaticBuffer overflow');
      expect(str(b)).to.equal('cdef');
      expect(b.prepareView(4)).to.have.length(4);
    });

    it('clears', () => {
      const b = new FlatStaticBuffer(8);
      put(b, 'abc');
      b.prepareView(2);
      b.clear();
      b.commit(2);
      expect(b.size()).to.equal(0);
      expect(b.prepareView(8)).to.have.length(8);
    });
  });
});
