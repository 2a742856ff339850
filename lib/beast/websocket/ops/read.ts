/**
 * The read operations (Beast's `read_some_op` and `read_op`): read message data, handling the
 * control frames that arrive in between. A ping is answered with a pong, a pong is reported, a
 * close frame is answered and the connection torn down; a protocol violation sends its close code
 * (1002, 1007, 1009), tears down, and completes the read with its error.
 */

import { isUtf8 } from 'node:buffer';
import type { Handler } from '../../../net/associators.js';
import { bufferCopy, bufferSize, BuffersSuffix, buffersPrefix, type MutableBufferSequence } from '../../../net/buffer.js';
import { CancellationType } from '../../../net/cancellation.js';
import { asyncCompose, asyncComposeOr, startComposed, type ChildOp, type ComposedSelf } from '../../../net/compose.js';
import { LengthError, type DynamicBuffer } from '../../../net/dynamic-buffer.js';
import { error as netError, SystemError, type ErrorCode } from '../../../net/error.js';
import { HandlerWork } from '../../../net/handler-work.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { CloseCode, closeReason, parseClosePayload } from '../close.js';
import { error } from '../error.js';
import { Opcode } from '../frame.js';
import { applyMask } from '../mask.js';
import { readBufferBytes, tcpFrameSize, type StreamImpl } from '../stream-impl.js';
import { isPlainHandler, lockWrite, park, resumeLater, stopAfterStep, TerminalRelay, writeAll } from './common.js';
import { asyncTeardown, type TeardownHooks, type TeardownSignature } from './teardown.js';

/** The completion signature of reads: the error and the bytes of message data read. */
export type ReadSignature = IoSignature;

type Self = ComposedSelf<ReadSignature>;
type Phase = 'acquire' | 'loop' | 'close' | 'upcall';

const textDecoder = new TextDecoder();

/**
 * Reads some message data into `buffers` (Beast's `async_read_some` on a buffer sequence).
 * Completes after some payload was read (or a whole empty frame), or with an error:
 * `websocket.error.closed` when the peer's close frame arrived (answered and torn down),
 * a `protocolViolation` error after failing the connection, `operationAborted` after our own
 * close. Per-operation cancellation: `total` while waiting for the read side; `terminal` always.
 */
export function asyncReadSomeOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  buffers: MutableBufferSequence,
  token: TokenFor<ReadSignature> | undefined,
  onDone?: () => void,
): unknown {
  return asyncCompose<ReadSignature, TokenFor<ReadSignature> | undefined>(function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    const [ec, n] = yield* readSome(self, impl, new BuffersSuffix(buffers));
    self.complete(ec, n);
  }, token, impl.executor);
}

/**
 * The read-some state machine (Beast's `read_some_op`), as a generator that runs inside the
 * composed operation that calls it (so a whole-message read is one operation, not one per
 * frame); returns the error and the bytes written to the front of `out`.
 */
