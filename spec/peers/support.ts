/**
 * Shared helpers of the peer specs: peers that nobody on this project wrote (Beast, Python's
 * `websockets`, Node's own WebSocket, nginx, Chromium), installed from Debian's packages by
 * `.ci/run` and started and stopped by the spec that uses them.
 *
 * - {@link requireCommand} / {@link requireFile} / {@link requirePythonModule}: a missing peer fails
 *   the spec with a message that says what to install; nothing is silently skipped.
 * - {@link Peer}: a child process whose stdout is read line by line, stopped and awaited.
 * - {@link buildBeastProgram}: compiles one of `spec/peers/beast/*.cpp`, cached in `.cache/peers`.
 * - {@link TsEchoServer}: a tsbeast echo server on loopback, in this process.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { error as httpError } from '../../lib/beast/http/error.js';
import { closeReason, error as wsError, Stream, type Timeout } from '../../lib/beast/websocket/index.js';
import { buffersToString, FlatBuffer, IoContext, SystemError, WorkGuard, type ErrorCode } from '../../lib/net/index.js';
import { Endpoint, TcpAcceptor, TcpSocket } from '../../lib/net/ip/tcp.js';

/** The repository's root (this file runs from `dist/spec/peers/`). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Where the peers' sources live: `spec/peers/` of the repository (not `dist/`). */
export const peersDir = join(repoRoot, 'spec', 'peers');
/** The git-ignored folder of built peers. */
export const cacheDir = join(repoRoot, '.cache', 'peers');

/** Debian's Python, which has `python3-websockets` (the PATH one may be another build). */
export const debianPython = '/usr/bin/python3';

// ---- requiring a peer ---------------------------------------------------------------------------

function missing(what: string, debianPackages: string): Error {
  return new Error(`${what} is missing: this spec needs it as a peer; install it with: apt-get install -y ${debianPackages}`);
}

/** The full path of `command` on PATH (or itself when it is a path that exists), else null. */
export function findCommand(command: string): string | null {
  if (command.includes('/')) return existsSync(command) ? command : null;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, command))) return join(dir, command);
  }
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin']) {
    if (existsSync(join(dir, command))) return join(dir, command);
  }
  return null;
}

/** Returns the path of `command`, or throws an error that says which Debian package to install. */
export function requireCommand(command: string, debianPackages: string): string {
  const found = findCommand(command);
  if (found === null) throw missing(`the command \`${command}\``, debianPackages);
  return found;
}

/** Throws an error that says which Debian package to install unless `path` exists. */
export function requireFile(path: string, debianPackages: string): void {
  if (!existsSync(path)) throw missing(path, debianPackages);
}

/** Throws unless Debian's Python can import `module`. */
export async function requirePythonModule(module: string, debianPackages: string): Promise<void> {
  requireCommand(debianPython, 'python3');
  const p = Peer.spawn(debianPython, ['-c', `import ${module}`]);
  const { code } = await p.exited;
  if (code !== 0) throw missing(`the Python module \`${module}\` (for ${debianPython})`, debianPackages);
}

// ---- time bounds --------------------------------------------------------------------------------

/** `promise`, or a rejection naming `what` after `ms`. The timer never outlives the race. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- child processes ----------------------------------------------------------------------------

/** A child process; its stdout is split into lines that {@link Peer.next} hands out in order. */
export class Peer {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #cursor = 0;
  #partial = '';
  #wake: (() => void) | null = null;
  #done = false;

  private constructor(readonly child: ChildProcess, readonly what: string) {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
      this.#notify();
    });
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    child.stdin!.on('error', () => {}); // a peer that exits early must not crash the spec
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
      });
      // 'close': the process exited and its pipes are closed (no handle is left behind).
      child.once('close', (code, signal) => {
        if (this.#partial !== '') this.lines.push(this.#partial);
        this.#partial = '';
        this.#done = true;
        this.#notify();
        resolve({ code, signal });
      });
    });
  }

  /** Starts `command` with `args`; stdin, stdout and stderr are pipes. */
  static spawn(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Peer {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new Peer(child, [command, ...args].join(' '));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * The next line (after those already handed out) that matches `pattern`; lines before it are
   * passed over. Rejects when the process ends first or after `ms`.
   */
  next(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    return this.#until(() => {
      while (this.#cursor < this.lines.length) {
        const m = pattern.exec(this.lines[this.#cursor++]!);
        if (m !== null) return m;
      }
      return null;
    }, ms, pattern);
  }

  /** The first line of the whole output (so far or to come) that matches `pattern`; nothing is handed out. */
  find(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    return this.#until(() => {
      for (const line of this.lines) {
        const m = pattern.exec(line);
        if (m !== null) return m;
      }
      return null;
    }, ms, pattern);
  }

  async #until(test: () => RegExpMatchArray | null, ms: number, pattern: RegExp): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = test();
      if (m !== null) return m;
      const output = `\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
      if (this.#done) throw new Error(`${this.what}: ended without a line matching ${pattern}${output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.what}: no line matching ${pattern} within ${ms} ms${output}`);
      await within(new Promise<void>((resolve) => (this.#wake = resolve)), left, 'a line').catch(() => {});
      this.#wake = null;
    }
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Closes stdin (the peers here exit then); kills the process if it is still there after `ms`. */
  async stop(ms = 3000): Promise<void> {
    if (this.#done) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), ms);
    const hard = setTimeout(() => this.child.kill('SIGKILL'), ms * 2);
    await this.exited;
    clearTimeout(timer);
    clearTimeout(hard);
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.#done) return;
    this.child.kill(signal);
    const hard = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(hard);
  }
}

// ---- Beast programs ---------------------------------------------------------------------------

/**
 * Compiles `spec/peers/beast/<name>.cpp` with g++ against Debian's Boost (header-only Beast) and
 * returns the program's path. The build is cached in `.cache/peers/`, keyed by a hash of the
 * source and the compiler's version; a build takes about a minute.
 */
export async function buildBeastProgram(name: string): Promise<string> {
  const gxx = requireCommand('g++', 'g++');
  requireFile('/usr/include/boost/beast.hpp', 'libboost1.81-dev');
  const source = join(peersDir, 'beast', `${name}.cpp`);
  const version = Peer.spawn(gxx, ['--version']);
  await version.exited;
  const hash = createHash('sha256').update(readFileSync(source)).update(version.lines.join('\n')).digest('hex').slice(0, 16);
  const out = join(cacheDir, `beast_${name}-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = Peer.spawn(gxx, ['-std=c++17', '-O1', '-pthread', source, '-o', tmp]);
  const { code } = await cc.exited;
  if (code !== 0) throw new Error(`g++ failed to build ${source}:\n${cc.stderr}`);
  renameSync(tmp, out);
  return out;
}

