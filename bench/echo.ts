/**
 * Echo benchmark (`npm run bench`): one load generator against four echo servers on loopback, in
 * one run: tsbeast (callback token), tsbeast (Promise token), tsbeast (Promise token bound to an
 * AbortSignal), `ws`, and a raw `node:net` echo.
 * Every server and the generator run in processes of their own; the table gives messages/s, MB/s,
 * p50 / p99 latency, the server's CPU time per message, and the ratios to `ws`.
 *
 *   node dist/bench/echo.js [seconds-per-cell]        (default 3)
 *
 * A benchmark, not a test: the machine is shared and noisy, so compare ratios within one run.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { runHandshakes, runLoad, type LoadResult, type LoadSpec } from './echo-load.js';
import { serve, type ServerKind, type ServerMessage } from './echo-servers.js';

const self = fileURLToPath(import.meta.url);
const kinds: ServerKind[] = ['tsbeast-callback', 'tsbeast-promise', 'tsbeast-abort', 'ws', 'raw'];

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

function ask<T>(child: ChildProcess, msg: unknown): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(msg as string);
  return reply.then(([m]) => m);
}

async function startServer(kind: ServerKind): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(self, ['serve', kind], { stdio: 'inherit' });
  const [msg] = (await once(child, 'message')) as [ServerMessage];
  if (!('port' in msg)) throw new Error(`${kind} did not start`);
  return { child, port: msg.port };
}

async function measure(server: ChildProcess, request: LoadRequest): Promise<LoadResult & { cpu: number; rss: number }> {
  const loader = fork(self, ['load'], { stdio: 'inherit' });
  server.send('start');
  const result = await ask<LoadResult>(loader, request);
  const stats = await ask<ServerMessage>(server, 'stop');
  loader.kill();
  if (!('cpu' in stats)) throw new Error('no server stats');
  return { ...result, cpu: stats.cpu, rss: stats.rss };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3);
  const ms = seconds * 1000;
  const servers = new Map<ServerKind, { child: ChildProcess; port: number }>();
  for (const k of kinds) servers.set(k, await startServer(k));
  console.log(`echo benchmark: ${seconds} s per cell, Node ${process.version}, ${kinds.length} servers\n`);
  const header = ['cell', 'server', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'srv CPU us/msg', 'msgs/s vs ws', 'CPU/msg vs ws'];
  const rows: string[][] = [header];
  for (const cell of cells) {
    const results = new Map<ServerKind, LoadResult & { cpu: number }>();
    for (const k of kinds) {
      if (cell.handshakes && k === 'raw') continue;
      const { child, port } = servers.get(k)!;
      const request: LoadRequest = cell.handshakes
        ? { kind: 'handshakes', port, lanes: cell.conns, ms }
        : { kind: 'load', spec: { port, mode: k === 'raw' ? 'raw' : 'ws', size: cell.size, conns: cell.conns, inflight: cell.inflight, ms } };
      results.set(k, await measure(child, request));
    }
    const ws = results.get('ws')!;
    const wsRate = ws.messages / ws.ms;
    const wsCpu = ws.cpu / Math.max(1, ws.messages);
    for (const [k, r] of results) {
      const rate = (r.messages / r.ms) * 1000;
      const cpuPer = r.cpu / Math.max(1, r.messages);
      rows.push([
        cell.name,
        k,
        fmt(rate),
        fmt((r.bytes / r.ms) * 1000 / 1e6, 1),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        fmt(cpuPer, 2),
        fmt(r.messages / r.ms / wsRate, 2),
        fmt(cpuPer / wsCpu, 2),
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const { child } of servers.values()) child.send('exit');
}

const [role, arg] = process.argv.slice(2);
if (role === 'serve') {
  void serve(arg as ServerKind);
} else if (role === 'load') {
  process.once('message', (req: LoadRequest) => {
    const run = req.kind === 'load' ? runLoad(req.spec) : runHandshakes(req.port, req.lanes, req.ms);
    void run.then((r) => {
      process.send!(r);
    });
  });
} else {
  void main();
}