function* readSome<N extends AsyncStream>(
  self: Self,
  impl: StreamImpl<N>,
  out: BuffersSuffix,
): Generator<ChildOp, ReadSignature, readonly unknown[]> {
  const next = impl.next as N & TeardownHooks;
  let bytesWritten = 0;
  let result: ErrorCode | null = null;
  let code: number = CloseCode.none;
  let ec: ErrorCode | null = null;
  let phase: Phase = 'acquire';

  for (;;) {
    switch (phase) {
      case 'acquire': {
        impl.updateTimer();
        if (!impl.tryLockRead(self)) {
          // Only a close operation holds the read side against us: the read ends once it is done.
          const parked = yield* park(self, impl.opRRd, CancellationType.all);
          if (parked !== null) return [parked, bytesWritten];
          impl.lockRead(self);
          yield* resumeLater(self, impl);
          ec = impl.checkStopNow(null) ?? netError.operationAborted;
          phase = 'upcall';
          break;
        }
        if (impl.status === 'closed' || impl.status === 'failed') {
          ec = netError.operationAborted;
          phase = 'upcall';
          break;
        }
        phase = 'loop';
        break;
      }

      case 'loop': {
        if (impl.rdRemain === 0 && (!impl.rdFin || impl.rdDone)) {
          // The next frame header; control frames are handled here, whole.
          let parsed = impl.parseFrameHeader();
          let stop: ErrorCode | undefined;
          let suspended = false;
          while (parsed === 'needMore') {
            stop = yield* fill(self, impl);
            if (stop !== undefined) break;
            // Let a waiting close operation take the read side between reads.
            impl.unlockRead(self);
            if (impl.wakeCloseForRead()) {
              suspended = true;
              break;
            }
            impl.lockRead(self);
            parsed = impl.parseFrameHeader();
          }
          if (stop !== undefined) {
            ec = stop;
            phase = 'upcall';
            break;
          }
          if (suspended) {
            phase = 'acquire';
            break;
          }
          if (parsed !== 'frame') {
            result = parsed as ErrorCode; // not needMore: the loop above ended on a frame or an error
            code = parsed === error.messageTooBig ? CloseCode.tooBig : CloseCode.protocolError;
            phase = 'close';
            break;
          }

          if (impl.ctrlOp === Opcode.ping) {
            if (impl.ctrlCb !== null && !self.isContinuation()) yield* resumeLater(self, impl);
            if (impl.status === 'closing') break; // pings are ignored while closing
            impl.ctrlCb?.('ping', textDecoder.decode(impl.ctrlPayload));
            const pong = impl.controlFrame(Opcode.pong, impl.ctrlPayload);
            impl.unlockRead(self);
            impl.wakeCloseForRead();
            const parked = yield* lockWrite(self, impl, impl.opRd, CancellationType.terminal);
            if (parked !== null) return [parked, bytesWritten];
            const dead = impl.checkStopNow(null);
            if (dead !== undefined) {
              ec = dead;
              phase = 'upcall';
              break;
            }
            const [we] = yield* self.call<IoSignature>((h) => writeAll(next, pong, h));
            const s = stopAfterStep(self, impl, we);
            if (s !== undefined) {
              ec = s;
              phase = 'upcall';
              break;
            }
            impl.unlockWrite(self);
            impl.wakeAfterReadWrite();
            phase = 'acquire';
            break;
          }

          if (impl.ctrlOp === Opcode.pong) {
            if (!impl.wrClose && impl.ctrlCb !== null) {
              if (!self.isContinuation()) yield* resumeLater(self, impl);
              impl.ctrlCb('pong', textDecoder.decode(impl.ctrlPayload));
            }
            break;
          }

          if (impl.ctrlOp === Opcode.close) {
            if (impl.ctrlCb !== null && !self.isContinuation()) yield* resumeLater(self, impl);
            impl.rdClose = true;
            const { ec: bad, reason } = parseClosePayload(impl.ctrlPayload);
            if (bad !== null) {
              code = CloseCode.protocolError;
              result = bad;
              phase = 'close';
              break;
            }
            impl.cr = reason;
            impl.ctrlCb?.('close', reason.reason);
            // Already closing: the closing handshake is complete. Otherwise echo the peer's code.
            code = impl.status === 'closing' ? CloseCode.none : reason.code === CloseCode.none ? CloseCode.normal : reason.code;
            result = error.closed;
            phase = 'close';
            break;
          }

          // A data frame. An empty frame that does not end the message carries nothing to report.
          if (impl.rdRemain === 0 && !impl.rdFin) break;
          impl.rdDone = false;
        }

        if (impl.rdDeflated()) {
          const { outcome, produced } = yield* inflateSome(self, impl, out);
          bytesWritten += produced;
          if (outcome === 'tooBig' || outcome === 'badUtf8') {
            code = outcome === 'tooBig' ? CloseCode.tooBig : CloseCode.badPayload;
            result = outcome === 'tooBig' ? error.messageTooBig : error.badFramePayload;
            phase = 'close';
            break;
          }
          if (outcome instanceof CorruptData) {
            // RFC 7692 section 8: data that does not inflate fails the connection; 1007, as ws sends.
            code = CloseCode.badPayload;
            result = outcome.ec;
            phase = 'close';
            break;
          }
          ec = outcome;
          phase = 'upcall';
          break;
        }

        if (impl.rdRemain > 0 && bufferSize(out.data()) > 0) {
          const want = Math.min(impl.rdRemain, bufferSize(out.data()));
          // Small payloads go through the read buffer (more bytes per read); large ones are read
          // straight into the caller's buffers, with no copy.
          if (impl.rdBuf.size() === 0 && readBufferBytes > want) {
            const stop = yield* fill(self, impl);
            if (stop !== undefined) {
              ec = stop;
              phase = 'upcall';
              break;
            }
            impl.unmaskBuffered();
          }
          let ok: boolean;
          if (impl.rdBuf.size() > 0) {
            const n = copyInto(out, impl.rdBuf.dataView(), impl.rdRemain);
            impl.consumePayload(n);
            ok = accept(impl, out, n, false);
            if (ok) bytesWritten += n;
          } else {
            const target = buffersPrefix(impl.rdRemain, out.data());
            const [re, got] = yield* self.call<IoSignature>((h) => next.asyncReadSome(target, h));
            const stop = stopAfterStep(self, impl, re);
            if (stop !== undefined) {
              ec = stop;
              phase = 'upcall';
              break;
            }
            impl.resetIdle();
            impl.rdRemain -= got;
            ok = accept(impl, out, got, true);
            if (ok) bytesWritten += got;
          }
          if (!ok) {
            code = CloseCode.badPayload;
            result = error.badFramePayload;
            phase = 'close';
            break;
          }
        } else if (impl.rdRemain === 0 && impl.rdOp === Opcode.text && impl.rdFin && !impl.rdUtf8.finish()) {
          // An empty final frame still ends the message: a code point must not be left open.
          code = CloseCode.badPayload;
          result = error.badFramePayload;
          phase = 'close';
          break;
        }
        if (impl.rdRemain === 0 && impl.rdFin) impl.rdDone = true;
        ec = null;
        phase = 'upcall';
        break;
      }

      case 'close': {
        // Fail (or finish) the connection: send our close frame unless we already did, then tear down.
        if (!impl.tryLockWrite(self)) {
          const parked = yield* park(self, impl.opRd, CancellationType.terminal);
          if (parked !== null) {
            // Unlike Beast, give the read side back, so that a later close cannot wait forever.
            impl.tryUnlockRead(self);
            impl.wakeCloseForRead();
            return [parked, bytesWritten];
          }
          impl.lockWrite(self);
          yield* resumeLater(self, impl);
          const s = impl.checkStopNow(null);
          if (s !== undefined) {
            ec = s;
            phase = 'upcall';
            break;
          }
        }
        impl.status = 'closing';
        impl.updateTimer();
        if (!impl.wrClose) {
          impl.wrClose = true;
          const frame = impl.closeFrame(closeReason(code));
          const [we] = yield* self.call<IoSignature>((h) => writeAll(next, frame, h));
          const s = stopAfterStep(self, impl, we);
          if (s !== undefined) {
            ec = s;
            phase = 'upcall';
            break;
          }
        }
        let [te] = yield* self.call<TeardownSignature>((h) => asyncTeardown(impl.role, next, h));
        if (te === netError.eof) te = null;
        ec = te ?? result;
        impl.status = ec !== null && ec !== error.closed ? 'failed' : 'closed';
        impl.close();
        phase = 'upcall';
        break;
      }

      case 'upcall': {
        impl.tryUnlockRead(self);
        impl.wakeCloseForRead();
        if (impl.tryUnlockWrite(self)) impl.wakeAfterReadWrite();
        return [ec, bytesWritten];
      }
    }
  }
}

