// Specs for the websocket Stream's reads and writes over TestStream: message sizes both ways
// (client frames masked, server frames not, minimal length forms), text and binary, write_some
// fragments, auto-fragmentation, read_some into fixed and dynamic buffers, the message size
// limit and buffer overflow, every framing rule of the reference's section 5 (crafted frames to
// a server and to a client: the read's error, the close code sent back, the teardown), control
// frames between fragments, the control callback, and the peer's closing handshake.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { FlatBuffer, MultiBuffer, StaticBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { CloseCode } from '../../../../lib/beast/websocket/close.js';
import { error } from '../../../../lib/beast/websocket/error.js';
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
  parseFrames,
  pattern,
  payloadOf,
  peek,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
  type RawFrame,
} from './fixture.js';

const MiB = 1024 * 1024;
const sizes = [0, 125, 126, 65535, 65536, MiB];
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const flat = (b: FlatBuffer): Uint8Array => Uint8Array.from(b.dataView());

/** The 7-bit length field a minimal header has for `n` payload bytes. */
const len7For = (n: number): number => (n < 126 ? n : n < 0x10000 ? 126 : 127);

describe('websocket/Stream read and write', () => {
  describe('messages', () => {
    for (const size of sizes) {
      it(`client to server, ${size} bytes: one masked frame with the minimal length form`, () => {
        const { ioc, a, b, client, server } = openPair();
        client.autoFragment(false);
        client.binary(true);
        const msg = pattern(size, size + 1);
        const w = recorder();
        client.asyncWrite(msg, w.h);
        pump(ioc);
        expect(w.once()).to.deep.equal([null, size]);

        const frames = parseFrames(peek(b));
        expect(frames.length).to.equal(1);
        const f = frames[0]!;
        expect([f.fin, f.rsv, f.opcode, f.masked, f.len7]).to.deep.equal([true, 0, Opcode.binary, true, len7For(size)]);
        expect(f.key).to.not.equal(0);
        expect(Buffer.from(f.payload).equals(msg)).to.equal(true);
        // The caller's bytes are not masked in place.
        expect(Buffer.from(msg).equals(pattern(size, size + 1))).to.equal(true);

        const buf = new FlatBuffer();
        const r = recorder();
        server.asyncRead(buf, r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([null, size]);
        expect(Buffer.from(flat(buf)).equals(msg)).to.equal(true);
        expect(server.gotBinary()).to.equal(true);
        expect(server.isMessageDone()).to.equal(true);
        finish(ioc, a, b);
      });

      it(`server to client, ${size} bytes: one unmasked frame with the minimal length form`, () => {
        const { ioc, a, b, client, server } = openPair();
        server.autoFragment(false);
        const msg = asciiPattern(size, size + 2);
        const w = recorder();
        server.asyncWrite(msg, w.h);
        pump(ioc);
        expect(w.once()).to.deep.equal([null, size]);

        const frames = parseFrames(peek(a));
        expect(frames.length).to.equal(1);
        const f = frames[0]!;
        expect([f.fin, f.rsv, f.opcode, f.masked, f.len7]).to.deep.equal([true, 0, Opcode.text, false, len7For(size)]);
        expect(Buffer.from(f.payload).equals(msg)).to.equal(true);

        const buf = new MultiBuffer();
        const r = recorder();
        client.asyncRead(buf, r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([null, size]);
        expect(Buffer.concat(buf.data()).equals(msg)).to.equal(true);
        expect(client.gotText()).to.equal(true);
        finish(ioc, a, b);
      });
    }

    it('echoes 1 MiB both ways with the default auto-fragmentation (4096-byte frames)', () => {
      const { ioc, a, b, client, server } = openPair();
      client.binary(true);
      server.binary(true);
      const msg = pattern(MiB, 7);
      const w = recorder();
      client.asyncWrite(msg, w.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, MiB]);
      const frames = parseFrames(peek(b));
      expect(frames.length).to.equal(MiB / 4096);
      expect(frames.every((f) => f.masked && f.key !== 0 && f.payload.length === 4096)).to.equal(true);
      expect(frames.map((f) => f.opcode).filter((op) => op !== Opcode.cont)).to.deep.equal([Opcode.binary]);
      expect(frames.filter((f) => f.fin).length).to.equal(1);
      expect(frames[frames.length - 1]!.fin).to.equal(true);

      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, MiB]);
      const back = recorder();
      server.asyncWrite(flat(buf), back.h);
      pump(ioc);
      expect(back.once()).to.deep.equal([null, MiB]);
      const sframes = parseFrames(peek(a));
      expect(sframes.length).to.equal(MiB / 4096);
      expect(sframes.every((f) => !f.masked)).to.equal(true);
      const got = new FlatBuffer();
      const r2 = recorder();
      client.asyncRead(got, r2.h);
      pump(ioc);
      expect(r2.once()).to.deep.equal([null, MiB]);
      expect(Buffer.from(flat(got)).equals(msg)).to.equal(true);
      finish(ioc, a, b);
    });

    it('a client gathers its masked frames into writes of up to 64 KiB; a frame longer than that spans writes', () => {
      // 300 000 bytes in frames of 4096: 74 frames, 16 per write (the gather buffer holds 64 KiB
      // of payload and their headers). Each frame has its own key.
      const { ioc, a, b, client, server } = openPair();
      client.binary(true);
      const msg = pattern(300_000, 3);
      const w = recorder();
      const before = a.nwrite();
      client.asyncWrite(msg, w.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([null, 300_000]);
      expect(a.nwrite() - before, 'next-layer writes').to.equal(5);
      const frames = parseFrames(take(b));
      expect(frames.length).to.equal(74);
      expect(frames.every((f) => f.masked && f.key !== 0)).to.equal(true);
      expect(new Set(frames.map((f) => f.key)).size).to.be.greaterThan(1);
      expect(frames.slice(0, 73).every((f) => f.payload.length === 4096 && !f.fin)).to.equal(true);
      expect(Buffer.concat(frames.map((f) => f.payload)).equals(msg)).to.equal(true);
      expect(Buffer.from(msg).equals(pattern(300_000, 3)), 'the caller\'s bytes are unchanged').to.equal(true);

      // One frame of 200 001 bytes: masked across four writes, the key offset carried over.
      client.autoFragment(false);
      const one = pattern(200_001, 5);
      const w2 = recorder();
      const before2 = a.nwrite();
      client.asyncWrite(one, w2.h);
      pump(ioc);
      expect(w2.once()).to.deep.equal([null, 200_001]);
      expect(a.nwrite() - before2, 'next-layer writes').to.equal(4);
      const f2 = parseFrames(peek(b));
      expect(f2.map((f) => [f.fin, f.masked, f.payload.length])).to.deep.equal([[true, true, 200_001]]);
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 200_001]);
      expect(Buffer.from(flat(buf)).equals(one)).to.equal(true);

      // Frames of 100 000 bytes: each spans gather buffers, and the next starts in the buffer
      // where the last one ends (250 042 bytes in four writes).
      client.autoFragment(true);
      client.writeBufferBytes(100_000);
      const big = pattern(250_000, 6);
      const w3 = recorder();
      const before3 = a.nwrite();
      client.asyncWrite(big, w3.h);
      pump(ioc);
      expect(w3.once()).to.deep.equal([null, 250_000]);
      expect(a.nwrite() - before3, 'next-layer writes').to.equal(4);
      const f3 = parseFrames(take(b));
      expect(f3.map((f) => [f.opcode, f.fin, f.masked, f.payload.length])).to.deep.equal([
        [Opcode.binary, false, true, 100_000],
        [Opcode.cont, false, true, 100_000],
        [Opcode.cont, true, true, 50_000],
      ]);
      expect(Buffer.concat(f3.map((f) => f.payload)).equals(big)).to.equal(true);
      finish(ioc, a, b);
    });

    it('tells text from binary messages (gotText / gotBinary), text being the initial answer', () => {
      const { ioc, a, b, client, server } = openPair();
      expect(server.gotText()).to.equal(true);
      expect(server.gotBinary()).to.equal(false);
      expect(client.text()).to.equal(true);
      client.binary(true);
      expect(client.binary()).to.equal(true);
      expect(client.text()).to.equal(false);
      const r = recorder();
      const buf = new FlatBuffer();
      client.asyncWrite(bytesOf('bin'), recorder().h);
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 3]);
      expect([server.gotBinary(), server.gotText()]).to.deep.equal([true, false]);

      client.text(true);
      const r2 = recorder();
      client.asyncWrite(bytesOf('txt'), recorder().h);
      server.asyncRead(buf, r2.h);
      pump(ioc);
      expect(r2.once()).to.deep.equal([null, 3]);
      expect([server.gotBinary(), server.gotText()]).to.deep.equal([false, true]);
      expect(text(flat(buf))).to.equal('bintxt');
      finish(ioc, a, b);
    });

    it('sends write_some parts as frames of one message (FIN on the last), read as one message', () => {
      const { ioc, a, b, client, server } = openPair();
      const w1 = recorder();
      const w2 = recorder();
      const w3 = recorder();
      client.asyncWriteSome(false, bytesOf('hel'), w1.h);
      pump(ioc);
      client.asyncWriteSome(false, new Uint8Array(0), w2.h);
      pump(ioc);
      client.asyncWriteSome(true, bytesOf('lo'), w3.h);
      pump(ioc);
      expect([w1.once(), w2.once(), w3.once()]).to.deep.equal([[null, 3], [null, 0], [null, 2]]);
      const frames = parseFrames(peek(b));
      expect(frames.map((f) => [f.opcode, f.fin, text(f.payload)])).to.deep.equal([
        [Opcode.text, false, 'hel'],
        [Opcode.cont, false, ''],
        [Opcode.cont, true, 'lo'],
      ]);
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 5]);
      expect(text(flat(buf))).to.equal('hello');
      expect(server.isMessageDone()).to.equal(true);

      // The next message starts afresh with the opcode setting.
      server.binary(true);
      server.asyncWriteSome(true, bytesOf('x'), recorder().h);
      pump(ioc);
      expect(parseFrames(take(a)).map((f) => [f.opcode, f.fin])).to.deep.equal([[Opcode.binary, true]]);
      finish(ioc, a, b);
    });

    it('auto-fragments into frames of writeBufferBytes, each client frame with its own key', () => {
      const { ioc, a, b, client, server } = openPair();
      expect(client.autoFragment()).to.equal(true);
      expect(client.writeBufferBytes()).to.equal(4096);
      expect(() => client.writeBufferBytes(7)).to.throw(RangeError);
      client.writeBufferBytes(16);
      server.writeBufferBytes(16);
      const msg = asciiPattern(40, 3);
      client.asyncWrite(msg, recorder().h);
      server.asyncWrite(msg, recorder().h);
      pump(ioc);
      const cf = parseFrames(take(b));
      expect(cf.map((f) => [f.opcode, f.fin, f.payload.length, f.masked])).to.deep.equal([
        [Opcode.text, false, 16, true],
        [Opcode.cont, false, 16, true],
        [Opcode.cont, true, 8, true],
      ]);
      // Each frame draws its own random key (three equal keys would have probability 2^-64).
      expect(new Set(cf.map((f) => f.key)).size, 'keys per frame').to.be.greaterThan(1);
      expect(Buffer.from(payloadOf(cf)).equals(msg)).to.equal(true);
      const sf = parseFrames(take(a));
      expect(sf.map((f) => [f.opcode, f.fin, f.payload.length, f.masked])).to.deep.equal([
        [Opcode.text, false, 16, false],
        [Opcode.cont, false, 16, false],
        [Opcode.cont, true, 8, false],
      ]);
      expect(Buffer.from(payloadOf(sf)).equals(msg)).to.equal(true);

      // Without auto-fragmentation a client masks through the small buffer, still one frame.
      client.autoFragment(false);
      client.asyncWrite(msg, recorder().h);
      pump(ioc);
      const one = parseFrames(take(b));
      expect(one.map((f) => [f.opcode, f.fin, f.payload.length, f.masked])).to.deep.equal([[Opcode.text, true, 40, true]]);
      expect(Buffer.from(one[0]!.payload).equals(msg)).to.equal(true);
      finish(ioc, a, b);
    });

    it('reads some into fixed buffers, from their start, and reports isMessageDone', () => {
      const { ioc, a, b, client, server } = openPair();
      server.asyncWrite(bytesOf('hello world'), recorder().h);
      pump(ioc);
      const got: string[] = [];
      const done: boolean[] = [];
      for (const size of [4, 4, 4]) {
        const buf = new Uint8Array(size);
        const r = recorder();
        client.asyncReadSome(buf, r.h);
        pump(ioc);
        const [ec, n] = r.once();
        expect(ec).to.equal(null);
        got.push(text(buf.subarray(0, n)));
        done.push(client.isMessageDone());
      }
      expect(got).to.deep.equal(['hell', 'o wo', 'rld']);
      expect(done).to.deep.equal([false, false, true]);

      // A buffer sequence is filled in order.
      server.asyncWrite(bytesOf('abcde'), recorder().h);
      pump(ioc);
      const parts = [new Uint8Array(2), new Uint8Array(3)];
      const r = recorder();
      client.asyncReadSome(parts, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 5]);
      expect(parts.map(text)).to.deep.equal(['ab', 'cde']);
      expect(client.isMessageDone()).to.equal(true);
      finish(ioc, a, b);
    });

    it('reads some into a dynamic buffer with a limit, appending', () => {
      const { ioc, a, b, client, server } = openPair();
      client.asyncWrite(bytesOf('0123456789'), recorder().h);
      pump(ioc);
      const buf = new FlatBuffer();
      const counts: Array<[Ec, number]> = [];
      const done: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const r = recorder();
        server.asyncReadSome(buf, 4, r.h);
        pump(ioc);
        counts.push(r.once());
        done.push(server.isMessageDone());
      }
      expect(counts).to.deep.equal([[null, 4], [null, 4], [null, 2]]);
      expect(done).to.deep.equal([false, false, true]);
      expect(text(flat(buf))).to.equal('0123456789');
      // Limit 0: no limit.
      client.asyncWrite(bytesOf('abcdefgh'), recorder().h);
      pump(ioc);
      const r = recorder();
      server.asyncReadSome(buf, 0, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 8]);
      expect(server.isMessageDone()).to.equal(true);
      finish(ioc, a, b);
    });

    it('a message above readMessageMax: close 1009 sent, messageTooBig, connection torn down', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      expect(server.readMessageMax()).to.equal(16 * 1024 * 1024);
      server.readMessageMax(10);
      b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(11) }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.messageTooBig, 0]);
      expect(onlyCloseCode(take(a), false)).to.equal(CloseCode.tooBig);
      expect(server.isOpen()).to.equal(false);
      expect(peerClosed(ioc, a)).to.equal(true);
      finish(ioc, a, b);
    });

    it('readMessageMax counts the whole message across fragments; 0 means no limit', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      server.readMessageMax(10);
      b.append(clientFrame({ opcode: Opcode.binary, fin: false, payload: pattern(6) }));
      b.append(clientFrame({ opcode: Opcode.cont, payload: pattern(5) }));
      const buf = new FlatBuffer();
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.messageTooBig, 6]);
      expect(onlyCloseCode(take(a), false)).to.equal(CloseCode.tooBig);
      finish(ioc, a, b);

      const p = openServerAgainstRaw();
      p.server.readMessageMax(0);
      expect(p.server.readMessageMax()).to.equal(0);
      p.b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(70000) }));
      const r2 = recorder();
      p.server.asyncRead(new FlatBuffer(), r2.h);
      pump(p.ioc);
      expect(r2.once()).to.deep.equal([null, 70000]);
      finish(p.ioc, p.a, p.b);
    });

    it('a dynamic buffer that cannot grow: bufferOverflow, no close frame, the stream failed', () => {
      const { ioc, a, b, client, server } = openPair();
      client.asyncWrite(bytesOf('hello world'), recorder().h);
      pump(ioc);
      const buf = new FlatBuffer(4);
      const r = recorder();
      server.asyncRead(buf, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.bufferOverflow, 4]);
      expect(text(flat(buf))).to.equal('hell');
      expect(a.bufferedBytes(), 'nothing sent back').to.equal(0);
      expect(server.isOpen()).to.equal(false);
      const w = recorder();
      server.asyncWrite(bytesOf('x'), w.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);

      // A static buffer that is full also overflows.
      const p = openPair();
      p.client.asyncWrite(bytesOf('abc'), recorder().h);
      pump(p.ioc);
      const sb = new StaticBuffer(2);
      const r2 = recorder();
      p.server.asyncRead(sb, r2.h);
      pump(p.ioc);
      expect(r2.once()).to.deep.equal([error.bufferOverflow, 2]);
      finish(p.ioc, p.a, p.b);
      finish(ioc, a, b);
    });
  });

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
      it(`${v.name}: the read fails with ${v.ec!.message()}, close ${v.code} goes back, the connection is torn down`, () => {
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
      it(`${v.name}: the read fails with ${v.ec!.message()}, masked close ${v.code} goes back, torn down`, () => {
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
    it('fails fast on invalid UTF-8 before the rest of the frame arrives', () => {
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

    it('accepts a code point split across frames and across reads', () => {
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

    it('binary messages are not checked for UTF-8', () => {
      const { ioc, a, b, server } = openServerAgainstRaw();
      b.append(clientFrame({ opcode: Opcode.binary, payload: Uint8Array.of(0xff, 0xc0) }));
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 2]);
      finish(ioc, a, b);
    });

    it('control frames between fragments are handled; the message is read whole', () => {
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

    it('the control callback sees ping, pong and close payloads; a client answers pings with masked pongs', () => {
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

    it('an empty non-final frame is skipped; an empty final frame ends the message', () => {
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

    it('a masked payload is unmasked across reads of 1 byte (rolling key)', () => {
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

    it('a 64-bit length of 2^63-1: messageTooBig, close 1009 (Beast issue 802)', () => {
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

    it('read_some into an empty buffer completes with 0 and leaves the message (Beast issue 807)', () => {
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

    it('the control callback never runs inside the initiating call, nor before its frame is reached (Beast issue 954)', () => {
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

    it('readSizeHint: 1536 by default, bounded by readMessageMax and a dynamic buffer\'s room', () => {
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

  describe('buffer sequences', () => {
    const split = (b: Uint8Array, cuts: number[]): Uint8Array[] => {
      const out: Uint8Array[] = [];
      let at = 0;
      for (const c of [...cuts, b.length]) {
        out.push(b.subarray(at, c));
        at = c;
      }
      return out;
    };

    for (const io of [undefined, 1000, 7777]) {
      for (const [who, frag] of [['client', false], ['client', true], ['server', false], ['server', true]] as const) {
        it(`a ${who} writes a sequence (auto-fragment ${frag}); read back into a sequence with odd boundaries (io ${io ?? 'unlimited'})`, () => {
          const opts = io === undefined ? {} : { readSize: io, writeSize: io };
          const { ioc, a, b, client, server } = openPair(opts);
          const [from, to] = who === 'client' ? [client, server] : [server, client];
          from.autoFragment(frag);
          from.binary(true);
          const msg = pattern(100_003, 5);
          const w = recorder();
          from.asyncWrite(split(msg, [1, 4097, 4098, 50_001]), w.h);
          const target = [new Uint8Array(3), new Uint8Array(33_333), new Uint8Array(66_667)];
          let got = 0;
          const readMore = (): void => {
            const rest = new BuffersView(target).from(got);
            to.asyncReadSome(rest, (ec, n) => {
              expect(ec).to.equal(null);
              got += n;
              if (!to.isMessageDone()) readMore();
            });
          };
          readMore();
          pump(ioc);
          expect(w.once()).to.deep.equal([null, msg.length]);
          expect(got).to.equal(msg.length);
          expect(Buffer.concat(target).equals(msg)).to.equal(true);
          expect(Buffer.from(msg).equals(pattern(100_003, 5)), 'the source is unchanged').to.equal(true);
          finish(ioc, a, b);
        });
      }
    }

    it('text split inside code points across small fixed buffers is valid', () => {
      const { ioc, a, b, client, server } = openPair({ readSize: 3 });
      server.asyncWrite(bytesOf('€€€ü𝄞'), recorder().h);
      pump(ioc);
      const parts: Uint8Array[] = [];
      for (;;) {
        const buf = new Uint8Array(2);
        const r = recorder();
        client.asyncReadSome(buf, r.h);
        pump(ioc);
        const [ec, n] = r.once();
        expect(ec).to.equal(null);
        parts.push(buf.subarray(0, n));
        if (client.isMessageDone()) break;
      }
      expect(Buffer.concat(parts).toString('utf8')).to.equal('€€€ü𝄞');
      finish(ioc, a, b);
    });
  });

  describe('the connection lost without a close frame', () => {
    it('a pending read gets eof and the stream fails; later operations are aborted', () => {
      const { ioc, a, b, client, server } = openPair();
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      a.close();
      pump(ioc);
      expect(r.once()).to.deep.equal([netError.eof, 0]);
      expect(server.isOpen()).to.equal(false);
      const w = recorder();
      server.asyncWrite(bytesOf('x'), w.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(client.isOpen(), 'the client knows nothing yet').to.equal(true);
      finish(ioc, a, b);
    });

    it('a write to a vanished peer gets connectionReset', () => {
      const { ioc, a, b, client } = openPair();
      b.close();
      const w = recorder();
      client.asyncWrite(bytesOf('x'), w.h);
      pump(ioc);
      expect(w.once()).to.deep.equal([netError.connectionReset, 0]);
      expect(client.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });
  });

  describe("the peer's close", () => {
    for (const [name, payload, echoed, code, reason] of [
      ['a close with code 1001 and a reason', closePayload(1001, 'going'), 1001, 1001, 'going'],
      ['a close with code 3000', closePayload(3000), 3000, 3000, ''],
      ['a close with code 4999', closePayload(4999, 'x'), 4999, 4999, 'x'],
      ['an empty close', new Uint8Array(0), 1000, 0, ''],
    ] as const) {
      it(`${name}: the read gets closed, reason() holds it, the echo carries ${echoed}`, () => {
        const { ioc, a, b, server } = openServerAgainstRaw();
        b.append(clientFrame({ opcode: Opcode.close, payload }));
        const r = recorder();
        server.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([error.closed, 0]);
        expect(server.reason()).to.deep.equal({ code, reason });
        const frames = parseFrames(take(a));
        expect(frames.length).to.equal(1);
        expect(closeCodeOf(frames[0]!)).to.equal(echoed);
        expect(frames[0]!.payload.length).to.equal(2);
        expect(server.isOpen()).to.equal(false);
        expect(peerClosed(ioc, a)).to.equal(true);
        // Every later operation is aborted.
        const r2 = recorder();
        server.asyncRead(new FlatBuffer(), r2.h);
        const c = recorder<[Ec]>();
        server.asyncClose(1000, c.h);
        pump(ioc);
        expect(r2.once()).to.deep.equal([netError.operationAborted, 0]);
        expect(c.ec()).to.equal(netError.operationAborted);
        finish(ioc, a, b);
      });
    }

    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) {
      it(`close code ${code} is valid and echoed`, () => {
        const { ioc, a, b, client } = openClientAgainstRaw();
        a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(code) }));
        const r = recorder();
        client.asyncRead(new FlatBuffer(), r.h);
        pump(ioc);
        expect(r.once()).to.deep.equal([error.closed, 0]);
        expect(client.reason().code).to.equal(code);
        expect(onlyCloseCode(take(b), true)).to.equal(code);
        finish(ioc, a, b);
      });
    }

    it('a close with no code sends an empty close frame, answered with 1000', () => {
      const { ioc, a, b, client, server } = openPair();
      const c = recorder<[Ec]>();
      client.asyncClose(0, c.h);
      const sent = parseFrames(peek(b));
      expect(sent.map((f) => [f.opcode, f.payload.length, f.masked])).to.deep.equal([[Opcode.close, 0, true]]);
      const r = recorder();
      server.asyncRead(new FlatBuffer(), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(c.ec()).to.equal(null);
      expect(server.reason()).to.deep.equal({ code: 0, reason: '' });
      expect(client.reason()).to.deep.equal({ code: 1000, reason: '' });
      finish(ioc, a, b);
    });

    it('a Stream peer closing: the read gets closed with its code, then both are closed', () => {
      const { ioc, a, b, client, server } = openPair();
      const r = recorder();
      const c = recorder<[Ec]>();
      server.asyncRead(new FlatBuffer(), r.h);
      client.asyncClose({ code: 1001, reason: 'away' }, c.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([error.closed, 0]);
      expect(c.ec()).to.equal(null);
      expect(server.reason()).to.deep.equal({ code: 1001, reason: 'away' });
      expect(client.reason()).to.deep.equal({ code: 1001, reason: '' });
      expect([client.isOpen(), server.isOpen()]).to.deep.equal([false, false]);
      finish(ioc, a, b);
    });
  });
});

/** Views of a buffer sequence from a byte offset on (the rest of the sequence). */
class BuffersView {
  constructor(private readonly seq: Uint8Array[]) {}

  from(offset: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let skip = offset;
    for (const b of this.seq) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      out.push(b.subarray(skip));
      skip = 0;
    }
    return out;
  }
}
