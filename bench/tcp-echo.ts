/**
 * TCP echo benchmark: a TcpSocket echo server and client against a raw `node:net` echo server and
 * client, in one run. Each server runs in a child process, so its CPU time (`process.cpuUsage()`,
 * reported back over IPC) is its own; the clients run here and ping-pong one message at a time
 * per connection. Prints messages/s and server CPU µs per message for both, and tsbeast/raw.
 *
 *   node dist/bench/tcp-echo.js [seconds-per-case]      (default 2.5; the whole run stays < 60 s)
 *
 * Benchmark code only: it must never be imported by the library.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  asyncRead,
  asyncWrite,
  Endpoint,
  IoContext,
  makeWorkGuard,
  TcpAcceptor,
  TcpSocket,
} from '../lib/net/index.js';

type Impl = 'raw' | 'tsbeast';
type Msg = { port: number } | { cpu: number };
const WARMUP_MS = 500;

// ---------------------------------------------------------------------------------------------
// Servers (child process)

function rawServer(): Promise<number> {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => s.destroy());
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => (server.address() as net.AddressInfo).port);
}

async function tsbeastServer(): Promise<number> {
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
  const echo = (sock: TcpSocket): void => {
    const buf = new Uint8Array(64 * 1024);
    const read = (): void =>
      sock.asyncReadSome(buf, (ec, n) => {
        if (ec !== null) return sock.close();
        asyncWrite(sock, buf.subarray(0, n), (wec) => (wec !== null ? sock.close() : read()));
      });
    read();
  };
  const accept = (): void =>
    acceptor.asyncAccept((ec, sock) => {
      if (ec !== null) return;
      sock.setOption(TcpSocket.noDelay(true));
      echo(sock);
      accept();
    });
  accept();
  void ioc.run(); // the pending accept keeps it running until the process exits
  await acceptor.asyncListen();
  return acceptor.localEndpoint().port;
}

async function serve(impl: Impl): Promise<void> {
  const port = impl === 'raw' ? await rawServer() : await tsbeastServer();
  let start = process.cpuUsage();
  process.on('message', (cmd: string) => {
    if (cmd === 'start') start = process.cpuUsage();
    if (cmd === 'stop') {
      const d = process.cpuUsage(start);
      process.send!({ cpu: d.user + d.system } satisfies Msg);
    }
    if (cmd === 'exit') process.exit(0);
  });
  process.send!({ port } satisfies Msg);
}

// ---------------------------------------------------------------------------------------------
// Clients (this process): each connection sends a message, waits for all of it to come back, repeats.

interface Clients {
  count: number;
  stop(): Promise<void>;
}

async function rawClients(port: number, size: number, conns: number): Promise<Clients> {
  const msg = Buffer.alloc(size, 0x61);
  const out: Clients = { count: 0, stop: async () => {} };
  const sockets = await Promise.all(
    Array.from({ length: conns }, async () => {
      const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
      await once(s, 'connect');
      let got = 0;
      s.on('data', (d) => {
        got += d.length;
        if (got < size) return;
        got -= size;
        out.count++;
        s.write(msg);
      });
      s.on('error', () => {});
      s.write(msg);
      return s;
    }),
  );
  out.stop = async () => {
    await Promise.all(sockets.map((s) => (s.destroy(), once(s, 'close'))));
  };
  return out;
}

async function tsbeastClients(port: number, size: number, conns: number): Promise<Clients> {
  const ioc = new IoContext();
  const guard = makeWorkGuard(ioc);
  const running = ioc.run();
  const msg = new Uint8Array(size).fill(0x61);
  const out: Clients = { count: 0, stop: async () => {} };
  let stopping = false;
  const sockets = await Promise.all(
    Array.from({ length: conns }, async () => {
      const s = new TcpSocket(ioc);
      s.setOption(TcpSocket.noDelay(true));
      await s.asyncConnect(new Endpoint('127.0.0.1', port));
      const back = new Uint8Array(size);
      // The write and the read of one round overlap; the next round starts when both are done.
      const round = (): void => {
        let pending = 2;
        const done = (ec: unknown): void => {
          if (ec !== null || stopping) return;
          if (--pending === 0) {
            out.count++;
            round();
          }
        };
        asyncWrite(s, msg, done);
        asyncRead(s, back, done);
      };
      round();
      return s;
    }),
  );
  out.stop = async () => {
    stopping = true;
    const natives = sockets.map((s) => s.nativeHandle()!);
    for (const s of sockets) s.close();
    guard.reset();
    await running;
    await Promise.all(natives.map((n) => (n.closed ? Promise.resolve() : once(n, 'close'))));
  };
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Result {
  rate: number;
  cpuPerMsg: number;
}

function next(child: ChildProcess): Promise<Msg> {
  return once(child, 'message').then(([m]) => m as Msg);
}

async function runCase(impl: Impl, size: number, conns: number, ms: number): Promise<Result> {
  const child = fork(fileURLToPath(import.meta.url), ['server', impl], { stdio: 'inherit' });
  const { port } = (await next(child)) as { port: number };
  const clients = await (impl === 'raw' ? rawClients : tsbeastClients)(port, size, conns);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  child.send('start');
  const c0 = clients.count;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const messages = clients.count - c0;
  const elapsed = performance.now() - t0;
  child.send('stop');
  const { cpu } = (await next(child)) as { cpu: number };
  await clients.stop();
  child.send('exit');
  await once(child, 'exit');
  return { rate: (messages * 1000) / elapsed, cpuPerMsg: cpu / Math.max(1, messages) };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 2.5);
  const rows: string[][] = [['message', 'conns', 'raw msg/s', 'tsbeast msg/s', 'ratio', 'raw µs/msg', 'tsbeast µs/msg', 'ratio']];
  for (const size of [1024, 64 * 1024]) {
    for (const conns of [1, 64]) {
      const raw = await runCase('raw', size, conns, seconds * 1000);
      const ts = await runCase('tsbeast', size, conns, seconds * 1000);
      rows.push([
        size === 1024 ? '1 KiB' : '64 KiB',
        String(conns),
        raw.rate.toFixed(0),
        ts.rate.toFixed(0),
        (ts.rate / raw.rate).toFixed(2),
        raw.cpuPerMsg.toFixed(1),
        ts.cpuPerMsg.toFixed(1),
        (ts.cpuPerMsg / raw.cpuPerMsg).toFixed(2),
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`TCP echo, ${seconds} s per case after ${WARMUP_MS} ms warm-up; server CPU per message (user+system)`);
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '));
}

if (process.argv[2] === 'server') void serve(process.argv[3] as Impl);
else await main();