// Reads more bytes into the read buffer; returns the error to stop with, if any.
function* fill<N extends AsyncStream>(self: Self, impl: StreamImpl<N>): Generator<ChildOp, ErrorCode | undefined, readonly unknown[]> {
  const [e, n] = yield* self.call<IoSignature>((h) => impl.readNext(h));
  impl.rdBuf.commit(n);
  const stop = stopAfterStep(self, impl, e);
  if (stop === undefined) impl.resetIdle();
  return stop;
}

// Validates and counts `n` payload bytes just placed at the front of `out`, then consumes them
// from `out`; they are unmasked here when they came straight from the next layer (the read
// buffer is unmasked as it fills).
function accept<N extends AsyncStream>(impl: StreamImpl<N>, out: BuffersSuffix, n: number, unmask: boolean): boolean {
  const written = buffersPrefix(n, out.data());
  const pieces = written instanceof Uint8Array ? [written] : written;
  for (const piece of pieces) {
    if (unmask && impl.rdMasked) impl.rdKeyOffset = applyMask(piece, impl.rdKey, impl.rdKeyOffset);
    if (impl.rdOp === Opcode.text && !impl.rdUtf8.write(piece)) return false;
  }
  if (impl.rdOp === Opcode.text && impl.rdRemain === 0 && impl.rdFin && !impl.rdUtf8.finish()) return false;
  impl.rdSize += n;
  out.consume(n);
  return true;
}

