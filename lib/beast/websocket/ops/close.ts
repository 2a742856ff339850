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
import { lockWrite, park, resumeLater, stopAfterStep, writeAll } from './common.js';
import type { ControlSignature } from './ping.js';
import { asyncTeardown, type TeardownHooks, type TeardownSignature } from './teardown.js';

/**
 * Starts the closing handshake with `reason`. Per-operation cancellation: `total` while waiting
 * for the write side (nothing was sent); `terminal` otherwise; a terminal request while waiting
 * for the peer's close frame closes the socket ("dirty shutdown").
 */
export function asyncCloseOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  reason: CloseReason,
  token: TokenFor<ControlSignature> | undefined,
  onDone?: () => void,
): unknown {
  const frame = impl.closeFrame(reason);
  const next = impl.next as N & TeardownHooks;
  return asyncCompose<ControlSignature, TokenFor<ControlSignature> | undefined>(function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    let ec: ErrorCode | null | undefined;
    let ev: ErrorCode | null = null; // a violation seen while waiting for the peer's close

    // Reads more bytes into the read buffer; returns the error to stop with, if any.
    function* fill() {
      const [e, n] = yield* self.call<IoSignature>((h) => impl.readNext(h));
      impl.rdBuf.commit(n);
      return stopAfterStep(self, impl, e);
    }

    // Waits for the peer's close frame, discarding everything else; undefined means "go to teardown".
    function* awaitPeerClose() {
      // A read may have stopped in the middle of a frame: drop the rest of its payload first.
      for (;;) {
        while (impl.rdRemain > 0) {
          if (impl.rdBuf.size() === 0) {
            const stop = yield* fill();
            if (stop !== undefined) return stop;
          }
          impl.consumePayload(Math.min(impl.rdRemain, impl.rdBuf.size()));
        }
        let parsed = impl.parseFrameHeader();
        while (parsed === 'needMore') {
          const stop = yield* fill();
          if (stop !== undefined) return stop;
          parsed = impl.parseFrameHeader();
        }
        if (parsed !== 'frame') {
          ev = parsed;
          return undefined;
        }
        if (impl.ctrlOp === Opcode.close) {
          impl.rdClose = true;
          const { ec: bad, reason: peer } = parseClosePayload(impl.ctrlPayload);
          if (bad !== null) ev = bad;
          else impl.cr = peer;
          return undefined;
        }
        // Pings, pongs and message data are discarded (their payloads below, on the next turn).
      }
    }

    const parked = yield* lockWrite(self, impl, impl.opClose, CancellationType.all);
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
      if (!impl.tryLockRead(self)) {
        const parked = yield* park(self, impl.opRClose, CancellationType.terminal);
        if (parked !== null) {
          // Cancelled while the peer's close was awaited: close the socket (a dirty shutdown).
          // Unlike Beast, the write side is released too, so that parked operations can end.
          impl.status = 'closed';
          impl.close();
          impl.closeNextLayer();
          impl.unlockWrite(self);
          impl.wakeAfterClose();
          return self.complete(netError.operationAborted);
        }
        impl.lockRead(self);
        yield* resumeLater(self, impl);
        ec = impl.checkStopNow(null);
      }
      if (ec === undefined) ec = yield* awaitPeerClose();
    }
    if (ec === undefined) {
      let [te] = yield* self.call<TeardownSignature>((h) => asyncTeardown(impl.role, next, h));
      if (te === netError.eof) te = null;
      ec = te ?? ev;
      impl.status = ec !== null ? 'failed' : 'closed';
      impl.close();
    }
    impl.unlockWrite(self);
    if (impl.tryUnlockRead(self)) impl.wakeReadForRead();
    impl.wakeAfterClose();
    self.complete(ec);
  }, token, impl.executor);
}
