// Specs for what a read (ops/read.ts) does with each frame that arrives: every framing rule of
// the reference's section 5 (crafted frames to a server and to a client: the read's error, the
// close code sent back, the teardown), UTF-8 checks across frames and reads, control frames between
// fragments, the control callback, and Beast's framing issues.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { CloseCode } from '../../../../lib/beast/websocket/close.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { sideHeld } from '../../../support/internals.js';
import {
  asciiPattern,
  bytesOf,
  clientFrame,
  closeCodeOf,
  closePayload,
  concat,
  finish,
  frameBytes,
  onlyCloseCode,
  Opcode,
  openClientAgainstRaw,
  openPair,
  openServerAgainstRaw,
  ordered,
  parseFrames,
  pattern,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  stepUntil,
  take,
  type Ec,
  type RawFrame,
} from './fixture.js';
import { scenario } from './do-test.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const flat = (b: FlatBuffer): Uint8Array => Uint8Array.from(b.dataView());

describe('websocket/Stream read: the frames that arrive', () => {
  // ---- protocol violations ----------------------------------------------------------------------

  interface Violation {
    name: string;
    /** Frames (described unmasked; masked for a server automatically) that break the rules. */
    frames: RawFrame[];
    ec: Ec;
    code: number;
  }

  const utf8Bad = Uint8Array.of(0x61, 0xc0, 0x80);
  const violations = (role: 'server' | 'client'): Violation[] => [
    { name: 'RSV1 on a data frame without permessage-deflate', frames: [{ opcode: Opcode.text, rsv: 0x40, payload: 'a' }], ec: error.badReservedBits, code: 1002 },
    { name: 'RSV2 on a data frame', frames: [{ opcode: Opcode.binary, rsv: 0x20, payload: 'a' }], ec: error.badReservedBits, code: 1002 },
    { name: 'RSV3 on a data frame', frames: [{ opcode: Opcode.text, rsv: 0x10 }], ec: error.badReservedBits, code: 1002 },
    {
      name: 'RSV1 on a continuation frame',
      frames: [{ opcode: Opcode.text, fin: false, payload: 'a' }, { opcode: Opcode.cont, rsv: 0x40, payload: 'b' }],
      ec: error.badReservedBits,
      code: 1002,
    },
    { name: 'RSV1 on a ping', frames: [{ opcode: Opcode.ping, rsv: 0x40 }], ec: error.badReservedBits, code: 1002 },
    { name: 'RSV2 on a close', frames: [{ opcode: Opcode.close, rsv: 0x20 }], ec: error.badReservedBits, code: 1002 },
    ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op) => ({
      name: `reserved opcode ${op}`,
      frames: [{ opcode: op, payload: 'x' }],
      ec: error.badOpcode,
      code: 1002,
    })),
    { name: 'a fragmented ping', frames: [{ opcode: Opcode.ping, fin: false }], ec: error.badControlFragment, code: 1002 },
    { name: 'a fragmented pong', frames: [{ opcode: Opcode.pong, fin: false, payload: 'p' }], ec: error.badControlFragment, code: 1002 },
    { name: 'a fragmented close', frames: [{ opcode: Opcode.close, fin: false }], ec: error.badControlFragment, code: 1002 },
    { name: 'a ping of 126 bytes', frames: [{ opcode: Opcode.ping, payload: pattern(126) }], ec: error.badControlSize, code: 1002 },
    { name: 'a close of 126 bytes', frames: [{ opcode: Opcode.close, payload: closePayload(1000, asciiPattern(124)) }], ec: error.badControlSize, code: 1002 },
    { name: 'a 16-bit length below 126', frames: [{ opcode: Opcode.binary, lengthForm: 16, payload: pattern(125) }], ec: error.badSize, code: 1002 },
    { name: 'a 16-bit length of 0', frames: [{ opcode: Opcode.text, lengthForm: 16 }], ec: error.badSize, code: 1002 },
    { name: 'a 64-bit length below 65536', frames: [{ opcode: Opcode.binary, lengthForm: 64, length: 65535 }], ec: error.badSize, code: 1002 },
    { name: 'a 64-bit length with the top bit set', frames: [{ opcode: Opcode.binary, lengthForm: 64, length: 2 ** 63 }], ec: error.badSize, code: 1002 },
    { name: 'a continuation without a message', frames: [{ opcode: Opcode.cont, payload: 'a' }], ec: error.badContinuation, code: 1002 },
    {
      name: 'a text frame inside a message',
      frames: [{ opcode: Opcode.text, fin: false, payload: 'a' }, { opcode: Opcode.text, payload: 'b' }],
      ec: error.badDataFrame,
      code: 1002,
    },
    {
      name: 'a binary frame inside a message',
      frames: [{ opcode: Opcode.binary, fin: false, payload: 'a' }, { opcode: Opcode.binary, payload: 'b' }],
      ec: error.badDataFrame,
      code: 1002,
    },
    { name: 'invalid UTF-8 in a text frame', frames: [{ opcode: Opcode.text, payload: utf8Bad }], ec: error.badFramePayload, code: 1007 },
    {
      name: 'invalid UTF-8 split across frames',
      frames: [{ opcode: Opcode.text, fin: false, payload: Uint8Array.of(0x61, 0xe2, 0x82) }, { opcode: Opcode.cont, payload: Uint8Array.of(0x28) }],
      ec: error.badFramePayload,
      code: 1007,
    },
    { name: 'a text message ending inside a code point', frames: [{ opcode: Opcode.text, payload: Uint8Array.of(0x61, 0xe2, 0x82) }], ec: error.badFramePayload, code: 1007 },
    {
      name: 'a text message whose empty final frame ends inside a code point',
      frames: [{ opcode: Opcode.text, fin: false, payload: Uint8Array.of(0xe2, 0x82) }, { opcode: Opcode.cont }],
      ec: error.badFramePayload,
      code: 1007,
    },
    { name: 'a surrogate in a text frame', frames: [{ opcode: Opcode.text, payload: Uint8Array.of(0xed, 0xa0, 0x80) }], ec: error.badFramePayload, code: 1007 },
    { name: 'a close payload of 1 byte', frames: [{ opcode: Opcode.close, payload: Uint8Array.of(0x03) }], ec: error.badCloseSize, code: 1002 },
    ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((c) => ({
      name: `close code ${c}`,
      frames: [{ opcode: Opcode.close, payload: Uint8Array.of(c >>> 8, c & 0xff) }],
      ec: error.badCloseCode,
      code: 1002,
    })),
    { name: 'a close reason that is not UTF-8', frames: [{ opcode: Opcode.close, payload: closePayload(1000, Uint8Array.of(0xff)) }], ec: error.badClosePayload, code: 1002 },
    role === 'server'
      ? { name: 'an unmasked frame', frames: [{ opcode: Opcode.text, payload: 'a', key: undefined }], ec: error.badUnmaskedFrame, code: 1002 }
      : { name: 'a masked frame', frames: [{ opcode: Opcode.text, payload: 'a', key: 0x01020304 }], ec: error.badMaskedFrame, code: 1002 },
  ];

  describe('protocol violations sent to a server', () => {
    for (const v of violations('server')) {
      scenario(`${v.name}: the read fails with ${v.ec!.message()}, close ${v.code} goes back, the connection is torn down`, () => {
        const { ioc, a, b, server } = openServerAgainstRaw();
        const masked = v.frames.map((f) => ('key' in f ? frameBytes(f) : clientFrame(f)));
        b.append(concat(...masked));
        const r = recorder();
        server.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.ec('read')).to.equal(v.ec);
        expect(onlyCloseCode(take(a), false)).to.equal(v.code);
        expect(server.isOpen()).to.equal(false);
        expect(peerClosed(ioc, a), 'torn down').to.equal(true);
        // Later operations are aborted.
        const w = recorder();
        server.asyncWrite(bytesOf('x'), w.h);
        pump(ioc);
        expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
        finish(ioc, a, b);
      });
    }
  });

  describe('protocol violations sent to a client', () => {
    for (const v of violations('client')) {
      scenario(`${v.name}: the read fails with ${v.ec!.message()}, masked close ${v.code} goes back, torn down`, () => {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const raw = v.frames.map((f) => ('key' in f ? frameBytes(f) : serverFrame(f)));
        a.append(concat(...raw));
        const r = recorder();
        client.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.ec('read')).to.equal(v.ec);
        expect(onlyCloseCode(take(b), true)).to.equal(v.code);
        expect(client.isOpen()).to.equal(false);
        expect(peerClosed(ioc, b), 'torn down').to.equal(true);
        finish(ioc, a, b);
      });
    }
  });

  describe('framing details', () => {
    scenario('fails fast on invalid UTF-8 before the rest of the frame arrives', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      // A 100-byte text frame of which only 4 payload bytes arrive, already invalid.
      const full = clientFrame({ opcode: Opcode.text, payload: concat(Uint8Array.of(0x61, 0xf5), asciiPattern(98)) });
      b.append(full.subarray(0, 2 + 4 + 4));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.ec('read')).to.equal(error.badFramePayload);
      expect(onlyCloseCode(take(a), false)).to.equal(CloseCode.badPayload);
      finish(ioc, a, b);
    });

    scenario('accepts a code point split across frames and across reads', () => {
      const { ioc, a, b, server } = openServerAgainstRaw({ readSize: 1 });
      b.append(clientFrame({ opcode: Opcode.text, fin: false, payload: Uint8Array.of(0x61, 0xe2, 0x82) }));
      b.append(clientFrame({ opcode: Opcode.cont, payload: Uint8Array.of(0xac, 0x62) }));
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 5]);
      expect(text(flat(buf))).to.equal('a€b');
      finish(ioc, a, b);
    });

    scenario('binary messages are not checked for UTF-8', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      b.append(clientFrame({ opcode: Opcode.binary, payload: Uint8Array.of(0xff, 0xc0) }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 2]);
      finish(ioc, a, b);
    });

    scenario('control frames between fragments are handled; the message is read whole', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      const seen: Array<[string, string]> = [];
      server.controlCallback((kind, payload) => seen.push([kind, payload]));
      b.append(clientFrame({ opcode: Opcode.text, fin: false, payload: 'hel' }));
      b.append(clientFrame({ opcode: Opcode.ping, payload: 'p1' }));
      b.append(clientFrame({ opcode: Opcode.cont, fin: false }));
      b.append(clientFrame({ opcode: Opcode.pong, payload: 'q' }));
      b.append(clientFrame({ opcode: Opcode.cont, payload: 'lo' }));
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 5]);
      expect(text(flat(buf))).to.equal('hello');
      expect(seen).to.deep.equal([['ping', 'p1'], ['pong', 'q']]);
      const back = parseFrames(take(a));
      expect(back.map((f) => [f.opcode, f.masked, text(f.payload)])).to.deep.equal([[Opcode.pong, false, 'p1']]);
      expect(server.isOpen()).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('the control callback sees ping, pong and close payloads; a client answers pings with masked pongs', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const seen: Array<[string, string]> = [];
      client.controlCallback((kind, payload) => seen.push([kind, payload]));
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'are you there' }));
      a.append(serverFrame({ opcode: Opcode.pong, payload: '' }));
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1001, 'bye') }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(seen).to.deep.equal([['ping', 'are you there'], ['pong', ''], ['close', 'bye']]);
      const back = parseFrames(take(b));
      expect(back.map((f) => [f.opcode, f.masked, f.key !== 0])).to.deep.equal([
        [Opcode.pong, true, true],
        [Opcode.close, true, true],
      ]);
      expect(text(back[0]!.payload)).to.equal('are you there');
      expect(closeCodeOf(back[1]!)).to.equal(1001);
      expect(back[1]!.payload.length, 'no reason echoed').to.equal(2);
      // Cleared: no more calls.
      client.controlCallback();
      expect(seen.length).to.equal(3);
      finish(ioc, a, b);
    });

    scenario('an empty non-final frame is skipped; an empty final frame ends the message', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      b.append(clientFrame({ opcode: Opcode.binary, fin: false }));
      b.append(clientFrame({ opcode: Opcode.cont, fin: false, payload: 'ab' }));
      b.append(clientFrame({ opcode: Opcode.cont }));
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 2]);
      expect(server.isMessageDone()).to.equal(true);
      expect(server.gotBinary()).to.equal(true);
      finish(ioc, a, b);
    });

    scenario('a masked payload is unmasked across reads of 1 byte (rolling key)', () => {
      const { ioc, a, b, server } = openServerAgainstRaw({ readSize: 1 });
      const msg = asciiPattern(300, 9);
      b.append(clientFrame({ opcode: Opcode.text, payload: msg, key: 0xa1b2c3d4 }));
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 300]);
      expect(Buffer.from(flat(buf)).equals(msg)).to.equal(true);
      finish(ioc, a, b);
    });
  });

  describe('framing details: Beast issues and the size hint', () => {
      scenario('a 64-bit length of 2^63-1: messageTooBig, close 1009 (Beast issue 802)', () => {
        const { ioc, a, b, server } = openServerAgainstRaw();
        server.readMessageMax(0);
        b.append(Uint8Array.of(0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4));
        const r = recorder();
        server.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([error.messageTooBig, 0]);
        expect(onlyCloseCode(take(a), false)).to.equal(CloseCode.tooBig);

        // Seen from a Stream client: its read gets closed with the server's reason 1009.
        const p = openPair();
        const sr = recorder();
        p.server.asyncRead(new FlatBuffer(), sr.h);
        p.a.asyncWriteSome(Uint8Array.of(0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4), recorder().h);
        const cr = recorder();
        p.client.asyncRead(new FlatBuffer(), cr.h);
        pump(p.ioc);
        expect(sr.once()).to.deep.equal([error.messageTooBig, 0]);
        expect(cr.once()).to.deep.equal([error.closed, 0]);
        expect(p.client.reason().code).to.equal(CloseCode.tooBig);
        finish(ioc, a, b);
        finish(p.ioc, p.a, p.b);
      });

      scenario('read_some into an empty buffer completes with 0 and leaves the message (Beast issue 807)', () => {
        const { ioc, a, b, client, server } = openPair();
        server.asyncWrite(bytesOf('Hello, world!'), recorder().h);
        pump(ioc);
        const r = recorder();
        client.asyncReadSome(new Uint8Array(0), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([null, 0]);
        const buf = new FlatBuffer();
        const r2 = recorder();
        client.asyncRead(buf, r2.h);
        pump(ioc);
        expect(r2.once()).to.deep.equal([null, 13]);
        expect(text(flat(buf))).to.equal('Hello, world!');
        finish(ioc, a, b);
      });

      scenario('the control callback never runs inside the initiating call, nor before its frame is reached (Beast issue 954)', () => {
        const after = concat(serverFrame({ opcode: Opcode.text }), serverFrame({ opcode: Opcode.ping, payload: 'p' }));
        const { ioc, a, b, client } = openClientAgainstRaw({}, after);
        const seen: string[] = [];
        client.controlCallback((kind) => seen.push(kind));
        const r = recorder(() => void seen.push('handler'));
        client.asyncRead(new FlatBuffer(), r.h);
        expect(seen).to.deep.equal([]);
        pump(ioc);
        expect(r.once()).to.deep.equal([null, 0]);
        expect(seen).to.deep.equal(['handler']);
        // The ping is buffered already: the next read reports it, but not inside asyncRead.
        const r2 = recorder(() => void seen.push('handler 2'));
        client.asyncRead(new FlatBuffer(), r2.h);
        expect(seen).to.deep.equal(['handler']);
        pump(ioc);
        expect(seen).to.deep.equal(['handler', 'ping']);
        expect(r2.called).to.equal(false);
        expect(parseFrames(take(b)).map((f) => [f.opcode, text(f.payload)])).to.deep.equal([[Opcode.pong, 'p']]);
        finish(ioc, a, b);
      });

      scenario('readSizeHint: 1536 by default, bounded by readMessageMax and a dynamic buffer\'s room', () => {
        const { ioc, a, b, server } = openPair();
        expect(server.readSizeHint()).to.equal(1536);
        expect(server.readSizeHint(100)).to.equal(100);
        expect(server.readSizeHint(new FlatBuffer(10))).to.equal(10);
        const full = new FlatBuffer(2);
        full.prepare(2);
        full.commit(2);
        expect(server.readSizeHint(full)).to.equal(1);
        server.readMessageMax(50);
        expect(server.readSizeHint()).to.equal(50);
        finish(ioc, a, b);
      });

      it('a message of 4 KiB fragments, all buffered by the peer: one pass a fragment, a few reads of the next layer', () => {
        const { ioc, a, b, server } = openServerAgainstRaw();
        const payload = pattern(64 * 1024);
        const frames: Uint8Array[] = [];
        for (let at = 0; at < payload.length; at += 4096) {
          const last = at + 4096 >= payload.length;
          frames.push(clientFrame({ opcode: at === 0 ? Opcode.binary : Opcode.cont, fin: last, payload: payload.subarray(at, at + 4096) }));
        }
        b.append(concat(...frames));
        let reads = 0;
        const readSome = b.asyncReadSome.bind(b) as (...args: unknown[]) => unknown;
        (b as unknown as { asyncReadSome: unknown }).asyncReadSome = (...args: unknown[]) => (reads++, readSome(...args));
        const buf = new FlatBuffer();
        let prepares = 0;
        const prepare = buf.prepare.bind(buf);
        buf.prepare = (n: number) => (prepares++, prepare(n));
        const r = recorder();
        server.asyncRead(buf, r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([null, payload.length]);
        expect(flat(buf)).to.deep.equal(payload);
        // The first read lands in the handshake's 512-byte block; then the read buffer doubles from
        // 4 KiB while reads fill it: 4 + 8 + 16 + 32 KiB and the rest (17 reads before, one a
        // fragment); each fragment's payload is prepared whole (two passes a fragment before).
        expect(reads).to.be.at.most(6);
        expect(prepares).to.be.at.most(16 + reads); // and one more for a fragment a read cut
        finish(ioc, a, b);
      });

      it('a whole-message read of a large message whose header is buffered prepares it all at once; within the buffer\'s room and readMessageMax', () => {
        for (const [size, max, limit, expected] of [
          [100_000, Number.MAX_SAFE_INTEGER, 0, 100_000],
          [1000, Number.MAX_SAFE_INTEGER, 0, 1536], // not whole in the first read's 512 bytes, and small: Beast's 1536
          [100_000, 70_000, 0, 70_000], // the buffer's room (then bufferOverflow, as before)
          [100_000, Number.MAX_SAFE_INTEGER, 80_000, 80_000], // readMessageMax (then messageTooBig)
        ] as const) {
          const { ioc, a, b, server } = openServerAgainstRaw();
          if (limit > 0) server.readMessageMax(limit);
          server.binary(true);
          b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(size) }));
          const buf = new FlatBuffer(max);
          const prepared: number[] = [];
          const prepare = buf.prepare.bind(buf);
          buf.prepare = (n: number) => (prepared.push(n), prepare(n));
          const r = recorder();
          server.asyncRead(buf, r.h);
          pump(ioc);
          expect(prepared[0]).to.equal(expected);
          if (max === Number.MAX_SAFE_INTEGER && limit === 0) {
            expect(r.once()).to.deep.equal([null, size]);
            expect(flat(buf)).to.deep.equal(pattern(size));
          } else {
            expect(r.once()[0]).to.equal(limit > 0 ? error.messageTooBig : error.bufferOverflow);
          }
          finish(ioc, a, b);
        }
      });
  });

  describe('a violation while our close is queued', () => {
    scenario('read that hits a protocol violation while a close is queued: the violation, close operationAborted', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.ping, fin: false }));
      const order: string[] = [];
      const { io, ctl } = ordered(order);
      const r = io('read');
      client.asyncRead(new FlatBuffer(), r.h);
      stepUntil(ioc, () => sideHeld(client, 'wr'));
      const c = ctl('close');
      client.asyncClose(1000, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.badControlFragment, 0]);
      expect(c.ec()).to.equal(netError.operationAborted);
      expect(order).to.deep.equal(['read', 'close']);
      expect(onlyCloseCode(take(b), true)).to.equal(CloseCode.protocolError);
      expect(peerClosed(ioc, b)).to.equal(true);
      finish(ioc, a, b);
    });
  });
});
