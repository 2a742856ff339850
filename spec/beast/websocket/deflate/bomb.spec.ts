// Decompression bombs: a message of 1 GiB of zeros deflated into a ~1 MiB frame, sent by a raw
// peer. readMessageMax (16 MiB by default) must be enforced on the inflated size as it grows:
// the read fails with messageTooBig, close code 1009 goes back, and memory stays far below what
// the message would inflate to. Also the exact limit on smaller compressed messages.

import { Buffer } from 'node:buffer';
import * as net from 'node:net';
import zlib from 'node:zlib';

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { Endpoint } from '../../../../lib/net/ip/endpoint.js';
import { TcpAcceptor } from '../../../../lib/net/ip/tcp-acceptor.js';
import type { TcpSocket } from '../../../../lib/net/ip/tcp-socket.js';
import { IoContext } from '../../../../lib/net/io-context.js';
import { CloseCode } from '../../../../lib/beast/websocket/close.js';
import { PermessageDeflate } from '../../../../lib/beast/websocket/deflate.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { Stream } from '../../../../lib/beast/websocket/stream.js';
import {
  clientFrame,
  closeCodeOf,
  finish,
  Opcode,
  parseFrames,
  peerClosed,
  recorder,
  serverFrame,
  take,
  type Ec,
} from '../ops/fixture.js';
import { deflateMessage, MiB, pmdClientAgainstRaw, pmdServerAgainstRaw, requestWith, TAIL } from './support.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';

const GiB = 1024 * MiB;

