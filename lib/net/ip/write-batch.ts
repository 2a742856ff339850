/**
 * WriteBatch: small writes on a socket are copied into one buffer and handed to Node together, at
 * the end of the current turn of the event loop, in a single write. A write of a few dozen bytes
 * costs a system call and a TCP segment of its own otherwise; copying it is much cheaper (measured with bench/echo:
 * 20-byte WebSocket echoes went from one `writev` per message to one per batch of messages).
 * Large writes are never copied: the socket flushes the batch, then writes them as they are.
 */

import { Buffer } from 'node:buffer';
import type * as net from 'node:net';
import { BlockPool } from '../block-pool.js';

/** Writes up to this size are copied into the batch; larger ones go out directly. */
export const batchWriteMax = 16 * 1024;
/** A batch is written out at once when it reaches this size. */
const batchCapacity = 64 * 1024;
/** The first batch of a socket; later ones are sized after the last (an idle socket holds none). */
const firstBatch = 2048;
/** With more than this queued in Node (a slow peer), writes wait for Node again instead. */
const queuedLimit = 256 * 1024;

/**
 * Batches of the largest size, for the next batch of any socket: at that size
 * `Buffer.allocUnsafe` makes a new ArrayBuffer every time, and a busy server would make one per
 * socket per tick for the collector to find.
 */
const spares = new BlockPool<Buffer>(32, () => Buffer.allocUnsafeSlow(batchCapacity));

/**
 * Batches of the first size. Taken from Node's shared 8 KiB pool instead, the first batch of
 * every new connection (its handshake response) made a slab per four connections, which the
 * collector freed later, leaving holes in the C heap among what the connections keep (about 200
 * bytes of RSS per idle connection, bench/idle-memory).
 */
const firstSpares = new BlockPool<Buffer>(32, () => Buffer.allocUnsafeSlow(firstBatch));

function takeBatch(size: number): Buffer {
  return size <= firstBatch ? firstSpares.take() : spares.take();
}

/**
 * Batches with bytes waiting for the end of the turn, flushed by one `setImmediate` for all
 * sockets: a callback bound per socket cost every connection a closure and its context
 * (bench/idle-memory), and a busy server one immediate per socket per turn.
 */
let due: WriteBatch[] = [];
let dueScheduled = false;

function flushDue(): void {
  dueScheduled = false;
  const list = due;
  due = [];
  for (const batch of list) batch.tick();
}

export class WriteBatch {
  #buf: Buffer | null = null;
  #len = 0;
  #scheduled = false;
  #next = firstBatch;

  constructor(protected readonly socket: net.Socket) {}

  /** Whether a write of `n` bytes may be taken into the batch now. */
  accepts(n: number): boolean {
    return n <= batchWriteMax && this.socket.writableLength + this.#len < queuedLimit;
  }

  /** Copies the buffers into the batch; they may be reused as soon as this returns. */
  append(list: readonly Uint8Array[], total: number): void {
    if (this.#buf !== null && this.#len + total > this.#buf.length) {
      // Outgrown: the next batches start twice as large (busy sockets write fewer, larger chunks).
      this.#next = Math.min(batchCapacity, this.#buf.length * 2);
      this.flush();
    }
    if (this.#buf === null) this.#buf = takeBatch(Math.max(this.#next, total));
    for (const b of list) {
      this.#buf.set(b, this.#len);
      this.#len += b.length;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      // In the loop's check phase, after every I/O callback of this poll phase and every handler
      // they released (and the handlers those released, in later microtask rounds): one read that
      // brought many messages gives one write of all their replies. A nextTick flushed once per
      // microtask round instead, so a chain of writes cost a system call per link (measured:
      // a tsbeast client's 1 KiB echo loop 5.6 -> 4.0 µs of CPU per message).
      due.push(this);
      if (!dueScheduled) {
        dueScheduled = true;
        setImmediate(flushDue);
      }
    }
  }

  /** Hands the batch to Node now (before a large write, a shutdown or a close). */
  flush(): void {
    const buf = this.#buf;
    if (buf === null || this.#len === 0) return;
    this.#buf = null;
    const n = this.#len;
    this.#len = 0;
    if (this.socket.destroyed) return;
    (buf.length === batchCapacity ? spares : firstSpares).giveAfterWrite(this.socket, buf, buf.subarray(0, n));
  }

  /** Drops the batch (the socket is being destroyed anyway). */
  discard(): void {
    this.#buf = null;
    this.#len = 0;
  }

  /** The end of the turn this batch was waiting for. */
  tick(): void {
    this.#scheduled = false;
    this.flush();
  }
}
