// permessage-deflate interop over loopback with the `ws` package, both ways: our echo server with a
// ws client, our client with a ws echo server. With and without context takeover, window bits 9
// and 15 (asked by either end), messages of 16 B to 1 MiB (compressible text, and binary whose
// repeats lie beyond a 9-bit window), thresholds on each side, and compress(false) per message.
// Compression on the wire is checked with the ws peer's socket byte counts.

import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';

import { expect } from 'chai';
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions } from 'ws';

import { CloseCode, error as wsError, Stream } from '../../../../lib/beast/websocket/index.js';
import { PermessageDeflate, type PermessageDeflateInit } from '../../../../lib/beast/websocket/deflate.js';
import { FlatBuffer, IoContext, type ErrorCode } from '../../../../lib/net/index.js';
import { Endpoint, TcpAcceptor, TcpSocket } from '../../../../lib/net/ip/tcp.js';
import { farRepeats, jsonText, KiB, MiB } from './support.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';

const once = <T>(emitter: EventEmitter, event: string): Promise<T> =>
  new Promise((resolve, reject) => {
    emitter.once(event, (...args: unknown[]) => resolve(args as T));
    if (event !== 'error') emitter.once('error', reject);
  });

const SIZES = [16, 1000, 70_000, MiB];
const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

/** The messages of a run: text of each size, then binary of each size with far repeats. */
function messages(): Array<[Buffer, boolean]> {
  return [
    ...SIZES.map((n, i): [Buffer, boolean] => [Buffer.from(jsonText(n, i + 1)), false]),
    ...SIZES.map((n): [Buffer, boolean] => [Buffer.from(farRepeats(n, 1000)), true]),
  ];
}

/** Sends `msgs` one at a time on a ws socket and collects each echo. */
async function pingPong(ws: WebSocket, msgs: Array<[Buffer, boolean]>): Promise<void> {
  for (const [i, [data, binary]] of msgs.entries()) {
    const got = once<[Buffer, boolean]>(ws, 'message');
    ws.send(data, { binary });
    const [echo, isBinary] = await got;
    expect(isBinary, `message ${i} binary`).to.equal(binary);
    expect(Buffer.from(echo).equals(data), `message ${i} (${data.length} bytes) echoed intact`).to.equal(true);
  }
}

