/**
 * Steps shared by the stream's composed operations: parking behind a soft mutex and resuming
 * outside the waker's call stack, and the between-steps stop check.
 */

import {
  CancellationSignal,
  CancellationType,
  enableTerminalCancellation,
  enableTotalCancellation,
  disconnectedSlot,
  type CancellationSlot,
} from '../../../net/cancellation.js';
import { asyncImmediate, type ComposedSelf } from '../../../net/compose.js';
import { error as netError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, AsyncWriteStream, IoSignature, LazyReadStream } from '../../../net/stream.js';
import { associationsOf, setAssociations, withCancellationSlot, type Associations, type Handler } from '../../../net/associators.js';
import { bufferSize, BuffersSuffix, type ConstBufferSequence } from '../../../net/buffer.js';
import type { ParkSignature, SavedHandler } from '../saved-handler.js';
import type { WakeOrder } from '../soft-mutex.js';
import type { StreamImpl } from '../stream-impl.js';

type Self = ComposedSelf<readonly unknown[]>;

/**
 * Parks the operation in `saved` until another operation hands it the lock (completing with
 * `null`) or it is cancelled with a type in `allowed` (completing with `operationAborted`).
 * While parked nothing has happened yet, so `total` (and `partial`) may be honoured then; once
 * woken the operation accepts only `terminal` again, as Beast's `set_allowed_cancellation` does.
 */
export function* park(self: Self, saved: SavedHandler, allowed: CancellationType) {
  const widen = allowed !== CancellationType.terminal;
  if (widen) self.resetCancellationState(enableTotalCancellation);
  const [ec] = yield* self.call<ParkSignature>((h) => saved.emplace(h, allowed));
  if (widen) self.resetCancellationState(enableTerminalCancellation);
  return ec;
}

/**
 * Continues on a later turn (posted, or dispatched to the handler's immediate executor): a woken
 * operation must not run on in the stack of the operation that woke it, and user callbacks must
 * not run inside the initiating call.
 */
export function* resumeLater<N extends AsyncStream>(self: Self, impl: StreamImpl<N>) {
  yield* self.call<[]>((h) => asyncImmediate(impl.executor, h));
}

/**
 * Takes the write side for `self`, parking in `saved` behind its owner if need be (Beast's
 * try_lock / emplace / lock / re-post sequence). Returns `null` once the side is held, or the
 * error the parked wait ended with (cancelled: nothing is held then).
 */
export function* lockWrite<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, saved: SavedHandler, allowed: CancellationType) {
  if (impl.locks.tryLock('wr', self)) return null;
  const parked = yield* park(self, saved, allowed);
  if (parked !== null) return parked;
  impl.locks.lock('wr', self);
  yield* resumeLater(self, impl);
  return null;
}

/**
 * Reads more bytes from the next layer into the read buffer (the read side's only input); returns
 * the error to stop with, if any.
 */
export function* fill<N extends AsyncStream>(self: Self, impl: StreamImpl<N>) {
  const [e, n] = yield* self.call<IoSignature>((h) => readMore(impl, h));
  impl.reader.commit(n);
  const stop = stopAfterStep(self, impl, e);
  if (stop === undefined) impl.resetIdle();
  return stop;
}

/**
 * Starts the next layer's read for {@link fill} (and for a read parked in ops/read-message.ts);
 * the caller commits the bytes. Waiting for the next frame with nothing buffered, over a next
 * layer that can take its buffers when bytes arrive (`LazyReadStream`), the buffer lets go of its
 * block first and the read waits without one: an idle connection holds no read block
 * (bench/idle-memory).
 */
export function readMore<N extends AsyncStream>(impl: StreamImpl<N>, handler: Handler<IoSignature>): void {
  const r = impl.reader;
  const next = impl.next as N & Partial<LazyReadStream>;
  if (next.asyncReadSomeLazy !== undefined && r.releaseForLazyRead()) next.asyncReadSomeLazy(r, handler);
  else next.asyncReadSome(r.prepareRead(), handler);
}

/**
 * `checkStopNow` after an intermediate completion, also honouring a terminal request recorded
 * while the child's completion was queued (it reached no child, DESIGN section 4.5).
 */
export function stopAfterStep<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, ec: ErrorCode | null): ErrorCode | undefined {
  if (ec === null && (self.cancelled() & CancellationType.terminal) !== 0) ec = netError.operationAborted;
  return impl.checkStopNow(ec);
}

