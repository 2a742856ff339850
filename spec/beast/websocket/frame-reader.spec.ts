/**
 * FrameReader (the protocol core, no I/O). Its read sizes: how much room the next read of the
 * layer below gets while a frame is under way. A large frame gets the whole buffer, so that one
 * read also takes the frames the peer sent after it (as Beast reads as much as its buffer holds);
 * a small frame grows the buffer only as far as it needs. And its unmasking: a payload is unmasked
 * as it is copied out, in place only for a reader of it where it lies; whatever the mix, every
 * byte comes out unmasked with the right key byte.
 */

import { expect } from 'chai';
import { FrameReader, readBufferBytes } from '../../../lib/beast/websocket/frame-reader.js';
import { BuffersSuffix } from '../../../lib/net/buffer.js';
import { FlatBuffer } from '../../../lib/net/dynamic-buffer.js';
import { clientFrame, concat, Opcode, pattern } from './ops/fixture.js';

/** A server's reader that has read the first `n` bytes of `wire` and decoded the frame header. */
function readerAfter(wire: Uint8Array, n: number): FrameReader {
  const r = new FrameReader();
  r.reset('server');
  const area = r.prepareRead();
  area.set(wire.subarray(0, n));
  r.commit(n);
  expect(r.nextFrame()).to.equal('data');
  return r;
}

describe('websocket/FrameReader read sizes', () => {
  it('gives a read the whole buffer while a large frame is under way', () => {
    const wire = clientFrame({ opcode: Opcode.binary, payload: pattern(20_000) });
    const r = readerAfter(wire, 1000);
    const buffered = r.buf.size();
    expect(r.remain).to.equal(20_000);
    expect(r.prepareRead().length).to.equal(readBufferBytes - buffered);
  });

  it('grows the buffer only as far as a small frame needs', () => {
    const wire = clientFrame({ opcode: Opcode.binary, payload: pattern(10_000) });
    const r = readerAfter(wire, 1000);
    const area = r.prepareRead().length;
    expect(area).to.be.at.least(10_000 - r.buf.size());
    expect(area).to.be.at.most(10_000);
  });

  it('reads a large frame and the message after it whole, in the reads it asks for', () => {
    const first = pattern(40_000);
    const second = pattern(300, 7);
    const wire = Uint8Array.from([...clientFrame({ opcode: Opcode.binary, payload: first }), ...clientFrame({ opcode: Opcode.binary, payload: second })]);
    const r = new FrameReader();
    r.reset('server');
    let fed = 0;
    // One read of the layer below: as much of the wire as the reader offers room for.
    const read = (): void => {
      const area = r.prepareRead();
      const n = Math.min(area.length, wire.length - fed);
      expect(n, 'the wire ran out').to.be.above(0);
      area.set(wire.subarray(fed, fed + n));
      r.commit(n);
      fed += n;
    };
    const messages = [new Uint8Array(first.length), new Uint8Array(second.length)].map((b) => new BuffersSuffix(b));
    let reads = 0;
    for (const out of messages) {
      for (;;) {
        if (r.needsHeader()) {
          while (r.nextFrame() === 'needMore') (read(), reads++);
          r.done = false; // as the read operation does once a data frame's payload is due
        }
        if (r.buf.size() === 0) (read(), reads++);
        expect(r.copyPayload(out)).to.equal(true);
        r.frameTaken();
        if (r.done) break;
      }
    }
    expect(messages.map((m) => m.size())).to.deep.equal([0, 0]);
    expect(fed).to.equal(wire.length);
    // The 40,000-byte frame and the 300-byte message after it: a 4 KiB first read, then one that
    // takes the rest of both (the buffer holds 64 KiB), where reads sized to the frame took three.
    expect(reads).to.equal(2);
  });
});

