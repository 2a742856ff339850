/**
 * The read operation (Beast's `read_some_op`), over the sans-I/O frame reader
 * (frame-reader.ts). What happens when something arrives during a read is here, in one place:
 * - a ping: reported, answered with a pong (ignored while closing), and the read goes on;
 * - a pong: reported (ignored once our close frame went out), and the read goes on;
 * - the peer's close: reported, echoed (or, when we were closing, the handshake is complete),
 *   the connection torn down, and the read completes with `websocket.error.closed`;
 * - a violation of the protocol: its close code (1002, 1007, 1009) is sent, the connection torn
 *   down, and the read completes with the violation's error;
 * - a close operation waiting for the read side: it takes the read side between reads, and the
 *   read then completes with `operationAborted` once the close is done.
 * The steps carry Beast's labels in comments (acquire_read_lock, loop, do_suspend, do_payload,
 * do_inflate, close, upcall) for cross-reference. Reads of a whole message into a dynamic buffer
 * (Beast's `read_op`) run these steps frame after frame: ops/read-message.ts.
 */

import { bufferSize, BuffersSuffix, type MutableBufferSequence } from '../../../net/buffer.js';
import { CancellationType } from '../../../net/cancellation.js';
import { asyncCompose, type ChildOp, type ComposedSelf } from '../../../net/compose.js';
import { error as netError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { CloseCode, closeReason, parseClosePayload } from '../close.js';
import { error } from '../error.js';
import { Opcode } from '../frame.js';
import { wakeOrders } from '../soft-mutex.js';
import type { StreamImpl } from '../stream-impl.js';
import { fill, lockWrite, park, resumeLater, stopAfterStep, writeAll } from './common.js';
import { asyncTeardown, type TeardownHooks, type TeardownSignature } from './teardown.js';

/** The completion signature of reads: the error and the bytes of message data read. */
export type ReadSignature = IoSignature;

/** The composed read operation, as its steps see it. */
export type Self = ComposedSelf<ReadSignature>;
/** A generator of read steps returning `T`. */
export type Steps<T> = Generator<ChildOp, T, readonly unknown[]>;

/** Where a step sends the read next: back to `loop`, back to `acquire_read_lock`, on to the payload, or done. */
type Next = 'loop' | 'acquire' | 'payload' | ReadSignature;

const textDecoder = new TextDecoder();

/**
 * Reads some message data into `buffers` (Beast's `async_read_some` on a buffer sequence).
 * Completes after some payload was read (or a whole empty frame), or with an error:
 * `websocket.error.closed` when the peer's close frame arrived (answered and torn down),
 * a `protocolViolation` error after failing the connection, `operationAborted` after our own
 * close. Per-operation cancellation: `total` while waiting for the read side; `terminal` always.
 */
export function asyncReadSomeOp<N extends AsyncStream>(impl: StreamImpl<N>, buffers: MutableBufferSequence,
  token: TokenFor<ReadSignature> | undefined, onDone?: () => void): unknown {
  return asyncCompose<ReadSignature, TokenFor<ReadSignature> | undefined>((self) => readSomeOpSteps(self, impl, buffers, onDone), token, impl.executor);
}

/** The steps of {@link asyncReadSomeOp} (a generator of the module: see `asyncCompose`). */
function* readSomeOpSteps<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, buffers: MutableBufferSequence, onDone: (() => void) | undefined) {
  if (onDone !== undefined) self.onComplete(onDone);
  const [ec, n] = yield* readSome(self, impl, new BuffersSuffix(buffers));
  self.complete(ec, n);
}

/**
 * Beast's `read_some_op`, as a generator that runs inside the composed operation that calls it
 * (so a whole-message read is one operation, not one per frame); returns the error and the bytes
 * written to the front of `out`.
 */
