/**
 * The ping and pong operations (Beast's `ping_op`), and the idle ping the keep-alive timer sends
 * (Beast's `idle_ping_op`, which has no user handler). They only write a control frame; the
 * peer's answer is seen by a read.
 */

import { CancellationType } from '../../../net/cancellation.js';
import { asyncCompose, type ComposedSelf } from '../../../net/compose.js';
import type { ErrorCode } from '../../../net/error.js';
import type { AsyncStream } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { Opcode } from '../frame.js';
import type { StreamImpl } from '../stream-impl.js';
import { wakeOrders } from '../soft-mutex.js';
import { writeFramesSteps } from './common.js';

/** The completion signature of ping, pong and close. */
export type ControlSignature = [ec: ErrorCode | null];

/**
 * Sends a ping or pong with `payload` (at most 125 bytes). Per-operation cancellation: `total`
 * while waiting for the write side; `terminal` always.
 */
export function asyncPingOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  opcode: typeof Opcode.ping | typeof Opcode.pong,
  payload: Uint8Array,
  token: TokenFor<ControlSignature> | undefined,
  onDone?: () => void,
): unknown {
  const frame = impl.writer.controlFrame(opcode, payload);
  return asyncCompose<ControlSignature, TokenFor<ControlSignature> | undefined>((self) => pingSteps(self, impl, frame, onDone), token, impl.executor);
}

/** The steps of {@link asyncPingOp} (a generator of the module: see `asyncCompose`). */
function* pingSteps<N extends AsyncStream>(self: ComposedSelf<ControlSignature>, impl: StreamImpl<N>, frame: Uint8Array, onDone: (() => void) | undefined) {
  if (onDone !== undefined) self.onComplete(onDone);
  self.complete(yield* writeFramesSteps(self, impl, impl.locks.slot('ping'), CancellationType.all, frame, wakeOrders.afterPing));
}

/** Starts the keep-alive ping, unless one is already on its way. */
export function startIdlePing<N extends AsyncStream>(impl: StreamImpl<N>): void {
  if (impl.idlePinging) return;
  impl.idlePinging = true;
  const frame = impl.writer.controlFrame(Opcode.ping, new Uint8Array(0));
  void asyncCompose<ControlSignature, TokenFor<ControlSignature>>((self) => idlePingSteps(self, impl, frame), () => {}, impl.executor);
}

/** The steps of the idle ping (a generator of the module: see `asyncCompose`). */
function* idlePingSteps<N extends AsyncStream>(self: ComposedSelf<ControlSignature>, impl: StreamImpl<N>, frame: Uint8Array) {
  // Nothing can cancel the idle ping (it has no user handler), so the wait always ends with the lock.
  yield* writeFramesSteps(self, impl, impl.locks.slot('idlePing'), CancellationType.terminal, frame, wakeOrders.afterIdlePing);
  impl.idlePinging = false;
  self.complete(null);
}
