// PreparedMessage and Stream.asyncWritePrepared: the bytes on the wire are asyncWrite's for the
// same payload on the same stream (server role, plain and fragmented, with permessage-deflate
// without context takeover), one encoding serves every stream of the same settings, streams that
// cannot share (a client, context takeover, an open message) frame the payload themselves, and
// the completion rules are a write's: any token, one write at a time, cancellation.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot } from '../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../lib/net/cancellation.js';
import { FlatBuffer } from '../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../lib/net/error.js';
import { asTuple, deferred } from '../../../lib/net/token.js';
import { PreparedMessage } from '../../../lib/beast/websocket/prepared.js';
import type { PermessageDeflateInit } from '../../../lib/beast/websocket/deflate.js';
import { asciiPattern, openPair, parseFrames, pattern, pump, recorder, take, type Ec, type Pair, type WsStream } from './ops/fixture.js';
import { pmdPair } from './deflate/support.js';
import { hasSyncZlib } from '../../../lib/net/node-internals.js';

type Setup = (s: WsStream) => void;

/** What a server stream of a fresh pair writes for `write`, after `setup`. */
function wire(makeP: () => Pair, setup: Setup, write: (s: WsStream, h: (ec: Ec, n: number) => void) => void): { bytes: Uint8Array; result: [Ec, number]; p: Pair } {
  const p = makeP();
  setup(p.server);
  const r = recorder();
  write(p.server, r.h);
  expect(r.called, 'handler ran inside the initiating call').to.equal(false);
  pump(p.ioc);
  return { bytes: take(p.a), result: r.once() as [Ec, number], p };
}

/** Asserts asyncWritePrepared and asyncWrite put the same bytes on the wire; returns them. */
function sameBytes(makeP: () => Pair, setup: Setup, payload: Uint8Array, prepared = new PreparedMessage(payload)): Uint8Array {
  const plain = wire(makeP, setup, (s, h) => s.asyncWrite(payload, h));
  const shared = wire(makeP, setup, (s, h) => s.asyncWritePrepared(prepared, h));
  expect(shared.result).to.deep.equal([null, payload.length]);
  expect(plain.result).to.deep.equal([null, payload.length]);
  expect(Buffer.from(shared.bytes).equals(Buffer.from(plain.bytes)), `${payload.length} bytes: same wire bytes`).to.equal(true);
  return shared.bytes;
}

const sizes = [0, 1, 125, 126, 4096, 4097, 65535, 65536, 70_000];