export function* readSome<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, out: BuffersSuffix): Steps<ReadSignature> {
  const r = impl.reader;
  for (;;) {
    // acquire_read_lock
    impl.updateTimer();
    if (!impl.locks.tryLock('rd', self)) {
      // do_suspend: only a close holds the read side against a read; the read ends once it is done.
      const parked = yield* park(self, impl.locks.slot('rRd'), CancellationType.all);
      if (parked !== null) return [parked, 0];
      impl.locks.lock('rd', self);
      yield* resumeLater(self, impl);
      return upcall(self, impl, impl.checkStopNow(null) ?? netError.operationAborted, 0);
    }
    if (impl.status === 'closed' || impl.status === 'failed') return upcall(self, impl, netError.operationAborted, 0);

    // loop
    let next: Next = 'loop';
    while (next === 'loop') next = r.needsHeader() ? yield* readFrame(self, impl) : 'payload';
    if (next === 'acquire') continue;
    if (next !== 'payload') return next;
    // do_inflate (even for an empty frame, or the end-of-stream block would never be fed) or do_payload
    return r.deflated() ? yield* readInflated(self, impl, out) : yield* readPayload(self, impl, out);
  }
}

/** Reads the next frame header (and a control frame's payload), then acts on the frame. */
function* readFrame<N extends AsyncStream>(self: Self, impl: StreamImpl<N>): Steps<Next> {
  const r = impl.reader;
  let ev = r.nextFrame();
  while (ev === 'needMore') {
    const stop = yield* fill(self, impl);
    if (stop !== undefined) return upcall(self, impl, stop, 0);
    // Allow a close operation to acquire the read block between reads.
    impl.locks.unlock('rd', self);
    if (impl.locks.wake(wakeOrders.readSide)) return 'acquire';
    impl.locks.lock('rd', self);
    ev = r.nextFrame();
  }
  if (ev === 'violation') return yield* failConnection(self, impl, r.closeCode, r.violation!, 0);
  if (ev === 'control') return yield* onControl(self, impl);
  // An empty frame that does not end the message carries nothing to report.
  if (r.remain === 0 && !r.fin) return 'loop';
  r.done = false;
  return 'payload';
}

/** A ping, a pong or the peer's close arrived during the read. */
function* onControl<N extends AsyncStream>(self: Self, impl: StreamImpl<N>): Steps<Next> {
  const r = impl.reader;
  const payload = r.ctrlPayload;
  // The control callback is a user callback: never inside the initiating call.
  const callbackLater = impl.ctrlCb !== null && !self.isContinuation();

  if (r.ctrlOp === Opcode.pong) {
    // Ignored once our close frame went out.
    if (!impl.wrClose && impl.ctrlCb !== null) {
      if (callbackLater) yield* resumeLater(self, impl);
      impl.ctrlCb('pong', textDecoder.decode(payload));
    }
    return 'loop';
  }

  if (callbackLater) yield* resumeLater(self, impl);
  if (r.ctrlOp === Opcode.ping) {
    if (impl.status === 'closing') return 'loop'; // pings are ignored while closing
    impl.ctrlCb?.('ping', textDecoder.decode(payload));
    const pong = impl.writer.controlFrame(Opcode.pong, payload);
    // Allow a close operation to acquire the read block while the pong waits for the write side.
    impl.locks.unlock('rd', self);
    impl.locks.wake(wakeOrders.readSide);
    const parked = yield* lockWrite(self, impl, impl.locks.slot('rd'), CancellationType.terminal);
    if (parked !== null) return [parked, 0];
    const dead = impl.checkStopNow(null);
    if (dead !== undefined) return upcall(self, impl, dead, 0);
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, pong, h));
    const stop = stopAfterStep(self, impl, we);
    if (stop !== undefined) return upcall(self, impl, stop, 0);
    impl.locks.unlock('wr', self);
    impl.locks.wake(wakeOrders.afterReadWrite);
    return 'acquire';
  }

  // The peer's close frame.
  impl.rdClose = true;
  const { ec: bad, reason } = parseClosePayload(payload);
  if (bad !== null) return yield* failConnection(self, impl, CloseCode.protocolError, bad, 0);
  impl.cr = reason;
  impl.ctrlCb?.('close', reason.reason);
  // Already closing: the closing handshake is complete. Otherwise echo the peer's code.
  const code = impl.status === 'closing' ? CloseCode.none : reason.code === CloseCode.none ? CloseCode.normal : reason.code;
  return yield* failConnection(self, impl, code, error.closed, 0);
}

