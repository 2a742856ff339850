// Shared helpers of the websocket Stream specs: client/server pairs over TestStream (optionally
// with a FailCount and read/write size caps), raw frames built byte by byte (masked for a
// server, unmasked for a client, with any header bits and length forms), the decoding of what a
// stream wrote (frames, close codes), and raw HTTP peers for the opening handshake. Beast's doTest
// and `scenario` are in do-test.ts; pairs and recorders made here take part in its runs.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';
import sinon from 'sinon';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, type ErrorCode } from '../../../../lib/net/error.js';
import { IoContext } from '../../../../lib/net/io-context.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { TestStream } from '../../../../lib/beast/test/stream.js';
import { Opcode } from '../../../../lib/beast/websocket/frame.js';
import { makeSecAccept } from '../../../../lib/beast/websocket/hybi13.js';
import { applyMask } from '../../../../lib/beast/websocket/mask.js';
import { Stream } from '../../../../lib/beast/websocket/stream.js';
import { runScope } from './run-scope.js';

export { Opcode };

/** A completion error: `null` for success. */
export type Ec = ErrorCode | null;

/** The WebSocket stream type of these specs. */
export type WsStream = Stream<TestStream>;

// ---- handlers and the context ------------------------------------------------------------------

/** A handler that records each call. */
export interface Recorder<A extends readonly unknown[]> {
  readonly h: (...args: A) => void;
  readonly calls: A[];
  /** Whether the handler ran (at least once). */
  readonly called: boolean;
  /** Asserts the handler ran exactly once and returns its arguments. */
  once(what?: string): A;
  /** Asserts the handler ran exactly once and returns its error. */
  ec(what?: string): Ec;
}

/** A handler that records each call, optionally running `then` after recording. */
export function recorder<A extends readonly unknown[] = [Ec, number]>(then?: (...args: A) => void): Recorder<A> {
  const calls: A[] = [];
  const h = (...args: A): void => {
    calls.push(args);
    then?.(...args);
  };
  return {
    // Under a doTest run, each time the handler is handed out is one operation that must complete.
    get h() {
      runScope()?.handlers.push(calls);
      return h;
    },
    calls,
    get called() {
      return calls.length > 0;
    },
    once(what = 'handler'): A {
      expect(calls.length, `${what}: calls`).to.equal(1);
      return calls[0]!;
    },
    ec(what = 'handler'): Ec {
      expect(calls.length, `${what}: calls`).to.equal(1);
      return calls[0]![0] as Ec;
    },
  };
}

/** Runs every ready handler of `ioc` (restarting it first), without waiting; returns the count. */
export function pump(ioc: IoContext): number {
  ioc.restart();
  return ioc.poll();
}

/** Runs single handlers until `done()` holds; fails if the context runs dry first. */
export function stepUntil(ioc: IoContext, done: () => boolean): void {
  ioc.restart();
  while (!done()) {
    if (ioc.pollOne() === 0) expect.fail('stepUntil: nothing left to run');
  }
}

/** Recorders that also log their name in `order` when they run. */
export function ordered(order: string[]) {
  return {
    io: (name: string) => recorder<[Ec, number]>(() => void order.push(name)),
    ctl: (name: string) => recorder<[Ec]>(() => void order.push(name)),
  };
}

/**
 * An echo loop on `server`: every message read is written back; the loop ends at the first
 * error (a close frame is answered by the read itself). Returns the reads' results.
 */
export function echo(server: WsStream): Array<[Ec, number]> {
  const reads: Array<[Ec, number]> = [];
  const buf = new FlatBuffer();
  const loop = (): void =>
    server.asyncRead(buf, (ec, n) => {
      reads.push([ec, n]);
      if (ec !== null) return;
      const data = Uint8Array.from(buf.dataView());
      buf.consume(n);
      server.binary(server.gotBinary());
      server.asyncWrite(data, () => {});
      loop();
    });
  loop();
  return reads;
}

/** A fake clock for the timeout specs: setTimeout, clearTimeout and performance, per test. */
export interface FakeClock {
  readonly clock: sinon.SinonFakeTimers;
  /** Advances the clock by `ms` and runs what became ready. */
  tick(ioc: IoContext, ms: number): void;
}

