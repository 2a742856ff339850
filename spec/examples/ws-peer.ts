/**
 * A `ws` client for the example specs, with its events turned into promises: the next message,
 * the next pong, and the close (code and reason).
 */

import { once } from 'node:events';
import WebSocket from 'ws';

/** A message as `ws` delivers it. */
export interface Received {
  data: Buffer;
  binary: boolean;
}

/** How the connection closed. */
export interface Closed {
  code: number;
  reason: string;
}

/** A connected `ws` client that queues what it receives. */
export class WsPeer {
  readonly ws: WebSocket;
  readonly closed: Promise<Closed>;
  readonly #messages: Received[] = [];
  readonly #pongs: Buffer[] = [];
  #wake: (() => void) | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer, binary) => this.#push(() => this.#messages.push({ data, binary })));
    ws.on('pong', (data) => this.#push(() => this.#pongs.push(data)));
    ws.on('close', () => this.#push(() => {}));
    ws.on('error', () => {}); // surfaces as the close
  }

  /** Connects to `url`; `deflate` offers permessage-deflate; `headers` go with the upgrade request. */
  static async connect(url: string, deflate = false, headers: Record<string, string> = {}): Promise<WsPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: deflate, headers });
    const peer = new WsPeer(ws);
    await once(ws, 'open');
    return peer;
  }

  /** The next message received. */
  async message(): Promise<Received> {
    return this.#take(this.#messages, 'message');
  }

  /** The next pong received. */
  async pong(): Promise<Buffer> {
    return this.#take(this.#pongs, 'pong');
  }

  /** Destroys the socket if it is still open (for cleanup). */
  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  async #take<T>(queue: T[], what: string): Promise<T> {
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) return item;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed while waiting for a ${what}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #push(add: () => void): void {
    add();
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
