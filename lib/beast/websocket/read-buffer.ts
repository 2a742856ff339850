/**
 * The read buffer of a WebSocket stream, and the spare blocks read buffers share. A stream that
 * waits for the next frame with nothing buffered holds no block: it lets go of its block before
 * a read that takes its buffers only when bytes arrive (`LazyReadStream`), and takes one then.
 * Per idle connection that is a block, its ArrayBuffer and a view less (bench/idle-memory).
 */

import { BlockPool, ownBlock } from '../../net/block-pool.js';
import { FlatBuffer } from '../../net/dynamic-buffer.js';

/** The block a read buffer takes when bytes arrive and it has none (Beast reads at least 4 KiB). */
export const spareBlockBytes = 4096;

/** The block an opening handshake is read into (what an HTTP read prepares at first). */
const handshakeBlockBytes = 512;

/**
 * Blocks of one size that read buffers let go of, for the next one that needs a block of that
 * size, on any connection. A block is out of here only from the moment its bytes arrive to the
 * stream's next wait, so about as many as connections whose messages one turn of the event loop
 * handles keep a busy server from allocating; bounded, so that idle connections hold none
 * between them. Handshake blocks go round too: a server accepting connection after connection
 * reads every handshake into the same few, where one allocated and freed per connection left
 * holes in the C heap (about 230 bytes of RSS per idle connection, bench/idle-memory).
 */
const frameSpares = new BlockPool(64, () => ownBlock(spareBlockBytes));
const handshakeSpares = new BlockPool(64, () => ownBlock(handshakeBlockBytes));

function sparesFor(size: number): BlockPool<Uint8Array> | null {
  return size === spareBlockBytes ? frameSpares : size === handshakeBlockBytes ? handshakeSpares : null;
}

/**
 * A FlatBuffer that remembers whether the last read filled all the room it was given, which
 * `StreamImpl.prepareRead` uses to decide when to grow, and that can let go of its block.
 */
export class ReadBuffer extends FlatBuffer {
  #prepared = 0;
  /** The block as it was allocated (FlatBuffer's is its own), null when there is none. */
  #block: Uint8Array | null = null;
  /** The last commit filled the whole prepared area: more bytes were probably waiting. */
  filled = false;

  override prepareView(n: number): Uint8Array {
    const view = super.prepareView(n);
    this.#prepared = n;
    return view;
  }

  override prepare(n: number): readonly Uint8Array[] {
    return [this.prepareView(n)];
  }

  override commit(n: number): void {
    this.filled = n > 0 && n >= this.#prepared;
    this.#prepared = 0;
    super.commit(n);
  }

  /**
   * Lets go of the block if nothing is buffered and it is no larger than a spare one (a larger
   * block is a busy connection's, grown for large frames: it is kept). A block of a spare size
   * (4 KiB, or the 512 bytes of a handshake) goes to its spares, any other to the collector.
   * @returns whether the buffer now holds no block.
   */
  releaseBlock(): boolean {
    if (this.size() !== 0) return false;
    const block = this.#block;
    if (block === null) return true;
    if (block.length > spareBlockBytes) return false;
    sparesFor(block.length)?.give(block);
    this.#block = null;
    this.shrinkToFit();
    return true;
  }

  // Blocks of their own, not from Node's 8 KiB pool: a small block an idle connection kept (the
  // 512 bytes a handshake was read into) kept alive a slab shared with short-lived allocations
  // of the handshake (1.8 KiB of RSS per idle connection, bench/idle-memory).
  protected override allocate(n: number): Uint8Array {
    return (this.#block = sparesFor(n)?.take() ?? ownBlock(n));
  }
}
