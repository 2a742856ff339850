/**
 * The native benchmark (`npm run bench:native`, also part of `npm run bench`): a single-threaded
 * C++ load generator on Boost.Beast (bench/loadgen/loadgen.cpp) against six echo servers, in one
 * run, on 16 cells (16 B, 1 KiB, 64 KiB, 1 MiB x 1 and 64 connections x 1 and 16 messages in
 * flight) and handshakes; then the client role, tsbeast clients against the `ws` client, on the
 * same message cells. See bench/README.md for the method.
 *
 *   node dist/bench/native.js [--seconds 1.5] [--rounds 3] [--cells LIST] [--servers LIST]
 *                             [--parts server,client] [--client-peer beast|ws] [--node PATH]
 *
 * LIST is comma-separated; a cell is picked by its name or a part of it (`1KiB`, `64x16`,
 * `16B-1x1`, `handshake`). `--node` runs the Node servers and clients on another Node binary.
 * A benchmark, not a test: the machine is shared and noisy, so compare ratios within one run.
 */

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAll, repoRoot } from './native-build.js';
import { fmt, median, printTable, record, type Figure } from './report.js';

/**
 * The servers: tsbeast as examples/echo_server.ts ships it (`Stream<TcpStream>` with
 * `Timeout.suggested('server')`), tsbeast over a bare `TcpSocket` with no timeouts, `ws` with its
 * addons and without, a raw `node:net` echo (no framing: the floor for Node), and Beast's own
 * echo server (C++, asynchronous on one thread as the Node servers are: the far anchor).
 */
const allServers = ['tsbeast-example', 'tsbeast-tcp', 'ws', 'ws-js', 'raw', 'beast'] as const;
type ServerName = (typeof allServers)[number];
const anchors: ServerName[] = ['ws', 'raw'];

interface Cell {
  name: string;
  size: number;
  conns: number;
  inflight: number;
  handshake?: boolean;
}

const sizes: [string, number][] = [['16B', 16], ['1KiB', 1024], ['64KiB', 64 * 1024], ['1MiB', 1024 * 1024]];
const allCells: Cell[] = [
  ...sizes.flatMap(([label, size]) =>
    [1, 64].flatMap((conns) => [1, 16].map((inflight) => ({ name: `${label}-${conns}x${inflight}`, size, conns, inflight }))),
  ),
  { name: 'handshake-16', size: 0, conns: 16, inflight: 1, handshake: true },
];

/** Run once on every server before the cells, figures dropped: small and large messages, and handshakes. */
const warmupCells: Cell[] = [allCells.find((c) => c.name === '1KiB-64x16')!, allCells.find((c) => c.name === '64KiB-1x1')!, allCells.at(-1)!];

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: process.env['TSBEAST_BENCH_ROUNDS'] ?? '3' },
    cells: { type: 'string' },
    servers: { type: 'string' },
    parts: { type: 'string', default: 'server,client' },
    'client-peer': { type: 'string', default: 'beast' },
    node: { type: 'string', default: process.execPath },
  },
});
const seconds = Number(opts.seconds);
const rounds = Number(opts.rounds);
const list = (s: string | undefined): string[] | undefined => s?.split(',').map((x) => x.trim()).filter((x) => x !== '');
const cellFilter = list(opts.cells);
const cells = cellFilter === undefined ? allCells : allCells.filter((c) => cellFilter.some((f) => c.name === f || c.name.includes(f)));
const serverFilter = list(opts.servers);
for (const s of serverFilter ?? []) if (!(allServers as readonly string[]).includes(s)) throw new Error(`unknown server ${s}; one of ${allServers.join(', ')}`);
const servers = allServers.filter((s) => serverFilter === undefined || serverFilter.includes(s));
const parts = list(opts.parts)!;
const clientPeer = opts['client-peer'] as ServerName;
const nodeBin = opts.node;
if (cells.length === 0) throw new Error(`no cell matches ${opts.cells}; cells: ${allCells.map((c) => c.name).join(', ')}`);

// ---- servers --------------------------------------------------------------------------------------

