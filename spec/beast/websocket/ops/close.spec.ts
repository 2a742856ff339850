// Specs for the close operation (ops/close.ts) over TestStream: our closing handshake, what is
// sent, what the read waiting meanwhile sees, and what arrives while we wait for the peer's close.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { error } from '../../../../lib/beast/websocket/error.js';
import {
  closeCodeOf,
  closePayload,
  finish,
  frameBytes,
  onlyCloseCode,
  Opcode,
  openClientAgainstRaw,
  openPair,
  parseFrames,
  pattern,
  peerClosed,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
} from './fixture.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('websocket/Stream close', () => {
  describe('our closing handshake', () => {
    it('close drains data, pings and big frames until the peer\'s close: no pong, no callback', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      const seen: string[] = [];
      client.controlCallback((kind) => seen.push(kind));
      const c = recorder<[Ec]>();
      client.asyncClose({ code: 1001, reason: 'bye' }, c.h);
      pump(ioc);
      const sent = parseFrames(take(b));
      expect(sent.length).to.equal(1);
      expect(closeCodeOf(sent[0]!)).to.equal(1001);
      expect(text(sent[0]!.payload.subarray(2))).to.equal('bye');
      a.append(serverFrame({ opcode: Opcode.text, payload: 'late' }));
      a.append(serverFrame({ opcode: Opcode.ping, payload: 'p' }));
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(200_000) }));
      a.append(serverFrame({ opcode: Opcode.pong }));
      pump(ioc);
      expect(c.called).to.equal(false);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1001, 'ok') }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      expect(seen).to.deep.equal([]);
      expect(client.reason()).to.deep.equal({ code: 1001, reason: 'ok' });
      expect(b.bufferedBytes(), 'no pong').to.equal(0);
      expect(peerClosed(ioc, b)).to.equal(true);
      finish(ioc, a, b);
    });

    it('close drains the rest of a message a read left half-read', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(5000) }));
      const r = recorder();
      client.asyncReadSome(new Uint8Array(10), r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, 10]);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
      pump(ioc);
      expect(c.ec()).to.equal(null);
      finish(ioc, a, b);
    });

    for (const [name, frame, ec] of [
      ['a reserved opcode', serverFrame({ opcode: 3 }), error.badOpcode],
      ['a masked frame', frameBytes({ opcode: Opcode.text, payload: 'x', key: 5 }), error.badMaskedFrame],
      ['a close code of 1005', serverFrame({ opcode: Opcode.close, payload: closePayload(1005) }), error.badCloseCode],
      ['a close reason that is not UTF-8', serverFrame({ opcode: Opcode.close, payload: closePayload(1000, Uint8Array.of(0xc0)) }), error.badClosePayload],
      ['a close payload of 1 byte', serverFrame({ opcode: Opcode.close, payload: Uint8Array.of(3) }), error.badCloseSize],
    ] as const) {
      it(`${name} while close waits for the peer: close fails with it, no second close frame, torn down`, () => {
        const { ioc, a, b, client } = openClientAgainstRaw();
        const c = recorder<[Ec]>();
        client.asyncClose(1000, c.h);
        pump(ioc);
        expect(onlyCloseCode(take(b), true)).to.equal(1000);
        a.append(frame);
        pump(ioc);
        expect(c.ec()).to.equal(ec);
        expect(b.bufferedBytes()).to.equal(0);
        expect(client.isOpen()).to.equal(false);
        expect(peerClosed(ioc, b)).to.equal(true);
        finish(ioc, a, b);
      });
    }

    it('readMessageMax still applies while close waits for the peer', () => {
      const { ioc, a, b, client } = openClientAgainstRaw();
      client.readMessageMax(100);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      a.append(serverFrame({ opcode: Opcode.binary, payload: pattern(101) }));
      pump(ioc);
      expect(c.ec()).to.equal(error.messageTooBig);
      expect(onlyCloseCode(take(b), true)).to.equal(1000);
      finish(ioc, a, b);
    });

    it('control payloads over 125 bytes are refused when sending', () => {
      const { ioc, a, b, client } = openPair();
      expect(() => client.asyncPing(new Uint8Array(126), recorder<[Ec]>().h)).to.throw(RangeError);
      expect(() => client.asyncPong('x'.repeat(126), recorder<[Ec]>().h)).to.throw(RangeError);
      const p = recorder<[Ec]>();
      client.asyncPing('x'.repeat(125), p.h);
      pump(ioc);
      expect(p.ec()).to.equal(null);
      const f = parseFrames(take(b));
      expect(f.map((x) => [x.opcode, x.payload.length])).to.deep.equal([[Opcode.ping, 125]]);
      finish(ioc, a, b);
    });
  });

});
