/**
 * BlockPool: blocks of memory (buffers, or objects holding one) handed back by whoever is done
 * with them, for the next user of any connection. A busy server so reuses a few blocks instead of
 * making one per connection per turn for the collector to find, and an idle connection holds none
 * (bench/idle-memory); bounded, so that a burst leaves at most `max` blocks behind. A block made
 * by `allocUnsafeSlow` rather than taken from Node's shared 8 KiB pool: a small block one
 * connection keeps would keep a whole slab of short-lived allocations alive.
 *
 * When Node lets go of a block written to a socket ({@link BlockPool.giveAfterWrite}): Node keeps
 * a reference to the bytes of a `socket.write` until its callback runs. When nothing is left
 * queued in Node right after the call (`writableLength` 0), the write went to the kernel whole
 * inside the call and nothing refers to the block any more, so it can go back at once; otherwise
 * it goes back from the write's callback.
 */

import { Buffer } from 'node:buffer';
import type * as net from 'node:net';

export class BlockPool<T> {
  readonly #blocks: T[] = [];

  /**
   * @param max - blocks kept at most.
   * @param make - makes a block when none is kept.
   */
  constructor(
    readonly max: number,
    readonly make: () => T,
  ) {}

  /** A kept block, or a new one. */
  take(): T {
    return this.#blocks.pop() ?? this.make();
  }

  /** Hands back a block nothing refers to any more (kept if there is room, else left to the collector). */
  give(block: T): void {
    if (this.#blocks.length < this.max) this.#blocks.push(block);
  }

  /** Blocks kept now. */
  get kept(): number {
    return this.#blocks.length;
  }

  /**
   * Writes `bytes` (a view of `block`) to `socket` and gives `block` back once Node lets go of it:
   * at once when the write left nothing queued in Node, else from the write's callback.
   */
  giveAfterWrite(socket: net.Socket, block: T, bytes: Uint8Array): void {
    let given = false;
    socket.write(bytes, () => {
      if (given) return;
      given = true;
      this.give(block);
    });
    if (!given && socket.writableLength === 0) {
      given = true;
      this.give(block);
    }
  }
}

/** Makes `bytes` bytes of their own (not from Node's shared pool), as a plain `Uint8Array`. */
export function ownBlock(bytes: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
}