/** The peer's compressed data did not inflate (zlib's error). */
class CorruptData {
  constructor(readonly ec: ErrorCode) {}
}

interface Inflated {
  outcome: ErrorCode | 'tooBig' | 'badUtf8' | CorruptData | null;
  produced: number;
}

// Inflates compressed payload into `out` (Beast's deflated read): reads from the next layer at
// most once, feeds the `00 00 FF FF` tail after the final frame, and checks readMessageMax on
// the inflated size as it grows, so a small frame cannot inflate into unbounded memory.
function* inflateSome<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, out: BuffersSuffix): Generator<ChildOp, Inflated, readonly unknown[]> {
  const pieces: Uint8Array[] = [];
  let didRead = false;
  let total = 0;
  const max = impl.decoder.readMessageMax;
  while (bufferSize(out.data()) > 0) {
    if (impl.rdRemain > 0 && impl.rdBuf.size() === 0 && !didRead) {
      const stop = yield* fill(self, impl);
      if (stop !== undefined) return { outcome: stop, produced: total };
      impl.unmaskBuffered();
      didRead = true;
    }
    const dest = firstNonEmpty(out.data());
    let consumed: number;
    let produced: number;
    try {
      if (impl.rdRemain > 0) {
        if (impl.rdBuf.size() === 0) break;
        const input = impl.rdBuf.dataView().subarray(0, Math.min(impl.rdRemain, impl.rdBuf.size()));
        if (impl.pmd.rdInflateEnded) {
          // Past the end of the peer's deflate stream: nothing more to inflate in this message.
          impl.consumePayload(input.length);
          continue;
        }
        ({ consumed, produced } = impl.inflater().write(input, dest));
        impl.consumePayload(consumed);
        // zlib stopped short of both the input's end and the output's: the stream has ended.
        if (consumed < input.length && produced < dest.length) impl.pmd.rdInflateEnded = true;
      } else if (impl.rdFin && impl.pmd.rdInflateEnded) {
        impl.contextTakeoverRead();
        impl.rdDone = true;
        break;
      } else if (impl.rdFin) {
        ({ consumed, produced } = impl.inflater().write(emptyBlock.subarray(impl.pmd.rdEbConsumed), dest));
        impl.pmd.rdEbConsumed += consumed;
        if (produced === 0) {
          impl.contextTakeoverRead();
          impl.rdDone = true;
          break;
        }
      } else {
        break;
      }
    } catch (err) {
      if (!(err instanceof SystemError)) throw err;
      // Beast sends no close frame for corrupt compressed data; the connection is failed with
      // 1007 here instead (see the read loop).
      return { outcome: new CorruptData(err.code), produced: total };
    }
    if (max > 0 && impl.rdSize + produced > max) return { outcome: 'tooBig', produced: total };
    pieces.push(dest.subarray(0, produced));
    out.consume(produced);
    impl.rdSize += produced;
    total += produced;
    if (consumed === 0 && produced === 0) break;
  }
  if (impl.rdOp === Opcode.text) {
    for (const piece of pieces) if (!impl.rdUtf8.write(piece)) return { outcome: 'badUtf8', produced: total };
    if (impl.rdDone && !impl.rdUtf8.finish()) return { outcome: 'badUtf8', produced: total };
  }
  return { outcome: null, produced: total };
}

