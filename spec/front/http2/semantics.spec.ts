/**
 * The WebSocket over an HTTP/2 stream behaves as over TCP (RFC 8441 section 6): conformance-style
 * scenarios (fragments, pings, close codes, invalid UTF-8 answered with 1007, large and compressed
 * messages), cancellation and tokens, a reset stream failing only its own WebSocket, and HTTP/2
 * flow control as the backpressure a writer sees.
 */

import { expect } from 'chai';
import * as http2 from 'node:http2';

import { asTuple, buffer, buffersToString, cancelAfter, deferred, error as netError, FlatBuffer, type AsyncStream } from '../../../lib/net/index.js';
import { CloseCode, permessageDeflateAvailable, error as wsError, Stream } from '../../../lib/beast/websocket/index.js';
import * as h2 from '../../../lib/front/http2/index.js';
import { Harness, type Mode } from './support.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function readOne(ws: Stream<h2.Http2Layer>): Promise<FlatBuffer> {
  const b = new FlatBuffer();
  await ws.asyncRead(b);
  return b;
}

for (const mode of ['h2c', 'tls'] as Mode[]) {
  describe(`http2 (${mode}): a WebSocket on a stream behaves as on TCP`, () => {
    let h: Harness;
    let session: http2.ClientHttp2Session;
    beforeEach(async () => {
      h = await new Harness(mode).start();
      session = await h.connect();
    });
    afterEach(async () => {
      await h.stop();
    });

    it('fragmented messages arrive whole, in order, interleaved with pings', async () => {
      const ws = await h.open(session);
      const controls: string[] = [];
      ws.controlCallback((kind, payload) => controls.push(`${kind}:${payload}`));
      ws.text(true);
      await ws.asyncWriteSome(false, buffer('frag'));
      await ws.asyncPing('between');
      await ws.asyncWriteSome(false, buffer('men'));
      await ws.asyncWriteSome(true, buffer('ted ✓'));
      const b = await readOne(ws);
      expect(buffersToString(b.data())).to.equal('fragmented ✓');
      expect(ws.gotText()).to.equal(true);
      expect(controls).to.deep.equal(['pong:between']);
    });

    // Without synchronous zlib (net/node-internals.ts, 4) the same messages cross uncompressed.
    const pmd = permessageDeflateAvailable();
    it(`binary messages from 0 bytes to 8 MiB, ${pmd ? 'compressed where deflate pays' : 'uncompressed (permessage-deflate declined: no synchronous zlib on this Node)'}`, async () => {
      const ws = await h.open(session);
      ws.binary(true);
      for (const n of [0, 1, 125, 126, 65535, 65536, 1 << 20, 8 << 20]) {
        const data = bytes(n, n & 255);
        await ws.asyncWrite(data);
        const b = await readOne(ws);
        expect(b.size(), `size ${n}`).to.equal(n);
        expect(Buffer.from(b.data()[0] ?? new Uint8Array(0)).equals(Buffer.from(data)), `bytes of ${n}`).to.equal(true);
      }
      const text = 'tsbeast over HTTP/2 '.repeat(50_000);
      ws.text(true);
      await ws.asyncWrite(buffer(text));
      expect(buffersToString((await readOne(ws)).data())).to.equal(text);
      expect(ws.getStatus().active).to.equal(pmd);
    });

    it('close codes and reasons travel both ways; the stream ends with END_STREAM, the session stays', async () => {
      const ws = await h.open(session);
      await ws.asyncClose({ code: 4000, reason: 'done here' });
      expect(ws.reason().code).to.equal(4000);
      const layer = ws.nextLayer();
      expect(layer.stream()!.closed).to.equal(true);
      expect(layer.stream()!.rstCode).to.equal(http2.constants.NGHTTP2_NO_ERROR);
      await until(() => h.seen.ends.length > 0);
      expect(h.seen.ends).to.deep.equal([wsError.closed.message()]);
      expect(h.serverStreams[0]!.reason()).to.deep.include({ code: 4000, reason: 'done here' });
      expect(session.closed).to.equal(false);
    });

    it('invalid UTF-8 in a text message: the server fails it with 1007, only that WebSocket', async () => {
      const bad = await h.open(session);
      const good = await h.open(session);
      bad.text(true);
      await bad.asyncWrite(Uint8Array.from([0x68, 0x69, 0xc3, 0x28]));
      const [ec] = await bad.asyncRead(new FlatBuffer(), asTuple());
      expect(ec).to.equal(wsError.closed);
      expect(bad.reason().code).to.equal(CloseCode.badPayload);
      good.text(true);
      await good.asyncWrite(buffer('still fine'));
      expect(buffersToString((await readOne(good)).data())).to.equal('still fine');
      expect(h.seen.ends).to.include(wsError.badFramePayload.message());
    });

    it('a stream reset by the server fails only its WebSocket, with connectionReset or eof', async () => {
      const a = await h.open(session);
      const b = await h.open(session);
      await new Promise((resolve) => setImmediate(resolve));
      h.serverStreams[0]!.nextLayer() instanceof h2.Http2Layer && (h.serverStreams[0]!.nextLayer() as h2.Http2Layer).close();
      const [ec] = await a.asyncRead(new FlatBuffer(), asTuple());
      expect([netError.connectionReset, netError.eof]).to.include(ec);
      expect(a.isOpen()).to.equal(false);
      // A failed stream closes its next layer by the time its handler runs (DESIGN section 8): the
      // HTTP/2 stream is gone, and only it.
      expect(a.nextLayer().isOpen()).to.equal(false);
      b.text(true);
      await b.asyncWrite(buffer('unaffected'));
      expect(buffersToString((await readOne(b)).data())).to.equal('unaffected');
      expect(session.closed).to.equal(false);
    });

    it('closing the layer after a failure (a read cancelled terminally) resets the stream with CANCEL', async () => {
      const ws = await h.open(session);
      const [ec] = await ws.asyncRead(new FlatBuffer(), cancelAfter(50, asTuple()));
      expect(ec).to.equal(netError.operationAborted);
      // As over TCP, the stream is now fit only for closing its next layer.
      const [ce] = await ws.asyncClose(CloseCode.normal, asTuple());
      expect(ce).to.equal(netError.operationAborted);
      ws.nextLayer().close();
      const s = ws.nextLayer().stream()!;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(s.closed).to.equal(true);
      expect(s.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
      expect(session.closed).to.equal(false);
    });

    it('every token works: deferred, callbacks, asTuple', async () => {
      const ws = await h.open(session);
      ws.text(true);
      const op = ws.asyncWrite(buffer('deferred'), deferred);
      await op();
      const got = await new Promise<string>((resolve, reject) => {
        const b = new FlatBuffer();
        ws.asyncRead(b, (ec) => (ec === null ? resolve(buffersToString(b.data())) : reject(ec)));
      });
      expect(got).to.equal('deferred');
      expect(await ws.asyncPing('p', asTuple())).to.deep.equal([null]);
    });

    it('flow control is the backpressure: a writer to a reader that stops waits, others flow', async () => {
      h.echo = false;
      const slow = await h.open(session);
      const fast = await h.open(session);
      await new Promise((resolve) => setImmediate(resolve));
      const [slowServer, fastServer] = h.serverStreams as [Stream<AsyncStream>, Stream<AsyncStream>];
      void h.runEcho(fastServer);
      slow.binary(true);
      slow.compress(false);
      let written = false;
      const write = slow.asyncWrite(bytes(4 << 20, 7)).then(() => void (written = true));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(written, 'the write waits for the window').to.equal(false);
      fast.text(true);
      await fast.asyncWrite(buffer('meanwhile'));
      expect(buffersToString((await readOne(fast)).data())).to.equal('meanwhile');
      expect(written).to.equal(false);
      const b = new FlatBuffer();
      await slowServer.asyncRead(b);
      await write;
      expect(b.size()).to.equal(4 << 20);
    });
  });
}
