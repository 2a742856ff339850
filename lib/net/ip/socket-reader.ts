/**
 * The read side of a `TcpSocket`: the one pending read (its handler's work and cancellation), and
 * the bytes taken from a Node socket into its buffers, keeping bytes that did not fit for the next
 * read. Two engines, chosen by how the socket was made: `OnreadReader` (sockets tsbeast creates,
 * in `onread-reader.ts`) and {@link DataReader} (sockets adopted from Node code). Internal; it
 * must never lose a byte, never hand out more bytes than fit, never write into a buffer whose
 * read has ended, and never complete a read twice.
 *
 * Measured (Node 20, loopback, 2 cores). Bulk, 1 GiB in 64 KiB writes: `'data'` events plus a
 * copy ~2.9 GB/s; `onread` into a socket-owned buffer plus a copy ~8.3 GB/s; `onread` straight
 * into the reader's buffer ~9.3 GB/s. Echo server CPU per message, TcpSocket over each engine:
 * 1 KiB 7.9-9.0 µs (`'data'`) against 5.8-8.0 µs (`onread`); 64 KiB 21.8-24.6 µs against
 * 11.4-12.8 µs, and direct reads save a further ~10% at 64 KiB. `'data'` pays for a fresh
 * allocation and the Readable machinery on every chunk, so `onread` is used wherever tsbeast
 * creates the socket, and reads land in the caller's buffer when it is large enough.
 */

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { bufferCopy, type MutableBufferSequence } from '../buffer.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../cancellation.js';
import { error, type ErrorCode } from '../error.js';
import type { HandlerWork } from '../handler-work.js';
import type { IoSignature, ReadTargetSource } from '../stream.js';
import { nonEmpty } from './socket-writer.js';

/**
 * What a read into `seq` reads into, or null when it has no room (it then completes at once). A
 * single buffer is read into as it is: the pending read of an idle connection then holds no
 * array, and the copy into it takes bufferCopy's single-buffer path.
 */
export function readTarget(seq: MutableBufferSequence): MutableBufferSequence | null {
  if (!Array.isArray(seq)) return (seq as Uint8Array).length > 0 ? seq : null;
  const list = nonEmpty(seq);
  return list.length > 0 ? list : null;
}

// Sockets rarely have bytes left over: they share this empty list until they do.
const noLeftover: readonly Uint8Array[] = Object.freeze([]);

/** The pending read, leftover bytes and the sticky end state, shared by both engines. */
export abstract class SocketReader {
  /** Bytes read from the socket that no read has taken yet, oldest first (see {@link keep}). */
  protected leftover: readonly Uint8Array[] = noLeftover;
  /**
   * The buffers of the read waiting for bytes, or null when none is or it waits without buffers
   * (a lazy read); only ever set while `leftover` is empty. With its source, work and slot,
   * fields rather than an object: an idle connection always has a read pending.
   */
  protected pending: MutableBufferSequence | null = null;
  /** Where the pending read takes its buffers from when bytes arrive, if it has none yet. */
  #source: ReadTargetSource | null = null;
  /** The pending read's handler: set exactly while one is pending. */
  #work: HandlerWork<IoSignature> | null = null;
  /** The pending read's cancellation slot, when connected. */
  #slot: CancellationSlot | null = null;
  /** The cancellation handler every read of this reader installs, made at the first that waits. */
  #onCancel: CancellationHandler | null = null;
  #end: ErrorCode | null = null;

  /** Whether a read is pending. */
  reading(): boolean {
    return this.#work !== null;
  }

