/**
 * Idle connections: how much heap and RSS one idle WebSocket connection costs a server, tsbeast
 * against `ws`, in one run. Each server runs in a child process started with --expose-gc; a
 * client process opens N connections (handshake done, then silence) and keeps them open; the
 * server's memory is read after a full GC before and after, and divided by N.
 *
 *   node dist/bench/idle-memory.js [connections]        (default 10000)
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { open } from './echo-load.js';
import type { ServerKind, ServerMessage } from './echo-servers.js';
import { record } from './report.js';

const self = fileURLToPath(import.meta.url);
const echo = fileURLToPath(new URL('./echo.js', import.meta.url));

async function memory(server: ChildProcess): Promise<{ rss: number; heap: number }> {
  const reply = once(server, 'message') as Promise<[ServerMessage]>;
  server.send('stop');
  const [m] = await reply;
  if (!('rss' in m)) throw new Error('no memory figures');
  return { rss: m.rss, heap: m.heap };
}

async function measure(kind: ServerKind, n: number): Promise<{ rss: number; heap: number }> {
  const server = fork(echo, ['serve', kind], { execArgv: ['--expose-gc'] });
  const [hello] = (await once(server, 'message')) as [ServerMessage];
  if (!('port' in hello)) throw new Error(`${kind} did not start`);
  await new Promise((r) => setTimeout(r, 300));
  const before = await memory(server);
  const clients = fork(self, ['clients', String(hello.port), String(n)]);
  await once(clients, 'message'); // all connected
  await new Promise((r) => setTimeout(r, 1000));
  const after = await memory(server);
  clients.kill();
  await once(clients, 'exit');
  server.send('exit');
  await once(server, 'exit');
  return { rss: (after.rss - before.rss) / n, heap: (after.heap - before.heap) / n };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10000);
  console.log(`idle connections: ${n} per server, memory per connection after a full GC\n`);
  const rows: string[] = [];
  const results = new Map<ServerKind, { rss: number; heap: number }>();
  for (const kind of ['tsbeast-callback', 'ws'] as ServerKind[]) results.set(kind, await measure(kind, n));
  const ws = results.get('ws')!;
  rows.push('server            heap/conn   rss/conn   heap vs ws  rss vs ws');
  for (const [kind, r] of results) {
    rows.push(
      `${kind.padEnd(16)}  ${(r.heap / 1024).toFixed(1).padStart(6)} KiB ${(r.rss / 1024).toFixed(1).padStart(6)} KiB` +
        `  ${(r.heap / ws.heap).toFixed(2).padStart(9)}  ${(r.rss / ws.rss).toFixed(2).padStart(9)}`,
    );
  }
  console.log(rows.join('\n'));
  const ts = results.get('tsbeast-callback')!;
  const kib = (b: number): number => b / 1024;
  record([
    { target: `heap per idle connection (${n})`, measured: kib(ts.heap), anchor: kib(ws.heap), unit: 'KiB', anchorName: 'ws', limit: 1 },
    { target: `RSS per idle connection (${n})`, measured: kib(ts.rss), anchor: kib(ws.rss), unit: 'KiB', anchorName: 'ws', limit: 1 },
  ]);
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
