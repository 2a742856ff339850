// Specs for the operation model of websocket.Stream, as an Asio and Beast user relies on it
// (issue 17): buffer sequences copied at initiation, `deferred` operations that count only once
// launched, argument errors thrown before anything changes, every other operation refused while
// the opening handshake is outstanding, and asyncClose refusing what RFC 6455 forbids to send.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { buffersToBytes } from '../../../../lib/net/buffer.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import { deferred } from '../../../../lib/net/token.js';
import { closeReason } from '../../../../lib/beast/websocket/close.js';
import {
  bytesOf,
  finish,
  makePair,
  openPair,
  parseFrames,
  pattern,
  peek,
  pump,
  recorder,
  serverFrame,
  take,
  Opcode,
  type Ec,
} from '../ops/fixture.js';

describe('websocket/Stream operation model (issue 17)', () => {
  describe('buffer sequences are copied at initiation (17.1)', () => {
    it('a write whose caller empties its list at once completes, and the message arrives whole', () => {
      const p = openPair({ writeSize: 65536 });
      const a = pattern(600_000, 1);
      const b = pattern(600_000, 2);
      const seq = [a, b];
      const w = recorder();
      p.client.binary(true);
      p.client.asyncWriteSome(true, seq, w.h);
      seq.length = 0; // the bytes stay untouched; only the list changes
      const got = new FlatBuffer();
      const r = recorder();
      p.server.asyncRead(got, r.h);
      for (let i = 0; i < 1000 && !(w.called && r.called); i++) pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 1_200_000]);
      expect(r.once()).to.deep.equal([null, 1_200_000]);
      expect(Buffer.compare(buffersToBytes(got.data()), Buffer.concat([a, b]))).to.equal(0);
      finish(p.ioc, p.a, p.b);
    });

    it('a deferred write created with a list the caller then empties sends the whole list', () => {
      const p = openPair();
      const seq = [bytesOf('hello, '), bytesOf('world')];
      const op = p.server.asyncWriteSome(true, seq, deferred);
      seq.length = 0;
      const w = recorder();
      op(w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 12]);
      const frames = parseFrames(take(p.a));
      expect(Buffer.from(frames[0]!.payload).toString()).to.equal('hello, world');
      finish(p.ioc, p.a, p.b);
    });

    it('a read into a list of buffers that the caller empties fills the buffers it was given', () => {
      const p = openPair();
      const x = new Uint8Array(3);
      const y = new Uint8Array(5);
      const seq = [x, y];
      const r = recorder();
      p.client.asyncReadSome(seq, r.h);
      seq.length = 0;
      p.b.asyncWriteSome(serverFrame({ opcode: Opcode.text, payload: bytesOf('abcdefgh') }), () => {});
      pump(p.ioc);
      expect(r.once()).to.deep.equal([null, 8]);
      expect(Buffer.from(x).toString() + Buffer.from(y).toString()).to.equal('abcdefgh');
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('deferred operations count only once launched (17.2)', () => {
    it('creating a deferred write has no effect: a direct write still succeeds, and nothing goes out', () => {
      const p = openPair();
      const unlaunched = p.client.asyncWrite(bytesOf('never'), deferred);
      expect(unlaunched).to.be.a('function');
      const w = recorder();
      p.client.asyncWrite(bytesOf('direct'), w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 6]);
      expect(parseFrames(take(p.b)).map((f) => Buffer.from(f.payload).toString())).to.deep.equal(['direct']);
      finish(p.ioc, p.a, p.b);
    });

    it('two deferred writes created together, launched in turn, both succeed', () => {
      const p = openPair();
      const first = p.server.asyncWrite(bytesOf('one'), deferred);
      const second = p.server.asyncWrite(bytesOf('two'), deferred);
      const w1 = recorder();
      const w2 = recorder();
      first(w1.h);
      pump(p.ioc);
      second(w2.h);
      pump(p.ioc);
      expect([w1.once(), w2.once()]).to.deep.equal([[null, 3], [null, 3]]);
      expect(parseFrames(take(p.a)).map((f) => Buffer.from(f.payload).toString())).to.deep.equal(['one', 'two']);
      finish(p.ioc, p.a, p.b);
    });

    it('one deferred write launched twice is two initiations: at once, the second gets alreadyStarted; in turn, both send', () => {
      const p = openPair();
      const op = p.server.asyncWrite(bytesOf('x'), deferred);
      const w1 = recorder();
      const w2 = recorder();
      op(w1.h);
      op(w2.h);
      pump(p.ioc);
      expect(w1.once()).to.deep.equal([null, 1]);
      expect(w2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      const w3 = recorder();
      op(w3.h);
      pump(p.ioc);
      expect(w3.once()).to.deep.equal([null, 1]);
      expect(parseFrames(take(p.a))).to.have.length(2);
      finish(p.ioc, p.a, p.b);
    });

    it('one deferred ping launched twice: the handler of each launch runs exactly once', () => {
      const p = openPair();
      const op = p.client.asyncPing('hb', deferred);
      const c1 = recorder<[Ec]>();
      const c2 = recorder<[Ec]>();
      op(c1.h);
      op(c2.h);
      pump(p.ioc);
      expect([c1.ec(), c2.ec()]).to.deep.equal([null, netError.alreadyStarted]);
      const c3 = recorder<[Ec]>();
      op(c3.h);
      pump(p.ioc);
      expect(c3.ec()).to.equal(null);
      expect(parseFrames(take(p.b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping, Opcode.ping]);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('argument errors are thrown before anything changes (17.3)', () => {
    it('asyncHandshake with an empty target throws, and leaves no handshake busy', () => {
      const p = makePair();
      expect(() => p.client.asyncHandshake('localhost', '', () => {})).to.throw(RangeError);
      expect(() => p.client.asyncHandshake('localhost', '', deferred)).to.throw(RangeError);
      expect(peek(p.b)).to.have.length(0);
      const acc = recorder<[Ec]>();
      const hs = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect([hs.ec(), acc.ec()]).to.deep.equal([null, null]);
      finish(p.ioc, p.a, p.b);
    });

    it('a bad ping payload or close reason throws, sends nothing, and the next ping or close works', () => {
      const p = openPair();
      expect(() => p.client.asyncPing(new Uint8Array(126), () => {})).to.throw(RangeError);
      expect(() => p.client.asyncClose(1005, () => {})).to.throw(RangeError);
      pump(p.ioc);
      expect(peek(p.b)).to.have.length(0);
      const c = recorder<[Ec]>();
      p.client.asyncPing('ok', c.h);
      pump(p.ioc);
      expect(c.ec()).to.equal(null);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('while the opening handshake is outstanding, every other operation is refused (17.4)', () => {
    it('a client: write, read, ping, pong and close complete with inProgress (posted); nothing but the request goes out', () => {
      const p = makePair();
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      const w = recorder();
      const r = recorder();
      const ping = recorder<[Ec]>();
      const pong = recorder<[Ec]>();
      const close = recorder<[Ec]>();
      const hs2 = recorder<[Ec]>();
      p.client.asyncWrite(bytesOf('too early'), w.h);
      p.client.asyncRead(new FlatBuffer(), r.h);
      p.client.asyncPing('', ping.h);
      p.client.asyncPong('', pong.h);
      p.client.asyncClose(1000, close.h);
      p.client.asyncHandshake('localhost', '/', hs2.h);
      // Never inside the initiating call.
      expect([w.called, r.called, ping.called, pong.called, close.called, hs2.called]).to.deep.equal([false, false, false, false, false, false]);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([netError.inProgress, 0]);
      expect(r.once()).to.deep.equal([netError.inProgress, 0]);
      expect([ping.ec(), pong.ec(), close.ec(), hs2.ec()]).to.deep.equal([
        netError.inProgress,
        netError.inProgress,
        netError.inProgress,
        netError.alreadyStarted,
      ]);
      // Only the upgrade request is on the wire (RFC 6455 section 4.1).
      const sent = Buffer.from(peek(p.b)).toString('latin1');
      expect(sent.startsWith('GET / HTTP/1.1\r\n')).to.equal(true);
      expect(sent.endsWith('\r\n\r\n')).to.equal(true);
      expect(hs.called).to.equal(false);
      // The handshake is undisturbed and completes exactly once.
      const acc = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      pump(p.ioc);
      expect([hs.ec(), acc.ec()]).to.deep.equal([null, null]);
      const w2 = recorder();
      p.client.asyncWrite(bytesOf('now'), w2.h);
      pump(p.ioc);
      expect(w2.once()).to.deep.equal([null, 3]);
      finish(p.ioc, p.a, p.b);
    });

    it('a server: a read started during the accept is refused, and the accept completes once', () => {
      const p = makePair();
      const acc = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      const r = recorder();
      p.server.asyncRead(new FlatBuffer(), r.h);
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect(r.once()).to.deep.equal([netError.inProgress, 0]);
      expect([acc.ec(), hs.ec()]).to.deep.equal([null, null]);
      finish(p.ioc, p.a, p.b);
    });

    it('a handshake is refused while another operation is outstanding', () => {
      const p = openPair();
      const r = recorder();
      p.client.asyncRead(new FlatBuffer(), r.h);
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect(hs.ec()).to.equal(netError.alreadyStarted);
      expect(r.called).to.equal(false);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('asyncClose refuses what RFC 6455 section 7.4 forbids to send (17.5)', () => {
    it('reserved and out-of-range codes, and reasons over 123 bytes, throw a RangeError; nothing is sent', () => {
      const p = openPair();
      for (const code of [1004, 1005, 1006, 1015, 1016, 2999, 5000, 70000, 999, 1, -1, 1000.5]) {
        expect(() => p.client.asyncClose(code, () => {}), String(code)).to.throw(RangeError);
      }
      expect(() => p.client.asyncClose(closeReason(1000, 'x'.repeat(124)), () => {})).to.throw(RangeError, /123 bytes/);
      expect(() => p.client.asyncClose(closeReason(1000, 'é'.repeat(62)), () => {})).to.throw(RangeError, /123 bytes/);
      expect(() => p.client.asyncClose(closeReason(0, 'why'), () => {})).to.throw(RangeError);
      pump(p.ioc);
      expect(peek(p.b)).to.have.length(0);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });

    it('valid codes (1000-1003, 1007-1014, 3000-4999, 0) and a 123-byte reason go out as given', () => {
      for (const [code, reason] of [[1000, 'é'.repeat(61) + 'x'], [1014, ''], [3000, 'a'], [4999, ''], [0, '']] as const) {
        const p = openPair();
        const c = recorder<[Ec]>();
        p.client.asyncClose(closeReason(code, reason), c.h);
        pump(p.ioc);
        const [frame] = parseFrames(take(p.b));
        expect(frame!.opcode).to.equal(Opcode.close);
        const payload = Buffer.from(frame!.payload);
        if (code === 0) expect(payload.length).to.equal(0);
        else expect([payload.readUInt16BE(0), payload.subarray(2).toString()]).to.deep.equal([code, reason]);
        finish(p.ioc, p.a, p.b);
      }
    });
  });
});