interface Server {
  name: ServerName;
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

const dist = join(repoRoot, 'dist');

/** Starts a program that prints its port on stdout; the rest of its output is read and dropped. */
async function startProgram(name: ServerName, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8');
  // The example reports a peer that goes without a close frame (end of file, reset, broken pipe), as the load
  // generator's connections do at the end of each measurement; anything else is shown.
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const shown = chunk.split('\n').filter((l) => l !== '' && !/^(read|write): (End of file|Connection reset by peer|Broken pipe)$/.test(l));
    for (const l of shown) process.stderr.write(`${name}: ${l}\n`);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: string): void => {
      seen += chunk;
      const m = /listening (?:on [\d.]+:)?(\d+)/.exec(seen);
      if (m !== null) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // anything it prints later is drained
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${seen}`)));
  });
  return {
    name,
    child,
    port,
    async stop() {
      const exited = once(child, 'exit');
      child.stdin!.end(); // Beast's server exits at the end of stdin
      child.kill('SIGTERM'); // the example closes its connections and exits
      const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(hard);
    },
  };
}

/** Forks one of bench/echo-servers' servers (`ws-js` is `ws` told not to load its addons). */
async function startForked(name: ServerName, kind: string, env: NodeJS.ProcessEnv = process.env): Promise<Server> {
  const child = fork(join(dist, 'bench', 'echo.js'), ['serve', kind], { stdio: 'inherit', env, execPath: nodeBin });
  const [msg] = (await once(child, 'message')) as [{ port?: number }];
  if (msg.port === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    child,
    port: msg.port,
    async stop() {
      const exited = once(child, 'exit');
      child.send('exit');
      await exited;
    },
  };
}

async function startServer(name: ServerName, beastServer: string): Promise<Server> {
  const noAddons = { ...process.env, WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' };
  switch (name) {
    case 'tsbeast-example':
      return startProgram(name, nodeBin, [join(dist, 'examples', 'echo_server.js'), '--port', '0']);
    case 'tsbeast-tcp':
      return startForked(name, 'tsbeast-callback');
    case 'ws':
      return startForked(name, 'ws');
    case 'ws-js':
      return startForked(name, 'ws-js', noAddons);
    case 'raw':
      return startForked(name, 'raw');
    case 'beast':
      return startProgram(name, beastServer, []);
  }
}

// ---- the load generator ---------------------------------------------------------------------------

interface LoadResult {
  messages: number;
  bytes: number;
  seconds: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  server_cpu_s: number;
  self_cpu_s: number;
  errors: number;
}

async function runLoadgen(loadgen: string, server: Server, cell: Cell, window = seconds): Promise<LoadResult> {
  const mode = cell.handshake === true ? (server.name === 'raw' ? 'connect' : 'handshake') : server.name === 'raw' ? 'raw' : 'ws';
  const args = [mode, '--port', String(server.port), '--size', String(cell.size), '--conns', String(cell.conns), '--inflight', String(cell.inflight)];
  args.push('--seconds', String(window), '--pid', String(server.child.pid));
  const child = spawn(loadgen, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`loadgen ${args.join(' ')} failed (${code}) against ${server.name}`);
  return JSON.parse(out) as LoadResult;
}

const cpuPer = (r: LoadResult): number => (r.messages === 0 ? NaN : (r.server_cpu_s * 1e6) / r.messages);

async function serverRole(loadgen: string, beastServer: string): Promise<Figure[]> {
  const running: Server[] = [];
  for (const name of servers) running.push(await startServer(name, beastServer));
  console.log(
    `native load generator (Beast, one thread): ${seconds} s per measurement, ${rounds} round(s) interleaved, the median kept; ` +
      `Node ${nodeVersion()}\nserver CPU µs per message (utime+stime from /proc over the window), its ratio to each anchor; ` +
      'srv% and gen% are the CPU of the server and of the generator over the window (100 = one core)\n',
  );
  // A round whose figures are dropped: a fresh Node server runs its first second or so in code
  // the optimizing compiler has not reached yet (seen on a busy machine: the example's first
  // 0.3 s windows of 16 B x 1 x 1 at 185 µs of CPU per message, from the fourth on 15-20 µs).
  for (const s of running) for (const [i, cell] of warmupCells.entries()) await runLoadgen(loadgen, s, cell, i === 0 ? Math.max(1, seconds) : seconds);
  const rows = [['cell', 'server', 'msgs/s', 'p50 ms', 'p99 ms', 'CPU µs/msg', ...anchors.map((a) => `vs ${a}`), 'srv%', 'gen%']];
  const figures: Figure[] = [];
  for (const cell of cells) {
    const samples = new Map<ServerName, LoadResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const s of running) {
        const r = await runLoadgen(loadgen, s, cell);
        samples.set(s.name, [...(samples.get(s.name) ?? []), r]);
      }
    }
    const results = new Map([...samples].map(([k, l]) => [k, median(l, cpuPer)]));
    for (const [k, r] of results) {
      rows.push([
        cell.name,
        k,
        fmt(r.rate),
        fmt(r.p50_us / 1000, 2),
        fmt(r.p99_us / 1000, 2),
        fmt(cpuPer(r), 2),
        ...anchors.map((a) => (results.has(a) ? fmt(cpuPer(r) / cpuPer(results.get(a)!), 2) : '-')),
        fmt((r.server_cpu_s / r.seconds) * 100),
        fmt((r.self_cpu_s / r.seconds) * 100),
      ]);
    }
    const ours = results.get('tsbeast-example');
    const ws = results.get('ws');
    const raw = results.get('raw');
    if (ours !== undefined && ws !== undefined) {
      const limit = cell.handshake === true ? 0.5 : 1;
      figures.push({ target: `native: server CPU/msg, ${cell.name}`, measured: cpuPer(ours), anchor: cpuPer(ws), unit: 'µs/msg', anchorName: 'ws', limit });
    }
    if (ours !== undefined && raw !== undefined && cell.size >= 64 * 1024) {
      figures.push({ target: `native: server CPU/msg, ${cell.name}`, measured: cpuPer(ours), anchor: cpuPer(raw), unit: 'µs/msg', anchorName: 'raw', limit: 1.3 });
    }
  }
  printTable(rows);
  console.log();
  for (const s of running) await s.stop();
  return figures;
}

// ---- the client role --------------------------------------------------------------------------------

interface ClientResult {
  messages: number;
  ms: number;
  cpu: number;
}

/**
 * The clients: tsbeast as examples/echo_client.ts makes it (the front door's `connect`), tsbeast
 * over a bare `TcpSocket`, and `ws` with its addons; the names bench/client knows them by.
 */
const clients = [['tsbeast-example', 'tsbeast-example'], ['tsbeast-tcp', 'tsbeast'], ['ws', 'ws']] as const;
type ClientName = (typeof clients)[number][0];

/** One client measurement, in a child process of its own (bench/client's client mode). */
async function runClient(kind: (typeof clients)[number][1], port: number, cell: Cell): Promise<ClientResult> {
  const child = fork(join(dist, 'bench', 'client.js'), ['client'], { stdio: 'inherit', execPath: nodeBin });
  const reply = once(child, 'message') as Promise<[ClientResult]>;
  child.send({ kind, port, size: cell.size, conns: cell.conns, inflight: cell.inflight, ms: seconds * 1000 });
  const [r] = await reply;
  const exited = once(child, 'exit');
  child.disconnect();
  await exited;
  return r;
}

async function clientRole(beastServer: string): Promise<Figure[]> {
  const peer = await startServer(clientPeer, beastServer);
  console.log(
    `client role: tsbeast clients (as examples/echo_client.ts makes one, with connect, and over a bare TcpSocket) against the ws client (with addons), ` +
      `each in a child process, against a ${clientPeer} echo server; client CPU µs per message\n`,
  );
  const rows = [['cell', 'client', 'msgs/s', 'CPU µs/msg', 'msgs/s vs ws', 'CPU vs ws']];
  const figures: Figure[] = [];
  const rate = (x: ClientResult): number => (x.messages / x.ms) * 1000;
  const cpu = (x: ClientResult): number => x.cpu / Math.max(1, x.messages);
  for (const cell of cells) {
    if (cell.handshake === true) continue;
    const samples = new Map<ClientName, ClientResult[]>(clients.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) for (const [name, kind] of clients) samples.get(name)!.push(await runClient(kind, peer.port, cell));
    const r = new Map([...samples].map(([k, l]) => [k, median(l, rate)]));
    const ws = r.get('ws')!;
    for (const [name, x] of r) rows.push([cell.name, name, fmt(rate(x)), fmt(cpu(x), 2), fmt(rate(x) / rate(ws), 2), fmt(cpu(x) / cpu(ws), 2)]);
    figures.push({ target: `native: client msgs/s, ${cell.name}`, measured: rate(r.get('tsbeast-example')!), anchor: rate(ws), unit: '/s', anchorName: 'ws client', limit: 1, atLeast: true });
  }
  printTable(rows);
  console.log();
  await peer.stop();
  return figures;
}

function nodeVersion(): string {
  return nodeBin === process.execPath ? process.version : nodeBin;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const { loadgen, beastServer } = await buildAll();
  const figures: Figure[] = [];
  if (parts.includes('server')) figures.push(...(await serverRole(loadgen, beastServer)));
  if (parts.includes('client')) figures.push(...(await clientRole(beastServer)));
  record(figures);
  console.log(`native benchmark: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