/** 1 GiB of zeros deflated in 1 MiB chunks (bounded memory), sync-flushed, tail removed. */
async function buildBomb(): Promise<Uint8Array> {
  const d = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  d.on('data', (c: Buffer) => chunks.push(c));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < GiB / MiB; i++) {
    if (!d.write(zeros)) await new Promise((resolve) => d.once('drain', resolve));
  }
  await new Promise<void>((resolve) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  d.close();
  const out = Buffer.concat(chunks);
  expect([...out.subarray(out.length - 4)]).to.deep.equal([...TAIL]);
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/** Samples memory while `step` returns true; returns the largest growth of RSS and of JS-owned memory. */
function measure(step: () => boolean): { rss: number; owned: number } {
  const owned = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const rss0 = process.memoryUsage.rss();
  const owned0 = owned();
  let rss = 0;
  let own = 0;
  for (let i = 0; step(); i++) {
    if (i % 16 === 0) {
      rss = Math.max(rss, process.memoryUsage.rss() - rss0);
      own = Math.max(own, owned() - owned0);
    }
    if (i > 1_000_000) throw new Error('measure: still running after a million handlers');
  }
  rss = Math.max(rss, process.memoryUsage.rss() - rss0);
  own = Math.max(own, owned() - owned0);
  return { rss, owned: own };
}

describe('websocket/deflate decompression bomb', function () {
  // Compression needs Node's synchronous zlib (net/node-internals.ts, 4); without it, see negotiation.spec.
  before(function () {
    if (!hasSyncZlib()) this.skip();
  });
  this.timeout(60_000);
  let bomb: Uint8Array;

  before(async () => {
    bomb = await buildBomb();
    expect(bomb.length).to.be.within(900 * 1024, 1.2 * MiB);
  });

  it('1 GiB of zeros in a ~1 MiB frame to our server: messageTooBig, close 1009 back, memory growth far below 1 GiB', () => {
    const { ioc, a, b, server, ec } = pmdServerAgainstRaw('permessage-deflate');
    expect(ec).to.equal(null);
    expect(server.readMessageMax()).to.equal(16 * MiB);
    b.append(clientFrame({ opcode: Opcode.binary, rsv: 0x40, payload: bomb }));
    const buf = new FlatBuffer();
    const r = recorder();
    server.asyncRead(buf, r.h);
    ioc.restart();
    const grew = measure(() => ioc.pollOne() > 0);
    const [rec, n] = r.once();
    expect(rec).to.equal(error.messageTooBig);
    expect(n).to.be.at.most(16 * MiB);
    expect(buf.size()).to.be.at.most(16 * MiB);
    const frames = parseFrames(take(a));
    expect(frames.map((f) => f.opcode)).to.deep.equal([Opcode.close]);
    expect(closeCodeOf(frames[0]!)).to.equal(CloseCode.tooBig);
    expect(server.isOpen()).to.equal(false);
    expect(grew.rss, `RSS grew ${(grew.rss / MiB).toFixed(1)} MiB`).to.be.lessThan(200 * MiB);
    expect(grew.owned, `heap+external grew ${(grew.owned / MiB).toFixed(1)} MiB`).to.be.lessThan(200 * MiB);
    expect(peerClosed(ioc, a), 'torn down').to.equal(true);
    finish(ioc, a, b);
  });

  it('the same bomb to our client, with readMessageMax 1 MiB: messageTooBig after about 1 MiB of output', () => {
    const { ioc, a, b, client, ec } = pmdClientAgainstRaw('permessage-deflate');
    expect(ec).to.equal(null);
    client.readMessageMax(MiB);
    a.append(serverFrame({ opcode: Opcode.binary, rsv: 0x40, payload: bomb }));
    const buf = new FlatBuffer();
    const r = recorder();
    client.asyncRead(buf, r.h);
    ioc.restart();
    const grew = measure(() => ioc.pollOne() > 0);
    const [rec, n] = r.once();
    expect(rec).to.equal(error.messageTooBig);
    expect(n).to.be.at.most(MiB);
    const frames = parseFrames(take(b));
    expect(frames.map((f) => [f.opcode, f.masked])).to.deep.equal([[Opcode.close, true]]);
    expect(closeCodeOf(frames[0]!)).to.equal(1009);
    expect(grew.rss).to.be.lessThan(100 * MiB);
    finish(ioc, a, b);
  });

  it('the bomb over TCP from a raw socket to our server: 1009 comes back and the connection is closed', async () => {
    const ioc = new IoContext();
    const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
    const running = ioc.run();
    try {
      await acceptor.asyncListen();
      const port = acceptor.localEndpoint().port;
      const served = (async (): Promise<{ ec: Ec; n: number }> => {
        const socket = await acceptor.asyncAccept();
        const ws = new Stream<TcpSocket>(socket);
        ws.setOption(new PermessageDeflate({ serverEnable: true }));
        await ws.asyncAccept();
        const buf = new FlatBuffer();
        return new Promise((resolve) => ws.asyncRead(buf, (e, n) => resolve({ ec: e, n })));
      })();
      const raw = net.connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      raw.on('data', (d: Buffer) => received.push(d));
      raw.on('error', () => {});
      const closed = new Promise<void>((resolve) => raw.on('close', () => resolve()));
      await new Promise((resolve) => raw.once('connect', resolve));
      raw.write(requestWith('permessage-deflate'));
      while (!Buffer.concat(received).includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 2));
      const head = Buffer.concat(received);
      const end = head.indexOf('\r\n\r\n') + 4;
      expect(head.subarray(0, end).toString('latin1')).to.match(/^HTTP\/1\.1 101 [^]*Sec-WebSocket-Extensions: permessage-deflate\r\n/i);
      received.length = 0;
      if (head.length > end) received.push(head.subarray(end));
      raw.write(clientFrame({ opcode: Opcode.binary, rsv: 0x40, payload: bomb }));
      const result = await served;
      await closed;
      expect(result.ec).to.equal(error.messageTooBig);
      expect(result.n).to.be.at.most(16 * MiB);
      const frames = parseFrames(new Uint8Array(Buffer.concat(received)));
      expect(frames.map((f) => f.opcode)).to.deep.equal([Opcode.close]);
      expect(closeCodeOf(frames[0]!)).to.equal(1009);
    } finally {
      acceptor.close();
      ioc.stop();
      await running;
    }
  });

  describe('readMessageMax on the inflated size', () => {
    const limit = 10_000;
    for (const [what, size, frames] of [
      ['exactly the limit, one frame', limit, 1],
      ['exactly the limit, three frames', limit, 3],
      ['one byte over, one frame', limit + 1, 1],
      ['one byte over, three frames', limit + 1, 3],
    ] as const) {
      it(`${what}`, () => {
        const { ioc, a, b, server } = pmdServerAgainstRaw('permessage-deflate');
        server.readMessageMax(limit);
        const payload = deflateMessage(new Uint8Array(size).fill(0x61));
        const cuts = Array.from({ length: frames + 1 }, (_, i) => Math.floor((payload.length * i) / frames));
        for (let i = 0; i < frames; i++) {
          b.append(
            clientFrame({
              opcode: i === 0 ? Opcode.text : Opcode.cont,
              rsv: i === 0 ? 0x40 : 0,
              fin: i === frames - 1,
              payload: payload.subarray(cuts[i]!, cuts[i + 1]!),
            }),
          );
        }
        const buf = new FlatBuffer();
        const r = recorder();
        server.asyncRead(buf, r.h);
        ioc.restart();
        ioc.poll();
        if (size <= limit) {
          expect(r.once()).to.deep.equal([null, size]);
          expect(take(a).length).to.equal(0);
        } else {
          expect(r.once()[0]).to.equal(error.messageTooBig);
          expect(closeCodeOf(parseFrames(take(a))[0]!)).to.equal(1009);
        }
        finish(ioc, a, b);
      });
    }

    it('the limit counts the whole message, not each read: asyncReadSome in small pieces still fails at the limit', () => {
      const { ioc, a, b, server } = pmdServerAgainstRaw('permessage-deflate');
      server.readMessageMax(limit);
      b.append(clientFrame({ opcode: Opcode.text, rsv: 0x40, payload: deflateMessage(new Uint8Array(3 * limit).fill(0x62)) }));
      const got: Array<[Ec, number]> = [];
      const piece = new Uint8Array(1000);
      const next = (): void =>
        server.asyncReadSome(piece, (e, n) => {
          got.push([e, n]);
          if (e === null) next();
        });
      next();
      ioc.restart();
      ioc.poll();
      const last = got[got.length - 1]!;
      expect(last[0]).to.equal(error.messageTooBig);
      const total = got.reduce((s, [, n]) => s + n, 0);
      expect(total).to.be.at.most(limit);
      expect(closeCodeOf(parseFrames(take(a))[0]!)).to.equal(1009);
      finish(ioc, a, b);
    });
  });
});
