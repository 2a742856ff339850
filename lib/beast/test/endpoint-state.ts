/**
 * The state behind one {@link TestStream} endpoint: its input, its pending read and its counters,
 * shared with the connected peer, which writes into it. Internal to the test stream: no I/O, and
 * every completion posted to the endpoint's executor.
 */

import type { HandlerWork } from '../../net/handler-work.js';
import { bufferCopy, bufferSize, type MutableBufferSequence } from '../../net/buffer.js';
import type { CancellationHandler, CancellationSlot } from '../../net/cancellation.js';
import { FlatBuffer } from '../../net/dynamic-buffer.js';
import { error, type ErrorCode } from '../../net/error.js';
import type { Executor } from '../../net/executor.js';
import type { IoSignature } from '../../net/stream.js';
import type { FailCount } from './fail-count.js';
import type { TestStream } from './stream.js';

/** A read waiting for input. */
export interface PendingRead {
  readonly work: HandlerWork<IoSignature>;
  readonly buffers: MutableBufferSequence;
  readonly slot: CancellationSlot;
  readonly onCancel: CancellationHandler;
}

/**
 * The state of one endpoint: its input and what reads and writes on it have done. A connected
 * peer writes into this state; the endpoint reads from it.
 */
export class EndpointState {
  readonly input = new FlatBuffer();
  readMax = Infinity;
  writeMax = Infinity;
  /** True once the input is at end of stream (own close, peer close, or closeRemote). */
  eof = false;
  /** True once this endpoint was closed: writes of its peer are refused, as to a vanished socket. */
  closed = false;
  op: PendingRead | null = null;
  /** A read was started and its handler not yet submitted (waiting, or its completion queued). */
  reading = false;
  nread = 0;
  nreadBytes = 0;
  nwrite = 0;
  nwriteBytes = 0;

  constructor(
    readonly executor: Executor,
    readonly fc: FailCount | null,
  ) {}

  /** Wakes the pending read, if any, after bytes arrived or the input reached its end. */
  notifyRead(): void {
    this.#endRead(null);
  }

  /** Completes the pending read, if any, with `operationAborted`. */
  cancelRead(): void {
    this.#endRead(error.operationAborted);
  }

  #endRead(ec: ErrorCode | null): void {
    const op = this.op;
    if (op === null) return;
    this.op = null;
    op.slot.release(op.onCancel);
    this.finishRead(op.work, op.buffers, ec, true);
  }

  /**
   * Posts the read's completion. As in Beast, the bytes are taken from the input when the posted
   * function runs, not when the read is woken, so input appended in between is delivered too.
   * `owner` is false for a read refused as concurrent, which must not end the read in flight.
   */
  finishRead(work: HandlerWork<IoSignature>, buffers: MutableBufferSequence, ec: ErrorCode | null, owner: boolean): void {
    this.executor.post(() => {
      if (owner) this.reading = false;
      let n = 0;
      if (ec === null) {
        if (this.input.size() > 0) {
          n = bufferCopy(buffers, this.input.dataView(), this.readMax);
          this.input.consume(n);
          this.nreadBytes += n;
        } else if (bufferSize(buffers) > 0) {
          ec = error.eof;
        }
      }
      work.complete(true, ec, n);
    });
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.input.prepareView(bytes.length).set(bytes);
    this.input.commit(bytes.length);
  }
}
