/**
 * The load generator of bench/echo: the same minimal WebSocket client against every server, so
 * that only the servers differ. It speaks raw `node:net`; each message is one frame whose masked
 * bytes are built once, so the generator spends its time on the wire, not on masking. For the raw
 * echo server it sends the bare payload. Benchmark code only.
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';

export interface LoadSpec {
  port: number;
  /** `ws`: WebSocket frames after a handshake; `raw`: bare bytes. */
  mode: 'ws' | 'raw';
  size: number;
  conns: number;
  inflight: number;
  ms: number;
}

/**
 * Told when the measured window opens and closes, so that whoever reads the server's CPU time
 * reads it over the same window as the messages are counted in: warm-up, connection set-up and
 * teardown are then left out for every server alike.
 */
export interface MeasureWindow {
  opened(): void;
  closed(): void;
}

const noWindow: MeasureWindow = { opened() {}, closed() {} };

export interface LoadResult {
  messages: number;
  bytes: number;
  ms: number;
  p50: number;
  p99: number;
}

const upgradeRequest = (port: number): Buffer =>
  Buffer.from(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    'latin1',
  );

/** A masked binary frame carrying `size` bytes (built once, sent many times). */
function maskedFrame(size: number): Buffer {
  const header = size < 126 ? 2 : size < 65536 ? 4 : 10;
  const f = Buffer.alloc(header + 4 + size, 0x61);
  f[0] = 0x82;
  if (size < 126) f[1] = 0x80 | size;
  else if (size < 65536) {
    f[1] = 0x80 | 126;
    f.writeUInt16BE(size, 2);
  } else {
    f[1] = 0x80 | 127;
    f.writeBigUInt64BE(BigInt(size), 2);
  }
  const key = randomBytes(4);
  key.copy(f, header);
  for (let i = 0; i < size; i++) f[header + 4 + i]! ^= key[i & 3]!;
  return f;
}

/** Opens a connection and, for `ws`, completes the handshake; resolves with bytes after the 101. */
export async function open(port: number, mode: 'ws' | 'raw'): Promise<{ s: net.Socket; rest: Buffer }> {
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
  s.on('error', () => {});
  await once(s, 'connect');
  if (mode === 'raw') return { s, rest: Buffer.alloc(0) };
  s.write(upgradeRequest(port));
  let head = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(s, 'data')) as [Buffer];
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) continue;
    if (!head.subarray(0, 12).toString('latin1').includes('101')) throw new Error('handshake refused');
    return { s, rest: head.subarray(end + 4) };
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Runs one echo load: every connection keeps `inflight` messages outstanding for `ms`. */
export async function runLoad(spec: LoadSpec, window: MeasureWindow = noWindow): Promise<LoadResult> {
  const frame = spec.mode === 'ws' ? maskedFrame(spec.size) : Buffer.alloc(spec.size, 0x61);
  const latencies: number[] = [];
  let messages = 0;
  let running = true;
  let measuring = false;
  const conns = await Promise.all(Array.from({ length: spec.conns }, () => open(spec.port, spec.mode)));
  for (const { s, rest } of conns) {
    const sent: number[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let need = spec.mode === 'raw' ? spec.size : 0; // raw: bytes of the current message still due
    const received = (): void => {
      const t0 = sent.shift()!;
      if (measuring) {
        messages++;
        latencies.push(performance.now() - t0);
      }
      if (running) {
        sent.push(performance.now());
        s.write(frame);
      }
    };
    const onData = (chunk: Buffer): void => {
      if (spec.mode === 'raw') {
        let n = chunk.length;
        while (n > 0) {
          const k = Math.min(n, need);
          n -= k;
          need -= k;
          if (need === 0) {
            need = spec.size;
            received();
          }
        }
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // Server frames are unmasked: header, then the payload. A message ends with a FIN frame
      // (servers may fragment: Beast's auto-fragmentation does).
      for (;;) {
        if (pending.length < 2) break;
        const len7 = pending[1]! & 0x7f;
        const hdr = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
        if (pending.length < hdr) break;
        const len = len7 < 126 ? len7 : len7 === 126 ? pending.readUInt16BE(2) : Number(pending.readBigUInt64BE(2));
        if (pending.length < hdr + len) break;
        const fin = (pending[0]! & 0x80) !== 0;
        pending = pending.subarray(hdr + len);
        if (fin) received();
      }
    };
    s.on('data', onData);
    if (rest.length > 0) onData(rest);
    for (let i = 0; i < spec.inflight; i++) {
      sent.push(performance.now());
      s.write(frame);
    }
  }
  // A short warm-up, then the measured window.
  await new Promise((r) => setTimeout(r, Math.min(500, spec.ms / 4)));
  window.opened();
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, spec.ms));
  measuring = false;
  const ms = performance.now() - t0;
  window.closed();
  running = false;
  await Promise.all(conns.map(({ s }) => (s.destroy(), once(s, 'close'))));
  const sorted = Float64Array.from(latencies).sort();
  return { messages, bytes: messages * spec.size, ms, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/**
 * Opens, handshakes and closes connections as fast as `lanes` parallel lanes can: a warm-up, then
 * `ms` in which every handshake that completes is counted.
 */
export async function runHandshakes(port: number, lanes: number, ms: number, window: MeasureWindow = noWindow): Promise<LoadResult> {
  let count = 0;
  let running = true;
  let measuring = false;
  const latencies: number[] = [];
  const lane = async (): Promise<void> => {
    while (running) {
      const t = performance.now();
      const { s } = await open(port, 'ws');
      if (measuring) {
        latencies.push(performance.now() - t);
        count++;
      }
      s.destroy();
      await once(s, 'close');
    }
  };
  const all = Promise.all(Array.from({ length: lanes }, lane));
  await new Promise((r) => setTimeout(r, Math.min(500, ms / 4)));
  window.opened();
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const elapsed = performance.now() - t0;
  window.closed();
  running = false;
  await all;
  const sorted = Float64Array.from(latencies).sort();
  return { messages: count, bytes: 0, ms: elapsed, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}
