/**
 * Masking micro-benchmark: where the WebAssembly SIMD path (mask-simd.ts: copy in, XOR 16 bytes
 * at a time, copy back) beats the JavaScript path (mask.ts: 32- and 64-bit words), by payload
 * size, for a view that starts 8-aligned and one that starts at an odd byte ("+1"). Then "in
 * place": bytes already in the module's memory (a client's gather buffer there, mask-buffers.ts)
 * masked by the module, against the JavaScript loop of a gather buffer on the same bytes. Gives
 * the size from which mask.ts hands payloads to the SIMD path (`simdMaskMin`); a gather buffer in
 * the module's memory is always masked there.
 *
 *   node dist/bench/mask.js [ms-per-measurement]        (default 40; 5 rounds, the fastest kept; CPU time)
 *
 * A benchmark, not a test: figures vary with the machine; compare the columns of one run.
 */

import { applyMaskJs, applyMaskRange } from '../lib/beast/websocket/mask.js';
import { applyMaskSimd, simdMask } from '../lib/beast/websocket/mask-simd.js';
import { fmt, printTable } from './report.js';

const ms = Number(process.argv[2] ?? 40);
const roundsPerCell = 5;
const sizes = [16, 64, 128, 256, 512, 1024, 2048, 4096, 16384, 65536, 262144, 1048576];

/** CPU µs of this process (user + system): unlike the wall clock, it does not count the time
 * the machine's other tenants held the core. */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** ns of CPU per call of `f` on `n` bytes, the fastest of a few rounds of about `ms` CPU each. */
function time(n: number, f: () => void): number {
  const batch = Math.max(4, Math.ceil(32768 / n));
  let best = Infinity;
  for (let r = 0; r < roundsPerCell; r++) {
    let calls = 0;
    const t0 = cpuNow();
    let t = t0;
    do {
      for (let i = 0; i < batch; i++) f();
      calls += batch;
      t = cpuNow();
    } while (t - t0 < (ms * 1000) / roundsPerCell);
    best = Math.min(best, ((t - t0) * 1000) / calls);
  }
  return best;
}

function main(): void {
  if (simdMask === null) {
    console.log('WebAssembly SIMD is not available in this runtime: nothing to compare');
    return;
  }
  const m = simdMask;
  console.log(`masking: ns of CPU per call (fastest of ${roundsPerCell} rounds of ${ms / roundsPerCell} ms of CPU), Node ${process.version}\n`);
  const rows = [['bytes', 'JS', 'SIMD', 'SIMD/JS', 'JS +1', 'SIMD +1', 'SIMD/JS +1', 'in place: JS', 'SIMD', 'SIMD/JS']];
  const backing = new Uint8Array(sizes[sizes.length - 1]! + 16);
  const key = 0x12345678;
  const wide = new BigUint64Array(m.bytes.buffer, 0, 65536 >>> 3);
  // Warm both paths up on every size, so the optimizing compiler has run before the figures.
  for (const n of sizes) for (let i = 0; i < 2000; i++) {
    applyMaskJs(backing.subarray(0, n), key, 0);
    applyMaskSimd(backing.subarray(0, n), key, 0);
  }
  for (const n of sizes) {
    const aligned = backing.subarray(8, 8 + n);
    const odd = backing.subarray(9, 9 + n);
    const js = time(n, () => applyMaskJs(aligned, key, 1));
    const simd = time(n, () => applyMaskSimd(aligned, key, 1));
    const jsOdd = time(n, () => applyMaskJs(odd, key, 1));
    const simdOdd = time(n, () => applyMaskSimd(odd, key, 1));
    // In place: the bytes already in the module's memory (a gather buffer there), masked by the
    // module, against the JavaScript word loop of a gather buffer on the same bytes.
    const fits = n <= 65536;
    const inPlace = fits ? time(n, () => m.mask(0, n, key)) : NaN;
    const rangeJs = fits ? time(n, () => applyMaskRange(m.bytes, wide, 0, n, key, 1)) : NaN;
    rows.push([String(n), fmt(js, 0), fmt(simd, 0), fmt(simd / js, 2), fmt(jsOdd, 0), fmt(simdOdd, 0), fmt(simdOdd / jsOdd, 2), fmt(rangeJs, 0), fmt(inPlace, 0), fmt(inPlace / rangeJs, 2)]);
  }
  printTable(rows, 1);
}

main();
