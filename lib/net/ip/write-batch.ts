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
/** The smallest batch, and the first of a socket; an idle socket holds none. */
const firstBatch = 2048;
/** With more than this queued in Node (a slow peer), writes wait for Node again instead. */
const queuedLimit = 256 * 1024;

/**
 * Batches come in six sizes, the powers of two from 2 KiB to 64 KiB, each with spares kept for
 * the next batch of any socket: every socket that writes in a turn holds a batch until the end of
 * the turn, and one made for it (`allocUnsafeSlow`, not Node's 8 KiB pool, whose slabs the first
 * batches of new connections left as holes in the C heap: about 200 bytes of RSS per idle
 * connection, bench/idle-memory) is memory outside V8's heap that V8 counts towards a full
 * collection. A socket's batch is sized after what it wrote in its last turn, up or down.
 *
 * Measured with the native generator on examples/echo_server, 1 KiB echoes, 64 connections with
 * 16 in flight: the replies of one turn came to 2-4 KiB for most sockets and at most 16 KiB, but
 * with two sizes (2 KiB, else 64 KiB) and 32 spares of each, every busy socket took a 64 KiB
 * batch and half of them a new one each turn: 47 full collections in 3 s (ws: none); with six
 * sizes, one. A batch that outgrows its size moves into the next one rather than being written
 * early, so a socket's writes of one turn stay one write.
 */
const sizes = 6;

/** Spares kept of each size: up to 1 MiB of each, and at least 32 of any. */
const spares: readonly BlockPool<Buffer>[] = Array.from({ length: sizes }, (_, i) => {
  const size = firstBatch << i;
  return new BlockPool<Buffer>(Math.max(32, (1024 * 1024) / size), () => Buffer.allocUnsafeSlow(size));
});

/** The spares of the smallest size that holds `n` bytes (at most {@link batchCapacity}). */
function sparesFor(n: number): BlockPool<Buffer> {
  return spares[n <= firstBatch ? 0 : 32 - Math.clz32((n - 1) >> 11)]!;
}

/**
 * Batches with bytes waiting for the end of the turn, flushed by one `setImmediate` for all
 * sockets: a callback bound per socket cost every connection a closure and its context
 * (bench/idle-memory), and a busy server one immediate per socket per turn.
 */
const due: (WriteBatch | undefined)[] = [];
let dueCount = 0;

// One array for the life of the process, cleared slot by slot: a new array per turn, grown by
// its pushes, cost a busy socket about 0.5k instructions per turn.
function flushDue(): void {
  // A batch that comes due while these are flushed (a write from a socket's own events) is
  // flushed in this call too, and the next turn is not asked for twice.
  let i = 0;
  try {
    while (i < dueCount) {
      const batch = due[i]!;
      due[i++] = undefined;
      batch.tick();
    }
  } finally {
    // After a throw, the batches not reached wait for the next turn rather than for ever.
    const left = dueCount - i;
    for (let j = 0; j < left; j++) {
      due[j] = due[i + j];
      due[i + j] = undefined;
    }
    dueCount = left;
    if (left > 0) setImmediate(flushDue);
  }
}

export class WriteBatch {
  #buf: Buffer | null = null;
  #len = 0;
  #scheduled = false;
  /** The size of the next batch: what the last one held. */
  #next = firstBatch;

  constructor(protected readonly socket: net.Socket) {}

  /** Whether a write of `n` bytes may be taken into the batch now. */
  accepts(n: number): boolean {
    return n <= batchWriteMax && this.socket.writableLength + this.#len < queuedLimit;
  }

  /** Copies the buffers into the batch; they may be reused as soon as this returns. */
  append(list: readonly Uint8Array[], total: number): void {
    let buf = this.#buf;
    const need = this.#len + total;
    if (buf !== null && need > buf.length) {
      if (need > batchCapacity) {
        // Full: out it goes, and the next batch starts at the largest size.
        this.flush();
        buf = null;
      } else {
        // Outgrown: into a batch of the next size that holds it, still one write this turn.
        const larger = sparesFor(need).take();
        larger.set(buf.subarray(0, this.#len));
        sparesFor(buf.length).give(buf);
        this.#buf = buf = larger;
      }
    }
    if (buf === null) this.#buf = buf = sparesFor(Math.max(this.#next, total)).take();
    for (const b of list) {
      buf.set(b, this.#len);
      this.#len += b.length;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      // In the loop's check phase, after every I/O callback of this poll phase and every handler
      // they released (and the handlers those released, in later microtask rounds): one read that
      // brought many messages gives one write of all their replies. A nextTick flushed once per
      // microtask round instead, so a chain of writes cost a system call per link (measured:
      // a tsbeast client's 1 KiB echo loop 5.6 -> 4.0 µs of CPU per message).
      if (dueCount === 0) setImmediate(flushDue);
      due[dueCount++] = this;
    }
  }

  /** Hands the batch to Node now (before a large write, a shutdown or a close). */
  flush(): void {
    const buf = this.#buf;
    if (buf === null || this.#len === 0) return;
    this.#buf = null;
    const n = this.#len;
    this.#len = 0;
    this.#next = n;
    if (this.socket.destroyed) return;
    sparesFor(buf.length).giveAfterWrite(this.socket, buf, buf.subarray(0, n));
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