// ---- ports --------------------------------------------------------------------------------------

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- error names --------------------------------------------------------------------------------

const wsNames = new Map<number, string>(Object.entries(wsError).map(([name, ec]) => [ec.value, name]));
const httpNames = new Map<number, string>(Object.entries(httpError).map(([name, ec]) => [ec.value, name]));

/**
 * A name for an error, the same for Beast's `error_code` (category and value as Beast prints
 * them) and for tsbeast's: `websocket.badReservedBits`, `http.badVersion`, `eof`, `system.104`;
 * `ok` for success. tsbeast keeps Beast's values in each category, so one table serves both.
 */
export function errorName(category: string, value: number): string {
  if (category === '-' || value === 0) return 'ok';
  const cat = category.replace(/^boost\./, '');
  if (cat === 'beast.websocket') return `websocket.${wsNames.get(value) ?? value}`;
  if (cat === 'beast.http') return `http.${httpNames.get(value) ?? value}`;
  if (cat === 'asio.misc' && value === 2) return 'eof';
  return `${cat}.${value}`;
}

/** {@link errorName} of a tsbeast error (null: success). */
export function tsErrorName(ec: ErrorCode | null): string {
  return ec === null ? 'ok' : errorName(ec.category.name, ec.value);
}

/** The error code of a rejected tsbeast promise. */
export function codeOf(err: unknown): ErrorCode {
  if (err instanceof SystemError) return err.code;
  throw err;
}

// ---- a tsbeast echo server ----------------------------------------------------------------------

/** How a session of {@link TsEchoServer} ended. */
export interface SessionEnd {
  /** The step that failed (or, for `close`, the closing handshake the server started). */
  readonly stage: 'accept' | 'read' | 'write' | 'ping' | 'close';
  /** {@link errorName} of its error. */
  readonly error: string;
  /** The peer's close code and reason, as `reason()` holds them. */
  readonly code: number;
  readonly reason: string;
  /** The control frames the reads saw: `ping:<data>`, `pong:<data>`, `close:<reason>`. */
  readonly controls: string[];
  /** The number of messages echoed. */
  readonly messages: number;
}

export interface TsEchoOptions {
  /** Timeouts for every session (none by default). */
  timeout?: Timeout;
  /** The largest message a read accepts (tsbeast's default when absent). */
  readMessageMax?: number;
  /** false: read and drop messages instead of echoing them (for the differential spec). */
  echo?: boolean;
}

/**
 * A tsbeast WebSocket echo server on 127.0.0.1, in this process, with its own IoContext: text is
 * echoed as text, binary as binary. A text message `!ping <data>` makes it send a ping first;
 * `!close <code> <reason>` makes it close with that code and reason. Each session's end is
 * taken, in the order the connections were accepted, with {@link TsEchoServer.nextSession}.
 */
export class TsEchoServer {
  readonly ioc = new IoContext();
  readonly acceptor: TcpAcceptor;
  readonly #live = new Set<Stream<TcpSocket>>();
  readonly #ends: Array<{ promise: Promise<SessionEnd>; resolve: (end: SessionEnd) => void }> = [];
  #taken = 0;
  #accepted = 0;
  #running: Promise<number> | null = null;

  private constructor(readonly options: TsEchoOptions) {
    this.acceptor = new TcpAcceptor(this.ioc, Endpoint.loopback(0));
  }

  static async start(options: TsEchoOptions = {}): Promise<TsEchoServer> {
    const server = new TsEchoServer(options);
    server.#running = server.ioc.run();
    await server.acceptor.asyncListen();
    server.#acceptLoop();
    return server;
  }