describe('websocket/FrameReader unmasking', () => {
  /** A small deterministic generator (xorshift32): the cases are the same on every run. */
  function rng(seed: number): (n: number) => number {
    let x = seed | 1;
    return (n) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
  }

  it('delivers every message whole, however the bytes arrive and are taken (300 seeded cases)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = rng(seed * 2654435761);
      // Messages of one to three frames, each masked with a key of its own, pings between them;
      // sizes either side of the bytewise, SIMD and read buffer limits.
      const sizes = [0, 1, 3, 17, 63, 64, 65, 200, 1023, 1024, 1500, 4096, 70_000];
      const messages: Uint8Array[] = [];
      const frames: Uint8Array[] = [];
      for (let m = 0, count = 1 + rand(4); m < count; m++) {
        const parts = 1 + rand(3);
        const pieces: Uint8Array[] = [];
        for (let i = 0; i < parts; i++) {
          const payload = pattern(sizes[rand(sizes.length)]!, seed * 31 + m * 7 + i);
          pieces.push(payload);
          const key = (rand(0xffff) << 16) | rand(0xffff) | 1;
          frames.push(clientFrame({ opcode: i === 0 ? Opcode.binary : Opcode.cont, fin: i === parts - 1, payload, key }));
          if (rand(3) === 0) frames.push(clientFrame({ opcode: Opcode.ping, payload: pattern(rand(126), seed), key: key ^ 0x5a5a5a5a }));
        }
        messages.push(concat(...pieces));
      }
      const wire = concat(...frames);
      const r = new FrameReader();
      r.reset('server');
      let fed = 0;
      // One read of the layer below: a random part of the room offered, at least a byte.
      const read = (): void => {
        const area = r.prepareRead();
        const n = Math.min(1 + rand(area.length), wire.length - fed);
        expect(n, `seed ${seed}: the wire ran out`).to.be.above(0);
        area.set(wire.subarray(fed, fed + n));
        r.commit(n);
        fed += n;
      };
      for (const [index, message] of messages.entries()) {
        const at = `seed ${seed}, message ${index} of ${messages.length}`;
        const got = new Uint8Array(message.length);
        let filled = 0;
        for (;;) {
          if (r.needsHeader()) {
            let ev = r.nextFrame();
            for (; ev !== 'data'; ev = r.nextFrame()) {
              expect(ev, at).to.not.equal('violation');
              if (ev === 'needMore') read();
            }
            r.done = false;
          }
          // Now and then, unmask where it lies what is buffered (as the inflater does) first.
          if (rand(4) === 0) r.unmaskBuffered();
          const want = Math.min(r.remain, 1 + rand(Math.max(1, r.remain)));
          // The caller's room in up to three pieces.
          const room = got.subarray(filled, filled + want);
          const cut1 = rand(want + 1);
          const cut2 = cut1 + rand(want - cut1 + 1);
          const out = new BuffersSuffix([room.subarray(0, cut1), room.subarray(cut1, cut2), room.subarray(cut2)].filter((p) => p.length > 0));
          if (want > 0 && r.buf.size() === 0 && rand(2) === 0) {
            // Straight from the layer below into the caller's buffers, as a large payload is read.
            const target = r.directTarget(out);
            const first = target instanceof Uint8Array ? target : target[0]!;
            const n = Math.min(first.length, wire.length - fed, 1 + rand(first.length));
            first.set(wire.subarray(fed, fed + n));
            fed += n;
            expect(r.acceptDirect(out, n), at).to.equal(true);
          } else {
            if (want > 0 && r.buf.size() === 0) read();
            expect(r.copyPayload(out), at).to.equal(true);
          }
          filled += r.taken;
          r.frameTaken();
          if (r.done) break;
        }
        expect(filled, at).to.equal(message.length);
        expect(Buffer.from(got).equals(Buffer.from(message)), at).to.equal(true);
      }
      expect(fed, `seed ${seed}`).to.equal(wire.length);
    }
  });

  it('takes a whole message from the buffer unmasked, text and binary, and leaves the next one masked as it was', () => {
    for (const size of [0, 5, 64, 65, 1024, 3000, 60_000]) {
      for (const opcode of [Opcode.binary, Opcode.text]) {
        // 'κόσμε ' is 11 bytes: whole ones, about `size` bytes in all.
        const first = opcode === Opcode.text ? Buffer.from('κόσμε '.repeat(Math.ceil(size / 11))) : pattern(size, size);
        const second = pattern(100, 3);
        const wire = concat(clientFrame({ opcode, payload: first, key: 0x01020304 }), clientFrame({ opcode: Opcode.binary, payload: second, key: 0xa0b0c0d0 }));
        const r = new FrameReader();
        r.reset('server');
        let fed = 0;
        while (fed < wire.length) {
          const area = r.prepareRead();
          expect(area.length, 'room in the read buffer').to.be.above(0);
          const n = Math.min(area.length, wire.length - fed);
          area.set(wire.subarray(fed, fed + n));
          r.commit(n);
          fed += n;
        }
        const at = `${opcode === Opcode.text ? 'text' : 'binary'} ${size}`;
        for (const [message, key] of [[first, 'first'], [second, 'second']] as const) {
          expect(r.holdsWholeMessage(1 << 20), `${at}, ${key}`).to.equal(true);
          expect(r.nextFrame(), `${at}, ${key}`).to.equal('data');
          r.done = false;
          const into = new FlatBuffer();
          expect(r.takeWhole(into), `${at}, ${key}`).to.equal(message.length);
          expect(Buffer.from(into.dataView()).equals(Buffer.from(message)), `${at}, ${key}`).to.equal(true);
        }
      }
    }
  });
});
