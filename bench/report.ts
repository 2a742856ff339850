/**
 * What the benchmarks share: a plain-text table, and the figures each one hands to `npm run bench`
 * for its summary of the targets (bench/index.ts). Benchmark code only.
 */

import { appendFileSync } from 'node:fs';

/** Formats a number with a fixed count of decimals and thousands separators. */
export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-';

/** Prints rows as columns: the first `left` columns left-aligned, the rest right-aligned. */
export function printTable(rows: string[][], left = 2): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

/** One measured figure against its anchor: `ratio` = measured / anchor, and the target ratio. */
export interface Figure {
  target: string;
  measured: number;
  anchor: number;
  unit: string;
  anchorName: string;
  /** The target holds when measured/anchor is at most this (or, with `atLeast`, at least this). */
  limit: number;
  atLeast?: boolean;
}

/** Hands figures to the summary of `npm run bench`, when it is the caller. */
export function record(figures: Figure[]): void {
  const file = process.env['TSBEAST_BENCH_RESULTS'];
  if (file !== undefined) for (const f of figures) appendFileSync(file, JSON.stringify(f) + '\n');
}

/** Rounds per cell: every server is measured this many times, interleaved, and the median kept. */
export const rounds = Number(process.env['TSBEAST_BENCH_ROUNDS'] ?? 3);

/** The element whose `key` is the median (the lower middle for an even count). */
export function median<T>(xs: readonly T[], key: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}
