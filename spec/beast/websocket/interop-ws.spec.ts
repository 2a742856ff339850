/**
 * Interop over loopback with the `ws` package, both ways: our server with a `ws` client, our
 * client with a `ws` server. Text, binary, empty, 16 MiB and fragmented messages, pings both
 * ways, every valid close code with a reason, a subprotocol chosen through the decorator, and a
 * `ws` peer that breaks the protocol with raw bytes on its socket.
 */

import { expect } from 'chai';
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Request, Response } from '../../../lib/beast/http/message.js';
import { CloseCode, closeReason, Decorator, error as wsError, Stream } from '../../../lib/beast/websocket/index.js';
import { buffer, buffersToString, FlatBuffer, IoContext, type ErrorCode } from '../../../lib/net/index.js';
import { Endpoint, TcpAcceptor, TcpSocket } from '../../../lib/net/ip/tcp.js';

const once = <T>(emitter: EventEmitter, event: string): Promise<T> =>
  new Promise((resolve, reject) => {
    emitter.once(event, (...args: unknown[]) => resolve(args as T));
    if (event !== 'error') emitter.once('error', reject);
  });

describe('websocket interop with the ws package', function () {
  this.timeout(30_000);
  let ioc: IoContext;
  let running: Promise<number> | undefined;

  beforeEach(() => {
    ioc = new IoContext();
  });
  afterEach(async () => {
    ioc.stop();
    await running;
  });

  describe('our server, a ws client', () => {
    let acceptor: TcpAcceptor;
    let port: number;

    beforeEach(async () => {
      acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
      running = ioc.run();
      await acceptor.asyncListen();
      port = acceptor.localEndpoint().port;
    });
    afterEach(() => acceptor.close());

    // Accepts one connection and echoes messages until the client closes; resolves with the close reason seen.
    async function echoOne(setup?: (ws: Stream<TcpSocket>) => void): Promise<{ ec: ErrorCode | null; code: number; reason: string }> {
      const socket = await acceptor.asyncAccept();
      const ws = new Stream(socket);
      setup?.(ws);
      await ws.asyncAccept();
      const b = new FlatBuffer();
      for (;;) {
        try {
          await ws.asyncRead(b);
        } catch (err) {
          const ec = (err as { code: ErrorCode }).code;
          return { ec, code: ws.reason().code, reason: ws.reason().reason };
        }
        ws.binary(ws.gotBinary());
        await ws.asyncWrite(b.data());
        b.consume(b.size());
      }
    }

    it('echoes text, binary, empty, fragmented and 16 MiB messages', async () => {
      const served = echoOne();
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { maxPayload: 32 * 1024 * 1024 });
      await once(client, 'open');
      const received: Array<[Buffer, boolean]> = [];
      client.on('message', (data: Buffer, isBinary: boolean) => received.push([data, isBinary]));
      const big = Buffer.alloc(16 * 1024 * 1024, 7);
      client.send('hello');
      client.send(Buffer.from([1, 2, 3]));
      client.send('');
      client.send('frag', { fin: false });
      client.send('mented', { fin: true });
      client.send(big);
      while (received.length < 5) await new Promise((r) => setTimeout(r, 5));
      expect(received[0]![0].toString()).to.equal('hello');
      expect(received[0]![1]).to.equal(false);
      expect([...received[1]![0]]).to.deep.equal([1, 2, 3]);
      expect(received[1]![1]).to.equal(true);
      expect(received[2]![0].length).to.equal(0);
      expect(received[3]![0].toString()).to.equal('fragmented');
      expect(received[4]![0].equals(big)).to.equal(true);
      client.close(1000, 'done');
      const [code] = await once<[number]>(client, 'close');
      expect(code).to.equal(1000);
      const result = await served;
      expect(result).to.deep.equal({ ec: wsError.closed, code: 1000, reason: 'done' });
    });

    it('answers the client pings, and the client answers ours', async () => {
      let serverStream: Stream<TcpSocket> | undefined;
      const pongs: string[] = [];
      const served = echoOne((ws) => {
        serverStream = ws;
        ws.controlCallback((kind, payload) => pongs.push(`${kind}:${payload}`));
      });
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      client.ping('from-client');
      const [data] = await once<[Buffer]>(client, 'pong');
      expect(data.toString()).to.equal('from-client');
      await serverStream!.asyncPing('from-server');
      client.send('flush'); // the pong is seen by the server's next read
      await once(client, 'message');
      expect(pongs).to.include('ping:from-client');
      expect(pongs).to.include('pong:from-server');
      client.close();
      await served;
    });

    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999]) {
      it(`carries close code ${code} and its reason from the client`, async () => {
        const served = echoOne();
        const client = new WebSocket(`ws://127.0.0.1:${port}/`);
        await once(client, 'open');
        client.close(code, `reason ${code}`);
        const [echoed] = await once<[number]>(client, 'close');
        expect(echoed).to.equal(code);
        expect(await served).to.deep.equal({ ec: wsError.closed, code, reason: `reason ${code}` });
      });
    }

    it('chooses a subprotocol through the decorator', async () => {
      const served = echoOne((ws) =>
        ws.setOption(new Decorator({ response: (res: Response) => res.fields.set('Sec-WebSocket-Protocol', 'chat') })),
      );
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, ['chat', 'superchat']);
      await once(client, 'open');
      expect(client.protocol).to.equal('chat');
      client.close();
      await served;
    });

    it('fails a client that sends an unmasked frame with 1002', async () => {
      const served = echoOne();
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      const closed = once<[number]>(client, 'close');
      (client as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      const [code] = await closed;
      expect(code).to.equal(1002);
      expect((await served).ec).to.equal(wsError.badUnmaskedFrame);
    });

    it('fails a client that sends invalid UTF-8 with 1007', async () => {
      const served = echoOne();
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      const closed = once<[number]>(client, 'close');
      const payload = Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]);
      const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
      (client as unknown as { _socket: import('node:net').Socket })._socket.write(frame);
      const [code] = await closed;
      expect(code).to.equal(1007);
      expect((await served).ec).to.equal(wsError.badFramePayload);
    });
  });

  describe('our client, a ws server', () => {
    let server: WebSocketServer;
    let port: number;

    beforeEach(async () => {
      server = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        maxPayload: 32 * 1024 * 1024,
        handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
      });
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
      server.on('connection', (sock) => {
        sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
      });
      running = ioc.run();
    });
    afterEach(async () => {
      for (const c of server.clients) c.terminate();
      await new Promise((resolve) => server.close(resolve));
    });

    async function connect(setup?: (ws: Stream<TcpSocket>) => void): Promise<Stream<TcpSocket>> {
      const socket = new TcpSocket(ioc);
      await socket.asyncConnect(Endpoint.loopback(port));
      const ws = new Stream(socket);
      setup?.(ws);
      await ws.asyncHandshake(`127.0.0.1:${port}`, '/');
      return ws;
    }

    it('round-trips text, binary, empty and 16 MiB messages, fragmented too', async () => {
      const ws = await connect();
      const b = new FlatBuffer();
      const cases: Array<[Uint8Array, boolean]> = [
        [buffer('hello'), false],
        [Uint8Array.of(9, 8, 7), true],
        [new Uint8Array(0), false],
        [new Uint8Array(16 * 1024 * 1024).fill(3), true],
      ];
      for (const [payload, binary] of cases) {
        ws.binary(binary);
        await ws.asyncWrite(payload);
        await ws.asyncRead(b);
        expect(ws.gotBinary()).to.equal(binary);
        expect(Buffer.from(b.dataView()).equals(Buffer.from(payload))).to.equal(true);
        b.consume(b.size());
      }
      ws.text(true);
      await ws.asyncWriteSome(false, buffer('frag'));
      await ws.asyncWriteSome(true, buffer('mented'));
      await ws.asyncRead(b);
      expect(buffersToString(b.data())).to.equal('fragmented');
      await ws.asyncClose(CloseCode.normal);
      expect(ws.reason().code).to.equal(1000);
    });

    it('pings the server and sees its pong; answers its pings', async () => {
      const pongs: string[] = [];
      const ws = await connect((s) => s.controlCallback((kind, payload) => pongs.push(`${kind}:${payload}`)));
      const [peer] = [...server.clients];
      await ws.asyncPing('p1');
      const pinged = new Promise<Buffer>((resolve) => peer!.once('pong', resolve));
      peer!.ping('p2');
      const b = new FlatBuffer();
      await ws.asyncWrite(buffer('x'));
      await ws.asyncRead(b);
      expect((await pinged).toString()).to.equal('p2');
      expect(pongs).to.include('pong:p1');
      expect(pongs).to.include('ping:p2');
      await ws.asyncClose(closeReason(4000, 'bye'));
    });

    it('sees the server close with a code and reason', async () => {
      const ws = await connect();
      const [peer] = [...server.clients];
      peer!.close(4001, 'server says bye');
      const b = new FlatBuffer();
      const err = await ws.asyncRead(b).catch((e: { code: ErrorCode }) => e.code);
      expect(err).to.equal(wsError.closed);
      expect(ws.reason()).to.deep.equal({ code: 4001, reason: 'server says bye' });
    });

    it('negotiates a subprotocol through the decorator', async () => {
      const res = new Response();
      const socket = new TcpSocket(ioc);
      await socket.asyncConnect(Endpoint.loopback(port));
      const ws = new Stream(socket);
      ws.setOption(new Decorator({ request: (req: Request) => req.fields.set('Sec-WebSocket-Protocol', 'chat, other') }));
      await ws.asyncHandshake(res, '127.0.0.1', '/');
      expect(res.status).to.equal(101);
      expect(res.fields.get('Sec-WebSocket-Protocol')).to.equal('chat');
      await ws.asyncClose(CloseCode.normal);
    });

    it('fails a server that sends a masked frame with 1002', async () => {
      const ws = await connect();
      const [peer] = [...server.clients];
      const closed = new Promise<number>((resolve) => peer!.once('close', resolve));
      (peer as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x69]));
      const err = await ws.asyncRead(new FlatBuffer()).catch((e: { code: ErrorCode }) => e.code);
      expect(err).to.equal(wsError.badMaskedFrame);
      expect(await closed).to.equal(1002);
    });
  });
});