/** Installs a {@link FakeClock} around each test of the enclosing describe block. */
export function useFakeClock(): FakeClock {
  let clock: sinon.SinonFakeTimers | null = null;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    clock?.restore();
    clock = null;
  });
  return {
    get clock() {
      return clock!;
    },
    tick(ioc: IoContext, ms: number): void {
      clock!.tick(ms);
      pump(ioc);
    },
  };
}

// ---- bytes --------------------------------------------------------------------------------------

/** Bytes as latin1 text. */
export function text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

/** The UTF-8 bytes of a string, or the bytes themselves. */
export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data;
}

/** Deterministic pseudo-random bytes (a linear congruential generator seeded with `seed`). */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** `n` bytes of printable ASCII (valid UTF-8 for text messages). */
export function asciiPattern(n: number, seed = 1): Uint8Array {
  const out = pattern(n, seed);
  for (let i = 0; i < n; i++) out[i] = 0x20 + (out[i]! % 95);
  return out;
}

/** A copy of the pending input of `endpoint` (what its peer wrote), leaving it in place. */
export function peek(endpoint: TestStream): Uint8Array {
  return Uint8Array.from(endpoint.buffer().dataView());
}

/** Takes the pending input of `endpoint` (what its peer wrote): a copy, and the input is cleared. */
export function take(endpoint: TestStream): Uint8Array {
  const out = peek(endpoint);
  endpoint.clear();
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// ---- raw frames ---------------------------------------------------------------------------------

/** The masking key of crafted client frames. */
export const KEY = 0x37fa213d;

/** A frame to build byte by byte. */
export interface RawFrame {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  /** The reserved bits as they sit in the first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). */
  rsv?: number;
  payload?: Uint8Array | string;
  /** The masking key; `undefined` for an unmasked frame. */
  key?: number | undefined;
  /** Force the 7-bit, 16-bit or 64-bit length form (possibly non-minimal). */
  lengthForm?: 7 | 16 | 64;
  /** Announce this length instead of the payload's (the payload bytes are still appended). */
  length?: number;
}

/** Serializes a frame exactly as described (no validation). */
export function frameBytes(f: RawFrame): Uint8Array {
  const payload = f.payload === undefined ? new Uint8Array(0) : Uint8Array.from(bytesOf(f.payload));
  const len = f.length ?? payload.length;
  const form = f.lengthForm ?? (len < 126 ? 7 : len < 0x10000 ? 16 : 64);
  const masked = f.key !== undefined;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | (f.rsv ?? 0) | (f.opcode & 0x0f)];
  const m = masked ? 0x80 : 0;
  if (form === 7) {
    head.push(m | len);
  } else if (form === 16) {
    head.push(m | 126, (len >>> 8) & 0xff, len & 0xff);
  } else {
    const hi = Math.floor(len / 0x100000000);
    const lo = len >>> 0;
    head.push(m | 127, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff);
    head.push(lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
  }
  if (masked) {
    const k = f.key!;
    head.push(k >>> 24, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff);
    applyMask(payload, k);
  }
  return concat(Uint8Array.from(head), payload);
}

/** A frame as a client sends it: masked with {@link KEY} unless a key is given. */
export function clientFrame(f: RawFrame): Uint8Array {
  return frameBytes({ key: KEY, ...f });
}

/** A frame as a server sends it: unmasked. */
export function serverFrame(f: RawFrame): Uint8Array {
  return frameBytes({ ...f, key: undefined });
}

/** The payload of a close frame: the code (if not 0) and the reason text. */
export function closePayload(code: number, reason: Uint8Array | string = ''): Uint8Array {
  if (code === 0) return new Uint8Array(0);
  return concat(Uint8Array.of(code >>> 8, code & 0xff), bytesOf(reason));
}

/** A frame as decoded from the bytes a stream wrote. */
export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  key: number;
  /** The 7-bit length field (to check the minimal encoding). */
  len7: number;
  /** The unmasked payload. */
  payload: Uint8Array;
}

/** Decodes the frames in `bytes`; throws if the bytes do not end on a frame boundary. */
export function parseFrames(bytes: Uint8Array): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes.length - i < 2) throw new Error(`parseFrames: truncated header at ${i}`);
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1]!;
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    let j = i + 2;
    let len = len7;
    if (len7 === 126) {
      len = (bytes[j]! << 8) | bytes[j + 1]!;
      j += 2;
    } else if (len7 === 127) {
      let v = 0;
      for (let k = 0; k < 8; k++) v = v * 256 + bytes[j + k]!;
      len = v;
      j += 8;
    }
    let key = 0;
    if (masked) {
      key = ((bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!) >>> 0;
      j += 4;
    }
    if (bytes.length - j < len) throw new Error(`parseFrames: truncated payload at ${i}`);
    const payload = Uint8Array.from(bytes.subarray(j, j + len));
    if (masked) applyMask(payload, key);
    out.push({ fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, key, len7, payload });
    i = j + len;
  }
  return out;
}

