/**
 * Broadcast to many members: a server with 1,000 connected WebSocket clients sends each of a
 * series of messages to all of them, and we read the server's CPU time per delivered message.
 * Three servers, each in a process of its own: tsbeast with one PreparedMessage per message
 * (`asyncWritePrepared`: framed once), tsbeast with `asyncWrite` per member (framed per member),
 * and ws's loop of `send` over its clients (what ws users write today). The clients are raw
 * sockets that do the opening handshake and then only count bytes, so the load generator does
 * little work per message. Uncompressed; members keep up (each member's writes are queued).
 *
 *   node dist/bench/broadcast.js [members] [messages] [payloadBytes]
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { PreparedMessage, Stream } from '../lib/beast/websocket/index.js';
import { Endpoint, IoContext, TcpAcceptor, type TcpSocket } from '../lib/net/index.js';
import { fmt, printTable } from './report.js';

type Kind = 'tsbeast-prepared' | 'tsbeast-write' | 'ws';
type ToServer = { broadcast: number; size: number };
type FromServer = { port: number } | { cpuUs: number; ms: number };

const self = fileURLToPath(import.meta.url);

// ---- servers (child processes) -------------------------------------------------------------------

/** A tsbeast member: its stream and its own queue (one write at a time). */
class TsMember {
  readonly queue: Array<PreparedMessage | Uint8Array> = [];
  constructor(readonly ws: Stream<TcpSocket>, readonly done: () => void) {}

  send(m: PreparedMessage | Uint8Array): void {
    this.queue.push(m);
    if (this.queue.length === 1) this.#write();
  }

  #write(): void {
    const m = this.queue[0]!;
    const h = (ec: unknown): void => {
      if (ec !== null) return this.ws.nextLayer().close();
      this.queue.shift();
      this.done();
      if (this.queue.length > 0) this.#write();
    };
    if (m instanceof PreparedMessage) this.ws.asyncWritePrepared(m, h);
    else this.ws.asyncWrite(m, h);
  }
}

async function tsServer(prepared: boolean): Promise<void> {
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
  const members: TsMember[] = [];
  let left = 0;
  let finish: (() => void) | null = null;
  const done = (): void => {
    if (--left === 0) finish?.();
  };
  const accept = (): void =>
    acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return;
      const ws = new Stream(socket);
      ws.asyncAccept((aec) => (aec === null ? members.push(new TsMember(ws, done)) : socket.close()));
      accept();
    });
  void ioc.run();
  await acceptor.asyncListen();
  accept();
  process.send!({ port: acceptor.localEndpoint().port } satisfies FromServer);
  process.on('message', (m: ToServer) => {
    const payload = Buffer.alloc(m.size, 0x61);
    left = m.broadcast * members.length;
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    finish = () => {
      const c = process.cpuUsage(c0);
      process.send!({ cpuUs: c.user + c.system, ms: Number(process.hrtime.bigint() - t0) / 1e6 } satisfies FromServer);
    };
    for (let i = 0; i < m.broadcast; i++) {
      // A chat server gets each message as new bytes: prepare (or not) per message.
      const message = prepared ? new PreparedMessage(payload) : Buffer.from(payload);
      for (const member of members) member.send(message);
    }
  });
}

async function wsServer(): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  process.send!({ port: (wss.address() as net.AddressInfo).port } satisfies FromServer);
  process.on('message', (m: ToServer) => {
    const payload = Buffer.alloc(m.size, 0x61);
    let left = m.broadcast * wss.clients.size;
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const sent = (err?: Error): void => {
      if (err !== undefined && err !== null) return;
      if (--left === 0) {
        const c = process.cpuUsage(c0);
        process.send!({ cpuUs: c.user + c.system, ms: Number(process.hrtime.bigint() - t0) / 1e6 } satisfies FromServer);
      }
    };
    for (let i = 0; i < m.broadcast; i++) {
      const message = Buffer.from(payload);
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(message, { binary: false }, sent);
    }
  });
}

// ---- clients (this process) -------------------------------------------------------------------------

/** `n` raw WebSocket clients: handshake, then count bytes. */
async function connectClients(port: number, n: number): Promise<{ sockets: net.Socket[]; received: () => number }> {
  let total = 0;
  const sockets: net.Socket[] = [];
  const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async () => {
        const s = net.connect(port, '127.0.0.1');
        sockets.push(s);
        await once(s, 'connect');
        s.write(request);
        let head = true;
        await new Promise<void>((resolve) => {
          s.on('data', (chunk: Buffer) => {
            if (head) {
              const end = chunk.indexOf('\r\n\r\n');
              head = false;
              total += chunk.length - end - 4;
              return resolve();
            }
            total += chunk.length;
          });
        });
      }),
    );
  }
  return { sockets, received: () => total };
}

async function measure(kind: Kind, members: number, messages: number, size: number): Promise<{ cpuUs: number; ms: number }> {
  const child: ChildProcess = fork(self, ['--server', kind], { stdio: 'inherit' });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  const { sockets, received } = await connectClients(first.port, members);
  await new Promise((r) => setTimeout(r, 300)); // let the server finish its accepts
  const frame = size + (size < 126 ? 2 : size < 65536 ? 4 : 10);
  const base = received();
  child.send({ broadcast: messages, size } satisfies ToServer);
  const [result] = (await once(child, 'message')) as [{ cpuUs: number; ms: number }];
  // Every byte reached every client: nothing was lost on the way.
  const deadline = Date.now() + 10_000;
  while (received() - base < members * messages * frame && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (received() - base !== members * messages * frame) throw new Error(`${kind}: ${received() - base} bytes of ${members * messages * frame} arrived`);
  for (const s of sockets) s.destroy();
  child.kill();
  await once(child, 'exit');
  return result;
}

async function main(): Promise<void> {
  const members = Number(process.argv[2] ?? 1000);
  const messages = Number(process.argv[3] ?? 50);
  const sizes = process.argv[4] !== undefined ? [Number(process.argv[4])] : [100, 4000];
  console.log(`broadcast: ${members} members, ${messages} messages each, server CPU per delivered message`);
  const rows = [['payload', 'server', 'CPU per delivery', 'vs ws', 'wall time']];
  for (const size of sizes) {
    const r: Partial<Record<Kind, { cpuUs: number; ms: number }>> = {};
    for (const kind of ['ws', 'tsbeast-write', 'tsbeast-prepared'] as const) r[kind] = await measure(kind, members, messages, size);
    const per = (k: Kind): number => r[k]!.cpuUs / (members * messages);
    for (const kind of ['ws', 'tsbeast-write', 'tsbeast-prepared'] as const) {
      rows.push([`${size} B`, kind, `${fmt(per(kind) * 1000, 0)} ns`, fmt(per(kind) / per('ws'), 2), `${fmt(r[kind]!.ms, 0)} ms`]);
    }
  }
  printTable(rows, 2);
}

const at = process.argv.indexOf('--server');
if (at >= 0) {
  const kind = process.argv[at + 1] as Kind;
  await (kind === 'ws' ? wsServer() : tsServer(kind === 'tsbeast-prepared'));
} else {
  await main();
}