describe('websocket/deflate interop with ws', function () {
  // Compression needs Node's synchronous zlib (net/node-internals.ts, 4); without it, see negotiation.spec.
  before(function () {
    if (!hasSyncZlib()) this.skip();
  });
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

    interface Served {
      ec: ErrorCode | null;
      status: ReturnType<Stream<TcpSocket>['getStatus']>;
    }

    /** Accepts one connection and echoes until the client closes; `each` may change settings per message. */
    async function echoOne(init: PermessageDeflateInit, each?: (ws: Stream<TcpSocket>, i: number) => void): Promise<Served> {
      const socket = await acceptor.asyncAccept();
      const ws = new Stream(socket);
      ws.setOption(new PermessageDeflate({ serverEnable: true, ...init }));
      await ws.asyncAccept();
      const status = ws.getStatus();
      const b = new FlatBuffer();
      for (let i = 0; ; i++) {
        try {
          await ws.asyncRead(b);
        } catch (err) {
          const ec = (err as { code: ErrorCode }).code;
          if (ec !== wsError.closed) ws.nextLayer().close();
          return { ec, status };
        }
        ws.binary(ws.gotBinary());
        each?.(ws, i);
        await ws.asyncWrite(b.data());
        b.consume(b.size());
      }
    }

    async function connect(pmd: PerMessageDeflateOptions | false): Promise<WebSocket> {
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: pmd, maxPayload: 4 * MiB });
      await once(client, 'open');
      return client;
    }

    async function bye(client: WebSocket, served: Promise<Served>): Promise<Served> {
      client.close(1000);
      const [code] = await once<[number]>(client, 'close');
      expect(code).to.equal(1000);
      const result = await served;
      expect(result.ec).to.equal(wsError.closed);
      return result;
    }

    const configs: Array<[string, PerMessageDeflateOptions, PermessageDeflateInit, [number, number]]> = [
      ['defaults (context takeover, 15 bits)', { threshold: 0 }, {}, [15, 15]],
      [
        'no context takeover both ways, asked by the client',
        { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
        {},
        [15, 15],
      ],
      [
        'no context takeover both ways, imposed by our server',
        { threshold: 0 },
        { serverNoContextTakeover: true, clientNoContextTakeover: true },
        [15, 15],
      ],
      ['window bits 9 both ways, asked by the client', { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, {}, [9, 9]],
      ['window bits 9 both ways, imposed by our server', { threshold: 0 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, [9, 9]],
      ['window bits 15 asked explicitly', { threshold: 0, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }, {}, [15, 15]],
      ['ws default threshold (1024: small messages uncompressed)', {}, {}, [15, 15]],
      ['our msgSizeThreshold 2000 (small echoes uncompressed)', { threshold: 0 }, { msgSizeThreshold: 2000 }, [15, 15]],
    ];
    for (const [name, wsOpts, ours, [sBits, cBits]] of configs) {
      it(`${name}: 16 B to 1 MiB, text and binary, echoed intact`, async () => {
        const served = echoOne(ours);
        const client = await connect(wsOpts);
        expect(client.extensions).to.match(/^permessage-deflate/);
        await pingPong(client, messages());
        const result = await bye(client, served);
        expect(result.status).to.deep.equal({ active: true, serverWindowBits: sBits, clientWindowBits: cBits });
      });
    }

    it('the 1 MiB text echo is compressed on the wire both ways', async () => {
      const served = echoOne({});
      const client = await connect({ threshold: 0 });
      const sock = socketOf(client);
      const read0 = sock.bytesRead;
      const written0 = sock.bytesWritten;
      await pingPong(client, [[Buffer.from(jsonText(MiB)), false]]);
      expect(sock.bytesWritten - written0, 'ws → us').to.be.lessThan(MiB / 4);
      expect(sock.bytesRead - read0, 'us → ws').to.be.lessThan(MiB / 4);
      await bye(client, served);
    });

    it('context takeover on our side: the same incompressible message costs little the second time, and full price without it', async () => {
      for (const nct of [false, true]) {
        const served = echoOne({ serverNoContextTakeover: nct });
        const client = await connect({ threshold: 0 });
        const sock = socketOf(client);
        const msg = Buffer.from(farRepeats(8 * KiB, 8 * KiB, nct ? 3 : 4)); // random, no repeat inside
        const costs: number[] = [];
        for (let i = 0; i < 2; i++) {
          const r0 = sock.bytesRead;
          await pingPong(client, [[msg, true]]);
          costs.push(sock.bytesRead - r0);
        }
        if (nct) expect(costs[1], `costs ${costs}`).to.be.greaterThan(8 * KiB);
        else expect(costs[1], `costs ${costs}`).to.be.lessThan(200);
        await bye(client, served);
      }
    });

    it('compress(false) per message: every other echo goes uncompressed, and ws reads them all', async () => {
      const served = echoOne({}, (ws, i) => ws.compress(i % 2 === 0));
      const client = await connect({ threshold: 0 });
      const sock = socketOf(client);
      const msg = Buffer.from(jsonText(200 * KiB));
      const costs: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r0 = sock.bytesRead;
        await pingPong(client, [[msg, false]]);
        costs.push(sock.bytesRead - r0);
      }
      expect(costs[0]).to.be.lessThan(50 * KiB);
      expect(costs[1]).to.be.greaterThan(200 * KiB);
      expect(costs[2]).to.be.lessThan(50 * KiB);
      expect(costs[3]).to.be.greaterThan(200 * KiB);
      await bye(client, served);
    });

    it('a ws client without permessage-deflate still talks to a deflate-enabled server', async () => {
      const served = echoOne({});
      const client = await connect(false);
      expect(client.extensions).to.equal('');
      await pingPong(client, [[Buffer.from(jsonText(5000)), false]]);
      const result = await bye(client, served);
      expect(result.status.active).to.equal(false);
    });

    it('a ws client offering client_max_window_bits=8 connects and round-trips (the answer must not exceed 8)', async () => {
      // ws rejects an answer with client_max_window_bits above its offer; Beast's rule answers 9.
      const served = echoOne({});
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0, clientMaxWindowBits: 8 } });
      const outcome = await new Promise<string>((resolve) => {
        client.once('open', () => resolve('open'));
        client.once('error', (e: Error) => resolve(`error: ${e.message}`));
      });
      if (outcome !== 'open') {
        // ws dropped the connection: our server's read ends, and its socket is closed.
        if (client.readyState !== WebSocket.CLOSED) await once(client, 'close');
        await served;
      }
      expect(outcome).to.equal('open');
      await pingPong(client, [[Buffer.from(jsonText(5000)), false], [Buffer.from(farRepeats(4000, 1000)), true]]);
      await bye(client, served);
    });
  });

  describe('our client, a ws server', () => {
    let server: WebSocketServer;
    let port: number;
    const serverSockets: WebSocket[] = [];

    async function listen(pmd: PerMessageDeflateOptions | false): Promise<void> {
      server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: pmd, maxPayload: 4 * MiB });
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
      server.on('connection', (sock) => {
        serverSockets.push(sock);
        sock.on('message', (data, isBinary) => sock.send(data as Buffer, { binary: isBinary }));
      });
      running = ioc.run();
    }
    afterEach(async () => {
      for (const c of server.clients) c.terminate();
      serverSockets.length = 0;
      await new Promise((resolve) => server.close(resolve));
    });

    async function connect(init: PermessageDeflateInit, setup?: (ws: Stream<TcpSocket>) => void): Promise<Stream<TcpSocket>> {
      const socket = new TcpSocket(ioc);
      await socket.asyncConnect(Endpoint.loopback(port));
      const ws = new Stream(socket);
      ws.setOption(new PermessageDeflate({ clientEnable: true, ...init }));
      setup?.(ws);
      await ws.asyncHandshake(`127.0.0.1:${port}`, '/');
      return ws;
    }

    async function roundTrip(ws: Stream<TcpSocket>, msgs: Array<[Buffer, boolean]>): Promise<void> {
      const b = new FlatBuffer();
      for (const [i, [data, binary]] of msgs.entries()) {
        ws.binary(binary);
        await ws.asyncWrite(data);
        await ws.asyncRead(b);
        expect(ws.gotBinary(), `message ${i} binary`).to.equal(binary);
        expect(Buffer.from(b.dataView()).equals(data), `message ${i} (${data.length} bytes) echoed intact`).to.equal(true);
        b.consume(b.size());
      }
    }

    const configs: Array<[string, PerMessageDeflateOptions, PermessageDeflateInit, [number, number]]> = [
      ['defaults (context takeover, 15 bits)', { threshold: 0 }, {}, [15, 15]],
      ['no context takeover both ways, asked by our client', { threshold: 0 }, { serverNoContextTakeover: true, clientNoContextTakeover: true }, [15, 15]],
      ['no context takeover both ways, imposed by the ws server', { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }, {}, [15, 15]],
      ['window bits 9 both ways, asked by our client', { threshold: 0 }, { serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, [9, 9]],
      ['window bits 9 both ways, imposed by the ws server', { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, {}, [9, 9]],
      ['ws default threshold (1024)', {}, {}, [15, 15]],
      ['our msgSizeThreshold 2000', { threshold: 0 }, { msgSizeThreshold: 2000 }, [15, 15]],
    ];
    for (const [name, wsOpts, ours, [sBits, cBits]] of configs) {
      it(`${name}: 16 B to 1 MiB, text and binary, echoed intact`, async () => {
        await listen(wsOpts);
        const ws = await connect(ours);
        expect(ws.getStatus()).to.deep.equal({ active: true, serverWindowBits: sBits, clientWindowBits: cBits });
        await roundTrip(ws, messages());
        await ws.asyncClose(CloseCode.normal);
        expect(ws.reason().code).to.equal(1000);
      });
    }

    it('the 1 MiB text message is compressed on the wire both ways', async () => {
      await listen({ threshold: 0 });
      const ws = await connect({});
      const sock = socketOf(serverSockets[0]!);
      const r0 = sock.bytesRead;
      const w0 = sock.bytesWritten;
      await roundTrip(ws, [[Buffer.from(jsonText(MiB)), false]]);
      expect(sock.bytesRead - r0, 'us → ws').to.be.lessThan(MiB / 4);
      expect(sock.bytesWritten - w0, 'ws → us').to.be.lessThan(MiB / 4);
      await ws.asyncClose(CloseCode.normal);
    });

    it('context takeover on our client: the same incompressible message is cheap the second time, unless client_no_context_takeover', async () => {
      await listen({ threshold: 0 });
      for (const nct of [false, true]) {
        const ws = await connect({ clientNoContextTakeover: nct });
        const sock = socketOf(serverSockets[serverSockets.length - 1]!);
        const msg = Buffer.from(farRepeats(8 * KiB, 8 * KiB, nct ? 5 : 6));
        const costs: number[] = [];
        for (let i = 0; i < 2; i++) {
          const r0 = sock.bytesRead;
          await roundTrip(ws, [[msg, true]]);
          costs.push(sock.bytesRead - r0);
        }
        if (nct) expect(costs[1], `costs ${costs}`).to.be.greaterThan(8 * KiB);
        else expect(costs[1], `costs ${costs}`).to.be.lessThan(200);
        await ws.asyncClose(CloseCode.normal);
      }
    });

    it('compress(false) per message: ws reads compressed and uncompressed messages alike', async () => {
      await listen({ threshold: 0 });
      const ws = await connect({});
      const sock = socketOf(serverSockets[0]!);
      const msg = Buffer.from(jsonText(200 * KiB));
      const costs: number[] = [];
      for (let i = 0; i < 4; i++) {
        ws.compress(i % 2 === 0);
        const r0 = sock.bytesRead;
        await roundTrip(ws, [[msg, false]]);
        costs.push(sock.bytesRead - r0);
      }
      expect(costs[0]).to.be.lessThan(50 * KiB);
      expect(costs[1]).to.be.greaterThan(200 * KiB);
      expect(costs[2]).to.be.lessThan(50 * KiB);
      expect(costs[3]).to.be.greaterThan(200 * KiB);
      await ws.asyncClose(CloseCode.normal);
    });

    it('a ws server without permessage-deflate: our offer is declined, messages go uncompressed', async () => {
      await listen(false);
      const ws = await connect({});
      expect(ws.getStatus().active).to.equal(false);
      await roundTrip(ws, [[Buffer.from(jsonText(5000)), false]]);
      await ws.asyncClose(CloseCode.normal);
    });

    it('fragmented compressed messages written in parts are read whole by ws', async () => {
      await listen({ threshold: 0 });
      const ws = await connect({});
      ws.writeBufferBytes(1024);
      const msg = Buffer.from(farRepeats(64 * KiB, 1000));
      ws.binary(true);
      await ws.asyncWriteSome(false, msg.subarray(0, 10_000));
      await ws.asyncWriteSome(false, msg.subarray(10_000, 10_001));
      await ws.asyncWriteSome(true, msg.subarray(10_001));
      const b = new FlatBuffer();
      await ws.asyncRead(b);
      expect(Buffer.from(b.dataView()).equals(msg)).to.equal(true);
      await ws.asyncClose(CloseCode.normal);
    });
  });
});
