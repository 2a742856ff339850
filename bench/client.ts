/**
 * Client role: how fast a tsbeast client drives an echo server, against a `ws` client with its
 * native addons, in one run. The echo server is the same for both (`ws` with its addons, in a
 * child process of its own); each client runs in a child process too, so its CPU time is its own.
 * A client keeps `inflight` messages outstanding on each of its connections: it sends a new one
 * whenever an echo arrives. Client frames are masked, so this measures the masking path the echo
 * benchmark's pre-masked generator leaves out. bench/native also runs, through this file's client
 * mode, a tsbeast client made as examples/echo_client.ts makes it (the front door's `connect`).
 *
 *   node dist/bench/client.js [seconds-per-measurement]        (default 1.5; 3 rounds per cell)
 *
 * A benchmark, not a test: compare ratios within one run.
 */

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Stream } from '../lib/beast/websocket/index.js';
import { connect } from '../lib/front/index.js';
import { Endpoint, IoContext, FlatBuffer, TcpSocket, type AsyncStream } from '../lib/net/index.js';
import { startServer } from './echo-servers.js';
import { fmt, median, printTable, record, rounds, type Figure } from './report.js';

const self = fileURLToPath(import.meta.url);
/** `tsbeast`: a stream over a bare `TcpSocket`; `tsbeast-example`: from `connect`, as examples/echo_client.ts. */
type ClientKind = 'tsbeast' | 'tsbeast-example' | 'ws';
interface ClientSpec {
  kind: ClientKind;
  port: number;
  size: number;
  conns: number;
  inflight: number;
  ms: number;
}
interface ClientResult {
  messages: number;
  ms: number;
  cpu: number;
}

const cells = [
  { name: '20 B, 64 conns x 16', size: 20, conns: 64, inflight: 16 },
  { name: '1 KiB, 64 conns x 16', size: 1024, conns: 64, inflight: 16 },
  { name: '64 KiB, 1 conn x 4', size: 64 * 1024, conns: 1, inflight: 4 },
];

/** Counts echoes; `measuring` is set by the driver for the timed window only. */
const counter = { messages: 0, measuring: false, running: true };
function echoed(): void {
  if (counter.measuring) counter.messages++;
}

/** One tsbeast connection: a read loop, and a write loop that sends one message per echo. */
async function tsbeastConnection(ioc: IoContext, spec: ClientSpec, payload: Uint8Array): Promise<void> {
  const endpoint = new Endpoint('127.0.0.1', spec.port);
  let ws: Stream<AsyncStream>;
  if (spec.kind === 'tsbeast-example') {
    // As examples/echo_client.ts makes its client: the front door's connect (a stream over a
    // TcpStream, TCP_NODELAY, the suggested client timeouts, one frame per message), here on the
    // measurement's IoContext.
    ws = await connect(`ws://127.0.0.1:${spec.port}/`, { executor: ioc });
  } else {
    const sock = new TcpSocket(ioc);
    await sock.asyncConnect(endpoint);
    sock.setOption(TcpSocket.noDelay(true));
    ws = new Stream(sock);
    await ws.asyncHandshake(`127.0.0.1:${spec.port}`, '/');
  }
  ws.binary(true);
  ws.readMessageMax(64 * 1024 * 1024);
  let due = spec.inflight;
  let writing = false;
  const write = (): void => {
    if (writing || due === 0 || !counter.running) return;
    writing = true;
    due--;
    ws.asyncWrite(payload, (ec) => {
      writing = false;
      if (ec === null) write();
    });
  };
  const b = new FlatBuffer();
  const read = (): void =>
    ws.asyncRead(b, (ec) => {
      if (ec !== null) return;
      b.consume(b.size());
      echoed();
      due++;
      write();
      read();
    });
  read();
  write();
}

async function wsConnection(spec: ClientSpec, payload: Buffer): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${spec.port}/`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await once(ws, 'open');
  ws.on('message', () => {
    echoed();
    if (counter.running) ws.send(payload, { binary: true });
  });
  for (let i = 0; i < spec.inflight; i++) ws.send(payload, { binary: true });
}

async function runClient(spec: ClientSpec): Promise<ClientResult> {
  const payload = Buffer.alloc(spec.size, 0x61);
  const ioc = new IoContext();
  const running = spec.kind !== 'ws' ? ioc.run() : undefined;
  const open = Array.from({ length: spec.conns }, () => (spec.kind !== 'ws' ? tsbeastConnection(ioc, spec, payload) : wsConnection(spec, payload)));
  await Promise.all(open);
  await new Promise((r) => setTimeout(r, Math.min(500, spec.ms / 4)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  counter.measuring = true;
  await new Promise((r) => setTimeout(r, spec.ms));
  counter.measuring = false;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  counter.running = false;
  void running;
  return { messages: counter.messages, ms, cpu: cpu.user + cpu.system };
}

async function measure(spec: ClientSpec): Promise<ClientResult> {
  const child = fork(self, ['client'], { stdio: 'inherit' });
  const reply = once(child, 'message') as Promise<[ClientResult]>;
  child.send(spec);
  const [r] = await reply;
  child.kill();
  await once(child, 'exit');
  return r;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 1.5);
  const server = await startServer('ws');
  console.log(`client role: ${seconds} s per measurement, ${rounds} rounds, the median kept, against a ws echo server (with addons); client CPU µs per message\n`);
  const rows = [['cell', 'client', 'msgs/s', 'CPU µs/msg', 'msgs/s vs ws', 'CPU vs ws']];
  const figures: Figure[] = [];
  for (const cell of cells) {
    const samples = new Map<ClientKind, ClientResult[]>([['tsbeast', []], ['ws', []]]);
    for (let round = 0; round < rounds; round++) {
      for (const [kind, list] of samples) list.push(await measure({ kind, port: server.port, ...cell, ms: seconds * 1000 }));
    }
    const r = new Map([...samples].map(([kind, list]) => [kind, median(list, (x) => x.messages / x.ms)]));
    const ws = r.get('ws')!;
    const rate = (x: ClientResult): number => (x.messages / x.ms) * 1000;
    const cpu = (x: ClientResult): number => x.cpu / Math.max(1, x.messages);
    for (const [kind, x] of r) rows.push([cell.name, kind, fmt(rate(x)), fmt(cpu(x), 2), fmt(rate(x) / rate(ws), 2), fmt(cpu(x) / cpu(ws), 2)]);
    figures.push({ target: `client msgs/s, ${cell.name}`, measured: rate(r.get('tsbeast')!), anchor: rate(ws), unit: '/s', anchorName: 'ws client', limit: 1, atLeast: true });
  }
  printTable(rows);
  server.child.send('exit');
  record(figures);
}

if (process.argv[2] === 'client') {
  // Exits (rather than being killed) when the parent lets go, so that --cpu-prof can write its profile.
  process.once('disconnect', () => process.exit(0));
  process.once('message', (spec: ClientSpec) => {
    void runClient(spec).then((r) => process.send!(r));
  });
} else {
  void main();
}
