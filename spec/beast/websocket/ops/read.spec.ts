// Specs for the read operations (ops/read.ts) over TestStream: what a read returns for each
// message a peer writes. Message sizes both ways (client frames masked, server frames not,
// minimal length forms), text and binary, write_some fragments, auto-fragmentation, read_some into
// fixed and dynamic buffers, the message size limit and buffer overflow, buffer sequences, and the
// connection lost without a close frame. The frames that break the rules: read-frames.spec.ts;
// control frames and the peer's close: read-control.spec.ts; a close or a cancellation during a
// read: read-cancel.spec.ts; the idle timeout: read-timeout.spec.ts.

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
  finish,
  onlyCloseCode,
  Opcode,
  openPair,
  openServerAgainstRaw,
  parseFrames,
  pattern,
  payloadOf,
  peek,
  peerClosed,
  pump,
  recorder,
  take,
  type Ec,
} from './fixture.js';
import { scenario } from './do-test.js';

const MiB = 1024 * 1024;
const sizes = [0, 125, 126, 65535, 65536, MiB];
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const flat = (b: FlatBuffer): Uint8Array => Uint8Array.from(b.dataView());

/** The 7-bit length field a minimal header has for `n` payload bytes. */
const len7For = (n: number): number => (n < 126 ? n : n < 0x10000 ? 126 : 127);

describe('websocket/Stream read: messages', () => {
  describe('messages', () => {
    for (const size of sizes) {
      scenario(`client to server, ${size} bytes: one masked frame with the minimal length form`, () => {
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

      scenario(`server to client, ${size} bytes: one unmasked frame with the minimal length form`, () => {
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

    scenario('echoes 1 MiB both ways with the default auto-fragmentation (4096-byte frames)', () => {
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

    scenario('a client gathers its masked frames into writes of up to 64 KiB; a frame longer than that spans writes', () => {
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

    scenario('tells text from binary messages (gotText / gotBinary), text being the initial answer', () => {
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

    scenario('sends write_some parts as frames of one message (FIN on the last), read as one message', () => {
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

    scenario('auto-fragments into frames of writeBufferBytes, each client frame with its own key', () => {
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

    scenario('reads some into fixed buffers, from their start, and reports isMessageDone', () => {
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

    scenario('reads some into a dynamic buffer with a limit, appending', () => {
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

    scenario('a message above readMessageMax: close 1009 sent, messageTooBig, connection torn down', () => {
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

    scenario('readMessageMax counts the whole message across fragments; 0 means no limit', () => {
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

    scenario('a dynamic buffer that cannot grow: bufferOverflow, no close frame, the stream failed', () => {
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
        scenario(`a ${who} writes a sequence (auto-fragment ${frag}); read back into a sequence with odd boundaries (io ${io ?? 'unlimited'})`, () => {
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
          const reads = recorder((ec, n) => {
            expect(ec).to.equal(null);
            got += n;
            if (!to.isMessageDone()) readMore();
          });
          const readMore = (): void => to.asyncReadSome(new BuffersView(target).from(got), reads.h);
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

    scenario('text split inside code points across small fixed buffers is valid', () => {
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
    scenario('a pending read gets eof and the stream fails; later operations are aborted', () => {
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

    scenario('a write to a vanished peer gets connectionReset', () => {
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
