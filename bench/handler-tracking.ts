/**
 * bench/handler-tracking: what handler tracking costs when it is off. The hooks are a `null` test
 * of one module variable in asyncInitiate, HandlerWork and a composed operation's first step;
 * the I/O objects' methods are not wrapped while tracking is off. Measured on the two hottest
 * paths that go through every hook (a `post` of a callback, and a composed operation with one
 * child), in three builds, each in a child process of its own, five interleaved rounds (TSBEAST_BENCH_ROUNDS), medians:
 *
 * - `main`: the same code without the hooks (/work/main's build, or TSBEAST_BASELINE=<dist dir>);
 * - `off`: this build, tracking off (the default);
 * - `on`: this build, tracking on, writing every line to a function that drops it.
 *
 *   node dist/bench/handler-tracking.js [milliseconds per measurement, default 300]
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ownLib = join(here, '../lib/net/index.js');

type Net = typeof import('../lib/net/index.js');

// CPU time of this process, not wall time: the machines are shared, and other tenants' load
// stretches wall time far more than it changes the CPU an operation takes.
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function measure(ms: number, batch: (n: number) => void): number {
  const n = 2000;
  const warmUntil = cpuMs() + ms / 4;
  while (cpuMs() < warmUntil) batch(n);
  let ops = 0;
  const start = cpuMs();
  let now = start;
  while (now - start < ms) {
    batch(n);
    ops += n;
    now = cpuMs();
  }
  return ((now - start) * 1e6) / ops; // CPU ns per operation
}

async function child(variant: string, libPath: string, ms: number): Promise<void> {
  const net = (await import(pathToFileURL(libPath).href)) as Net;
  if (variant === 'on') net.enableHandlerTracking(() => {});
  const ioc = new net.IoContext();
  const ex = ioc.getExecutor();
  let count = 0;
  const handler = (): void => void count++;
  const post = measure(ms, (n) => {
    for (let i = 0; i < n; i++) net.post(ex, handler);
    ioc.poll();
    ioc.restart();
  });
  const composed = measure(ms, (n) => {
    for (let i = 0; i < n; i++) {
      net.asyncCompose<[], () => void>(function* (self) {
        yield (h) => net.post(ex, h);
        self.complete();
      }, handler, ex);
    }
    ioc.poll();
    ioc.restart();
  });
  process.stdout.write(JSON.stringify({ post, composed, count }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const ms = Number(process.argv[2] ?? 300);
  const rounds = Number(process.env['TSBEAST_BENCH_ROUNDS'] ?? 5);
  const baselineDist = process.env['TSBEAST_BASELINE'] ?? '/work/main/dist';
  const baseline = resolve(baselineDist, 'lib/net/index.js');
  const variants: Array<[string, string]> = [['off', ownLib], ['on', ownLib]];
  if (existsSync(baseline)) variants.unshift(['main', baseline]);
  const results = new Map<string, Array<{ post: number; composed: number }>>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, lib] of variants) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child', name, lib, String(ms)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      const list = results.get(name) ?? [];
      list.push(JSON.parse(r.stdout) as { post: number; composed: number });
      results.set(name, list);
    }
  }
  console.log(`handler tracking: CPU ns per operation (median of ${rounds} rounds)`);
  console.log('variant   post(ex, cb)   asyncCompose, 1 child');
  const ref = results.get('main') ?? results.get('off')!;
  const refPost = median(ref.map((r) => r.post));
  const refComposed = median(ref.map((r) => r.composed));
  for (const [name] of variants) {
    const list = results.get(name)!;
    const p = median(list.map((r) => r.post));
    const c = median(list.map((r) => r.composed));
    const pct = (x: number, r: number): string => `${x >= r ? '+' : ''}${(((x - r) / r) * 100).toFixed(1)}%`;
    console.log(`${name.padEnd(8)} ${p.toFixed(1).padStart(8)} (${pct(p, refPost)})  ${c.toFixed(1).padStart(10)} (${pct(c, refComposed)})`);
  }
}

if (process.argv[2] === 'child') await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else main();