/** The code of a decoded close frame (0 for an empty payload). */
export function closeCodeOf(f: DecodedFrame): number {
  expect(f.opcode, 'a close frame').to.equal(Opcode.close);
  return f.payload.length < 2 ? 0 : (f.payload[0]! << 8) | f.payload[1]!;
}

/**
 * Decodes `bytes` as exactly one close frame (masked as `masked` says) and returns its code.
 */
export function onlyCloseCode(bytes: Uint8Array, masked: boolean): number {
  const frames = parseFrames(bytes);
  expect(frames.map((f) => f.opcode), 'frames written').to.deep.equal([Opcode.close]);
  expect(frames[0]!.masked, 'masked').to.equal(masked);
  return closeCodeOf(frames[0]!);
}

/** Joins the payloads of decoded frames. */
export function payloadOf(frames: readonly DecodedFrame[]): Uint8Array {
  return concat(...frames.map((f) => f.payload));
}

// ---- pairs --------------------------------------------------------------------------------------

/** How to build a pair of endpoints. */
export interface PairOptions {
  /** The FailCount of the client's endpoint `a`. */
  fcA?: FailCount | null;
  /** The FailCount of the server's endpoint `b`. */
  fcB?: FailCount | null;
  /** Caps the bytes per read on both endpoints. */
  readSize?: number;
  /** Caps the bytes per write on both endpoints. */
  writeSize?: number;
}

/** A context, two connected endpoints, and a client Stream on `a` and a server Stream on `b`. */
export interface Pair {
  ioc: IoContext;
  a: TestStream;
  b: TestStream;
  client: WsStream;
  server: WsStream;
}

/** Builds a pair without any handshake. */
export function makePair(opts: PairOptions = {}): Pair {
  const ioc = new IoContext();
  // Under a doTest run both endpoints share the run's FailCount (unless the spec gives its own).
  const scope = runScope();
  const [a, b] = TestStream.pair(ioc, opts.fcA ?? scope?.fc ?? null, opts.fcB ?? scope?.fc ?? null);
  scope?.contexts.push(ioc);
  scope?.endpoints.push(a, b);
  for (const s of [a, b]) {
    if (opts.readSize !== undefined) s.readSize(opts.readSize);
    if (opts.writeSize !== undefined) s.writeSize(opts.writeSize);
  }
  return { ioc, a, b, client: new Stream(a), server: new Stream(b) };
}

/** Builds a pair and completes the opening handshake (asserting success). */
export function openPair(opts: PairOptions = {}): Pair {
  const p = makePair(opts);
  const acc = recorder<[Ec]>();
  const hs = recorder<[Ec]>();
  p.server.asyncAccept(acc.h);
  p.client.asyncHandshake('localhost', '/', hs.h);
  pump(p.ioc);
  expect(acc.ec('accept')).to.equal(null);
  expect(hs.ec('handshake')).to.equal(null);
  expect(p.client.isOpen()).to.equal(true);
  expect(p.server.isOpen()).to.equal(true);
  return p;
}

/**
 * Ends a test: closes both endpoints (aborting reads that still wait), runs what is left, and
 * asserts that no work is outstanding.
 */
export function finish(ioc: IoContext, ...endpoints: TestStream[]): void {
  for (const e of endpoints) e.close();
  pump(ioc);
  expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
}

/**
 * Whether `endpoint`'s peer has closed: after the pending input, a read gets `eof`. A read that
 * would wait is aborted by closing `endpoint` (so call this last).
 */
export function peerClosed(ioc: IoContext, endpoint: TestStream): boolean {
  endpoint.clear();
  const r = recorder();
  endpoint.asyncReadSome(new Uint8Array(16), r.h);
  pump(ioc);
  if (r.called) return r.ec() === netError.eof;
  endpoint.close();
  pump(ioc);
  return false;
}

// ---- the opening handshake ----------------------------------------------------------------------

