/**
 * Node integration: a stream handed over by a Node `http.Server` `'upgrade'` event, with the
 * request converted from `IncomingMessage` and the `head` bytes fed in first.
 */

import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket from 'ws';
import { requestFromIncomingMessage } from '../../../lib/beast/http/node.js';
import { Decorator, Stream, error as wsError } from '../../../lib/beast/websocket/index.js';
import { buffersToString, FlatBuffer, IoContext, makeWorkGuard, type ErrorCode } from '../../../lib/net/index.js';
import { TcpSocket } from '../../../lib/net/ip/tcp.js';

describe('websocket over a Node http.Server upgrade', () => {
  let ioc: IoContext;
  let server: Server;
  let port: number;
  let accepted: Promise<{ ws: Stream<TcpSocket>; head: number }>;

  beforeEach(async () => {
    ioc = new IoContext();
    accepted = new Promise((resolve, reject) => {
      server = createServer((_req, res) => res.end('plain http'));
      server.on('upgrade', (msg: IncomingMessage, socket: Socket, head: Buffer) => {
        const ws = new Stream(TcpSocket.adopt(ioc, socket));
        ws.setOption(new Decorator({ response: (res) => res.fields.set('X-Upgraded-By', 'tsbeast') }));
        ws.asyncAccept(requestFromIncomingMessage(msg), head).then(() => resolve({ ws, head: head.length }), reject);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('converts the request, keeps header case and order, and accepts', () => {
    const msg = {
      method: 'GET', url: '/chat?x=1', httpVersionMajor: 1, httpVersionMinor: 1,
      rawHeaders: ['Host', 'a', 'Upgrade', 'websocket', 'X-Dup', '1', 'x-dup', '2'],
    } as unknown as IncomingMessage;
    const req = requestFromIncomingMessage(msg);
    expect(req.method).to.equal('GET');
    expect(req.target).to.equal('/chat?x=1');
    expect(req.version).to.equal(11);
    expect(req.fields.getAll('X-Dup')).to.deep.equal(['1', '2']);
    expect([...req.fields].map(([n]) => n)).to.deep.equal(['Host', 'Upgrade', 'X-Dup', 'x-dup']);
  });

  it('a ws client talks to the adopted stream; the decorator shapes the 101', async () => {
    // Connections arrive from Node's server, which the context cannot see: hold work meanwhile.
    const guard = makeWorkGuard(ioc);
    const running = ioc.run();
    const client = new WebSocket(`ws://127.0.0.1:${port}/path`);
    const upgraded = new Promise<string | undefined>((resolve) =>
      client.once('upgrade', (res: IncomingMessage) => resolve(res.headers['x-upgraded-by'] as string | undefined)),
    );
    await new Promise((resolve) => client.once('open', resolve));
    expect(await upgraded).to.equal('tsbeast');
    const { ws } = await accepted;
    client.send('over node http');
    const b = new FlatBuffer();
    await ws.asyncRead(b);
    expect(buffersToString(b.data())).to.equal('over node http');
    client.close(1000);
    const err = await ws.asyncRead(b).catch((e: { code: ErrorCode }) => e.code);
    expect(err).to.equal(wsError.closed);
    guard.reset();
    await running;
  });

  it('bytes that arrived with the request (head) are read as frames', async () => {
    const guard = makeWorkGuard(ioc);
    const running = ioc.run();
    const { connect } = await import('node:net');
    const raw = connect(port, '127.0.0.1');
    await new Promise((resolve) => raw.once('connect', resolve));
    // The request and a first masked text frame ("hi") in one write, so Node hands them over as head.
    const request =
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const frame = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
    raw.write(Buffer.concat([Buffer.from(request, 'latin1'), frame]));
    const { ws, head } = await accepted;
    expect(head).to.equal(frame.length);
    const b = new FlatBuffer();
    await ws.asyncRead(b);
    expect(buffersToString(b.data())).to.equal('hi');
    raw.destroy();
    const err = await ws.asyncRead(b).catch((e: { code: ErrorCode }) => e.code);
    expect(err).to.not.equal(null);
    ws.nextLayer().close();
    guard.reset();
    await running;
  });
});
