/**
 * FrameReader's read sizes (the protocol core, no I/O): how much room the next read of the layer
 * below gets while a frame is under way. A large frame gets the whole buffer, so that one read
 * also takes the frames the peer sent after it (as Beast reads as much as its buffer holds);
 * a small frame grows the buffer only as far as it needs.
 */

import { expect } from 'chai';
import { FrameReader, readBufferBytes } from '../../../lib/beast/websocket/frame-reader.js';
import { BuffersSuffix } from '../../../lib/net/buffer.js';
import { clientFrame, Opcode, pattern } from './ops/fixture.js';

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
