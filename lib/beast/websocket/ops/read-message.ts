/**
 * Reads into a dynamic buffer (Beast's `read_op`): the read steps of ops/read.ts, frame after
 * frame, until the message is done (or once, for `asyncReadSome` with a limit). Two ways in skip
 * the composed operation, both behind the one shortcut predicate (shortcut.ts) and both changing
 * nothing the composed steps would not change in the same way:
 * - the reader already holds a whole message: it is taken at once ({@link takeWholeMessage});
 * - nothing is buffered at a message boundary: the read parks as one small object
 *   ({@link WaitingRead}) until bytes arrive, then takes a whole message the same way or hands
 *   over to the composed steps. An idle connection spends its life here, so this is what it costs
 *   (bench/idle-memory), and what a message arriving costs (bench/ws-instructions).
 * spec/beast/websocket/ops/differential.spec.ts runs both with the shortcuts on and off.
 */

import type { Handler } from '../../../net/associators.js';
import { BuffersSuffix } from '../../../net/buffer.js';
import { composeFor, startComposed } from '../../../net/compose.js';
import { LengthError, type DynamicBuffer } from '../../../net/dynamic-buffer.js';
import type { ErrorCode } from '../../../net/error.js';
import { HandlerWork } from '../../../net/handler-work.js';
import type { AsyncStream } from '../../../net/stream.js';
import { error } from '../error.js';
import { wakeOrders } from '../soft-mutex.js';
import { tcpFrameSize, type StreamImpl } from '../stream-impl.js';
import { readMore, TerminalRelay } from './common.js';
import { readSome, type ReadSignature, type Self, type Steps } from './read.js';
import { mayShortcut } from './shortcut.js';

/**
 * Reads into `buffer`: a whole message (`some` false), or some of one with at most `limit` bytes
 * (0: no limit). Bytes are appended; a buffer that cannot grow gives
 * `websocket.error.bufferOverflow`. Called inside the initiating call, with the handler the
 * caller's token made (operation-gate.ts): a shortcut that takes the handler is the whole
 * operation, and otherwise the composed steps start, as `asyncCompose` would start them.
 */
export function asyncReadOp<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer, limit: number, some: boolean,
  handler: Handler<ReadSignature>, onDone?: () => void): void {
  if (!some && limit === 0 && readWithoutSteps(impl, buffer, handler, onDone)) return;
  composeFor(handler, impl.executor, readOpBody(impl, buffer, limit, some, onDone));
}

/**
 * The shortcuts of a whole-message read. Returns false, having changed nothing, when the
 * composed operation must run.
 */
function readWithoutSteps<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer, handler: Handler<ReadSignature>, onDone?: () => void): boolean {
  if (!mayShortcut(impl, handler) || impl.locks.isLocked('rd')) return false;
  // Nothing buffered at a message boundary, and room for a byte (else the composed operation
  // fails at once with bufferOverflow): the composed steps' first would be to wait for bytes.
  if (impl.reader.waitsForMessage() && buffer.size() < buffer.maxSize()) {
    new WaitingRead(impl, buffer, handler, onDone).start();
    return true;
  }
  const n = takeWholeMessage(impl, buffer);
  if (n < 0) return false;
  impl.updateTimer();
  onDone?.();
  new HandlerWork(handler, impl.executor).complete(false, null, n);
  return true;
}

/**
 * What the composed steps do with a whole message the reader holds, as one unfragmented,
 * uncompressed data frame, with the read side free (acquire_read_lock, loop, do_payload from the
 * read buffer, with no suspension): the message is appended to `buffer`. Returns its size, or -1
 * when the composed steps must take it; then nothing was changed that their first step would not
 * change in the same way (a header decoded is one they would decode, and they then find the
 * payload buffered, unmasked in place or not: FrameReader keeps count). The caller has checked {@link mayShortcut}.
 */
function takeWholeMessage<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer): number {
  const r = impl.reader;
  if (impl.locks.isLocked('rd') || !r.holdsWholeMessage(buffer.maxSize() - buffer.size())) return -1;
  // A fault of the header (masking, size limit) is the composed steps' to report: nothing was consumed.
  if (r.nextFrame() !== 'data') return -1;
  r.done = false;
  return r.takeWhole(buffer);
}

/**
 * A whole-message read waiting for bytes, with nothing buffered at a message boundary: the
 * composed steps' acquire_read_lock and their first read from the next layer, as one object that
 * holds the read side (no generator frames while it waits; with a lazy-reading next layer no read
 * block either). When the bytes arrive: an error completes the read as `upcall` would; a close
 * waiting for the read side takes it, as between the composed steps' reads; a whole message is
 * taken by {@link takeWholeMessage}; anything else (part of a message, a control frame) goes to
 * the composed steps, which find the state their own first read would have left.
 */
