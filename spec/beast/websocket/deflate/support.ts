// Shared helpers of the permessage-deflate specs: stream pairs that negotiate the extension over
// TestStream, raw peers that offer or answer it byte by byte, reference compression with Node's
// own zlib (independent of lib/beast/websocket/zlib-codec.ts), and a bounded pump that turns a
// livelock into a failed assertion instead of a hung process.

import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';

import { expect } from 'chai';

import type { IoContext } from '../../../../lib/net/io-context.js';
import { PermessageDeflate, type PermessageDeflateInit } from '../../../../lib/beast/websocket/deflate.js';
import {
  concat,
  headerField,
  makePair,
  pump,
  recorder,
  take,
  upgradeRequest,
  upgradeResponse,
  type Ec,
  type Pair,
  type PairOptions,
  type RawClient,
  type RawServer,
} from '../ops/fixture.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** The four bytes a sync flush ends with, removed from every compressed message (RFC 7692 7.2.1). */
export const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** A pair whose handshake negotiated permessage-deflate with these options (asserts success). */
export function pmdPair(client: PermessageDeflateInit = {}, server: PermessageDeflateInit = {}, opts: PairOptions = {}): Pair {
  const p = makePair(opts);
  p.client.setOption(new PermessageDeflate({ clientEnable: true, ...client }));
  p.server.setOption(new PermessageDeflate({ serverEnable: true, ...server }));
  const acc = recorder<[Ec]>();
  const hs = recorder<[Ec]>();
  p.server.asyncAccept(acc.h);
  p.client.asyncHandshake('localhost', '/', hs.h);
  pump(p.ioc);
  expect(acc.ec('accept')).to.equal(null);
  expect(hs.ec('handshake')).to.equal(null);
  return p;
}

/**
 * A server Stream with `options` against a raw client that sends `extensions` as its
 * Sec-WebSocket-Extensions (none when undefined). Returns the raw response too.
 */
export function pmdServerAgainstRaw(
  extensions: string | undefined,
  options: PermessageDeflateInit = { serverEnable: true },
  opts: PairOptions = {},
): RawClient & { response: string; ec: Ec } {
  const { ioc, a, b, server } = makePair(opts);
  server.setOption(new PermessageDeflate(options));
  b.append(upgradeRequest({ extra: extensions === undefined ? [] : [['Sec-WebSocket-Extensions', extensions]] }));
  const acc = recorder<[Ec]>();
  server.asyncAccept(acc.h);
  pump(ioc);
  const response = Buffer.from(take(a)).toString('latin1');
  return { ioc, a, b, server, response, ec: acc.ec('accept') };
}

/**
 * A client Stream with `options` against a raw server that answers with `extensions` as its
 * Sec-WebSocket-Extensions (none when undefined). Returns the request the client sent and the
 * handshake's result.
 */
export function pmdClientAgainstRaw(
  extensions: string | undefined,
  options: PermessageDeflateInit = { clientEnable: true },
  opts: PairOptions = {},
): RawServer & { request: string; ec: Ec } {
  const { ioc, a, b, client } = makePair(opts);
  client.setOption(new PermessageDeflate(options));
  const hs = recorder<[Ec]>();
  client.asyncHandshake('localhost', '/', hs.h);
  pump(ioc);
  const request = Buffer.from(take(b)).toString('latin1');
  const extra: Array<[string, string]> = extensions === undefined ? [] : [['Sec-WebSocket-Extensions', extensions]];
  a.append(upgradeResponse(request, { extra }));
  pump(ioc);
  return { ioc, a, b, client, request, ec: hs.ec('handshake') };
}

/** The Sec-WebSocket-Extensions of a raw HTTP message, if any. */
export function extensionsOf(message: string): string | undefined {
  return headerField(message, 'Sec-WebSocket-Extensions');
}

/** Compresses a whole message as a peer would: raw deflate, sync flush, tail removed. */
export function deflateMessage(data: Uint8Array, options: zlib.ZlibOptions = {}): Uint8Array {
  const out = zlib.deflateRawSync(data, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  expect([...out.subarray(out.length - 4)], 'sync flush tail').to.deep.equal([...TAIL]);
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/** Decompresses one message (the payloads of its frames joined) with a fresh context. */
export function inflateMessage(payload: Uint8Array, windowBits = 15): Uint8Array {
  return new Uint8Array(zlib.inflateRawSync(concat(payload, TAIL), { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH }));
}

/**
 * Runs ready handlers one at a time, at most `limit`; fails instead of spinning forever when an
 * operation keeps rescheduling itself without progress.
 */
export function pumpBounded(ioc: IoContext, limit = 200_000): number {
  ioc.restart();
  for (let n = 0; n < limit; n++) if (ioc.pollOne() === 0) return n;
  throw new Error(`pumpBounded: still busy after ${limit} handlers (livelock)`);
}

/** Deterministic compressible text that looks like JSON records (valid UTF-8). */
export function jsonText(n: number, seed = 1): Uint8Array {
  const parts: string[] = [];
  let size = 0;
  let x = seed >>> 0;
  while (size < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const rec = `{"id":${x % 100000},"name":"user${x % 977}","tags":["a${x % 13}","b${x % 7}"],"ok":${x % 2 === 0}},`;
    parts.push(rec);
    size += rec.length;
  }
  return new Uint8Array(Buffer.from(parts.join('').slice(0, n), 'latin1'));
}

/** Data whose repeats lie `distance` bytes apart: random blocks of that length, each sent twice. */
export function farRepeats(n: number, distance: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    if (Math.floor(i / distance) % 2 === 1) {
      out[i] = out[i - distance]!;
      continue;
    }
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Builds and returns a raw upgrade request carrying `extensions` (for the TCP-less raw peers). */
export function requestWith(extensions: string): string {
  return upgradeRequest({ extra: [['Sec-WebSocket-Extensions', extensions]] });
}

/**
 * Runs `body` (the text of an async function body) in a worker thread, with `support`, `fixture`
 * and `buffers` (this file, ../ops/fixture.js and lib/net/dynamic-buffer.js) in scope, and
 * resolves with what it returns; `{ hung: true }` when it has not finished within `ms` (the
 * worker is then terminated: a synchronous livelock cannot hang the spec process).
 */
export async function runIsolated(body: string, ms = 10_000): Promise<unknown> {
  const { Worker } = await import('node:worker_threads');
  const url = (p: string): string => new URL(p, import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    (async () => {
      const support = await import(${JSON.stringify(url('./support.js'))});
      const fixture = await import(${JSON.stringify(url('../ops/fixture.js'))});
      const buffers = await import(${JSON.stringify(url('../../../../lib/net/dynamic-buffer.js'))});
      const run = async () => { ${body} };
      try {
        parentPort.postMessage({ ok: await run() });
      } catch (err) {
        parentPort.postMessage({ thrown: String(err && err.stack || err) });
      }
    })();`;
  const worker = new Worker(code, { eval: true });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ hung: true }), ms);
      worker.once('message', (m: { ok?: unknown; thrown?: string }) => {
        clearTimeout(timer);
        if (m.thrown !== undefined) reject(new Error(`in the worker: ${m.thrown}`));
        else resolve(m.ok);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } finally {
    await worker.terminate();
  }
}
