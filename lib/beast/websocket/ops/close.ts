/**
 * The close operation (Beast's `close_op`): sends our close frame, then reads and discards frames
 * until the peer's close frame arrives (unless a read already received it), then tears the
 * connection down. Success means both close frames were exchanged and the teardown finished.
 */

import { CancellationType } from '../../../net/cancellation.js';
import { asyncCompose } from '../../../net/compose.js';
import { error as netError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { parseClosePayload, type CloseReason } from '../close.js';
import { Opcode } from '../frame.js';
import type { StreamImpl } from '../stream-impl.js';
import { wakeOrders } from '../soft-mutex.js';
import { fill, lockWrite, park, resumeLater, stopAfterStep, writeAll } from './common.js';
import type { ControlSignature } from './ping.js';
import { asyncTeardown, type TeardownHooks, type TeardownSignature } from './teardown.js';

/**
 * Starts the closing handshake with `reason`. Per-operation cancellation: `total` while waiting
 * for the write side (nothing was sent); `terminal` otherwise; a terminal request while waiting
 * for the peer's close frame closes the socket ("dirty shutdown").
 */
export function asyncCloseOp<N extends AsyncStream>(impl: StreamImpl<N>, reason: CloseReason,
  token: TokenFor<ControlSignature> | undefined, onDone?: () => void): unknown {
  const frame = impl.writer.closeFrame(reason);
  const next = impl.next as N & TeardownHooks;
  return asyncCompose<ControlSignature, TokenFor<ControlSignature> | undefined>(function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    let ec: ErrorCode | null | undefined;
    let ev_: ErrorCode | null = null; // a violation seen while waiting for the peer's close

    // Waits for the peer's close frame through the read side's frame reader, discarding every
    // other frame (a read may have stopped in the middle of one: the rest of its payload first);
    // undefined means "go to teardown".
    function* awaitPeerClose() {
      const r = impl.reader;
      for (;;) {
        while (r.remain > 0) {
          if (r.buf.size() === 0) {
            const stop = yield* fill(self, impl);
            if (stop !== undefined) return stop;
          }
          r.discardPayload();
        }
        let ev = r.nextFrame();
        while (ev === 'needMore') {
          const stop = yield* fill(self, impl);
          if (stop !== undefined) return stop;
          ev = r.nextFrame();
        }
        if (ev === 'violation') {
          ev_ = r.violation;
          return undefined;
        }
        if (ev === 'control' && r.ctrlOp === Opcode.close) {
          impl.rdClose = true;
          const { ec: bad, reason: peer } = parseClosePayload(r.ctrlPayload);
          if (bad !== null) ev_ = bad;
          else impl.cr = peer;
          return undefined;
        }
        // Pings, pongs and message data are discarded (their payloads above, on the next turn).
      }
    }

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
      if (ec === undefined) ec = yield* awaitPeerClose();
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
  }, token, impl.executor);
}