/** do_payload: takes what the frame has for `out`, from the read buffer or straight from the next layer. */
function* readPayload<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, out: BuffersSuffix): Steps<ReadSignature> {
  const r = impl.reader;
  const want = Math.min(r.remain, bufferSize(out.data()));
  if (want > 0) {
    // Fill the read buffer first, otherwise we get fewer bytes at the cost of one I/O.
    if (r.wantsFill(want)) {
      const stop = yield* fill(self, impl);
      if (stop !== undefined) return upcall(self, impl, stop, 0);
    }
    let ok: boolean;
    if (r.buf.size() > 0) {
      ok = r.copyPayload(out); // unmasked on the way out
    } else {
      const target = r.directTarget(out);
      const [re, got] = yield* self.call<IoSignature>((h) => impl.next.asyncReadSome(target, h));
      const stop = stopAfterStep(self, impl, re);
      if (stop !== undefined) return upcall(self, impl, stop, 0);
      impl.resetIdle();
      ok = r.acceptDirect(out, got);
    }
    if (!ok) return yield* failConnection(self, impl, r.closeCode, r.violation!, 0);
  } else if (!r.checkEmptyEnd()) {
    return yield* failConnection(self, impl, r.closeCode, r.violation!, 0);
  }
  r.frameTaken();
  return upcall(self, impl, null, r.taken);
}

/** do_inflate: reads from the next layer at most once, then inflates what is buffered into `out`. */
function* readInflated<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, out: BuffersSuffix): Steps<ReadSignature> {
  const r = impl.reader;
  if (bufferSize(out.data()) > 0 && r.remain > 0 && r.buf.size() === 0) {
    const stop = yield* fill(self, impl);
    if (stop !== undefined) return upcall(self, impl, stop, 0);
  }
  if (!r.inflate(out)) return yield* failConnection(self, impl, r.closeCode, r.violation!, r.taken);
  return upcall(self, impl, null, r.taken);
}

/**
 * close: fails the connection with `code` (or, after the peer's close, finishes it): sends our
 * close frame unless we already did, tears down, and completes with `result`.
 */
function* failConnection<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, code: number, result: ErrorCode, bytes: number): Steps<ReadSignature> {
  if (!impl.locks.tryLock('wr', self)) {
    const parked = yield* park(self, impl.locks.slot('rd'), CancellationType.terminal);
    if (parked !== null) {
      // Unlike Beast, give the read side back, so that a later close cannot wait forever.
      impl.locks.tryUnlock('rd', self);
      impl.locks.wake(wakeOrders.readSide);
      return [parked, bytes];
    }
    impl.locks.lock('wr', self);
    yield* resumeLater(self, impl);
    const stop = impl.checkStopNow(null);
    if (stop !== undefined) return upcall(self, impl, stop, bytes);
  }
  impl.status = 'closing';
  impl.updateTimer();
  if (!impl.wrClose) {
    impl.wrClose = true;
    const frame = impl.writer.closeFrame(closeReason(code));
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, frame, h));
    const stop = stopAfterStep(self, impl, we);
    if (stop !== undefined) return upcall(self, impl, stop, bytes);
  }
  // Teardown
  let [te] = yield* self.call<TeardownSignature>((h) => asyncTeardown(impl.role, impl.next as N & TeardownHooks, h));
  if (te === netError.eof) te = null;
  const ec = te ?? result;
  impl.status = ec !== null && ec !== error.closed ? 'failed' : 'closed';
  impl.close();
  return upcall(self, impl, ec, bytes);
}

/** upcall: gives back both sides and hands them on in Beast's order. */
function upcall<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, ec: ErrorCode | null, bytes: number): ReadSignature {
  impl.locks.tryUnlock('rd', self);
  impl.locks.wake(wakeOrders.readSide);
  if (impl.locks.tryUnlock('wr', self)) impl.locks.wake(wakeOrders.afterReadWrite);
  return [ec, bytes];
}

