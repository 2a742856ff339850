/**
 * Idle connections: how much heap and RSS one idle WebSocket connection costs a server, tsbeast
 * against `ws`. Each server runs in a child process started with --expose-gc; a client process
 * opens N connections (handshake done, then silence) and keeps them open. The server's memory is
 * read (settled: see `settledMemory` in echo-servers.ts) before, just after the connections are
 * open, and again after they have been idle for a while, and divided by N. Every server is
 * measured `rounds` times, interleaved, and the median of each figure kept.
 *
 *   node dist/bench/idle-memory.js [connections]        (default 10000)
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { open } from './echo-load.js';
import type { ServerKind, ServerMessage } from './echo-servers.js';
import { fmt, printTable, record, rounds, type Figure } from './report.js';

const self = fileURLToPath(import.meta.url);
const echo = fileURLToPath(new URL('./echo.js', import.meta.url));

/**
 * How long the connections stay idle before the last reading. Opening thousands of connections
 * in a burst grows V8's young generation to its largest size (32 MiB of semi-spaces on Node 20,
 * about 2.4 KiB per connection at 10,000, the same for both servers and not proportional to N);
 * once the server has seen no allocation for about 8 s, V8's memory reducer gives it back. Read
 * just after the burst, that space hid the per-connection difference and moved run to run.
 */
const idleMs = Number(process.env['TSBEAST_IDLE_MS'] ?? 15_000);

// tsbeast as the examples run it (over a TcpStream, Timeout.suggested('server')), over a bare TcpSocket, and ws.
const servers: ServerKind[] = ['tsbeast-tcpstream', 'tsbeast-callback', 'ws'];

interface Sample {
  heap: number;
  /** RSS per connection just after the connections opened. */
  rssAtOnce: number;
  /** RSS per connection after `idleMs` of silence. */
  rss: number;
}

async function memory(server: ChildProcess): Promise<{ rss: number; heap: number }> {
  const reply = once(server, 'message') as Promise<[ServerMessage]>;
  server.send('memory');
  const [m] = await reply;
  if (!('rss' in m)) throw new Error('no memory figures');
  return { rss: m.rss, heap: m.heap };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measure(kind: ServerKind, n: number): Promise<Sample> {
  const server = fork(echo, ['serve', kind], { execArgv: ['--expose-gc'] });
  const [hello] = (await once(server, 'message')) as [ServerMessage];
  if (!('port' in hello)) throw new Error(`${kind} did not start`);
  await sleep(300);
  const before = await memory(server);
  const clients = fork(self, ['clients', String(hello.port), String(n)]);
  await once(clients, 'message'); // all connected
  await sleep(1000);
  const atOnce = await memory(server);
  await sleep(idleMs);
  const idle = await memory(server);
  clients.kill();
  await once(clients, 'exit');
  server.send('exit');
  await once(server, 'exit');
  return { heap: (idle.heap - before.heap) / n, rssAtOnce: (atOnce.rss - before.rss) / n, rss: (idle.rss - before.rss) / n };
}

const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const kib = (b: number): number => b / 1024;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10000);
  console.log(
    `idle connections: ${n} per server, memory per connection (settled after a full GC), ${rounds} rounds interleaved, ` +
      `the median kept; RSS just after opening and after ${idleMs / 1000} s idle\n`,
  );
  const samples = new Map<ServerKind, Sample[]>(servers.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) for (const kind of servers) samples.get(kind)!.push(await measure(kind, n));
  const med = (kind: ServerKind, key: keyof Sample): number => medianOf(samples.get(kind)!.map((s) => s[key]));
  const all = (kind: ServerKind, key: keyof Sample): string => samples.get(kind)!.map((s) => fmt(kib(s[key]), 2)).join(' ');
  const rows: string[][] = [['server', 'figure', 'median KiB', 'vs ws', 'each round (KiB)']];
  for (const kind of servers) {
    for (const [key, name] of [['heap', 'heap'], ['rssAtOnce', 'RSS at once'], ['rss', 'RSS idle']] as const) {
      rows.push([kind, name, fmt(kib(med(kind, key)), 2), fmt(med(kind, key) / med('ws', key), 2), all(kind, key)]);
    }
  }
  printTable(rows);
  const figure = (kind: ServerKind, key: keyof Sample, what: string): Figure => ({
    target: `${what} per idle connection (${n}, ${kind === 'tsbeast-tcpstream' ? 'TcpStream with suggested timeouts' : 'TcpSocket'})`,
    measured: kib(med(kind, key)),
    anchor: kib(med('ws', key)),
    unit: 'KiB',
    anchorName: 'ws',
    limit: 1,
  });
  const kinds = ['tsbeast-tcpstream', 'tsbeast-callback'] as const;
  record(kinds.flatMap((kind) => [figure(kind, 'heap', 'heap'), figure(kind, 'rss', 'RSS')]));
}

const [role, port, count] = process.argv.slice(2);
if (role === 'clients') {
  // Open in waves, so the server's backlog is never the limit; then hold everything open.
  const sockets: unknown[] = [];
  const total = Number(count);
  for (let i = 0; i < total; i += 200) {
    const wave = Math.min(200, total - i);
    sockets.push(...(await Promise.all(Array.from({ length: wave }, () => open(Number(port), 'ws')))));
  }
  process.send!('connected');
  setInterval(() => sockets.length, 60_000);
} else {
  void main();
}
