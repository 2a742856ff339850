/**
 * Builds the native programs of bench/native: the load generator (bench/loadgen/loadgen.cpp) and
 * Beast's own echo server (bench/loadgen/echo_server.cpp, single-threaded, the far anchor), with
 * g++ against Debian's Boost as the peer specs build Beast, but optimised (-O2) since they are
 * measured. Each
 * build is cached in `.cache/bench/`, keyed by a hash of the source, the flags and the compiler's
 * version; a build takes about a minute. Benchmark code only.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (this file runs from `dist/bench/`). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = join(repoRoot, '.cache', 'bench');
const flags = ['-std=c++17', '-O2', '-pthread'];

function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => reject(new Error(`${command}: ${err.message}; install it with: apt-get install -y g++`)));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** Compiles `source` (relative to the repository) into a cached program named `name`; returns its path. */
export async function buildNative(name: string, source: string): Promise<string> {
  if (!existsSync('/usr/include/boost/beast.hpp')) {
    throw new Error('Boost.Beast headers are missing: install them with: apt-get install -y libboost1.81-dev (or libboost-dev)');
  }
  const path = join(repoRoot, source);
  const version = await run('g++', ['--version']);
  const hash = createHash('sha256').update(readFileSync(path)).update(flags.join(' ')).update(version.out).digest('hex').slice(0, 16);
  const out = join(cacheDir, `${name}-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  process.stderr.write(`building ${source} (about a minute, cached in .cache/bench/) ...\n`);
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = await run('g++', [...flags, path, '-o', tmp]);
  if (cc.code !== 0) throw new Error(`g++ failed to build ${source}:\n${cc.out}`);
  renameSync(tmp, out);
  return out;
}

/** The load generator and Beast's echo server, built (or taken from the cache). */
export async function buildAll(): Promise<{ loadgen: string; beastServer: string }> {
  const loadgen = await buildNative('loadgen', 'bench/loadgen/loadgen.cpp');
  const beastServer = await buildNative('beast_echo_server', 'bench/loadgen/echo_server.cpp');
  return { loadgen, beastServer };
}

// `node dist/bench/native-build.js`: builds both and prints their paths (the coordinator can
// build ahead of a quiet window).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void buildAll().then((p) => console.log(`${p.loadgen}\n${p.beastServer}`));
}