const emptyBlock = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

function firstNonEmpty(buffers: readonly Uint8Array[]): Uint8Array {
  for (const b of buffers) if (b.length > 0) return b;
  return new Uint8Array(0);
}

// Copies up to `max` bytes of `src` to the front of `out` (without consuming it); returns the count.
function copyInto(out: BuffersSuffix, src: Uint8Array, max: number): number {
  const n = Math.min(max, src.length);
  let done = 0;
  for (const piece of out.data()) {
    if (done === n) break;
    const k = Math.min(piece.length, n - done);
    piece.set(src.subarray(done, done + k));
    done += k;
  }
  return done;
}

/**
 * Reads into a dynamic buffer (Beast's `read_op`): a whole message (`some` false), or some of one
 * with at most `limit` bytes (0: no limit). Bytes are appended; a buffer that cannot grow gives
 * `websocket.error.bufferOverflow`.
 */
export function asyncReadOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  buffer: DynamicBuffer,
  limit: number,
  some: boolean,
  token: TokenFor<ReadSignature> | undefined,
  onDone?: () => void,
): unknown {
  const shortcut = (handler: Handler<ReadSignature>): boolean => {
    if (some || limit > 0) return false;
    const n = readBufferedMessage(impl, buffer);
    if (n < 0) return readWhenArrived(impl, buffer, handler, onDone);
    onDone?.();
    new HandlerWork(handler, impl.executor).complete(false, null, n);
    return true;
  };
  return asyncComposeOr<ReadSignature, TokenFor<ReadSignature> | undefined>(shortcut, readOpBody(impl, buffer, limit, some, onDone), token, impl.executor);
}

function readOpBody<N extends AsyncStream>(
  impl: StreamImpl<N>,
  buffer: DynamicBuffer,
  limit: number,
  some: boolean,
  onDone: (() => void) | undefined,
): (self: Self) => Generator<ChildOp, void, readonly unknown[]> {
  const max = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
  return function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    let total = 0;
    do {
      let target: readonly Uint8Array[];
      let stop: ErrorCode | undefined;
      try {
        target = buffer.prepare(Math.min(readSizeHintFor(impl, buffer), max));
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
    } while (!some && !impl.rdDone);
    self.complete(null, total);
  };
}

/**
 * The read of a whole message that has not arrived yet, when nothing stands in the way (the
 * conditions of {@link readBufferedMessage}, an empty read buffer, and a handler with no executor
 * of its own): one read from the next layer with the read side held, as the full operation's
 * first step does, then {@link readBufferedMessage}. A terminal request on the handler's slot
 * reaches that read as it would reach the full operation's. An error completes the read as
 * the full operation would; anything else (part of a message, a control frame, a close waiting
 * for the read side) hands the operation to the full path, which finds the state its own first
 * step would have left. Returns false, having changed nothing, when the conditions do not hold.
 */
function readWhenArrived<N extends AsyncStream>(
  impl: StreamImpl<N>,
  buffer: DynamicBuffer,
  handler: Handler<ReadSignature>,
  onDone: (() => void) | undefined,
): boolean {
  if (impl.status !== 'open' || impl.timedOut || (impl.rdOwner !== null) || !impl.rdDone || impl.rdRemain !== 0 || impl.pmdConfig !== null) return false;
  // Buffered bytes (part of a frame, or a control frame) are the full operation's to decode.
  if (impl.rdBuf.size() !== 0) return false;
  if (!isPlainHandler(impl, handler)) return false;
  const op = new ArrivalWait(impl, buffer, handler, onDone);
  impl.updateTimer();
  impl.lockRead(op);
  // A bound method rather than an arrow field: no context per wait (bench/idle-memory).
  impl.readNext(op.relay.bind(op.arrived.bind(op)));
  return true;
}

