// Compressed messages over TestStream, checked on the raw bytes: RSV1 and thresholds, compress()
// per message, context takeover in each direction, the RFC 7692 section 7.2.3 examples read from a
// raw peer, compression with auto-fragmentation and with control frames between the fragments,
// per-operation cancellation of compressed writes and reads, and inflate errors.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, ErrorCode } from '../../../../lib/net/error.js';
import type { IoContext } from '../../../../lib/net/io-context.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { zlibCategory, zlibError } from '../../../../lib/beast/websocket/zlib-codec.js';
import {
  clientFrame,
  finish,
  onlyCloseCode,
  Opcode,
  parseFrames,
  pattern,
  payloadOf,
  peek,
  pump,
  recorder,
  serverFrame,
  take,
  type DecodedFrame,
  type Ec,
  type WsStream,
} from '../ops/fixture.js';
import { deflateMessage, inflateMessage, jsonText, KiB, pmdClientAgainstRaw, pmdPair, pmdServerAgainstRaw, pumpBounded, runIsolated } from './support.js';
import { parkedIn } from '../../../support/internals.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const same = (x: Uint8Array, y: Uint8Array): boolean => Buffer.from(x).equals(Buffer.from(y));

function stepUntil(ioc: IoContext, done: () => boolean): void {
  ioc.restart();
  while (!done()) if (ioc.pollOne() === 0) throw new Error('stepUntil: nothing left to run');
}

/** Reads one message on `s` (pumping), asserting success; returns its bytes. */
function readMessage(ioc: IoContext, s: WsStream): Uint8Array {
  const buf = new FlatBuffer();
  const r = recorder();
  s.asyncRead(buf, r.h);
  pumpBounded(ioc);
  expect(r.once()[0], 'read').to.equal(null);
  return Uint8Array.from(buf.dataView());
}

/** Writes one message on `s` (pumping), asserting success. */
function writeMessage(ioc: IoContext, s: WsStream, msg: Uint8Array): void {
  const w = recorder();
  s.asyncWrite(msg, w.h);
  pump(ioc);
  expect(w.once()).to.deep.equal([null, msg.length]);
}

/** The data frames of one message in `frames`, checked for RSV1 on the first only; returns its payload. */
function compressedMessage(frames: DecodedFrame[], opcode: number = Opcode.text): Uint8Array {
  expect(frames.length).to.be.greaterThan(0);
  frames.forEach((f, i) => {
    expect(f.opcode, `frame ${i} opcode`).to.equal(i === 0 ? opcode : Opcode.cont);
    expect(f.rsv, `frame ${i} RSV`).to.equal(i === 0 ? 0x40 : 0);
    expect(f.fin, `frame ${i} FIN`).to.equal(i === frames.length - 1);
  });
  return payloadOf(frames);
}

