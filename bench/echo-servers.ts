/**
 * The echo servers of bench/echo, one per child process so that each one's CPU time is its own:
 * tsbeast with the callback token, tsbeast with the Promise token, `ws`, and a raw `node:net`
 * echo (no framing: the ceiling). Each prints nothing; it reports its port, and its CPU time on
 * request, over IPC. Benchmark code only: the library never imports it.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import { WebSocketServer } from 'ws';
import { TcpStream } from '../lib/beast/core/index.js';
import { Stream, Timeout } from '../lib/beast/websocket/index.js';
import type { AsyncStream } from '../lib/net/stream.js';
import { bindAbortSignal, Endpoint, FlatBuffer, IoContext, TcpAcceptor, TcpSocket } from '../lib/net/index.js';

/** `ws-js` is `ws` started with WS_NO_BUFFER_UTIL and WS_NO_UTF_8_VALIDATE: no native addons. */
/** `tsbeast-tcpstream` is the examples' configuration: callbacks over a TcpStream with `Timeout.suggested('server')`. */
export type ServerKind = 'tsbeast-callback' | 'tsbeast-promise' | 'tsbeast-abort' | 'tsbeast-tcpstream' | 'ws' | 'ws-js' | 'raw';
export type ServerMessage = { port: number } | { cpu: number; rss: number; heap: number };

function echoWithCallbacks(ws: Stream<AsyncStream & { close(): void }>): void {
  const b = new FlatBuffer();
  const read = (): void =>
    ws.asyncRead(b, (ec) => {
      if (ec !== null) return ws.nextLayer().close();
      ws.binary(ws.gotBinary());
      ws.asyncWrite(b.data(), (wec) => {
        if (wec !== null) return ws.nextLayer().close();
        b.consume(b.size());
        read();
      });
    });
  ws.asyncAccept((ec) => (ec !== null ? ws.nextLayer().close() : read()));
}

async function echoWithPromises(ws: Stream<TcpSocket>): Promise<void> {
  const b = new FlatBuffer();
  try {
    await ws.asyncAccept();
    for (;;) {
      await ws.asyncRead(b);
      ws.binary(ws.gotBinary());
      await ws.asyncWrite(b.data());
      b.consume(b.size());
    }
  } catch {
    ws.nextLayer().close();
  }
}

/** Promises with every operation bound to the connection's AbortSignal (one listener per operation). */
async function echoWithAbortSignal(ws: Stream<TcpSocket>): Promise<void> {
  const b = new FlatBuffer();
  const signal = new AbortController().signal;
  try {
    await ws.asyncAccept(bindAbortSignal(signal));
    for (;;) {
      await ws.asyncRead(b, bindAbortSignal(signal));
      ws.binary(ws.gotBinary());
      await ws.asyncWrite(b.data(), bindAbortSignal(signal));
      b.consume(b.size());
    }
  } catch {
    ws.nextLayer().close();
  }
}

async function tsbeastServer(style: 'callback' | 'promise' | 'abort' | 'tcpstream'): Promise<number> {
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
  const accept = (): void =>
    acceptor.asyncAccept((ec, sock) => {
      if (ec !== null) return;
      sock.setOption(TcpSocket.noDelay(true));
      if (style === 'tcpstream') {
        // As examples/echo_server.ts sets it up.
        const ws = new Stream(new TcpStream(sock));
        ws.setOption(Timeout.suggested('server'));
        ws.readMessageMax(64 * 1024 * 1024);
        echoWithCallbacks(ws);
        return accept();
      }
      const ws = new Stream(sock);
      ws.readMessageMax(64 * 1024 * 1024);
      if (style === 'promise') void echoWithPromises(ws);
      else if (style === 'abort') void echoWithAbortSignal(ws);
      else echoWithCallbacks(ws);
      accept();
    });
  accept();
  void ioc.run(); // the pending accept keeps it running until the process exits
  await acceptor.asyncListen(511);
  return acceptor.localEndpoint().port;
}

async function wsServer(): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
  server.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
    sock.on('error', () => sock.terminate());
  });
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function rawServer(): Promise<number> {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => s.destroy());
  });
  server.listen(0, '127.0.0.1', 511);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** Runs the server of `kind` in this (child) process until told to exit. */
export async function serve(kind: ServerKind): Promise<void> {
  const port =
    kind === 'raw' ? await rawServer() : kind === 'ws' || kind === 'ws-js' ? await wsServer() : await tsbeastServer(kind === 'tsbeast-promise' ? 'promise' : kind === 'tsbeast-abort' ? 'abort' : kind === 'tsbeast-tcpstream' ? 'tcpstream' : 'callback');
  let start = process.cpuUsage();
  process.on('message', (cmd: string) => {
    if (cmd === 'start') start = process.cpuUsage();
    if (cmd === 'stop') {
      const d = process.cpuUsage(start);
      // With --expose-gc (the memory benchmark), measure what is live, not what awaits collection.
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      process.send!({ cpu: d.user + d.system, rss: m.rss, heap: m.heapUsed } satisfies ServerMessage);
    }
    if (cmd === 'memory') void settledMemory().then((m) => process.send!(m));
    if (cmd === 'exit') process.exit(0);
  });
  process.send!({ port } satisfies ServerMessage);
}

/**
 * The memory a server holds once freeing has settled (bench/idle-memory, with --expose-gc): a
 * full GC, a pause, a second GC and a pause. V8 gives the pages a GC emptied back to the system
 * from a background thread; read at once, RSS sometimes still counted up to 14 MB of them
 * (measured: RSS above the sum of /proc/self/smaps read a moment later by that much).
 */
async function settledMemory(): Promise<ServerMessage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 500));
  gc?.();
  await pause();
  gc?.();
  await pause();
  const m = process.memoryUsage();
  return { cpu: 0, rss: m.rss, heap: m.heapUsed };
}

const echoScript = fileURLToPath(new URL('./echo.js', import.meta.url));

/** Forks the server of `kind`; `ws-js` is `ws` told by its own switches not to load its addons. */
export async function startServer(kind: ServerKind, execArgv: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const env = kind === 'ws-js' ? { ...process.env, WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' } : process.env;
  const child = fork(echoScript, ['serve', kind], { stdio: 'inherit', env, execArgv });
  const [msg] = (await once(child, 'message')) as [ServerMessage];
  if (!('port' in msg)) throw new Error(`${kind} did not start`);
  return { child, port: msg.port };
}
