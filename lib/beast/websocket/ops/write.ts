/**
 * The write operation (Beast's `write_some_op`): sends message data as whole frames. A server
 * frame goes out straight from the caller's buffers (header and payload in one write); a client
 * copies the payload to mask it, since the caller's bytes must not change: a message that fits
 * its write buffer there, a larger one into lent gather buffers (mask-buffers.ts).
 * With auto-fragmentation the write lock is given up between frames, so that control frames
 * (pings, pongs, a close) can go out in between.
 *
 * A prepared message (prepared.ts) is written by the same operation: where the message has frames
 * built for this stream's settings (a server, no message open), they are the frames, sent whole
 * in one write (Beast's write algorithms are chosen per message, this is one more of them);
 * elsewhere its payload is framed as the caller's buffers would be. The shortcut is the same
 * one, behind the same predicate.
 */

import { bufferSize, BuffersSuffix, type ConstBufferSequence } from '../../../net/buffer.js';
import { CancellationType } from '../../../net/cancellation.js';
import type { Handler } from '../../../net/associators.js';
import { composeFor, type ComposedSelf } from '../../../net/compose.js';
import { HandlerWork } from '../../../net/handler-work.js';
import { SystemError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import { encodeFrameHeader, Opcode } from '../frame.js';
import { ClientFramer, deflateInto, ServerFramer } from '../frame-writer.js';
import { applyMask } from '../mask.js';
import { giveMaskBuffer, takeMaskBuffer } from '../mask-buffers.js';
import { PreparedMessage } from '../prepared.js';
import { wakeOrders } from '../soft-mutex.js';
import type { StreamImpl } from '../stream-impl.js';
import { lockWrite, stopAfterStep, TerminalRelay, writeAll, writeFramesSteps } from './common.js';
import { mayShortcut } from './shortcut.js';

/** The completion signature of writes: the error and the payload bytes sent. */
export type WriteSignature = IoSignature;

type Self = ComposedSelf<WriteSignature>;

/** What a write sends: the caller's buffers, or a prepared message. */
export type WriteData = ConstBufferSequence | PreparedMessage;

/** The payload of `data` (a prepared message's own copy). */
const payloadOf = (data: WriteData): ConstBufferSequence => (data instanceof PreparedMessage ? data.payload() : data);

/**
 * The frames built in advance for `data` on `impl` as it stands (Beast's begin_msg moment: the
 * operation's start), or null where the payload is framed here.
 */
const prebuiltFor = <N extends AsyncStream>(impl: StreamImpl<N>, data: WriteData): Uint8Array | null =>
  data instanceof PreparedMessage ? data.framesFor(impl) : null;

/**
 * Writes `data` as one message part (`fin` ends the message; a prepared message is always
 * written whole). Per-operation cancellation:
 * `total` while waiting for the write side (a fragmented write keeps its message open, and the
 * next write continues it); `terminal` always. Called inside the initiating call, with the
 * handler the caller's token made (operation-gate.ts), as ops/read-message.ts is.
 */
export function asyncWriteSomeOp<N extends AsyncStream>(impl: StreamImpl<N>, fin: boolean, data: WriteData,
  handler: Handler<WriteSignature>, onDone?: () => void): void {
  if (fin && writeWhole(impl, data, handler, onDone)) return;
  composeFor(handler, impl.executor, (self: Self) => (onDone !== undefined && self.onComplete(onDone), writeBody(self, impl, fin, data)));
}

/**
 * The shortcut (see shortcut.ts): a whole message as one frame, when the write side is free, no
 * message is open, no compression and no fragmentation (for a client: the message fits its write
 * buffer, where it is masked); or a prepared message's frames built for this stream, whatever
 * their number and whether compressed or not. The operation is then one write to the next layer, with no
 * generator: the hot path of an echo or broadcast server, and of a client's small messages. A
 * terminal request on the handler's slot reaches that write as it would reach the full
 * operation's. Returns false, having changed nothing, when the full operation must run.
 */
function writeWhole<N extends AsyncStream>(impl: StreamImpl<N>, data: WriteData, handler: Handler<WriteSignature>, onDone?: () => void): boolean {
  const w = impl.writer;
  if (impl.locks.isLocked('wr') || w.cont) return false;
  const wire = prebuiltFor(impl, data);
  if (!mayShortcut(impl, handler, wire !== null)) return false;
  const buffers = payloadOf(data);
  const size = bufferSize(buffers);
  // A server's frame may be any size; a client masks through its write buffer, so one buffer-full.
  if (wire === null && size > w.bufOpt && (w.fragOpt || impl.role === 'client')) return false;
  const work = new HandlerWork(handler, impl.executor);
  impl.locks.lock('wr', work);
  w.beginMessage(false);
  const bufs = wire ?? w.wholeFrame(buffers, size);
  const relay = TerminalRelay.for(handler);
  writeAll(impl.next, bufs, relay.bind((ec: ErrorCode | null) => {
    const stop = impl.checkStopNow(relay.finish(ec));
    // upcall
    impl.locks.unlock('wr', work);
    impl.locks.wake(wakeOrders.afterWrite);
    onDone?.();
    work.complete(true, stop ?? null, stop === undefined ? size : 0);
  }));
  return true;
}

function* writeBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, fin: boolean, data: WriteData) {
  const next = impl.next;
  const w = impl.writer;
  const waiters = (): boolean => impl.locks.writeWaiters();
  const buffers = payloadOf(data);
  let remain = bufferSize(buffers);
  const wire = prebuiltFor(impl, data);
  if (wire !== null) return yield* prebuiltBody(self, impl, wire, remain);
  if (!w.cont) w.beginMessage(impl.pmdConfig !== null && remain >= impl.pmdOpts.msgSizeThreshold);
  if (w.compress) return yield* deflateBody(self, impl, fin, buffers);
  const opcode = w.cont ? Opcode.cont : w.opcode;
  const frag = w.frag && remain > w.bufSize;
  let sent = 0;
  let ec: ErrorCode | undefined;
  // A server's frames are views of the caller's buffers; a client's are copied and masked.
  const serverFramer = impl.role === 'server' ? new ServerFramer(buffers, fin, frag, opcode, remain) : null;
  const framer = impl.role === 'client' ? new ClientFramer(w, waiters, buffers, fin, frag, opcode, remain) : null;

  for (;;) {
    const parked = yield* lockWrite(self, impl, impl.locks.slot('wr'), CancellationType.all);
    if (parked !== null) return self.complete(parked, sent);
    ec = impl.checkStopNow(null);
    if (ec !== undefined) break;

    if (impl.role === 'server') {
      const bufs: Uint8Array[] = [];
      serverFramer!.fill(w, waiters, bufs);
      remain = serverFramer!.remain;
      const payload = serverFramer!.payload;
      // The message stays open until its final frame is out: a write cancelled between fragments
      // leaves the next write continuing it.
      w.cont = !(fin && remain === 0);
      const [we] = yield* self.call<IoSignature>((h) => writeAll(next, bufs, h));
      ec = stopAfterStep(self, impl, we);
      if (ec !== undefined) break;
      sent += payload;
    } else {
      // Masked frames go into a gather buffer (64 KiB, lent for the write: mask-buffers.ts),
      // header and payload in place, and the whole buffer goes out in one write: as many frames
      // as fit (up to 64, as for a server) while no operation waits for the write side, or a
      // buffer-full of one frame larger than it. Beast masks one write buffer-full per write, so
      // a 64 KiB message was 16 writes, each a resumption and a copy into the socket's batch.
      do {
        const gather = takeMaskBuffer();
        const out = gather.bytes.subarray(0, framer!.fill(gather));
        const [we] = yield* self.call<IoSignature>((h) => writeAll(next, out, h));
        giveMaskBuffer(gather);
        ec = stopAfterStep(self, impl, we);
        if (ec !== undefined) break;
        sent += framer!.payload;
        // Within a frame the write side is kept: nothing may go out in the middle of it.
      } while (framer!.frameLeft > 0);
      remain = framer!.remain;
      if (ec !== undefined) break;
    }
    if (remain === 0) break;
    // Between fragments: let control frames (and a read's pong or close reply) go first.
    // A woken operation takes the write side at once; otherwise it is still free for us.
    impl.locks.unlock('wr', self);
    impl.locks.wake(wakeOrders.afterWrite);
  }
  // upcall
  impl.locks.tryUnlock('wr', self);
  impl.locks.wake(wakeOrders.afterWrite);
  self.complete(ec ?? null, sent);
}