/**
 * Writes `bytes`, frames ready to go, holding the write side (Beast's `ping_op`; also the
 * keep-alive ping and a prepared message): waits for the write side in `saved`, writes unless the
 * stream must stop, then lets the side go and wakes the waiters in `order`. `message`: the bytes
 * are a whole data message, which the write state starts. Returns what the operation completes
 * with.
 */
export function* writeFramesSteps<N extends AsyncStream>(
  self: Self,
  impl: StreamImpl<N>,
  saved: SavedHandler,
  allowed: CancellationType,
  bytes: Uint8Array,
  order: WakeOrder,
  message = false,
) {
  const parked = yield* lockWrite(self, impl, saved, allowed);
  if (parked !== null) return parked;
  if (message) impl.writer.beginMessage(false);
  let ec = impl.checkStopNow(null);
  if (ec === undefined) {
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, bytes, h));
    ec = stopAfterStep(self, impl, we);
  }
  // upcall
  impl.locks.tryUnlock('wr', self);
  impl.locks.wake(order);
  return ec ?? null;
}

/**
 * Writes all of `buffers` to the next layer (net's `asyncWrite` with `transferAll`), as a plain
 * chain of `asyncWriteSome` calls rather than a composed operation: this is the hot path of every
 * frame. The handler is invoked from the last write's completion, which already ran on its
 * executor; its characteristics (executor, slot) are forwarded to every write.
 */
export function writeAll(stream: AsyncWriteStream, buffers: ConstBufferSequence, handler: Handler<IoSignature>): void {
  const total = bufferSize(buffers);
  let done = 0;
  let rest: BuffersSuffix | null = null;
  const step = setAssociations((ec: ErrorCode | null, n: number): void => {
    done += n;
    if (ec !== null || done >= total || n === 0) return handler(ec, done);
    if (rest === null) {
      rest = new BuffersSuffix(buffers);
      rest.consume(done);
    } else {
      rest.consume(n);
    }
    stream.asyncWriteSome(rest.data(), step);
  }, associationsOf(handler));
  stream.asyncWriteSome(buffers, step);
}

/**
 * What a composed operation's cancellation state does with its default filter, for a shortcut
 * with one child: a terminal request on the handler's slot is recorded and passed on to the child
 * (other types are ignored), and one that arrives after the child has finished, while its
 * completion is queued, still fails the step (DESIGN section 4, rule 5). With a disconnected slot
 * it costs one shared object and does nothing.
 */
export class TerminalRelay {
  static readonly #inert = new TerminalRelay(disconnectedSlot);
  readonly #child: CancellationSignal | null;
  readonly #parent: CancellationSlot;
  /** The child's characteristics (the relay's slot) when the handler's slot is connected. */
  readonly #childAssociations: Associations | null;
  #requested = false;

  private constructor(parent: CancellationSlot) {
    this.#parent = parent;
    if (parent.isConnected()) {
      this.#child = new CancellationSignal();
      this.#childAssociations = withCancellationSlot(associationsOf(undefined), this.#child.slot());
      parent.assign(this.#onRequest);
    } else {
      this.#child = null;
      this.#childAssociations = null;
    }
  }

  /** The relay for `handler`'s slot, installed in it. */
  static for(handler: Handler<readonly never[]>): TerminalRelay {
    const slot = associationsOf(handler).cancellationSlot;
    return slot === undefined || !slot.isConnected() ? TerminalRelay.#inert : new TerminalRelay(slot);
  }

  readonly #onRequest = (type: CancellationType): void => {
    // Recorded as Asio's cancellation_state does: each request replaces the last.
    this.#requested = (type & CancellationType.terminal) !== 0;
    if (this.#requested) this.#child!.emit(CancellationType.terminal);
  };

  /** `child` carrying the relay's slot, when there is one (unchanged otherwise). */
  bind<F extends (...args: never[]) => void>(child: F): F {
    return this.#childAssociations === null ? child : setAssociations(child, this.#childAssociations);
  }

  /**
   * Removes the relay from the handler's slot (before the handler runs, or before the full
   * operation installs its own) and turns a child's success into `operationAborted` when a
   * terminal request arrived: the error the step ends with.
   */
  finish(ec: ErrorCode | null): ErrorCode | null {
    if (this.#child === null) return ec;
    this.#parent.release(this.#onRequest);
    this.#child.handler = null;
    return ec === null && this.#requested ? netError.operationAborted : ec;
  }
}

