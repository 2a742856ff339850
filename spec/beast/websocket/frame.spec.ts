import { expect } from 'chai';
import fc from 'fast-check';
import { error } from '../../../lib/beast/websocket/error.js';
import {
  encodeFrameHeader,
  frameHeaderSize,
  FrameHeaderDecoder,
  Opcode,
  type Role,
} from '../../../lib/beast/websocket/frame.js';
import { applyMask, MaskKeyPool } from '../../../lib/beast/websocket/mask.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function decodeOne(bytes: Uint8Array, role: Role, setup?: (d: FrameHeaderDecoder) => void) {
  const d = new FrameHeaderDecoder({ role });
  setup?.(d);
  const n = d.decode(bytes, 0, bytes.length);
  return { n, d };
}

describe('websocket/frame', () => {
  it('encodes the minimal length form at each boundary and decodes it back', () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      for (const key of [undefined, 0x01020304]) {
        const out = new Uint8Array(14);
        const n = encodeFrameHeader(out, 0, { fin: true, opcode: Opcode.binary, length, key });
        expect(n).to.equal(frameHeaderSize(length, key !== undefined));
        const d = new FrameHeaderDecoder({ role: key === undefined ? 'client' : 'server' });
        expect(d.decode(out, 0, n)).to.equal(n);
        expect(d.length).to.equal(length);
        expect(d.key).to.equal(key ?? 0);
        expect(d.fin).to.equal(true);
        expect(d.opcode).to.equal(Opcode.binary);
        // One byte short is "need more", never an error.
        expect(new FrameHeaderDecoder({ role: d.role }).decode(out, 0, n - 1)).to.equal(0);
      }
    }
  });

  const violations: Array<[string, string, Role, ErrorLike, ((d: FrameHeaderDecoder) => void)?]> = [
    ['text while a message is open', '81 00', 'client', error.badDataFrame, (d) => (d.messageOpen = true)],
    ['RSV2 on a data frame', 'a2 00', 'client', error.badReservedBits],
    ['RSV1 without deflate', 'c1 00', 'client', error.badReservedBits],
    ['continuation without a message', '80 00', 'client', error.badContinuation],
    ['RSV1 on a continuation', 'c0 00', 'client', error.badReservedBits, (d) => { d.messageOpen = true; d.deflate = true; }],
    ['reserved opcode 3', '83 00', 'client', error.badOpcode],
    ['reserved opcode 11', '8b 00', 'client', error.badOpcode],
    ['fragmented ping', '09 00', 'client', error.badControlFragment],
    ['ping of 126 bytes', '89 7e 00 7e', 'client', error.badControlSize],
    ['RSV1 on a close', 'c8 00', 'client', error.badReservedBits, (d) => (d.deflate = true)],
    ['unmasked frame to a server', '82 00', 'server', error.badUnmaskedFrame],
    ['masked frame to a client', '82 80 00 00 00 00', 'client', error.badMaskedFrame],
    ['16-bit length below 126', '82 7e 00 7d', 'client', error.badSize],
    ['64-bit length below 65536', '82 7f 00 00 00 00 00 00 ff ff', 'client', error.badSize],
    ['64-bit length with the top bit', '82 7f 80 00 00 00 00 00 00 00', 'client', error.badSize],
    ['message larger than readMessageMax', '82 7e 01 00', 'client', error.messageTooBig, (d) => (d.readMessageMax = 255)],
  ];
  type ErrorLike = typeof error.badSize;
  for (const [what, bytes, role, ec, setup] of violations) {
    it(`rejects ${what}`, () => {
      const { n, d } = decodeOne(hex(bytes), role, setup);
      expect(n).to.equal(-1);
      expect(d.error).to.equal(ec);
    });
  }

  it('checks the opcode before the masking rule (Beast order)', () => {
    const { d } = decodeOne(hex('83 00'), 'server');
    expect(d.error).to.equal(error.badOpcode);
  });

  it('tracks fragmented messages and their running size against readMessageMax', () => {
    const d = new FrameHeaderDecoder({ role: 'client', readMessageMax: 300 });
    expect(d.decode(hex('01 7e 00 c8'), 0, 4)).to.equal(4); // text, 200 bytes, no FIN
    expect(d.messageOpen).to.equal(true);
    expect(d.decode(hex('89 00'), 0, 2)).to.equal(2); // a ping between fragments
    expect(d.messageOpen).to.equal(true);
    expect(d.decode(hex('80 7e 00 c8'), 0, 4)).to.equal(-1); // 400 > 300
    expect(d.error).to.equal(error.messageTooBig);
  });

  it('a compressed message is not limited by its header (limit applies after inflating)', () => {
    const d = new FrameHeaderDecoder({ role: 'client', readMessageMax: 10, deflate: true });
    expect(d.decode(hex('c2 64'), 0, 2)).to.equal(2);
    expect(d.messageCompressed).to.equal(true);
  });

  it('any split of a header stream decodes the same frames (property)', () => {
    const frame = fc.record({
      fin: fc.boolean(),
      opcode: fc.constantFrom(Opcode.binary, Opcode.text),
      length: fc.oneof(fc.integer({ min: 0, max: 125 }), fc.integer({ min: 126, max: 70000 })),
    });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(200), { maxLength: 10 }), (frames, cuts) => {
        // Headers only (payloads are the reader's business): make a valid sequence of messages.
        const parts: Uint8Array[] = [];
        let open = false;
        for (const f of frames) {
          const out = new Uint8Array(14);
          const op = open ? Opcode.cont : f.opcode;
          parts.push(out.subarray(0, encodeFrameHeader(out, 0, { fin: f.fin, opcode: op, length: f.length, key: 0x11223344 })));
          open = !f.fin;
        }
        const all = Buffer.concat(parts);
        const expected = frames.map((f) => f.length);
        const seen: number[] = [];
        const d = new FrameHeaderDecoder({ role: 'server' });
        // Feed through a growing window whose end advances to each cut.
        let pos = 0;
        const ends = [...cuts.filter((c) => c < all.length).sort((a, b) => a - b), all.length];
        for (const end of ends) {
          for (;;) {
            const n = d.decode(all, pos, end);
            if (n <= 0) {
              if (n < 0) return false;
              break;
            }
            seen.push(d.length);
            pos += n;
          }
        }
        return pos === all.length && JSON.stringify(seen) === JSON.stringify(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('garbage never throws and never consumes past the window (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<Role>('client', 'server'), (bytes, role) => {
        const d = new FrameHeaderDecoder({ role, readMessageMax: 1000 });
        let pos = 0;
        for (;;) {
          const n = d.decode(bytes, pos, bytes.length);
          if (n <= 0) return pos <= bytes.length;
          pos += n;
          if (pos > bytes.length) return false;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('websocket/mask', () => {
  const naive = (data: Uint8Array, key: number, offset: number): Uint8Array => {
    const k = [key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
    return data.map((b, i) => b ^ k[(offset + i) & 3]!);
  };

  it('matches a byte-wise XOR for every alignment, length and key offset', () => {
    const backing = new Uint8Array(80);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 37) & 0xff;
    for (let start = 0; start < 4; start++) {
      for (let len = 0; len < 40; len++) {
        for (let off = 0; off < 4; off++) {
          const view = backing.slice().subarray(start, start + len);
          const expected = naive(view, 0xdeadbeef, off);
          const next = applyMask(view, 0xdeadbeef, off);
          expect(Array.from(view)).to.deep.equal(Array.from(expected));
          expect(next).to.equal((off + len) & 3);
        }
      }
    }
  });

  it('unmasking across reads continues the key cycle', () => {
    const data = Uint8Array.from({ length: 23 }, (_, i) => i);
    const once = data.slice();
    applyMask(once, 0x0a0b0c0d);
    const split = data.slice();
    const o = applyMask(split.subarray(0, 9), 0x0a0b0c0d, 0);
    applyMask(split.subarray(9), 0x0a0b0c0d, o);
    expect(Array.from(split)).to.deep.equal(Array.from(once));
  });

  it('the key pool never yields 0 and refills', () => {
    const pool = new MaskKeyPool(4);
    const keys = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const k = pool.next();
      expect(k).to.not.equal(0);
      keys.add(k);
    }
    expect(keys.size).to.be.greaterThan(90);
  });
});