/**
 * A prepared message's frames (plain or compressed, built without this stream's deflate context:
 * no context takeover) go out in one write, the write side held throughout: a ping or close waits
 * for the whole message, where a fragmented asyncWrite lets it out between fragments. Broadcast
 * messages are small; sharing their frames is worth more than the interleaving. `size` is the
 * payload's, which the handler gets.
 */
function* prebuiltBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, wire: Uint8Array, size: number) {
  const ec = yield* writeFramesSteps(self, impl, impl.locks.slot('wr'), CancellationType.all, wire, wakeOrders.afterWrite, true);
  self.complete(ec, ec === null ? size : 0);
}

// Compressed writes (Beast's do_deflate): deflate into the write buffer, one frame per buffer-full,
// whatever autoFragment says; RSV1 on the message's first frame only. A part that produces no
// output yet (compression latency) sends nothing. The last frame of the message ends with a sync
// flush whose `00 00 FF FF` tail is removed (RFC 7692 section 7.2.1).
function* deflateBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, fin: boolean, buffers: ConstBufferSequence) {
  const w = impl.writer;
  const rest = new BuffersSuffix(buffers);
  let sent = 0;
  let ec: ErrorCode | undefined;
  for (;;) {
    const parked = yield* lockWrite(self, impl, impl.locks.slot('wr'), CancellationType.all);
    if (parked !== null) return self.complete(parked, sent);
    ec = impl.checkStopNow(null);
    if (ec !== undefined) break;
    let out: { produced: number; consumed: number; more: boolean };
    try {
      out = deflateInto(impl.pmd.deflater(impl.role), rest, fin, w.buf!);
    } catch (err) {
      if (!(err instanceof SystemError)) throw err;
      ec = impl.checkStopNow(err.code);
      break;
    }
    // Input zlib took belongs to this message now, framed or not: the message is open until its
    // final frame, and the next part continues it even if nothing was sent yet.
    sent += out.consumed;
    if (out.consumed > 0) w.cont = true;
    if (out.produced === 0) break; // nothing to send yet (compression latency)
    const payload = w.buf!.subarray(0, out.produced);
    const key = w.frameKey();
    if (key !== undefined) applyMask(payload, key);
    const frameFin = fin && !out.more;
    const first = !w.frameSent;
    const headerSize = encodeFrameHeader(w.header(), 0, {
      fin: frameFin,
      rsv1: first,
      opcode: first ? w.opcode : Opcode.cont,
      length: out.produced,
      key,
    });
    w.frameSent = true;
    w.cont = !frameFin;
    const bufs = [w.header().subarray(0, headerSize), payload];
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, bufs, h));
    ec = stopAfterStep(self, impl, we);
    if (ec !== undefined) break;
    if (!out.more) {
      if (fin) impl.pmd.afterWrite(impl.role);
      break;
    }
    // A woken operation takes the write side at once; otherwise it is still free for us.
    impl.locks.unlock('wr', self);
    impl.locks.wake(wakeOrders.afterWrite);
  }
  // upcall
  impl.locks.tryUnlock('wr', self);
  impl.locks.wake(wakeOrders.afterWrite);
  self.complete(ec ?? null, sent);
}