  get port(): number {
    return this.acceptor.localEndpoint().port;
  }

  #slot(i: number): { promise: Promise<SessionEnd>; resolve: (end: SessionEnd) => void } {
    while (this.#ends.length <= i) {
      let resolve!: (end: SessionEnd) => void;
      const promise = new Promise<SessionEnd>((r) => (resolve = r));
      this.#ends.push({ promise, resolve });
    }
    return this.#ends[i]!;
  }

  /** The end of the next session (in accept order) not taken yet; rejects after `ms`. */
  nextSession(ms = 20_000): Promise<SessionEnd> {
    return within(this.#slot(this.#taken++).promise, ms, 'the tsbeast server session');
  }

  #acceptLoop(): void {
    this.acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return;
      const slot = this.#slot(this.#accepted++);
      void this.#session(socket).then(slot.resolve);
      this.#acceptLoop();
    });
  }

  async #session(socket: TcpSocket): Promise<SessionEnd> {
    const ws = new Stream(socket);
    this.#live.add(ws);
    const controls: string[] = [];
    let messages = 0;
    ws.controlCallback((kind, payload) => controls.push(`${kind}:${payload}`));
    if (this.options.timeout !== undefined) ws.setOption(this.options.timeout);
    if (this.options.readMessageMax !== undefined) ws.readMessageMax(this.options.readMessageMax);
    const end = (stage: SessionEnd['stage'], ec: ErrorCode | null): SessionEnd => {
      this.#live.delete(ws);
      // As Beast's stream destructor: whatever happened, the socket is closed at the end.
      ws.nextLayer().close();
      return { stage, error: tsErrorName(ec), code: ws.reason().code, reason: ws.reason().reason, controls, messages };
    };
    try {
      await ws.asyncAccept();
    } catch (err) {
      return end('accept', codeOf(err));
    }
    const b = new FlatBuffer();
    for (;;) {
      try {
        await ws.asyncRead(b);
      } catch (err) {
        return end('read', codeOf(err));
      }
      if (this.options.echo === false) {
        b.consume(b.size());
        continue;
      }
      if (ws.gotText() && b.size() <= 256) {
        const text = buffersToString(b.data());
        if (text.startsWith('!ping ')) {
          try {
            await ws.asyncPing(text.slice(6));
          } catch (err) {
            return end('ping', codeOf(err));
          }
        } else if (text.startsWith('!close ')) {
          const [, code, reason] = /^!close (\d+) ?(.*)$/s.exec(text) ?? [];
          try {
            await ws.asyncClose(closeReason(Number(code), reason ?? ''));
          } catch (err) {
            return end('close', codeOf(err));
          }
          return end('close', null);
        }
      }
      ws.binary(ws.gotBinary());
      try {
        await ws.asyncWrite(b.data());
      } catch (err) {
        return end('write', codeOf(err));
      }
      messages++;
      b.consume(b.size());
    }
  }

  /** Stops accepting, cuts the sessions still open, and waits for the IoContext to finish. */
  async close(): Promise<void> {
    this.acceptor.close();
    for (const ws of this.#live) ws.nextLayer().close();
    await within(this.#running ?? Promise.resolve(0), 5000, 'the tsbeast server IoContext').catch(() => {
      this.ioc.stop();
    });
  }
}

// ---- tsbeast clients ---------------------------------------------------------------------------

/**
 * An IoContext for tsbeast clients, kept running by a work guard while the spec waits for a peer
 * between operations; {@link Clients.stop} closes what is left and waits for the context.
 */
export class Clients {
  readonly ioc = new IoContext();
  readonly #guard = new WorkGuard(this.ioc);
  readonly #running = this.ioc.run();
  readonly #made: Array<Stream<TcpSocket>> = [];

  /** Connects to 127.0.0.1:`port` and runs the client handshake (`host` in the Host field). */
  async connect(port: number, setup?: (ws: Stream<TcpSocket>) => void, target = '/'): Promise<Stream<TcpSocket>> {
    const socket = new TcpSocket(this.ioc);
    const ws = new Stream(socket);
    this.#made.push(ws);
    await socket.asyncConnect(Endpoint.loopback(port));
    setup?.(ws);
    await ws.asyncHandshake(`127.0.0.1:${port}`, target);
    return ws;
  }

  async stop(): Promise<void> {
    for (const ws of this.#made) ws.nextLayer().close();
    this.#guard.reset();
    await within(this.#running, 5000, 'the tsbeast client IoContext').catch(() => this.ioc.stop());
  }
}

// ---- payload patterns (the same as spec/peers/beast/echo_client.cpp) ----------------------------

/** Binary byte i is (i * 31 + seed) & 255; text byte i is 'a' + (i * 7 + seed) % 26. */
export function pattern(kind: 'text' | 'binary', n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  if (kind === 'binary') for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 255;
  else for (let i = 0; i < n; i++) out[i] = 97 + ((i * 7 + seed) % 26);
  return out;
}

/** FNV-1a, 32 bits, as 8 hex digits (the Beast client prints it for each message). */
export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