  /**
   * Reads into `buffers` (non-empty, at least one byte of room) for `work`. Leftover bytes or a
   * recorded end complete it at once, inside its initiating call; otherwise bytes or the end do,
   * from I/O. A cancellation of any type on `slot` ends it as {@link SocketReader.abort} with
   * `operationAborted`: it has taken no bytes.
   */
  read(buffers: MutableBufferSequence, work: HandlerWork<IoSignature>, slot: CancellationSlot): void {
    if (this.leftover.length > 0) return work.complete(false, null, this.#takeLeftover(buffers));
    if (this.#end !== null) return work.complete(false, this.#end, 0);
    this.pending = buffers;
    this.#wait(work, slot);
  }

  /**
   * As {@link SocketReader.read}, for a read that has no buffers until bytes arrive: `source` is
   * asked for them then (at once when bytes are left over), and never when the read ends without bytes.
   */
  readLazy(source: ReadTargetSource, work: HandlerWork<IoSignature>, slot: CancellationSlot): void {
    if (this.leftover.length > 0) return work.complete(false, null, this.#takeLeftover(source.readTarget()));
    if (this.#end !== null) return work.complete(false, this.#end, 0);
    this.#source = source;
    this.#wait(work, slot);
  }

  /** Ends the pending read, if any, with `ec` and 0 bytes (posted); no byte is lost. */
  abort(ec: ErrorCode): void {
    if (this.#work === null) return;
    const work = this.#release();
    this.released();
    work.post(ec, 0);
  }

  /**
   * Records the end of the stream (`eof`) or a socket error; the first one recorded sticks. A
   * pending read receives it; bytes already read are delivered before it.
   */
  end(ec: ErrorCode): void {
    if (this.#end !== null) return;
    this.#end = ec;
    if (this.#work === null) return;
    const work = this.#release();
    this.released();
    work.complete(true, ec, 0);
  }

  /** Stops listening to the socket (it is being closed). */
  abstract detach(): void;
  /** A read is now pending: make the socket deliver. */
  protected abstract startReading(): void;
  /** The pending read went away without bytes. */
  protected abstract released(): void;

  /**
   * Gives `data` to the pending read, keeping what does not fit. The rest is kept before the
   * owner hears, because the handler may start the next read from inside it.
   * @returns whether bytes were left over.
   */
  protected deliver(data: Uint8Array): boolean {
    if (this.#work === null) {
      this.keep(data);
      return true;
    }
    const n = bufferCopy(this.pending ?? this.#source!.readTarget(), data);
    const rest = n < data.length;
    if (rest) this.keep(data.subarray(n));
    this.complete(n);
    return rest;
  }

  /** Ends the pending read with `n` bytes, which are already in its buffers. */
  protected complete(n: number): void {
    this.#release().complete(true, null, n);
  }

  #wait(work: HandlerWork<IoSignature>, slot: CancellationSlot): void {
    this.#work = work;
    if (slot.isConnected()) {
      this.#slot = slot;
      slot.assign((this.#onCancel ??= (type) => {
        if ((type & CancellationType.all) !== 0) this.abort(error.operationAborted);
      }));
    }
    this.startReading();
  }

  /** Forgets the pending read (its buffers, source and slot) and returns its work, to complete. */
  #release(): HandlerWork<IoSignature> {
    const work = this.#work!;
    this.pending = null;
    this.#source = null;
    this.#work = null;
    const slot = this.#slot;
    if (slot !== null) {
      this.#slot = null;
      slot.release(this.#onCancel!);
    }
    return work;
  }

  /**
   * Keeps bytes no read has taken, after those already kept: by default the view itself, which
   * nothing else writes to.
   */
  protected keep(bytes: Uint8Array): void {
    if (this.leftover === noLeftover) this.leftover = [bytes];
    else (this.leftover as Uint8Array[]).push(bytes);
  }

  #takeLeftover(buffers: MutableBufferSequence): number {
    const kept = this.leftover as Uint8Array[];
    const n = bufferCopy(buffers, kept);
    let left = n;
    while (left > 0) {
      const head = kept[0];
      if (head.length > left) {
        kept[0] = head.subarray(left);
        break;
      }
      left -= head.length;
      kept.shift();
    }
    return n;
  }
}

/**
 * The `'data'` engine, for sockets Node created (an http server's `'upgrade'`, a `net.Server`
 * of the caller's). The socket is paused except while a read is pending, so chunks never pile
 * up unseen; each chunk is copied into the read's buffers and the rest kept as a view.
 * The socket must have no encoding set and no other reader.
 */
export class DataReader extends SocketReader {
  readonly #socket: Socket;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.pause();
    socket.on('data', this.#onData);
  }

  override detach(): void {
    this.#socket.off('data', this.#onData);
  }

  protected override startReading(): void {
    this.#socket.resume();
  }

  protected override released(): void {
    this.#socket.pause();
  }

  readonly #onData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length === 0) return;
    // Pause before delivering: the handler may resume by starting the next read.
    this.#socket.pause();
    this.deliver(data);
  };
}
