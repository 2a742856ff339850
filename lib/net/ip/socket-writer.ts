/**
 * SocketWriter: the write side of a connected TcpSocket. Small writes go into its batch (see
 * `write-batch.ts`) and complete at once; a large write is handed to Node as it is and stays
 * pending here until Node's callback runs, or a cancellation or the socket's close ends it. It
 * must never complete a write twice, and never complete one inside its initiating call from I/O.
 */

import type * as net from 'node:net';
import type { Writable } from 'node:stream';
import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { bufferSequence, type ConstBufferSequence } from '../buffer.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../cancellation.js';
import { error, fromNodeError, type ErrorCode } from '../error.js';
import type { HandlerWork } from '../handler-work.js';
import type { IoSignature } from '../stream.js';
import { WriteBatch } from './write-batch.js';

/** The buffers of `seq` that are not empty (`seq`'s own list when none is). */
export function nonEmpty(seq: ConstBufferSequence): readonly Uint8Array[] {
  const list = bufferSequence(seq);
  return list.every((b) => b.length > 0) ? list : list.filter((b) => b.length > 0);
}

/**
 * Writes `list` (non-empty, no empty buffer) to a Node stream, several buffers as one corked
 * batch (one `writev`); `done` is Node's callback for the last one.
 */
export function writeAll(stream: Writable, list: readonly Uint8Array[], done: (err?: Error | null) => void): void {
  const last = list.length - 1;
  if (last > 0) stream.cork();
  for (let i = 0; i < last; i++) stream.write(list[i]);
  stream.write(list[last], done);
  if (last > 0) stream.uncork();
}

/** The socket a cancelled write closes when Node still holds some of its bytes. */
interface Closable {
  close(): void;
}

interface WriteOp {
  readonly work: HandlerWork<IoSignature>;
  readonly slot: CancellationSlot;
  readonly onCancel: CancellationHandler;
  readonly total: number;
}

export class SocketWriter extends WriteBatch {
  #op: WriteOp | null = null;
  /** The first error the socket reported: later writes fail with it, a failed large write reports it. */
  #error: ErrorCode | null = null;

  constructor(socket: net.Socket) {
    super(socket);
  }

  /** The socket's error, once it reported one. */
  error(): ErrorCode | null {
    return this.#error;
  }

  /** Records an error the socket reported; the first one sticks. */
  fail(ec: ErrorCode): void {
    this.#error ??= ec;
  }

  /** Whether a large write is pending. */
  writing(): boolean {
    return this.#op !== null;
  }

  /**
   * Hands `list` (`total` bytes) to Node after the batch, and completes `work` when Node's write
   * callback runs. A terminal cancellation on `handler`'s slot ends it as {@link SocketWriter.abort}.
   */
  write(list: readonly Uint8Array[], total: number, work: HandlerWork<IoSignature>, handler: Handler<IoSignature>, owner: Closable): void {
    this.flush();
    const slot = getAssociatedCancellationSlot(handler);
    const op: WriteOp = {
      work,
      slot,
      total,
      onCancel: (type) => {
        if ((type & CancellationType.terminal) !== 0 && this.#op === op) this.abort(owner);
      },
    };
    this.#op = op;
    if (slot.isConnected()) slot.assign(op.onCancel);
    let inside = true;
    writeAll(this.socket, list, (err) => {
      if (this.#op !== op) return;
      const ec = err === undefined || err === null ? null : (this.#error ?? fromNodeError(err));
      this.end(!inside, ec);
    });
    inside = false;
  }

  /**
   * Cancels the pending write, if any. Node cannot take back bytes it has queued: while some are,
   * the write completes with `operationAborted` and the owner is closed (as a close() would leave
   * it); once all reached the kernel, the request comes too late and the write completes normally.
   */
  abort(owner: Closable): void {
    if (this.#op === null) return;
    // Nothing left in Node's queue: every byte reached the kernel, the cancellation is too late.
    const sent = this.socket.writableLength === 0;
    this.end('post', sent ? null : error.operationAborted);
    if (!sent) owner.close();
  }

  /**
   * Completes the pending write, if any, with `ec` (and 0 bytes unless `ec` is null): from I/O
   * (`true`), inside its initiating call (`false`) or posted.
   */
  end(how: boolean | 'post', ec: ErrorCode | null): void {
    const op = this.#op;
    if (op === null) return;
    this.#op = null;
    op.slot.release(op.onCancel);
    const n = ec === null ? op.total : 0;
    if (how === 'post') op.work.post(ec, n);
    else op.work.complete(how, ec, n);
  }
}
