/**
 * Echo benchmark (`npm run bench`): one load generator against four echo servers on loopback, in
 * one run: tsbeast (callback token), tsbeast (Promise token), tsbeast (Promise token bound to an
 * AbortSignal), `ws` with its native addons, `ws` without them, and a raw `node:net` echo.
 * Every server and the generator run in processes of their own; the table gives messages/s, MB/s,
 * p50 / p99 latency, the server's CPU time per message, and its ratio to each anchor (both `ws`
 * and raw `node:net`).
 *
 *   node dist/bench/echo.js [seconds-per-measurement]        (default 1.5; 3 rounds per cell)
 *
 * A benchmark, not a test: the machine is shared and noisy, so compare ratios within one run.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { runHandshakes, runLoad, type LoadResult, type LoadSpec, type MeasureWindow } from './echo-load.js';
import { serve, startServer, type ServerKind, type ServerMessage } from './echo-servers.js';
import { fmt, median, printTable, record, rounds, type Figure } from './report.js';

const self = fileURLToPath(import.meta.url);
/** The servers, in the order of the table; `ws` has its native addons, `ws-js` runs without them. */
const kinds: ServerKind[] = ['tsbeast-callback', 'tsbeast-promise', 'tsbeast-abort', 'ws', 'ws-js', 'raw'];
/** The anchors every row is divided by. */
const anchors: ServerKind[] = ['ws', 'ws-js', 'raw'];

interface Cell {
  name: string;
  size: number;
  conns: number;
  inflight: number;
  handshakes?: boolean;
}

const cells: Cell[] = [
  { name: '20 B, 64 conns x 16', size: 20, conns: 64, inflight: 16 },
  { name: '1 KiB, 64 conns x 16', size: 1024, conns: 64, inflight: 16 },
  { name: '64 KiB, 1 conn', size: 64 * 1024, conns: 1, inflight: 1 },
  { name: '1 MiB, 1 conn', size: 1024 * 1024, conns: 1, inflight: 1 },
  { name: 'handshakes, 16 lanes', size: 0, conns: 16, inflight: 0, handshakes: true },
];

type LoadRequest = { kind: 'load'; spec: LoadSpec } | { kind: 'handshakes'; port: number; lanes: number; ms: number };
/** What the loader process sends back: the window's edges, then the result. */
type LoaderMessage = 'opened' | 'closed' | LoadResult;

function ask<T>(child: ChildProcess, msg: unknown): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(msg as string);
  return reply.then(([m]) => m);
}

/**
 * One measurement: the loader tells this process when its measured window opens and closes, and
 * the server's CPU time is read over that window only (see `MeasureWindow`).
 */
async function measure(server: ChildProcess, request: LoadRequest): Promise<LoadResult & { cpu: number; rss: number }> {
  const loader = fork(self, ['load'], { stdio: 'inherit' });
  let stats: Promise<ServerMessage> | undefined;
  const result = await new Promise<LoadResult>((resolve) => {
    loader.on('message', (m: LoaderMessage) => {
      if (m === 'opened') server.send('start');
      else if (m === 'closed') stats = ask<ServerMessage>(server, 'stop');
      else resolve(m);
    });
    loader.send(request);
  });
  loader.kill();
  const s = await stats;
  if (s === undefined || !('cpu' in s)) throw new Error('no server stats');
  return { ...result, cpu: s.cpu, rss: s.rss };
}

