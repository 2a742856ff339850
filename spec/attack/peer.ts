/**
 * The attack suite's peers: a raw TCP attacker that records what the server sent it (HTTP status,
 * `Connection: close`, frames, how the connection ended), and a legitimate `ws` client that echoes
 * messages of many sizes alongside and checks each one comes back whole.
 */

import { once } from 'node:events';
import * as net from 'node:net';
import WebSocket from 'ws';
import { clientFrame, concat } from '../beast/websocket/ops/fixture.js';

export const upgradeRequest = (extra: string[] = []): string =>
  ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or `fallback` after `ms`; the timer does not outlive the race (spec/support/hooks.ts). */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A raw connection to the server, recording everything it receives. */
export class RawPeer {
  readonly sock: net.Socket;
  #data: Buffer[] = [];
  /** How the server ended the connection: 'FIN', 'RST', or null while it is open. */
  end: 'FIN' | 'RST' | null = null;
  readonly closed: Promise<unknown>;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => this.#data.push(d));
    sock.on('end', () => (this.end ??= 'FIN'));
    sock.on('error', () => (this.end ??= 'RST'));
    this.closed = once(sock, 'close');
  }

  /** Connects; with `halfOpen` the socket does not end its side when the server's FIN arrives. */
  static async connect(port: number, halfOpen = false): Promise<RawPeer> {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen });
    const peer = new RawPeer(sock);
    await once(sock, 'connect');
    return peer;
  }

  received(): Buffer {
    return Buffer.concat(this.#data);
  }

  /** Waits until `test` holds on what arrived, or the connection ends, for at most `ms`. */
  async waitFor(test: (b: Buffer) => boolean, ms = 3000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (test(this.received())) return true;
      if (this.end !== null || this.sock.destroyed) return test(this.received());
      await sleep(5);
    }
    return false;
  }

  /** Opens the WebSocket (after `extra` request fields); resolves once the 101 arrived. */
  async handshake(extra: string[] = []): Promise<void> {
    this.sock.write(upgradeRequest(extra));
    if (!(await this.waitFor((b) => b.includes('\r\n\r\n')))) throw new Error('no 101');
    const head = this.received().toString('latin1');
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`not 101: ${head.split('\r\n')[0]}`);
  }

  /** Waits for the server to end the connection (bounded); returns the time it took. */
  async awaitEnd(ms = 3000): Promise<number> {
    const t0 = Date.now();
    await within(this.closed, ms, null);
    return Date.now() - t0;
  }

  /** FIN, then gone: the socket is destroyed once the FIN is out. */
  async finAndGo(): Promise<void> {
    this.sock.end();
    await within(once(this.sock, 'finish'), 1000, null);
    this.sock.destroy();
  }

  /** A reset (SO_LINGER 0). */
  reset(): void {
    this.sock.resetAndDestroy();
  }

  /** A half-close: FIN sent, reading on until the server ends (bounded), then gone. */
  async halfClose(): Promise<void> {
    this.sock.end();
    await this.awaitEnd();
    this.sock.destroy();
  }

  /** What the server sent, in a few words: status, `Connection: close`, frames, the end. */
  summary(): string {
    let b = this.received();
    const parts: string[] = [];
    if (b.subarray(0, 5).toString('latin1') === 'HTTP/') {
      const end = b.indexOf('\r\n\r\n');
      const head = b.subarray(0, end < 0 ? b.length : end).toString('latin1');
      parts.push(head.split('\r\n')[0]!.split(' ').slice(1, 2).join(' '));
      if (/\r\nConnection: close/i.test(head)) parts.push('Connection: close');
      const v = /\r\nSec-WebSocket-Version: (\S+)/i.exec(head);
      if (v !== null) parts.push(`Sec-WebSocket-Version: ${v[1]}`);
      b = end < 0 ? Buffer.alloc(0) : b.subarray(end + 4);
      if (parts[0] !== '101') b = Buffer.alloc(0); // the error body
    }
    const counts = new Map<string, number>();
    while (b.length >= 2) {
      const op = b[0]! & 0x0f;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) [len, at] = [b.readUInt16BE(2), 4];
      else if (len === 127) [len, at] = [Number(b.readBigUInt64BE(2)), 10];
      if (b.length < at + len) break;
      const name = op === 8 ? `close ${len >= 2 ? b.readUInt16BE(at) : '(none)'}` : ({ 1: 'text', 2: 'binary', 9: 'ping', 10: 'pong' } as Record<number, string>)[op] ?? `op${op}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      b = b.subarray(at + len);
    }
    for (const [name, n] of counts) parts.push(n > 1 ? `${n} ${name}` : name);
    parts.push(this.end ?? '(peer left first)');
    return parts.join(', ');
  }
}

/** A masked client frame (see the fixture). */
export const frame = clientFrame;
export { concat };

/**
 * A legitimate client alongside the attack: sends messages of many sizes, text and binary, one
 * at a time, and checks that each echo is the message it sent.
 */
export class LegitClient {
  readonly ws: WebSocket;
  sent = 0;
  intact = 0;
  broken: string[] = [];
  #stop = false;
  #loop: Promise<void> | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
  }

  static async connect(port: number): Promise<LegitClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(ws, 'open');
    return new LegitClient(ws);
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const sizes = [0, 1, 125, 126, 1000, 65535, 65536, 100_000];
    while (!this.#stop) {
      const i = this.sent++;
      const size = sizes[i % sizes.length]!;
      const text = i % 2 === 0;
      const payload = text ? 'é'.repeat(size >> 1) + `#${i}` : Buffer.alloc(size, i & 0xff);
      const echo = once(this.ws, 'message') as Promise<[Buffer, boolean]>;
      this.ws.send(payload);
      const [got, isBinary] = await within<readonly [Buffer, boolean | null]>(echo, 5000, [Buffer.alloc(0), null]);
      const ok = isBinary === !text && (text ? got.toString('utf8') === payload : Buffer.compare(got, payload as Buffer) === 0);
      if (!ok) {
        this.broken.push(`message ${i} (${size} bytes)`);
        return;
      }
      this.intact++;
      await sleep(2); // alongside the attack, not instead of it
    }
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#loop;
  }

  async close(): Promise<void> {
    this.ws.close(1000);
    await once(this.ws, 'close');
  }
}
