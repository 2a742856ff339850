/**
 * Instructions per message on sockets: each server under `valgrind --tool=callgrind`, driven by
 * bench/native's load generator, counts the user-space instructions it executes per message (or
 * per handshake) in one measured window. Unlike CPU time, the count moves little from run to run
 * on a shared machine (repeated runs agree to within about 3% in the message cells; handshakes
 * vary more, a major collection or a late compilation falling in the window), so it shows changes
 * of several percent that seconds cannot. It leaves out the kernel: `strace -c` shows the servers making the
 * same system calls per message, so the kernel's share does not tell them apart (see
 * docs/topics/bench-profile.md, fifth pass).
 *
 *   node dist/bench/server-instructions.js [--cells 16B-1x1,handshake] [--servers tsbeast-example,ws,raw]
 *                                          [--seconds 10] [--node PATH]
 *
 * Needs `valgrind` (with `callgrind_control`) and a C++ compiler for the generator (built as
 * bench/native builds it). Node runs `--single-threaded`, so the collector and the compiler run on
 * the main thread and are counted. Three runs of the generator come first, each a new batch of
 * connections: a fresh server recompiles much of its code when its second batch arrives, and the
 * measured run must not include that. A benchmark, not a test.
 */

import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAll, repoRoot } from './native-build.js';
import { fmt, printTable } from './report.js';

const allServers = ['tsbeast-example', 'tsbeast-tcp', 'ws', 'raw'] as const;
type ServerName = (typeof allServers)[number];

interface Cell {
  name: string;
  size: number;
  conns: number;
  inflight: number;
  handshake: boolean;
}

/** `16B-1x1`, `64KiB-64x16`... or `handshake` (16 lanes: connect, upgrade, close). */
function parseCell(name: string): Cell {
  if (name === 'handshake' || name === 'handshake-16') return { name: 'handshake-16', size: 0, conns: 16, inflight: 1, handshake: true };
  const m = /^(\d+)(B|KiB|MiB)-(\d+)x(\d+)$/.exec(name);
  if (m === null) throw new Error(`a cell is 16B-1x1, 1KiB-64x16, 64KiB-1x1... or handshake, not ${name}`);
  const unit = m[2] === 'B' ? 1 : m[2] === 'KiB' ? 1024 : 1024 * 1024;
  return { name, size: Number(m[1]) * unit, conns: Number(m[3]), inflight: Number(m[4]), handshake: false };
}

const { values: opts } = parseArgs({
  options: {
    cells: { type: 'string', default: '16B-1x1,handshake' },
    servers: { type: 'string', default: 'tsbeast-example,ws,raw' },
    seconds: { type: 'string', default: '10' },
    node: { type: 'string', default: process.execPath },
  },
});
const cells = opts.cells.split(',').map((c) => parseCell(c.trim()));
const servers = opts.servers.split(',').map((s) => s.trim()) as ServerName[];
for (const s of servers) if (!(allServers as readonly string[]).includes(s)) throw new Error(`unknown server ${s}; one of ${allServers.join(', ')}`);
const seconds = Number(opts.seconds);
const dist = join(repoRoot, 'dist');

interface Running {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** Starts `server` under callgrind with instrumentation off; its profile goes to `outFile`(.1, .2...). */
async function start(server: ServerName, outFile: string): Promise<Running> {
  const valgrind = ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, opts.node, '--single-threaded'];
  if (server === 'tsbeast-example') {
    const child = spawn('valgrind', [...valgrind, join(dist, 'examples', 'echo_server.js'), '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout!.setEncoding('utf8');
    let seen = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: string) => {
        seen += d;
        const m = /listening (?:on [\d.]+:)?(\d+)/.exec(seen);
        if (m !== null) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the example exited (${code}) before listening`)));
    });
    return { child, port, stop: async () => void (child.kill('SIGTERM'), await once(child, 'exit')) };
  }
  // bench/echo's servers report their port over IPC; valgrind runs Node in its own process, so the
  // channel Node inherits is the fork's.
  const kind = server === 'tsbeast-tcp' ? 'tsbeast-callback' : server;
  const child = fork(join(dist, 'bench', 'echo.js'), ['serve', kind], { execPath: 'valgrind', execArgv: valgrind, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const [msg] = (await once(child, 'message')) as [{ port?: number }];
  if (msg.port === undefined) throw new Error(`${server} did not start`);
  return { child, port: msg.port, stop: async () => void (child.send('exit'), await once(child, 'exit')) };
}

/** One run of the generator against `port`; the messages (or handshakes) it counted. */
async function load(loadgen: string, server: ServerName, port: number, cell: Cell, window: number): Promise<number> {
  const mode = cell.handshake ? (server === 'raw' ? 'connect' : 'handshake') : server === 'raw' ? 'raw' : 'ws';
  const args = [mode, '--port', String(port), '--size', String(cell.size), '--conns', String(cell.conns), '--inflight', String(cell.inflight), '--seconds', String(window)];
  const child = spawn(loadgen, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`loadgen ${args.join(' ')} failed (${code})`);
  return (JSON.parse(out) as { messages: number }).messages;
}

function callgrindControl(...args: string[]): void {
  const r = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr}`);
}

async function measure(loadgen: string, server: ServerName, cell: Cell, dir: string): Promise<{ messages: number; instructions: number }> {
  const outFile = join(dir, `${server}-${cell.name}.cg`);
  const s = await start(server, outFile);
  try {
    // Under valgrind a server runs some 50 times slower, and the compiler with it: warm-ups as
    // long as the measured run (half as long left Node 24's ws still compiling its handshake).
    for (let i = 0; i < 3; i++) await load(loadgen, server, s.port, cell, seconds);
    callgrindControl('-i', 'on', String(s.child.pid));
    const messages = await load(loadgen, server, s.port, cell, seconds);
    callgrindControl('-i', 'off', String(s.child.pid));
    callgrindControl('-d', String(s.child.pid));
    const totals = /^totals: (\d+)/m.exec(readFileSync(`${outFile}.1`, 'utf8'));
    if (totals === null) throw new Error(`no totals in ${outFile}.1`);
    return { messages, instructions: Number(totals[1]) };
  } finally {
    await s.stop();
  }
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('server-instructions: valgrind is not installed (apt-get install valgrind); nothing measured');
    return;
  }
  const { loadgen } = await buildAll();
  const dir = mkdtempSync(join(tmpdir(), 'tsbeast-cg-'));
  try {
    console.log(
      `user-space instructions per message (per handshake), each server under callgrind, Node ${spawnSync(opts.node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ` +
        `${seconds} s measured after three warm-up runs; ratios to ws in the same run\n`,
    );
    const rows = [['cell', 'server', 'messages', 'instructions per message', 'vs ws']];
    for (const cell of cells) {
      const per = new Map<ServerName, number>();
      for (const server of servers) {
        const r = await measure(loadgen, server, cell, dir);
        per.set(server, r.instructions / r.messages);
        rows.push([cell.name, server, fmt(r.messages, 0), fmt(r.instructions / r.messages, 0), '']);
      }
      const ws = per.get('ws');
      for (const row of rows) if (row[0] === cell.name && ws !== undefined) row[4] = fmt(per.get(row[1] as ServerName)! / ws, 2);
    }
    printTable(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
