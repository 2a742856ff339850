/**
 * messages() and the send queue over real sockets: whole messages with their kind, a clean end
 * on a normal close, a throw on a failure and on abort; many sends without awaiting, each
 * completing when written, the bounds and their policies, and a send after close.
 */

import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { connect, messages, send, SendQueue, type ClientStream, type Message } from '../../lib/front/index.js';
import { error as netError, SystemError } from '../../lib/net/index.js';
import { error as wsError } from '../../lib/beast/websocket/index.js';

describe('front: messages() and the send queue', () => {
  let http: Server;
  let wss: WsServer;
  let port: number;
  let peer: Promise<WebSocket>;

  beforeEach(async () => {
    http = createServer();
    wss = new WsServer({ server: http });
    peer = new Promise((resolve) => wss.once('connection', resolve));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((resolve) => wss.close(resolve));
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  async function collect(ws: ClientStream, options?: { signal?: AbortSignal }): Promise<Message[]> {
    const out: Message[] = [];
    for await (const m of messages(ws, options)) out.push(m);
    return out;
  }

  it('yields whole messages with their kind, and ends cleanly on a normal close', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const p = await peer;
    p.send('text é');
    p.send(Buffer.from([0, 255]));
    p.send('x'.repeat(100_000));
    p.close(1000, 'bye');
    const got = await collect(ws);
    expect(got.map((m) => m.kind)).to.deep.equal(['text', 'binary', 'text']);
    expect(got[0]!.data).to.equal('text é');
    expect([...(got[1]!.data as Buffer)]).to.deep.equal([0, 255]);
    expect((got[2]!.data as string).length).to.equal(100_000);
    expect(ws.reason().code).to.equal(1000);
  });

  it('gives text as bytes when asked', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    (await peer).send('abc');
    for await (const m of messages(ws, { text: 'bytes' })) {
      expect(m.kind).to.equal('text');
      expect(Buffer.isBuffer(m.data)).to.equal(true);
      expect(m.data.toString()).to.equal('abc');
      break;
    }
    await ws.asyncClose(1000);
  });

  it('throws on a close with an error code, naming the code', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    (await peer).close(1011, 'oops');
    let err: unknown;
    try {
      await collect(ws);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(SystemError);
    expect((err as SystemError).code).to.equal(wsError.closed);
    expect((err as SystemError).message).to.contain('1011').and.contain(`ws://127.0.0.1:${port}/`);
  });

  it('throws when the connection is lost', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    (await peer).terminate();
    let err: unknown;
    try {
      await collect(ws);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(SystemError);
  });

  it('throws operationAborted, with the reason, when the signal aborts', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    await peer;
    const ac = new AbortController();
    setTimeout(() => ac.abort('enough'), 20);
    let err: unknown;
    try {
      await collect(ws, { signal: ac.signal });
    } catch (e) {
      err = e;
    }
    expect((err as SystemError).code).to.equal(netError.operationAborted);
    expect((err as SystemError).cause).to.equal('enough');
    ws.nextLayer().close();
  });

  it('takes three sends without awaiting (ws queues them too), in order, each completing when written', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const p = await peer;
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      p.on('message', (m, isBinary) => {
        received.push(isBinary ? `bin:${[...(m as Buffer)].join(',')}` : String(m));
        if (received.length === 3) resolve();
      }),
    );
    const order: number[] = [];
    await Promise.all([
      send(ws, 'one').then(() => order.push(1)),
      send(ws, new Uint8Array([2])).then(() => order.push(2)),
      send(ws, 'three').then(() => order.push(3)),
    ]);
    await all;
    expect(received).to.deep.equal(['one', 'bin:2', 'three']);
    expect(order).to.deep.equal([1, 2, 3]);
    await ws.asyncClose(1000);
  });

  it("fails a send past the bound with noBufferSpace under 'fail', and goes on", async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    await peer;
    const q = new SendQueue(ws, { maxMessages: 2, whenFull: 'fail' });
    const a = q.send('a');
    const b = q.send('b');
    let err: unknown;
    try {
      await q.send('c');
    } catch (e) {
      err = e;
    }
    expect((err as SystemError).code).to.equal(netError.noBufferSpace);
    expect((err as SystemError).message).to.contain('send queue full');
    await Promise.all([a, b]);
    await q.send('d');
    expect(q.pendingMessages()).to.equal(0);
    await ws.asyncClose(1000);
  });

  it("closes the slow peer with 1008 under 'close', failing the queued sends", async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const p = await peer;
    const code = new Promise<number>((resolve) => p.once('close', (c) => resolve(c)));
    const q = new SendQueue(ws, { maxBytes: 10, whenFull: 'close', closeTimeout: 1000 });
    const results = await Promise.allSettled([q.send('12345'), q.send('67890'), q.send('overflow')]);
    expect(results[2]!.status).to.equal('rejected');
    expect(((results[2] as PromiseRejectedResult).reason as SystemError).code).to.equal(wsError.closed);
    expect(await code).to.equal(1008);
  });

  it('says a send after close is on a closed stream', async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    await peer;
    await ws.asyncClose(1000);
    let err: unknown;
    try {
      await send(ws, 'late');
    } catch (e) {
      err = e;
    }
    expect((err as SystemError).code).to.equal(wsError.closed);
    expect((err as SystemError).message).to.match(/^send ws:\/\/127\.0\.0\.1:\d+\/ \(peer 127\.0\.0\.1:\d+\): the stream is closed/);
  });
});
