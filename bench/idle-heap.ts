/**
 * Idle connections, object by object: what one idle WebSocket connection holds on a server's heap,
 * grouped by constructor. The server (tsbeast over a TcpStream with `Timeout.suggested('server')`,
 * tsbeast over a bare TcpSocket, or `ws`) runs in a child process; a heap snapshot is written
 * before and after N connections opened and went idle, and the self sizes of the objects in each
 * snapshot are summed by type and constructor name. The difference divided by N is what one
 * connection costs, line by line. More precise and repeatable than bench/idle-memory's
 * `heapUsed` (a snapshot counts only what is reachable), but it says nothing of RSS.
 *
 *   node dist/bench/idle-heap.js [connections] [server...]        (default 1000, all three)
 */

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import type net from 'node:net';
import { open } from './echo-load.js';
import { serve, type ServerKind, type ServerMessage } from './echo-servers.js';
import { fmt, printTable } from './report.js';

const self = fileURLToPath(import.meta.url);
const allServers: ServerKind[] = ['tsbeast-tcpstream', 'tsbeast-callback', 'ws'];

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size summed by "type constructor-name" over every node of a snapshot file. */
function groups(file: string): Map<string, { bytes: number; count: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    // Strings, numbers and code are grouped by type only: their names are their contents.
    const named = !['string', 'number', 'concatenated string', 'sliced string', 'code'].includes(type);
    const key = named ? `${type} ${s.strings[s.nodes[i + nameAt]!]!.slice(0, 60)}` : type;
    const g = out.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += s.nodes[i + sizeAt]!;
    g.count++;
    out.set(key, g);
  }
  return out;
}

function snapshotNow(path: string): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  writeHeapSnapshot(path);
}

async function measure(kind: ServerKind, n: number): Promise<{ diff: Map<string, { bytes: number; count: number }>; heapUsed: number }> {
  const server = fork(self, ['server', kind], { execArgv: ['--expose-gc'] });
  const [hello] = (await once(server, 'message')) as [ServerMessage];
  if (!('port' in hello)) throw new Error(`${kind} did not start`);
  const dir = tmpdir();
  const [before, after] = [join(dir, `idle-heap-${process.pid}-a.heapsnapshot`), join(dir, `idle-heap-${process.pid}-b.heapsnapshot`)];
  /** Writes a snapshot; resolves with heapUsed just after it (after the GC it made). */
  const snap = async (path: string): Promise<number> => {
    const done = once(server, 'message') as Promise<[{ heapUsed: number }]>;
    server.send({ snapshot: path });
    return (await done)[0].heapUsed;
  };
  // Warm-up connections, in both snapshots: the code V8 compiles and the shared state made lazily
  // on the first connections are not per connection (with one, compiled code was 0.8 KB of the difference).
  const warm: net.Socket[] = [];
  for (let i = 0; i < 200; i++) warm.push((await open(hello.port, 'ws')).s);
  await new Promise((r) => setTimeout(r, 200));
  const usedBefore = await snap(before);
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i++) socks.push((await open(hello.port, 'ws')).s);
  await new Promise((r) => setTimeout(r, 500));
  const usedAfter = await snap(after);
  for (const s of [...socks, ...warm]) s.destroy();
  server.send('exit');
  await once(server, 'exit');
  const a = groups(before);
  const b = groups(after);
  rmSync(before);
  rmSync(after);
  const diff = new Map<string, { bytes: number; count: number }>();
  for (const [key, g] of b) {
    const o = a.get(key) ?? { bytes: 0, count: 0 };
    diff.set(key, { bytes: (g.bytes - o.bytes) / n, count: (g.count - o.count) / n });
  }
  return { diff, heapUsed: (usedAfter - usedBefore) / n };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const servers = process.argv.length > 3 ? (process.argv.slice(3) as ServerKind[]) : allServers;
  for (const kind of servers) {
    const { diff, heapUsed } = await measure(kind, n);
    const rows = [...diff].filter(([, g]) => Math.abs(g.bytes) >= 4).sort((x, y) => y[1].bytes - x[1].bytes);
    const total = [...diff.values()].reduce((t, g) => t + g.bytes, 0);
    // Compiled code (V8 optimising as the connections open) is not per connection but moves run to run.
    const code = [...diff].filter(([k]) => k.startsWith('code')).reduce((t, [, g]) => t + g.bytes, 0);
    console.log(
      `\n${kind}: ${fmt(total - code)} B of heap per idle connection without compiled code (${fmt(total)} B with it; ` +
        `${n} connections, self sizes, snapshot difference); heapUsed after the warm-up: ${fmt(heapUsed)} B`,
    );
    printTable([['B/conn', 'objects/conn', 'type and constructor'], ...rows.map(([k, g]) => [fmt(g.bytes), fmt(g.count, 2), k])]);
  }
}

if (process.argv[2] === 'server') {
  await serve(process.argv[3] as ServerKind);
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && 'snapshot' in m) {
      snapshotNow((m as { snapshot: string }).snapshot);
      process.send!({ heapUsed: process.memoryUsage().heapUsed });
    }
  });
} else {
  await main();
}
