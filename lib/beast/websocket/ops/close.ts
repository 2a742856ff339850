/**
 * The close operation (Beast's `close_op`): sends our close frame, then reads and discards frames
 * until the peer's close frame arrives (unless a read already received it), then tears the
 * connection down. Success means both close frames were exchanged and the teardown finished.
 */

import { CancellationType } from '../../../net/cancellation.js';
import { asyncCompose, type ComposedSelf } from '../../../net/compose.js';
import { error as netError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { parseClosePayload, type CloseReason } from '../close.js';
import { Opcode } from '../frame.js';
import type { StreamImpl } from '../stream-impl.js';
import { wakeOrders } from '../soft-mutex.js';
import { fill, lockWrite, park, resumeLater, stopAfterStep, writeAll } from './common.js';
import type { ControlSignature } from './ping.js';
import type { Steps } from './read.js';
import { asyncTeardown, type TeardownHooks, type TeardownSignature } from './teardown.js';

/**
 * Starts the closing handshake with `reason`. Per-operation cancellation: `total` while waiting
 * for the write side (nothing was sent); `terminal` otherwise; a terminal request while waiting
 * for the peer's close frame closes the socket ("dirty shutdown").
 */
export function asyncCloseOp<N extends AsyncStream>(impl: StreamImpl<N>, reason: CloseReason,
  token: TokenFor<ControlSignature> | undefined, onDone?: () => void): unknown {
  const frame = impl.writer.closeFrame(reason);
  return asyncCompose<ControlSignature, TokenFor<ControlSignature> | undefined>(
    (self) => closeSteps(self, impl, frame, onDone), token, impl.executor);
}

type Self = ComposedSelf<ControlSignature>;

/** The steps of {@link asyncCloseOp}, top to bottom (a generator of the module: see `asyncCompose`). */
function* closeSteps<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, frame: Uint8Array, onDone: (() => void) | undefined) {
  const next = impl.next as N & TeardownHooks;
  if (onDone !== undefined) self.onComplete(onDone);
  let ec: ErrorCode | null | undefined;
  let ev_: ErrorCode | null = null; // a violation seen while waiting for the peer's close

  const parked = yield* lockWrite(self, impl, impl.locks.slot('close'), CancellationType.all);
  if (parked !== null) return self.complete(parked);
  ec = impl.checkStopNow(null);
  if (ec === undefined) {
    impl.wrClose = true;
    impl.status = 'closing';
    impl.updateTimer();
    const [we] = yield* self.call<IoSignature>((h) => writeAll(next, frame, h));
    ec = stopAfterStep(self, impl, we);
  }
  if (ec === undefined && !impl.rdClose) {
    if (!impl.locks.tryLock('rd', self)) {
      const parked = yield* park(self, impl.locks.slot('rClose'), CancellationType.terminal);
      if (parked !== null) {
        // Cancelled while the peer's close was awaited: close the socket (a dirty shutdown).
        // Unlike Beast, the write side is released too, so that parked operations can end.
        impl.status = 'closed';
        impl.close();
        impl.closeNextLayer();
        impl.locks.unlock('wr', self);
        impl.locks.wake(wakeOrders.afterClose);
        return self.complete(netError.operationAborted);
      }
      impl.locks.lock('rd', self);
      yield* resumeLater(self, impl);
      ec = impl.checkStopNow(null);
    }
    if (ec === undefined) [ec, ev_] = yield* awaitPeerClose(self, impl);
  }
  if (ec === undefined) {
    let [te] = yield* self.call<TeardownSignature>((h) => asyncTeardown(impl.role, next, h));
    if (te === netError.eof) te = null;
    ec = te ?? ev_;
    impl.status = ec !== null ? 'failed' : 'closed';
    impl.close();
  }
  // upcall
  impl.locks.unlock('wr', self);
  if (impl.locks.tryUnlock('rd', self)) impl.locks.wake(wakeOrders.closeReadSide);
  impl.locks.wake(wakeOrders.afterClose);
  self.complete(ec);
}

/**
 * Waits for the peer's close frame through the read side's frame reader, discarding every other
 * frame (a read may have stopped in the middle of one: the rest of its payload first). Returns
 * what stopped the wait (undefined: go on to teardown) and a violation seen on the way (a bad
 * frame, or a close frame whose payload does not parse), which the close completes with.
 */
function* awaitPeerClose<N extends AsyncStream>(self: Self, impl: StreamImpl<N>): Steps<[stop: ErrorCode | undefined, violation: ErrorCode | null]> {
  const r = impl.reader;
  for (;;) {
    while (r.remain > 0) {
      if (r.buf.size() === 0) {
        const stop = yield* fill(self, impl);
        if (stop !== undefined) return [stop, null];
      }
      r.discardPayload();
    }
    let ev = r.nextFrame();
    while (ev === 'needMore') {
      const stop = yield* fill(self, impl);
      if (stop !== undefined) return [stop, null];
      ev = r.nextFrame();
    }
    if (ev === 'violation') return [undefined, r.violation];
    if (ev === 'control' && r.ctrlOp === Opcode.close) {
      impl.rdClose = true;
      const { ec: bad, reason: peer } = parseClosePayload(r.ctrlPayload);
      if (bad !== null) return [undefined, bad];
      impl.cr = peer;
      return [undefined, null];
    }
    // Pings, pongs and message data are discarded (their payloads above, on the next turn).
  }
}