/**
 * A {@link readWhenArrived} in flight, which may be how an idle connection spends most of its
 * life: everything its completion needs sits in this one object (with its work, and owning the
 * read side), where closures over the operation's variables cost 1.3 KiB per idle connection
 * (bench/idle-memory).
 */
class ArrivalWait<N extends AsyncStream> extends HandlerWork<ReadSignature> {
  readonly relay: TerminalRelay;

  constructor(
    readonly impl: StreamImpl<N>,
    readonly buffer: DynamicBuffer,
    readonly handler: Handler<ReadSignature>,
    readonly onDone: (() => void) | undefined,
  ) {
    super(handler, impl.executor);
    this.relay = TerminalRelay.for(handler);
  }

  /** The next layer's read completed (called through a bound copy, see readWhenArrived). */
  arrived(e: ErrorCode | null, got: number): void {
    const impl = this.impl;
    impl.rdBuf.commit(got);
    impl.unlockRead(this);
    const ec = this.relay.finish(e);
    if (ec !== null) {
      const stop = impl.checkStopNow(ec) ?? ec;
      impl.wakeCloseForRead();
      this.onDone?.();
      this.complete(true, stop, 0);
      return;
    }
    impl.resetIdle();
    const n = impl.closeWaitsForRead() ? -1 : readBufferedMessage(impl, this.buffer);
    if (n >= 0) {
      this.onDone?.();
      this.complete(true, null, n);
      return;
    }
    // A close operation waiting for the read side takes it first, as between the full read's steps.
    impl.wakeCloseForRead();
    startComposed(this.handler, impl.executor, readOpBody(impl, this.buffer, 0, false, this.onDone), false);
    this.abandon();
  }
}

/**
 * The read of a whole message that is already in the read buffer, as one unfragmented,
 * uncompressed data frame: what the read operation's first step would do, without its machinery
 * (the common case of a busy connection, where one read from the socket brings many messages).
 * Returns the payload size, or -1 when the operation must take its full path; then nothing was
 * changed that the full path would not change in the same way (a frame header it consumed is one
 * the full path would consume, and it then finds the payload buffered and unmasked).
 */
function readBufferedMessage<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer): number {
  if (impl.status !== 'open' || impl.timedOut || (impl.rdOwner !== null) || !impl.rdDone || impl.rdRemain !== 0 || impl.pmdConfig !== null) return -1;
  const data = impl.rdBuf.dataView();
  if (data.length < 2) return -1;
  const b0 = data[0]!;
  const b1 = data[1]!;
  // FIN, no reserved bits, text or binary; lengths below 64 KiB.
  if (b0 !== 0x81 && b0 !== 0x82) return -1;
  const len7 = b1 & 0x7f;
  if (len7 === 127) return -1;
  const header = (len7 === 126 ? 4 : 2) + ((b1 & 0x80) !== 0 ? 4 : 0);
  if (data.length < header) return -1;
  const length = len7 === 126 ? (data[2]! << 8) | data[3]! : len7;
  if (data.length < header + length || length > buffer.maxSize() - buffer.size()) return -1;
  // Any other fault of the header (masking, size limit) is the full path's to report.
  if (impl.parseFrameHeader() !== 'frame') return -1;
  const payload = impl.rdBuf.dataView().subarray(0, length);
  impl.rdDone = false;
  if (impl.rdOp === Opcode.text && !isUtf8(payload)) return -1;
  bufferCopy(buffer.prepare(length), payload, length);
  buffer.commit(length);
  impl.consumePayload(length);
  impl.rdSize = length;
  impl.rdDone = true;
  impl.updateTimer();
  return length;
}

/** Beast's `read_size_hint(DynamicBuffer)`: what to prepare for the next read. */
export function readSizeHintFor<N extends AsyncStream>(impl: StreamImpl<N>, buffer: DynamicBuffer): number {
  const initial = Math.min(tcpFrameSize, buffer.maxSize() - buffer.size());
  return initial === 0 ? 1 : impl.readSizeHint(initial);
}