type Measured = LoadResult & { cpu: number };
const cpuPer = (r: Measured): number => r.cpu / Math.max(1, r.messages);
const rate = (r: Measured): number => (r.messages / r.ms) * 1000;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 1.5);
  const ms = seconds * 1000;
  const servers = new Map<ServerKind, { child: ChildProcess; port: number }>();
  for (const k of kinds) servers.set(k, await startServer(k));
  console.log(
    `echo benchmark: ${seconds} s per measurement, ${rounds} rounds interleaved, the median kept; Node ${process.version};\n` +
      'server CPU µs per message, and its ratio to each anchor\n',
  );
  const header = ['cell', 'server', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU µs/msg', ...anchors.map((a) => `CPU vs ${a}`)];
  const rows: string[][] = [header];
  const all = new Map<string, Map<ServerKind, Measured>>();
  for (const cell of cells) {
    // Interleaved rounds: a burst of noise from the machine's other tenants then spoils one
    // measurement of several servers rather than every measurement of one.
    const samples = new Map<ServerKind, Measured[]>();
    for (let round = 0; round < rounds; round++) {
      for (const k of kinds) {
        if (cell.handshakes && k === 'raw') continue;
        const { child, port } = servers.get(k)!;
        const request: LoadRequest = cell.handshakes
          ? { kind: 'handshakes', port, lanes: cell.conns, ms }
          : { kind: 'load', spec: { port, mode: k === 'raw' ? 'raw' : 'ws', size: cell.size, conns: cell.conns, inflight: cell.inflight, ms } };
        const list = samples.get(k) ?? [];
        list.push(await measure(child, request));
        samples.set(k, list);
      }
    }
    const results = new Map<ServerKind, Measured>([...samples].map(([k, list]) => [k, median(list, cpuPer)]));
    all.set(cell.name, results);
    for (const [k, r] of results) {
      rows.push([
        cell.name,
        k,
        fmt(rate(r)),
        fmt(((r.bytes / r.ms) * 1000) / 1e6, 1),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        fmt(cpuPer(r), 2),
        ...anchors.map((a) => (results.has(a) ? fmt(cpuPer(r) / cpuPer(results.get(a)!), 2) : '-')),
      ]);
    }
  }
  printTable(rows);
  for (const { child } of servers.values()) child.send('exit');
  record(figures(all));
}

/** The targets, as measured in this run. */
function figures(all: Map<string, Map<ServerKind, Measured>>): Figure[] {
  const get = (cell: Cell, k: ServerKind): Measured => all.get(cell.name)!.get(k)!;
  const [small, kib, big, huge, hs] = cells as [Cell, Cell, Cell, Cell, Cell];
  const cpu = (cell: Cell, k: ServerKind, anchor: ServerKind, limit: number, what: string): Figure => ({
    target: what,
    measured: cpuPer(get(cell, k)),
    anchor: cpuPer(get(cell, anchor)),
    unit: 'µs/msg',
    anchorName: anchor,
    limit,
  });
  return [
    cpu(small, 'tsbeast-callback', 'ws', 1, `server CPU/msg, ${small.name}`),
    cpu(kib, 'tsbeast-callback', 'ws', 1, `server CPU/msg, ${kib.name}`),
    cpu(big, 'tsbeast-callback', 'raw', 1.3, `server CPU/msg, ${big.name}`),
    cpu(huge, 'tsbeast-callback', 'raw', 1.3, `server CPU/msg, ${huge.name}`),
    cpu(small, 'tsbeast-promise', 'tsbeast-callback', 1.1, `Promise token CPU/msg, ${small.name}`),
    cpu(small, 'tsbeast-abort', 'tsbeast-callback', 1.15, `AbortSignal-bound CPU/msg, ${small.name}`),
    { target: 'handshakes/s, 16 lanes', measured: rate(get(hs, 'tsbeast-callback')), anchor: rate(get(hs, 'ws')), unit: '/s', anchorName: 'ws', limit: 2, atLeast: true },
    cpu(hs, 'tsbeast-callback', 'ws', 0.5, 'server CPU/handshake'),
  ];
}

const [role, arg] = process.argv.slice(2);
if (role === 'serve') {
  void serve(arg as ServerKind);
} else if (role === 'load') {
  process.once('message', (req: LoadRequest) => {
    const window: MeasureWindow = { opened: () => process.send!('opened'), closed: () => process.send!('closed') };
    const run = req.kind === 'load' ? runLoad(req.spec, window) : runHandshakes(req.port, req.lanes, req.ms, window);
    void run.then((r) => {
      process.send!(r);
    });
  });
} else {
  void main();
}