describe('websocket/deflate compressed frames over TestStream', () => {
  // Compression needs Node's synchronous zlib (net/node-internals.ts, 4); without it, see negotiation.spec.
  before(function () {
    if (!hasSyncZlib()) this.skip();
  });
  describe('RSV1, thresholds and compress()', () => {
    for (const role of ['client', 'server'] as const) {
      it(`${role}: a compressed message has RSV1 and inflates to the original`, () => {
        const p = pmdPair();
        const [from, peer] = role === 'client' ? [p.client, p.b] : [p.server, p.a];
        const msg = jsonText(3000);
        writeMessage(p.ioc, from, msg);
        const frames = parseFrames(take(peer));
        expect(frames.every((f) => f.masked === (role === 'client'))).to.equal(true);
        const payload = compressedMessage(frames);
        expect(payload.length).to.be.lessThan(msg.length / 2);
        expect(same(inflateMessage(payload), msg)).to.equal(true);
        finish(p.ioc, p.a, p.b);
      });
    }

    it('msgSizeThreshold: a shorter message goes without RSV1, one of the threshold size or more with it', () => {
      const p = pmdPair({ msgSizeThreshold: 100 }, { msgSizeThreshold: 100 });
      for (const [from, peer, to] of [[p.client, p.b, p.server], [p.server, p.a, p.client]] as const) {
        for (const [n, rsv] of [[0, 0], [1, 0], [99, 0], [100, 0x40], [101, 0x40], [5000, 0x40]] as const) {
          const msg = jsonText(n, n + 1);
          writeMessage(p.ioc, from, msg);
          const frames = parseFrames(peek(peer));
          expect(frames.length, `${n} bytes: frames`).to.equal(1);
          expect(frames[0]!.rsv, `${n} bytes: RSV`).to.equal(rsv);
          if (rsv === 0) expect(same(frames[0]!.payload, msg), `${n} bytes sent as is`).to.equal(true);
          expect(same(readMessage(p.ioc, to), msg), `${n} bytes read back`).to.equal(true);
        }
      }
      finish(p.ioc, p.a, p.b);
    });

    it('compress(false) sends the next messages uncompressed; compress(true) compresses again', () => {
      const p = pmdPair();
      const msg = jsonText(2000);
      const rsvs: number[] = [];
      for (const on of [true, false, false, true]) {
        p.client.compress(on);
        expect(p.client.compress()).to.equal(on);
        writeMessage(p.ioc, p.client, msg);
        const frames = parseFrames(peek(p.b));
        rsvs.push(frames[0]!.rsv);
        expect(same(readMessage(p.ioc, p.server), msg)).to.equal(true);
      }
      expect(rsvs).to.deep.equal([0x40, 0, 0, 0x40]);
      finish(p.ioc, p.a, p.b);
    });

    it('compress() and thresholds have no effect without the extension: never RSV1', () => {
      const p = pmdPair({}, { serverEnable: false });
      expect(p.client.getStatus().active).to.equal(false);
      writeMessage(p.ioc, p.client, jsonText(2000));
      expect(parseFrames(take(p.b))[0]!.rsv).to.equal(0);
      finish(p.ioc, p.a, p.b);
    });

    it('an empty message is compressed to a single 0x00 byte', () => {
      const p = pmdPair();
      writeMessage(p.ioc, p.server, new Uint8Array(0));
      const frames = parseFrames(peek(p.a));
      expect(frames.map((f) => [f.rsv, f.fin, [...f.payload]])).to.deep.equal([[0x40, true, [0x00]]]);
      expect(readMessage(p.ioc, p.client).length).to.equal(0);
      finish(p.ioc, p.a, p.b);
    });

    it('binary and text opcodes are kept on compressed messages', () => {
      const p = pmdPair();
      p.server.binary(true);
      writeMessage(p.ioc, p.server, pattern(300));
      expect(parseFrames(peek(p.a))[0]!.opcode).to.equal(Opcode.binary);
      expect(same(readMessage(p.ioc, p.client), pattern(300))).to.equal(true);
      expect(p.client.gotBinary()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('context takeover', () => {
    // The same incompressible 2 KiB twice: with the window kept the second message is a
    // back-reference of a few bytes; without it, as large as the first.
    const msg = pattern(2 * KiB, 99);

    for (const dir of ['client', 'server'] as const) {
      for (const nct of [false, true]) {
        it(`${dir} to ${dir === 'client' ? 'server' : 'client'}, ${nct ? `${dir}_no_context_takeover` : 'context kept'}`, () => {
          const flag = dir === 'client' ? { clientNoContextTakeover: nct } : { serverNoContextTakeover: nct };
          const p = pmdPair(flag, {});
          const [from, peer, to] = dir === 'client' ? [p.client, p.b, p.server] : [p.server, p.a, p.client];
          from.binary(true);
          const sizes: number[] = [];
          for (let i = 0; i < 3; i++) {
            writeMessage(p.ioc, from, msg);
            sizes.push(payloadOf(parseFrames(peek(peer))).length);
            expect(same(readMessage(p.ioc, to), msg), `message ${i}`).to.equal(true);
          }
          if (nct) expect(sizes[1]).to.equal(sizes[0]).and.to.equal(sizes[2]);
          else expect(sizes[1]).to.be.lessThan(32).and.lessThan(sizes[0]! / 10);
          finish(p.ioc, p.a, p.b);
        });
      }
    }

    it('the server asks server_no_context_takeover by itself: its messages do not share a window', () => {
      const p = pmdPair({}, { serverNoContextTakeover: true });
      p.server.binary(true);
      const sizes: number[] = [];
      for (let i = 0; i < 2; i++) {
        writeMessage(p.ioc, p.server, msg);
        sizes.push(payloadOf(parseFrames(peek(p.a))).length);
        expect(same(readMessage(p.ioc, p.client), msg)).to.equal(true);
      }
      expect(sizes[1]).to.equal(sizes[0]);
      finish(p.ioc, p.a, p.b);
    });

    it('with server_no_context_takeover the client’s inflater starts over: a back-reference into the previous message is corrupt', () => {
      const r0 = pmdClientAgainstRaw('permessage-deflate; server_no_context_takeover', { clientEnable: true });
      expect(r0.ec).to.equal(null);
      const { ioc, a, b, client } = r0;
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      // RFC 7692 7.2.3.2: 'Hello' again as a reference to the previous message, valid only with the window kept.
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00) }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      pumpBounded(ioc);
      expect(r.once()[0]).to.equal(zlibError.dataError);
      finish(ioc, a, b);
    });
  });

  describe('RFC 7692 section 7.2.3 examples, from a raw server', () => {
    function rawClient(ext = 'permessage-deflate') {
      const r = pmdClientAgainstRaw(ext, { clientEnable: true });
      expect(r.ec).to.equal(null);
      expect(r.client.getStatus().active).to.equal(true);
      return r;
    }
    const HELLO = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    it('7.2.3.1: "Hello" in one frame, and in two fragments', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.from(HELLO) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, fin: false, payload: Uint8Array.of(0xf2, 0x48, 0xcd) }));
      a.append(serverFrame({ opcode: Opcode.cont, payload: Uint8Array.of(0xc9, 0xc9, 0x07, 0x00) }));
      // The second message shares the window of the first (context takeover) but does not use it.
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      finish(ioc, a, b);
    });

    it('7.2.3.2: a second "Hello" that refers to the first (the window is kept)', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.from(HELLO) }));
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      finish(ioc, a, b);
    });

    it('7.2.3.3: a stored (uncompressed) block', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      finish(ioc, a, b);
    });

    it('7.2.3.4: a block with BFINAL set (then a new message) is read, not spun on', async () => {
      // Run in a worker: a read that spins on input zlib no longer takes may never return.
      const result = await runIsolated(`
        const { FlatBuffer } = buffers;
        const { serverFrame, recorder, Opcode } = fixture;
        const { ioc, a, b, client } = support.pmdClientAgainstRaw('permessage-deflate');
        const read = () => {
          const buf = new FlatBuffer();
          const r = recorder();
          client.asyncRead(buf, r.h);
          try { support.pumpBounded(ioc, 20000); } catch { return 'spun'; }
          return r.calls.map(([ec, n]) => [ec === null ? null : String(ec), n, Buffer.from(buf.dataView()).toString()]);
        };
        a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00) }));
        const first = read();
        // The next message, compressed on its own as a sender that ended its stream must.
        a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(${HELLO.join(', ')}) }));
        const second = first === 'spun' ? 'not tried' : read();
        a.close();
        b.close();
        return { first, second };
      `, 5000);
      expect(result).to.deep.equal({ first: [[null, 5, 'Hello']], second: [[null, 5, 'Hello']] });
    });

    it('7.2.3.5: two deflate blocks in one message', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      finish(ioc, a, b);
    });

    it('empty compressed messages (one 0x00 byte each), then "Hello" on the same window', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.of(0x00) }));
      expect(readMessage(ioc, client).length).to.equal(0);
      a.append(serverFrame({ opcode: Opcode.binary, rsv: 0x40, payload: Uint8Array.of(0x00) }));
      expect(readMessage(ioc, client).length).to.equal(0);
      expect(client.gotBinary()).to.equal(true);
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.from(HELLO) }));
      expect(text(readMessage(ioc, client))).to.equal('Hello');
      finish(ioc, a, b);
    });

    it('uncompressed messages (RSV1 clear) still read while the extension is active, between compressed ones', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, payload: 'plain' }));
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: Uint8Array.from(HELLO) }));
      a.append(serverFrame({ opcode: Opcode.text, fin: false, payload: 'pl' }));
      a.append(serverFrame({ opcode: Opcode.cont, payload: 'ain' }));
      const got = [0, 1, 2].map(() => text(readMessage(ioc, client)));
      expect(got).to.deep.equal(['plain', 'Hello', 'plain']);
      finish(ioc, a, b);
    });

    for (const [what, frame] of [
      ['RSV1 on a continuation frame', [serverFrame({ opcode: Opcode.text, rsv: 0x40, fin: false, payload: Uint8Array.of(0xf2, 0x48) }), serverFrame({ opcode: Opcode.cont, rsv: 0x40, payload: Uint8Array.of(0xcd) })]],
      ['RSV1 on a ping', [serverFrame({ opcode: Opcode.ping, rsv: 0x40 })]],
      ['RSV2 on a data frame', [serverFrame({ opcode: Opcode.text, rsv: 0x20, payload: Uint8Array.from(HELLO) })]],
    ] as const) {
      it(`${what} is still a protocol error (1002)`, () => {
        const { ioc, a, b, client } = rawClient();
        for (const f of frame) a.append(f);
        const r = recorder();
        client.asyncRead(new FlatBuffer(), r.h);
        pumpBounded(ioc);
        expect(r.once()[0]).to.equal(error.badReservedBits);
        expect(onlyCloseCode(take(b), true)).to.equal(1002);
        finish(ioc, a, b);
      });
    }

    it('invalid UTF-8 inside a compressed text message fails with 1007', () => {
      const { ioc, a, b, client } = rawClient();
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, payload: deflateMessage(Uint8Array.of(0x48, 0xc3, 0x28, 0x21)) }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      pumpBounded(ioc);
      expect(r.once()[0]).to.equal(error.badFramePayload);
      expect(onlyCloseCode(take(b), true)).to.equal(1007);
      finish(ioc, a, b);
    });
  });

  describe('with auto-fragmentation', () => {
    it('a compressed write larger than writeBufferBytes goes as several frames, RSV1 on the first only', () => {
      const p = pmdPair();
      p.client.writeBufferBytes(1024);
      p.client.binary(true);
      const msg = pattern(20 * KiB, 5); // incompressible: about 20 frames
      writeMessage(p.ioc, p.client, msg);
      const frames = parseFrames(peek(p.b));
      expect(frames.length).to.be.within(20, 22);
      expect(frames.every((f) => f.payload.length <= 1024 && f.masked)).to.equal(true);
      expect(same(inflateMessage(compressedMessage(frames, Opcode.binary)), msg)).to.equal(true);
      expect(same(readMessage(p.ioc, p.server), msg)).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('autoFragment(false) still sends compressed output in write-buffer-sized frames (as Beast)', () => {
      const p = pmdPair();
      p.server.autoFragment(false);
      p.server.writeBufferBytes(4096);
      const msg = pattern(10 * KiB, 6);
      p.server.binary(true);
      writeMessage(p.ioc, p.server, msg);
      const frames = parseFrames(peek(p.a));
      expect(frames.length).to.be.within(3, 4);
      expect(same(inflateMessage(compressedMessage(frames, Opcode.binary)), msg)).to.equal(true);
      expect(same(readMessage(p.ioc, p.client), msg)).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('a message written in parts with asyncWriteSome: RSV1 on its first frame only, one message for the reader', () => {
      const p = pmdPair();
      const msg = jsonText(30 * KiB);
      const cuts = [0, 10_000, 10_001, 25_000, msg.length];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const w = recorder();
        p.client.asyncWriteSome(i + 2 === cuts.length, msg.subarray(cuts[i]!, cuts[i + 1]!), w.h);
        pump(p.ioc);
        expect(w.once()[0]).to.equal(null);
      }
      const frames = parseFrames(peek(p.b));
      expect(same(inflateMessage(compressedMessage(frames)), msg)).to.equal(true);
      expect(same(readMessage(p.ioc, p.server), msg)).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('asyncWriteSome reports the bytes zlib took, even before they come out as a frame', () => {
      // A part absorbed by compression latency produces no frame, but it was consumed and will be
      // sent with the message: reporting 0 invites a caller to send it again (Beast reports 0).
      const p = pmdPair();
      const part = jsonText(200);
      const w1 = recorder();
      p.client.asyncWriteSome(false, part, w1.h);
      pump(p.ioc);
      expect(p.b.bufferedBytes(), 'no frame yet').to.equal(0);
      const w2 = recorder();
      p.client.asyncWriteSome(true, enc('!'), w2.h);
      pump(p.ioc);
      expect(text(readMessage(p.ioc, p.server))).to.equal(text(part) + '!');
      expect(w1.once()).to.deep.equal([null, part.length]);
      expect(w2.once()).to.deep.equal([null, 1]);
      finish(p.ioc, p.a, p.b);
    });

    for (const [what, threshold, between] of [
      ['compress(false)', 0, (s: WsStream) => s.compress(false)],
      ['a last part below msgSizeThreshold', 64, (_s: WsStream) => {}],
    ] as const) {
      it(`a compressed message continued after ${what} stays compressed and loses nothing`, () => {
        // The first part deflates to nothing yet (zlib keeps it until a flush), so no frame has gone
        // out when the next part comes: that part must still continue the compressed message.
        const p = pmdPair({ msgSizeThreshold: threshold });
        const first = jsonText(200);
        const last = enc('tail');
        const w1 = recorder();
        p.client.asyncWriteSome(false, first, w1.h);
        pump(p.ioc);
        expect(w1.once()[0]).to.equal(null);
        expect(p.b.bufferedBytes(), 'nothing sent yet').to.equal(0);
        between(p.client);
        const w2 = recorder();
        p.client.asyncWriteSome(true, last, w2.h);
        pump(p.ioc);
        expect(w2.once()).to.deep.equal([null, last.length]);
        const frames = parseFrames(peek(p.b));
        expect(frames[0]!.rsv, 'the message is compressed').to.equal(0x40);
        expect(text(inflateMessage(compressedMessage(frames))), 'the message').to.equal(text(first) + 'tail');
        finish(p.ioc, p.a, p.b);
      });
    }
  });

  describe('with control frames between compressed fragments', () => {
    it('a ping sent while a large compressed write is in progress goes out between its frames', () => {
      const p = pmdPair();
      p.server.binary(true);
      const msg = pattern(20 * KiB, 8); // 5 frames of 4096 at most
      const w = recorder();
      const ping = recorder<[Ec]>();
      p.server.asyncWrite(msg, w.h);
      p.server.asyncPing('mid', ping.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, msg.length]);
      expect(ping.ec()).to.equal(null);
      const frames = parseFrames(peek(p.a));
      const at = frames.findIndex((f) => f.opcode === Opcode.ping);
      expect(at, 'the ping between the data frames').to.be.within(1, frames.length - 2);
      const data = frames.filter((f) => f.opcode !== Opcode.ping);
      expect(same(inflateMessage(compressedMessage(data, Opcode.binary)), msg)).to.equal(true);
      // The reader gets the message whole, and answers the ping in between.
      const seen: string[] = [];
      p.client.controlCallback((kind, payload) => seen.push(`${kind}:${payload}`));
      expect(same(readMessage(p.ioc, p.client), msg)).to.equal(true);
      expect(seen).to.deep.equal(['ping:mid']);
      expect(parseFrames(take(p.b)).map((f) => [f.opcode, text(f.payload)])).to.deep.equal([[Opcode.pong, 'mid']]);
      finish(p.ioc, p.a, p.b);
    });

    it('a compressed message with a ping and a pong between its fragments reads whole; the ping is answered', () => {
      const { ioc, a, b, server, ec } = pmdServerAgainstRaw('permessage-deflate');
      expect(ec).to.equal(null);
      const msg = jsonText(5000);
      const payload = deflateMessage(msg);
      const cut = Math.floor(payload.length / 2);
      b.append(clientFrame({ opcode: Opcode.text, rsv: 0x40, fin: false, payload: payload.subarray(0, cut) }));
      b.append(clientFrame({ opcode: Opcode.ping, payload: 'p1' }));
      b.append(clientFrame({ opcode: Opcode.pong, payload: 'p2' }));
      b.append(clientFrame({ opcode: Opcode.cont, payload: payload.subarray(cut) }));
      const seen: string[] = [];
      server.controlCallback((kind, data) => seen.push(`${kind}:${data}`));
      expect(same(readMessage(ioc, server), msg)).to.equal(true);
      expect(seen).to.deep.equal(['ping:p1', 'pong:p2']);
      expect(parseFrames(take(a)).map((f) => [f.opcode, text(f.payload)])).to.deep.equal([[Opcode.pong, 'p1']]);
      finish(ioc, a, b);
    });
  });

  describe('with cancellation', () => {
    it('a compressed write parked behind a ping, cancelled with total: nothing of it sent; the next compressed message is intact', () => {
      const p = pmdPair();
      const sig = new CancellationSignal();
      const ping = recorder<[Ec]>();
      const w = recorder();
      p.client.asyncPing('p', ping.h);
      p.client.asyncWrite(jsonText(3000, 3), bindCancellationSlot(sig.slot(), w.h));
      sig.emit(CancellationType.total);
      pump(p.ioc);
      expect(ping.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(parseFrames(take(p.b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping]);
      expect(p.client.isOpen()).to.equal(true);
      const msg = jsonText(3000, 4);
      writeMessage(p.ioc, p.client, msg);
      const frames = parseFrames(peek(p.b));
      expect(same(inflateMessage(compressedMessage(frames)), msg)).to.equal(true);
      expect(same(readMessage(p.ioc, p.server), msg)).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('a compressed write parked between its frames, cancelled with total: the next write continues the same compressed message', () => {
      const p = pmdPair();
      p.client.binary(true);
      const sig = new CancellationSignal();
      const first = pattern(16 * KiB, 10);
      const w = recorder();
      const ping = recorder<[Ec]>();
      p.client.asyncWrite(first, bindCancellationSlot(sig.slot(), w.h));
      p.client.asyncPing('p', ping.h);
      stepUntil(p.ioc, () => parkedIn(p.client, 'wr'));
      sig.emit(CancellationType.total);
      pump(p.ioc);
      const [ec, sent] = w.once();
      expect(ec).to.equal(netError.operationAborted);
      // What the deflater took (all of it may sit in zlib's window) is counted as sent.
      expect(sent).to.be.greaterThan(0).and.at.most(first.length);
      expect(ping.ec()).to.equal(null);
      const rest = pattern(1000, 11);
      writeMessage(p.ioc, p.client, rest);
      const frames = parseFrames(peek(p.b));
      const data = frames.filter((f) => f.opcode !== Opcode.ping);
      const got = inflateMessage(compressedMessage(data, Opcode.binary));
      expect(same(got, Buffer.concat([first.subarray(0, sent), rest]))).to.equal(true);
      expect(same(readMessage(p.ioc, p.server), got)).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('a compressed read cancelled with terminal mid-message completes with operationAborted and leaves the stream failed', () => {
      const { ioc, a, b, server, ec } = pmdServerAgainstRaw('permessage-deflate');
      expect(ec).to.equal(null);
      const payload = deflateMessage(jsonText(4000));
      b.append(clientFrame({ opcode: Opcode.text, rsv: 0x40, fin: false, payload: payload.subarray(0, 20) }));
      const sig = new CancellationSignal();
      const r = recorder();
      const buf = new FlatBuffer();
      server.asyncRead(buf, bindCancellationSlot(sig.slot(), r.h));
      pump(ioc);
      expect(r.called, 'waiting for the rest of the message').to.equal(false);
      sig.emit(CancellationType.total); // ignored while in the next layer
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()[0]).to.equal(netError.operationAborted);
      expect(server.isOpen()).to.equal(false);
      b.append(clientFrame({ opcode: Opcode.cont, payload: payload.subarray(20) }));
      const r2 = recorder();
      server.asyncRead(new FlatBuffer(), r2.h);
      pump(ioc);
      expect(r2.once()).to.deep.equal([netError.operationAborted, 0]);
      finish(ioc, a, b);
    });

    it('a compressed read cancelled with terminal inside a frame’s payload: the same', () => {
      const { ioc, a, b, server } = pmdServerAgainstRaw('permessage-deflate');
      const payload = deflateMessage(pattern(8000, 12));
      const whole = clientFrame({ opcode: Opcode.binary, rsv: 0x40, payload });
      b.append(whole.subarray(0, 100));
      const sig = new CancellationSignal();
      const r = recorder();
      server.asyncRead(new FlatBuffer(), bindCancellationSlot(sig.slot(), r.h));
      pump(ioc);
      expect(r.called).to.equal(false);
      sig.emit(CancellationType.terminal);
      pump(ioc);
      expect(r.once()[0]).to.equal(netError.operationAborted);
      expect(server.isOpen()).to.equal(false);
      finish(ioc, a, b);
    });
  });

  describe('inflate errors', () => {
    const corrupt: Array<[string, Uint8Array]> = [
      ['an invalid block type', Uint8Array.of(0xff, 0xff, 0xff, 0xff)],
      ['a stored block with a bad length check', Uint8Array.of(0x00, 0x05, 0x00, 0x00, 0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f)],
      ['a distance too far back', Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00)],
    ];
    for (const [what, bad] of corrupt) {
      it(`${what}: the read completes with a zlib error after a 1007 close frame (RFC 7692 section 8), and the stream is closed`, () => {
        const { ioc, a, b, server } = pmdServerAgainstRaw('permessage-deflate');
        b.append(clientFrame({ opcode: Opcode.binary, rsv: 0x40, payload: bad }));
        const r = recorder();
        server.asyncRead(new FlatBuffer(), r.h);
        pumpBounded(ioc);
        const ec = r.once()[0];
        expect(ec).to.be.instanceOf(ErrorCode);
        expect((ec as ErrorCode).category).to.equal(zlibCategory);
        expect(ec).to.equal(zlibError.dataError);
        expect(server.isOpen()).to.equal(false);
        expect(a.buffer().dataView(), 'a close frame with 1007 (Beast sends none)').to.deep.equal(Uint8Array.of(0x88, 0x02, 0x03, 0xef));
        const r2 = recorder();
        const w = recorder();
        server.asyncRead(new FlatBuffer(), r2.h);
        server.asyncWrite(enc('x'), w.h);
        pump(ioc);
        expect(r2.once()).to.deep.equal([netError.operationAborted, 0]);
        expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
        finish(ioc, a, b);
      });
    }

    it('corrupt data in a later fragment, read by the client: a zlib error after the good part', () => {
      const r0 = pmdClientAgainstRaw('permessage-deflate');
      const { ioc, a, b, client } = r0;
      const good = deflateMessage(jsonText(100));
      a.append(serverFrame({ opcode: Opcode.text, rsv: 0x40, fin: false, payload: good }));
      a.append(serverFrame({ opcode: Opcode.cont, payload: Uint8Array.of(0xff, 0xff, 0xff) }));
      const r = recorder();
      client.asyncRead(new FlatBuffer(), r.h);
      pumpBounded(ioc);
      expect(r.once()[0]).to.equal(zlibError.dataError);
      expect(client.isOpen()).to.equal(false);
      // The client's masked close frame: 1007 under a 4-byte key.
      const sent = b.buffer().dataView();
      expect([sent.length, sent[0], sent[1]]).to.deep.equal([8, 0x88, 0x82]);
      expect([sent[6]! ^ sent[2]!, sent[7]! ^ sent[3]!]).to.deep.equal([0x03, 0xef]);
      finish(ioc, a, b);
    });
  });
});
