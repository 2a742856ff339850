/**
 * OnreadReader: the read engine of the sockets tsbeast creates (see `socket-reader.ts` for the
 * read side they share): Node's `onread` option reads straight into the pending read's buffer
 * when it is large enough, else into one landing buffer shared by every socket. Internal; it must
 * never leave Node's handle pointing at a buffer whose read has ended.
 */

import type { OnReadOpts, Socket } from 'node:net';
import { allocUnsafeBytes, type MutableBufferSequence } from '../buffer.js';
import { userBufferHandle, type UserBufferHandle } from '../node-internals.js';
import { SocketReader } from './socket-reader.js';

function firstBuffer(seq: MutableBufferSequence): Uint8Array {
  return Array.isArray(seq) ? (seq as readonly Uint8Array[])[0] : (seq as Uint8Array);
}

/** Where reads land when the pending read cannot take them directly. */
const LANDING_SIZE = 64 * 1024;

/**
 * One landing buffer for every socket: a read's bytes are copied out of it inside the `onread`
 * callback (what does not fit is copied into the socket's leftover), before any other socket can
 * read, so sockets need none of their own. Per socket it cost 64 KiB; 10,000 idle connections
 * measured 24.6 KiB of RSS each with it (bench/idle-memory). The block is never handed to one
 * socket: every handle that last read into it still points at it.
 */
let sharedLanding: Uint8Array | null = null;
function landing(): Uint8Array {
  return (sharedLanding ??= allocUnsafeBytes(LANDING_SIZE));
}

/**
 * A copy of `bytes` that nothing else writes to. Not `slice()`: on a Node Buffer that is a view,
 * and a view of the landing buffer kept as leftover was overwritten by the next socket's read.
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = allocUnsafeBytes(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * How many times one socket may re-point its handle. Each `useUserBuffer` pushes a listener that
 * Node frees only with the socket (about 52 bytes), so re-pointing on every read would grow a
 * long-lived connection's memory without bound. Re-pointing is needed only when a read that was
 * to land in the caller's buffer ends without bytes; past this many, the socket stops offering
 * callers' buffers to Node and every read lands in the landing buffer.
 */
const MAX_REPOINTS = 16;

// The bits of OnreadReader's state field; the count of re-points is kept above them.
const stoppedBit = 1;
const inCallbackBit = 2;
const repointUnit = 4;

/**
 * Reads at least this big go straight into the caller's buffer. Smaller ones land in the
 * shared landing buffer first: one system call then serves many small reads, which measured
 * faster than one system call per small read (1 KiB reads: ~6 GB/s through the landing buffer
 * against ~2 GB/s direct).
 */
const DIRECT_READ_MIN = 16 * 1024;

/** The socket's reader, set by {@link OnreadReader.attach} (null once detached). */
const kReader = Symbol('tsbeast.OnreadReader');
interface ReaderSocket extends Socket {
  [kReader]?: OnreadReader | null;
}

/**
 * The reader whose socket Node asks next where its bytes go. Node calls the `onread` buffer
 * function with no `this`, always synchronously right after the socket's `onread` callback, and
 * once while a new socket takes its handle (inside the `net.Socket` constructor or
 * `net.connect`, after {@link OnreadReader.options}): both set this just before. One function for
 * every socket, where a method bound per socket cost each connection a function of its own
 * (48 bytes, bench/idle-memory).
 */
let asking: OnreadReader | null = null;

/**
 * Node's `onread` callback, shared by every socket: Node calls it with the socket as `this`.
 * Bytes read after the reader let go of the socket (it is being closed) have no read to go to:
 * returning `false` stops reading.
 */
function onreadCallback(this: ReaderSocket, n: number): boolean {
  const reader = this[kReader];
  if (reader === undefined || reader === null) {
    asking = null;
    return false;
  }
  const more = OnreadReader.onRead(reader, n);
  // Set after the reads this completed ran their handlers, which may have opened other sockets.
  asking = reader;
  return more;
}

/** Node's `onread` buffer function, shared by every socket: where the asking reader's next read lands. */
function onreadBuffer(): Uint8Array {
  const reader = asking;
  asking = null;
  return reader === null ? landing() : OnreadReader.nextTarget(reader);
}