class WaitingRead<N extends AsyncStream> extends HandlerWork<ReadSignature> {
  readonly #relay: TerminalRelay;

  constructor(
    readonly impl: StreamImpl<N>,
    readonly buffer: DynamicBuffer,
    readonly handler: Handler<ReadSignature>,
    readonly onDone: (() => void) | undefined,
  ) {
    super(handler, impl.executor);
    this.#relay = TerminalRelay.for(handler);
  }

  start(): void {
    const impl = this.impl;
    impl.updateTimer();
    impl.locks.lock('rd', this);
    // A bound method rather than an arrow field: no context per wait (bench/idle-memory).
    readMore(impl, this.#relay.bind(this.arrived.bind(this)));
  }

  /** The next layer's read completed (called through a bound copy). */
  arrived(e: ErrorCode | null, got: number): void {
    const impl = this.impl;
    impl.reader.commit(got);
    const stop = impl.checkStopNow(this.#relay.finish(e));
    impl.locks.unlock('rd', this);
    // Between reads a close waiting for the read side takes it. It set the status to closing
    // before it parked, so mayShortcut below sends this read to the composed steps, which wait
    // behind the close as they would have.
    impl.locks.wake(wakeOrders.readSide);
    if (stop !== undefined) return this.#done(stop, 0);
    impl.resetIdle();
    const n = mayShortcut(impl, this.handler) ? takeWholeMessage(impl, this.buffer) : -1;
    if (n >= 0) return this.#done(null, n);
    startComposed(this.handler, impl.executor, readOpBody(impl, this.buffer, 0, false, this.onDone), false);
    this.abandon();
  }

  #done(ec: ErrorCode | null, n: number): void {
    this.onDone?.();
    this.complete(true, ec, n);
  }
}

/** The read as a composed operation's body, for `composeFor` and `startComposed`. */
function readOpBody<N extends AsyncStream>(
  impl: StreamImpl<N>,
  buffer: DynamicBuffer,
  limit: number,
  some: boolean,
  onDone: (() => void) | undefined,
): (self: Self) => Steps<void> {
  return (self) => readOpSteps(self, impl, buffer, limit > 0 ? limit : Number.MAX_SAFE_INTEGER, some, onDone);
}

/** The read's steps (a generator of the module: see `asyncCompose`). */
function* readOpSteps<N extends AsyncStream>(
  self: Self,
  impl: StreamImpl<N>,
  buffer: DynamicBuffer,
  max: number,
  some: boolean,
  onDone: (() => void) | undefined,
): Steps<void> {
  if (onDone !== undefined) self.onComplete(onDone);
  let total = 0;
  do {
    let target: readonly Uint8Array[];
    let stop: ErrorCode | undefined;
    try {
      target = buffer.prepare(Math.min(some ? readSizeHintFor(impl, buffer) : messageSizeHintFor(impl, buffer), max));
      stop = impl.checkStopNow(null);
    } catch (err) {
      if (!(err instanceof LengthError)) throw err;
      target = [];
      stop = impl.checkStopNow(error.bufferOverflow);
    }
    if (stop !== undefined) return self.complete(stop, total);
    const [ec, n] = yield* readSome(self, impl, new BuffersSuffix(target));
    buffer.commit(n);
    total += n;
    if (ec !== null) return self.complete(ec, total);
  } while (!some && !impl.reader.done);
  self.complete(null, total);
}

/**
 * What a whole-message read prepares: {@link readSizeHintFor}, or where the next frame's header
 * is buffered, its whole payload (within the buffer's room and the message limit), so that each
 * frame takes one pass of the read steps (FrameReader.bufferedFrameSize). Not Beast's: its
 * `read_size_hint` does not look at buffered bytes, and the public `readSizeHint` still does not.
 */
function messageSizeHintFor<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer): number {
  const hint = readSizeHintFor(impl, buffer);
  const frame = impl.reader.bufferedFrameSize();
  if (frame <= hint) return hint;
  const max = impl.reader.decoder.readMessageMax;
  return Math.min(frame, buffer.maxSize() - buffer.size(), max > 0 ? max : frame);
}

/** Beast's `read_size_hint(DynamicBuffer)`: what to prepare for the next read. */
export function readSizeHintFor<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer): number {
  const initial = Math.min(tcpFrameSize, buffer.maxSize() - buffer.size());
  return initial === 0 ? 1 : impl.readSizeHint(initial);
}
