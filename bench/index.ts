/**
 * `npm run bench`: every benchmark in one run, one after another, each in processes of its own:
 * the WebSocket echo table (tsbeast, ws with and without its addons, raw node:net), the client
 * role (tsbeast client against ws client), the TCP echo table (TcpSocket against raw node:net),
 * the memory of 10,000 idle connections (tsbeast against ws), a broadcast to 1,000 members
 * (PreparedMessage and asyncWrite against ws's loop of send), masking (JavaScript against
 * WebAssembly SIMD), and the native table (a C++ load generator on Beast against six servers, 16
 * cells and handshakes, and the client role on the same cells: bench/native). Ends with the
 * issues' targets: each figure, its anchor measured in the same run, the ratio and whether the
 * target holds. See bench/README.md for the method.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, printTable, type Figure } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsbeast-bench-'));
const results = join(dir, 'figures.jsonl');
const seconds = process.argv.slice(2);
const native = seconds.length > 0 ? ['--seconds', seconds[0]!] : [];
const runs: string[][] = [['echo.js', ...seconds], ['client.js', ...seconds], ['tcp-echo.js', ...seconds], ['idle-memory.js'], ['broadcast.js'], ['mask.js'], ['native.js', ...native]];
for (const [script, ...args] of runs) {
  const r = spawnSync(process.execPath, [join(here, script!), ...args], { stdio: 'inherit', env: { ...process.env, TSBEAST_BENCH_RESULTS: results } });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log();
}

const figures = readFileSync(results, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as Figure);
rmSync(dir, { recursive: true });
console.log('targets (issues 9 and 24): tsbeast against its anchor, measured in this run\n');
const rows = [['target', 'tsbeast', 'anchor', 'ratio', 'target ratio', 'holds']];
for (const f of figures) {
  const ratio = f.measured / f.anchor;
  const holds = f.atLeast === true ? ratio >= f.limit : ratio <= f.limit;
  rows.push([
    f.target,
    `${fmt(f.measured, f.measured < 100 ? 2 : 0)} ${f.unit}`,
    `${fmt(f.anchor, f.anchor < 100 ? 2 : 0)} ${f.unit} (${f.anchorName})`,
    fmt(ratio, 2),
    `${f.atLeast === true ? '>=' : '<='} ${fmt(f.limit, 2)}`,
    holds ? 'yes' : 'NO',
  ]);
}
printTable(rows, 3);
