/**
 * Writing a prepared message: the frames a PreparedMessage built once go out to this stream in
 * one write, with the completion rules of ops/write.ts (the write side taken or waited for, the
 * stop checks before and after, `[ec, payloadBytes]`). Where the stream cannot share prepared
 * frames (a client, a message already open, compression with context takeover) this is exactly
 * the write operation with the message's payload.
 *
 * Unlike a fragmented asyncWrite, which lets control frames out between fragments, the prepared
 * frames go out in one write: a ping or close waits for the whole message. Broadcast messages
 * are small; the sharing is worth more than the interleaving.
 */

import { CancellationType } from '../../../net/cancellation.js';
import type { Handler } from '../../../net/associators.js';
import { asyncComposeOr, type ComposedSelf } from '../../../net/compose.js';
import { HandlerWork } from '../../../net/handler-work.js';
import type { ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import type { PreparedMessage } from '../prepared.js';
import type { StreamImpl } from '../stream-impl.js';
import { isPlainHandler, lockWrite, stopAfterStep, TerminalRelay, writeAll } from './common.js';
import { asyncWriteSomeOp, type WriteSignature } from './write.js';

type Self = ComposedSelf<WriteSignature>;

/**
 * Writes `message` as one whole message. Per-operation cancellation as for a write: `total`
 * while waiting for the write side (nothing was sent), `terminal` always.
 */
export function asyncWritePreparedOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  message: PreparedMessage,
  token: TokenFor<WriteSignature> | undefined,
  onDone?: () => void,
): unknown {
  const wire = message.framesFor(impl);
  if (wire === null) return asyncWriteSomeOp(impl, true, message.payload(), token, onDone);
  const size = message.size();
  return asyncComposeOr<WriteSignature, TokenFor<WriteSignature> | undefined>(
    (handler) => writeNow(impl, wire, size, handler, onDone),
    (self) => (onDone !== undefined && self.onComplete(onDone), writeBody(self, impl, wire, size)),
    token,
    impl.executor,
  );
}

/**
 * The write side is free and the handler plain: one write to the next layer, no generator (the
 * shortcut of ops/write.ts's writeWhole, for the same reason: this is the broadcast's hot path).
 * Returns false, having changed nothing, when the composed operation must run.
 */
function writeNow<N extends AsyncStream>(impl: StreamImpl<N>, wire: Uint8Array, size: number, handler: Handler<WriteSignature>, onDone?: () => void): boolean {
  if (impl.status !== 'open' || impl.timedOut || impl.wrOwner !== null || !isPlainHandler(impl, handler)) return false;
  const work = new HandlerWork(handler, impl.executor);
  impl.lockWrite(work);
  const relay = TerminalRelay.for(handler);
  writeAll(impl.next, wire, relay.bind((ec: ErrorCode | null) => {
    const stop = impl.checkStopNow(relay.finish(ec));
    impl.unlockWrite(work);
    impl.wakeAfterWrite();
    onDone?.();
    work.complete(true, stop ?? null, stop === undefined ? size : 0);
  }));
  return true;
}

function* writeBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, wire: Uint8Array, size: number) {
  const parked = yield* lockWrite(self, impl, impl.opWr, CancellationType.all);
  if (parked !== null) return self.complete(parked, 0);
  let ec = impl.checkStopNow(null);
  if (ec === undefined) {
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, wire, h));
    ec = stopAfterStep(self, impl, we);
  }
  impl.tryUnlockWrite(self);
  impl.wakeAfterWrite();
  self.complete(ec ?? null, ec === undefined ? size : 0);
}