describe('websocket: PreparedMessage and asyncWritePrepared', () => {
  describe('the bytes on the wire are asyncWrite\'s (server role)', () => {
    for (const fragment of [true, false]) {
      for (const binary of [false, true]) {
        it(`without compression, ${binary ? 'binary' : 'text'}, autoFragment ${fragment}`, () => {
          for (const n of sizes) {
            const bytes = sameBytes(() => openPair(), (s) => (s.autoFragment(fragment), s.binary(binary)), asciiPattern(n, n + 1));
            const frames = parseFrames(bytes);
            expect(frames[0]!.opcode).to.equal(binary ? 2 : 1);
            expect(frames.length).to.equal(fragment && n > 4096 ? Math.ceil(n / 4096) : 1);
          }
        });
      }
    }

    const nct: PermessageDeflateInit = { serverNoContextTakeover: true };
    it('with permessage-deflate and no context takeover: compressed once, same bytes, RSV1 set', function () {
      if (!hasSyncZlib()) this.skip(); // compression needs Node's synchronous zlib (net/node-internals.ts, 4)
      for (const n of sizes) {
        for (const payload of [asciiPattern(n, n), pattern(n, n)]) {
          const bytes = sameBytes(() => pmdPair({}, nct), () => {}, payload);
          expect(parseFrames(bytes)[0]!.rsv, 'RSV1').to.equal(0x40);
        }
      }
    });

    it('with other deflate settings too: level, memory level, window bits, write buffer size, threshold', function () {
      if (!hasSyncZlib()) this.skip(); // compression needs Node's synchronous zlib (net/node-internals.ts, 4)
      const payload = asciiPattern(30_000, 7);
      sameBytes(() => pmdPair({ serverMaxWindowBits: 10 }, { ...nct, compLevel: 1, memLevel: 9 }), (s) => s.writeBufferBytes(1000), payload);
      const small = asciiPattern(100, 3);
      const bytes = sameBytes(() => pmdPair({}, { ...nct, msgSizeThreshold: 200 }), () => {}, small);
      expect(parseFrames(bytes)[0]!.rsv, 'below the threshold: not compressed').to.equal(0);
      const off = sameBytes(() => pmdPair({}, nct), (s) => s.compress(false), payload);
      expect(parseFrames(off)[0]!.rsv, 'compress(false)').to.equal(0);
    });

    it('the message reads back whole at the client', function () {
      if (!hasSyncZlib()) this.skip(); // compression needs Node's synchronous zlib (net/node-internals.ts, 4)
      const payload = asciiPattern(50_000, 5);
      const p = pmdPair({}, nct);
      const w = recorder();
      p.server.asyncWritePrepared(new PreparedMessage(payload), w.h);
      const buf = new FlatBuffer();
      const r = recorder();
      p.client.asyncRead(buf, r.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, payload.length]);
      expect(r.ec()).to.equal(null);
      expect(Buffer.from(buf.dataView()).equals(Buffer.from(payload))).to.equal(true);
    });
  });

  describe('one encoding per distinct settings', () => {
    it('many streams with the same settings share one encoding; other settings add one', () => {
      const message = new PreparedMessage('hello, everyone');
      const wires = [];
      for (let i = 0; i < 5; i++) wires.push(wire(() => openPair(), () => {}, (s, h) => s.asyncWritePrepared(message, h)).bytes);
      expect(message.encodings()).to.equal(1);
      for (const b of wires) expect(Buffer.from(b).equals(Buffer.from(wires[0]!))).to.equal(true);
      wire(() => openPair(), (s) => s.binary(true), (s, h) => s.asyncWritePrepared(message, h));
      expect(message.encodings()).to.equal(2);
      wire(() => pmdPair({}, { serverNoContextTakeover: true }), () => {}, (s, h) => s.asyncWritePrepared(message, h));
      // Without Node's synchronous zlib the extension is declined: that stream shares the first encoding.
      expect(message.encodings()).to.equal(hasSyncZlib() ? 3 : 2);
    });

    it('copies the payload: changing the caller\'s buffer after preparing changes nothing', () => {
      const data = Buffer.from('original');
      const message = new PreparedMessage([data.subarray(0, 4), data.subarray(4)]);
      data.fill(0x41);
      const frames = parseFrames(wire(() => openPair(), () => {}, (s, h) => s.asyncWritePrepared(message, h)).bytes);
      expect(Buffer.from(frames[0]!.payload).toString()).to.equal('original');
    });
  });

  describe('streams that frame the payload themselves', () => {
    it('context takeover: as asyncWrite, message after message (the window carries over)', function () {
      if (!hasSyncZlib()) this.skip(); // compression needs Node's synchronous zlib (net/node-internals.ts, 4)
      const a = asciiPattern(3000, 1);
      const b = asciiPattern(3000, 1); // the same text again: with takeover the second is tiny
      const plain = pmdPair();
      const shared = pmdPair();
      const out: Uint8Array[][] = [[], []];
      for (const [i, p] of [plain, shared].entries()) {
        for (const m of [a, b]) {
          const r = recorder();
          if (i === 0) p.server.asyncWrite(m, r.h);
          else p.server.asyncWritePrepared(new PreparedMessage(m), r.h);
          pump(p.ioc);
          expect(r.once()).to.deep.equal([null, m.length]);
          out[i]!.push(take(p.a));
        }
      }
      expect(Buffer.from(out[1]![1]!).equals(Buffer.from(out[0]![1]!))).to.equal(true);
      expect(out[1]![1]!.length).to.be.lessThan(out[1]![0]!.length);
    });

    it('a client masks each frame with its own key; nothing is prepared', () => {
      const p = openPair();
      const message = new PreparedMessage('from a client');
      const w = recorder();
      p.client.asyncWritePrepared(message, w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 13]);
      const frames = parseFrames(take(p.b));
      expect(frames[0]!.masked).to.equal(true);
      expect(Buffer.from(frames[0]!.payload).toString()).to.equal('from a client');
      expect(message.encodings()).to.equal(0);
    });

    it('a message left open by asyncWriteSome is continued, as asyncWrite would', () => {
      const p = openPair();
      const first = recorder();
      p.server.asyncWriteSome(false, Buffer.from('open '), first.h);
      pump(p.ioc);
      const w = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('and closed'), w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 10]);
      const frames = parseFrames(take(p.a));
      expect(frames.map((f) => [f.fin, f.opcode])).to.deep.equal([[false, 1], [true, 0]]);
    });
  });

  describe('completion semantics of a write', () => {
    it('any token: a promise, a tuple, deferred', async () => {
      const p = openPair();
      const message = new PreparedMessage('x');
      const promise = p.server.asyncWritePrepared(message);
      const tuple = p.server.asyncWritePrepared(message, asTuple());
      pump(p.ioc);
      expect(await promise).to.equal(1);
      expect(await tuple).to.deep.equal([netError.alreadyStarted, 0]); // the first was outstanding
      const op = p.server.asyncWritePrepared(message, deferred);
      const r = recorder();
      op(r.h);
      pump(p.ioc);
      expect(r.once()).to.deep.equal([null, 1]);
      expect(parseFrames(take(p.a))).to.have.length(2);
    });

    it('one write at a time: a second write of any kind while one is outstanding gets alreadyStarted', () => {
      const p = openPair();
      const first = recorder();
      const second = recorder();
      const third = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('a'), first.h);
      p.server.asyncWrite(Buffer.from('b'), second.h);
      p.server.asyncWritePrepared(new PreparedMessage('c'), third.h);
      pump(p.ioc);
      expect(first.once()).to.deep.equal([null, 1]);
      expect(second.once()).to.deep.equal([netError.alreadyStarted, 0]);
      expect(third.once()).to.deep.equal([netError.alreadyStarted, 0]);
    });

    it('total cancellation while parked behind a ping: operationAborted, nothing sent', () => {
      const p = openPair();
      const ping = recorder<[Ec]>();
      p.server.asyncPing('', ping.h);
      const signal = new CancellationSignal();
      const w = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('never'), bindCancellationSlot(signal.slot(), w.h));
      signal.emit(CancellationType.total);
      pump(p.ioc);
      expect(ping.ec()).to.equal(null);
      expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
      expect(parseFrames(take(p.a)).map((f) => f.opcode)).to.deep.equal([9]);
      // The stream is still fine for the next message.
      const again = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('next'), again.h);
      pump(p.ioc);
      expect(again.once()).to.deep.equal([null, 4]);
    });

    it('terminal cancellation of the write itself: operationAborted', () => {
      const p = openPair();
      const signal = new CancellationSignal();
      const w = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('cut'), bindCancellationSlot(signal.slot(), w.h));
      signal.emit(CancellationType.terminal);
      pump(p.ioc);
      expect(w.once()[0]).to.equal(netError.operationAborted);
    });

    it('on a closed stream: an error, not a write', () => {
      const p = openPair();
      const c = recorder<[Ec]>();
      const rd = recorder();
      p.server.asyncClose(1000, c.h);
      p.client.asyncRead(new FlatBuffer(), rd.h);
      pump(p.ioc);
      expect(c.ec()).to.equal(null);
      const w = recorder();
      p.server.asyncWritePrepared(new PreparedMessage('late'), w.h);
      pump(p.ioc);
      expect(w.once()[0]).to.not.equal(null);
    });
  });
});