/** The sample key of RFC 6455 section 1.3, and its accept value. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** Builds an HTTP message head from a start line and fields (`null` values are left out). */
export function httpHead(start: string, fields: ReadonlyArray<readonly [string, string | null]>, body = ''): string {
  const lines = [start];
  for (const [name, value] of fields) if (value !== null) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** What a client upgrade request is made of; each field can be replaced or removed (null). */
export interface UpgradeRequestParts {
  method?: string;
  target?: string;
  version?: string;
  host?: string | null;
  connection?: string | null;
  upgrade?: string | null;
  key?: string | null;
  secVersion?: string | null;
  extra?: ReadonlyArray<readonly [string, string]>;
}

/** A client upgrade request as text. */
export function upgradeRequest(p: UpgradeRequestParts = {}): string {
  return httpHead(`${p.method ?? 'GET'} ${p.target ?? '/'} ${p.version ?? 'HTTP/1.1'}`, [
    ['Host', p.host === undefined ? 'localhost' : p.host],
    ['Upgrade', p.upgrade === undefined ? 'websocket' : p.upgrade],
    ['Connection', p.connection === undefined ? 'upgrade' : p.connection],
    ['Sec-WebSocket-Key', p.key === undefined ? SAMPLE_KEY : p.key],
    ['Sec-WebSocket-Version', p.secVersion === undefined ? '13' : p.secVersion],
    ...(p.extra ?? []),
  ]);
}

/** The value of a header field in a raw HTTP message head (first occurrence, any case). */
export function headerField(message: string, name: string): string | undefined {
  const head = message.split('\r\n\r\n')[0]!;
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** What a server's upgrade response is made of; each field can be replaced or removed (null). */
export interface UpgradeResponseParts {
  status?: string;
  version?: string;
  connection?: string | null;
  upgrade?: string | null;
  accept?: string | null;
  extra?: ReadonlyArray<readonly [string, string]>;
  body?: string;
}

/** A server's upgrade response to `request` (the client's request text) as text. */
export function upgradeResponse(request: string, p: UpgradeResponseParts = {}): string {
  const key = headerField(request, 'Sec-WebSocket-Key') ?? '';
  return httpHead(
    `${p.version ?? 'HTTP/1.1'} ${p.status ?? '101 Switching Protocols'}`,
    [
      ['Upgrade', p.upgrade === undefined ? 'websocket' : p.upgrade],
      ['Connection', p.connection === undefined ? 'Upgrade' : p.connection],
      ['Sec-WebSocket-Accept', p.accept === undefined ? makeSecAccept(key) : p.accept],
      ...(p.extra ?? []),
    ],
    p.body ?? '',
  );
}

/** A client Stream on `a` whose peer `b` is raw bytes (the test plays the server). */
export interface RawServer {
  ioc: IoContext;
  a: TestStream;
  b: TestStream;
  client: WsStream;
}

/**
 * Opens a client Stream against a raw peer: the request the client writes is answered with a
 * valid 101 response (plus `after`, bytes that follow it).
 */
export function openClientAgainstRaw(opts: PairOptions = {}, after: Uint8Array = new Uint8Array(0)): RawServer {
  const { ioc, a, b, client } = makePair(opts);
  const hs = recorder<[Ec]>();
  client.asyncHandshake('localhost', '/', hs.h);
  pump(ioc);
  const request = Buffer.from(take(b)).toString('latin1');
  a.append(concat(new Uint8Array(Buffer.from(upgradeResponse(request), 'latin1')), after));
  pump(ioc);
  expect(hs.ec('handshake')).to.equal(null);
  return { ioc, a, b, client };
}

/** A server Stream on `b` whose peer `a` is raw bytes (the test plays the client). */
export interface RawClient {
  ioc: IoContext;
  a: TestStream;
  b: TestStream;
  server: WsStream;
}

/**
 * Opens a server Stream against a raw peer: a valid upgrade request is put in its input and the
 * 101 response it writes is taken from `a` and discarded.
 */
export function openServerAgainstRaw(opts: PairOptions = {}): RawClient {
  const { ioc, a, b, server } = makePair(opts);
  b.append(upgradeRequest());
  const acc = recorder<[Ec]>();
  server.asyncAccept(acc.h);
  pump(ioc);
  expect(acc.ec('accept')).to.equal(null);
  const response = Buffer.from(take(a)).toString('latin1');
  expect(response.startsWith('HTTP/1.1 101 ')).to.equal(true);
  return { ioc, a, b, server };
}