/**
 * The `onread` engine. Node calls `options.buffer` after every read to learn where the next read
 * lands: the pending read's own first buffer when it is big enough (zero copy), else a landing
 * buffer the reader owns. Returning `false` from `options.callback` stops reading while bytes
 * are left over, so at most one landing buffer of bytes is read ahead.
 *
 * A read that ends without bytes (cancelled) must not leave the handle pointing at the caller's
 * buffer: it re-points the handle with `useUserBuffer`, the method behind `onread` on Node's TCP
 * handle, which costs memory until the socket closes (see MAX_REPOINTS). Where that method is
 * missing, reads always land in the landing buffer.
 */
export class OnreadReader extends SocketReader {
  #socket: Socket | null = null;
  /** Where the handle reads into; null: the landing buffer, as Node was told before any read. */
  #target: Uint8Array | null = null;
  /**
   * Reading stopped (bit 0), inside the `onread` callback (bit 1), and above them how many times
   * the handle was re-pointed (see MAX_REPOINTS): one field rather than three, as every
   * connection holds a reader (bench/idle-memory).
   */
  #bits = 0;

  /**
   * What to pass to Node as the socket's `onread` option, just before the socket is created
   * with it: Node asks for the first buffer while the socket takes its handle. Both functions
   * are shared by every socket (see {@link asking}); Node keeps only the functions, so the
   * options object goes once the socket is made.
   */
  options(): OnReadOpts {
    asking = this;
    return { buffer: onreadBuffer, callback: onreadCallback };
  }

  /** Where the next read of `reader`'s socket lands (Node's `onread` buffer function). */
  static nextTarget(reader: OnreadReader): Uint8Array {
    return reader.#chooseTarget();
  }

  /** Starts watching `socket` (connected, created with {@link OnreadReader.options}). */
  attach(socket: Socket): void {
    this.#socket = socket;
    (socket as ReaderSocket)[kReader] = this;
  }

  override detach(): void {
    if (this.#socket !== null) (this.#socket as ReaderSocket)[kReader] = null;
    this.#socket = null;
  }

  /** The `onread` callback of the socket this reader is attached to. */
  static onRead(reader: OnreadReader, n: number): boolean {
    return reader.#onRead(n);
  }

  // A read started outside a callback lands where the handle points, which is then always the
  // landing buffer: Node asks for the next target after every callback, and `released` moves the
  // handle off a cancelled read's buffer. Its first bytes are copied; the reads after it, started
  // from callbacks, are direct again. Re-pointing here instead leaked a listener per read.
  protected override startReading(): void {
    if ((this.#bits & stoppedBit) !== 0 && this.#socket !== null) {
      this.#bits &= ~stoppedBit;
      this.#socket.resume();
    }
  }

  // Outside a callback the handle may still point at the caller's buffer, which the read no
  // longer owns: bytes must not land there. Inside one, Node asks for the next target anyway.
  protected override released(): void {
    if ((this.#bits & inCallbackBit) !== 0 || this.#target === sharedLanding || this.#target === null) return;
    const h = this.#handle();
    if (h === null) return;
    this.#bits += repointUnit;
    h.useUserBuffer((this.#target = landing()));
  }

  protected override keep(bytes: Uint8Array): void {
    super.keep(sharedLanding !== null && bytes.buffer === sharedLanding.buffer ? copyOf(bytes) : bytes);
  }

  // Node's TCP handle, when it can re-point its reads (net/node-internals.ts, 3).
  #handle(): UserBufferHandle | null {
    return userBufferHandle(this.#socket);
  }

  #chooseTarget(): Uint8Array {
    const p = this.pending;
    const first = p === null ? null : firstBuffer(p);
    if (first !== null && first.length >= DIRECT_READ_MIN && this.#bits < MAX_REPOINTS * repointUnit && this.#handle() !== null) {
      return (this.#target = first);
    }
    return (this.#target = landing());
  }

  // Node passes the buffer its last `options.buffer` call returned, which is stale after a
  // `useUserBuffer`; `#target` is where the handle really read into.
  #onRead(n: number): boolean {
    this.#bits |= inCallbackBit;
    try {
      const p = this.pending;
      const landed = this.#target;
      if (landed === null || landed === sharedLanding) {
        this.deliver(landing().subarray(0, n));
      } else if (p !== null && landed === firstBuffer(p)) {
        this.complete(n);
      } else if (landed !== null) {
        // Bytes in a buffer no read owns any more (cannot happen while re-pointing works):
        // keep a copy rather than lose them.
        this.keep(copyOf(landed.subarray(0, n)));
      }
      if (this.leftover.length === 0) return true;
      this.#bits |= stoppedBit;
      return false;
    } finally {
      this.#bits &= ~inCallbackBit;
    }
  }
}
