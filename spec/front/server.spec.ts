/**
 * The front door's server: on an http.Server and an https.Server (the `'upgrade'` event, head
 * bytes), routing by path, subprotocol choice, the verify hook, the set of live streams, the
 * graceful close with 1001 (bounded), and the standalone listener. Real sockets, `ws` clients.
 */

import { expect } from 'chai';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { acceptWebSockets, connect, listenWebSockets, streamInfo, messages, send, type ServerStream, type UpgradeInfo } from '../../lib/front/index.js';
import { closed, nextMessage, startHttp, wsClient } from './support.js';

const echo = async (ws: ServerStream): Promise<void> => {
  for await (const m of messages(ws)) await send(ws, m.data);
};

describe('front: acceptWebSockets on a Node http.Server', () => {
  let http: Awaited<ReturnType<typeof startHttp>>;
  beforeEach(async () => (http = await startHttp()));
  afterEach(() => http.stop());

  it('echoes text as text and binary as binary, with no IoContext and no run()', async () => {
    const wss = acceptWebSockets(http.server, echo);
    const c = await wsClient(`ws://127.0.0.1:${http.port}/`);
    const text = new Promise<[string, boolean]>((resolve) => c.once('message', (d, isBinary) => resolve([String(d), isBinary])));
    c.send('héllo');
    expect(await text).to.deep.equal(['héllo', false]);
    const bin = new Promise<[Buffer, boolean]>((resolve) => c.once('message', (d, isBinary) => resolve([d as Buffer, isBinary])));
    c.send(Buffer.from([1, 2, 3]));
    const [b, isBinary] = await bin;
    expect([...b]).to.deep.equal([1, 2, 3]);
    expect(isBinary).to.equal(true);
    expect(wss.streams().size).to.equal(1);
    c.close(1000);
    await closed(c);
    await wss.close();
  });

  it('feeds the head bytes: a frame sent in the same packet as the request is not lost', async () => {
    const wss = acceptWebSockets(http.server, echo);
    const sock = netConnect(http.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    const request =
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const mask = [1, 2, 3, 4];
    const payload = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]!);
    const frame = Buffer.concat([Buffer.from([0x81, 0x82, ...mask]), payload]);
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.write(Buffer.concat([Buffer.from(request), frame]));
    for (let i = 0; i < 100 && !Buffer.concat(got).includes(Buffer.from([0x81, 0x02, 0x68, 0x69])); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(Buffer.concat(got).toString('latin1')).to.match(/^HTTP\/1\.1 101/);
    expect(Buffer.concat(got).includes(Buffer.from([0x81, 0x02, 0x68, 0x69]))).to.equal(true);
    sock.destroy();
    await wss.close();
  });

  it('routes by path, and answers 404 to a path nobody takes', async () => {
    const tagged = (tag: string) => async (ws: ServerStream): Promise<void> => {
      for await (const m of messages(ws)) await send(ws, `${tag}:${String(m.data)}`);
    };
    const a = acceptWebSockets(http.server, { path: '/a' }, tagged('a'));
    const b = acceptWebSockets(http.server, { path: '/b' }, tagged('b'));
    const ca = await wsClient(`ws://127.0.0.1:${http.port}/a?x=1`);
    ca.send('1');
    expect(await nextMessage(ca)).to.equal('a:1');
    const cb = await wsClient(`ws://127.0.0.1:${http.port}/b`);
    cb.send('2');
    expect(await nextMessage(cb)).to.equal('b:2');
    let err: unknown;
    try {
      await wsClient(`ws://127.0.0.1:${http.port}/c`);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain('404');
    expect(() => acceptWebSockets(http.server, { path: '/a' }, echo)).to.throw(TypeError);
    ca.terminate();
    cb.terminate();
    await Promise.all([a.close(), b.close()]);
    expect(http.server.listenerCount('upgrade')).to.equal(0);
  });

  it('chooses the first subprotocol of its own list that the client offered', async () => {
    let seen: UpgradeInfo | undefined;
    const wss = acceptWebSockets(http.server, { protocols: ['v2', 'v1'] }, (_ws, info) => void (seen = info));
    const c = await wsClient(`ws://127.0.0.1:${http.port}/`, ['v1', 'v2']);
    expect(c.protocol).to.equal('v2');
    expect(seen?.protocols).to.deep.equal(['v1', 'v2']);
    // ws fails a handshake without a subprotocol when it offered some; RFC 6455 allows it.
    const none = await connect(`ws://127.0.0.1:${http.port}/`, { protocols: ['v9'] });
    expect(streamInfo(none)?.protocol).to.equal('');
    const v1 = await connect(`ws://127.0.0.1:${http.port}/`, { protocols: ['v9', 'v1'] });
    expect(streamInfo(v1)?.protocol).to.equal('v1');
    c.terminate();
    none.nextLayer().close();
    v1.nextLayer().close();
    await wss.close();
  });

  it('lets verify refuse with a status before accepting (authentication, Origin), and accept otherwise', async () => {
    const errors: string[] = [];
    const wss = acceptWebSockets(
      http.server,
      {
        verify: async (info) => {
          if (info.request.fields.get('Authorization') !== 'Bearer ok') return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
          if (info.origin !== undefined && info.origin !== 'https://good.example') return false;
          return true;
        },
        onError: (e) => errors.push(e.message),
      },
      echo,
    );
    const url = `ws://127.0.0.1:${http.port}/`;
    const status = (p: Promise<WebSocket>): Promise<string> => p.then(() => 'open', (e: unknown) => String(e));
    expect(await status(wsClient(url))).to.contain('401');
    expect(await status(wsClient(url, [], { headers: { Authorization: 'Bearer ok' }, origin: 'https://evil.example' }))).to.contain('403');
    const c = await wsClient(url, [], { headers: { Authorization: 'Bearer ok' }, origin: 'https://good.example' });
    c.send('in');
    expect(await nextMessage(c)).to.equal('in');
    expect(errors.some((m) => m.includes('refused with 401'))).to.equal(true);
    c.terminate();
    await wss.close();
  });

  it('closes every live stream with 1001 on close(), and the set empties', async () => {
    const wss = acceptWebSockets(http.server, echo);
    const clients = await Promise.all([1, 2, 3].map(() => wsClient(`ws://127.0.0.1:${http.port}/`)));
    for (let i = 0; i < 50 && wss.streams().size < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(wss.streams().size).to.equal(3);
    const codes = clients.map(closed);
    await wss.close();
    expect((await Promise.all(codes)).map(([code]) => code)).to.deep.equal([1001, 1001, 1001]);
    expect(wss.streams().size).to.equal(0);
  });

  it('bounds the graceful close: a peer that never answers the close loses its socket after closeTimeout', async () => {
    const wss = acceptWebSockets(http.server, { closeTimeout: 100 }, () => {});
    const sock = netConnect(http.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    for (let i = 0; i < 100 && wss.streams().size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    // The client reads the close frame but never answers it.
    const ended = new Promise((resolve) => sock.once('close', resolve));
    sock.on('data', () => {});
    const t0 = performance.now();
    await wss.close();
    const took = performance.now() - t0;
    await ended; // the server closed the connection: the client sees its end
    expect(took).to.be.within(90, 3000);
  });

  it('accepts wss from an https.Server', async () => {
    const https = await startHttp(true);
    try {
      const wss = acceptWebSockets(https.server, echo);
      const c = await wsClient(`wss://localhost:${https.port}/`, [], { ca: (await import('./support.js')).cert });
      c.send('secret');
      expect(await nextMessage(c)).to.equal('secret');
      c.close();
      await closed(c);
      await wss.close();
    } finally {
      await https.stop();
    }
  });
});

describe('front: listenWebSockets, a server without an HTTP server', () => {
  it('listens on its own port, echoes, refuses by path and closes with 1001', async () => {
    const wss = await listenWebSockets({ port: 0, path: '/echo' }, echo);
    const port = wss.localEndpoint()!.port;
    const c = await wsClient(`ws://127.0.0.1:${port}/echo`);
    c.send('standalone');
    expect(await nextMessage(c)).to.equal('standalone');
    let err: unknown;
    try {
      await wsClient(`ws://127.0.0.1:${port}/other`);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain('404');
    const code = closed(c);
    await wss.close();
    expect((await code)[0]).to.equal(1001);
  });

  it('fails with addressInUse, naming the address, when the port is taken', async () => {
    const first = await listenWebSockets({ port: 0 }, echo);
    const port = first.localEndpoint()!.port;
    let err: unknown;
    try {
      await listenWebSockets({ port }, echo);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain(`listen on 127.0.0.1:${port}`);
    await first.close();
  });
});
