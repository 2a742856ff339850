/**
 * The write operation (Beast's `write_some_op`): sends message data as whole frames. A server
 * frame goes out straight from the caller's buffers (header and payload in one write); a client
 * copies the payload to mask it, since the caller's bytes must not change: a message that fits
 * its write buffer there, a larger one into lent gather buffers (mask-buffers.ts).
 * With auto-fragmentation the write lock is given up between frames, so that control frames
 * (pings, pongs, a close) can go out in between.
 */

import { Buffer } from 'node:buffer';
import { bufferCopy, bufferSequence, bufferSize, BuffersSuffix, type ConstBufferSequence } from '../../../net/buffer.js';
import { CancellationType } from '../../../net/cancellation.js';
import type { Handler } from '../../../net/associators.js';
import { asyncComposeOr, type ComposedSelf } from '../../../net/compose.js';
import { HandlerWork } from '../../../net/handler-work.js';
import { SystemError, type ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { encodeFrameHeader, Opcode, type FrameHeaderFields } from '../frame.js';
import { applyMask } from '../mask.js';
import { giveMaskBuffer, takeMaskBuffer, type MaskBuffer } from '../mask-buffers.js';
import type { StreamImpl } from '../stream-impl.js';
import { isPlainHandler, lockWrite, stopAfterStep, TerminalRelay, writeAll } from './common.js';

/** The completion signature of writes: the error and the payload bytes sent. */
export type WriteSignature = IoSignature;

type Self = ComposedSelf<WriteSignature>;

/**
 * Writes `buffers` as one message part (`fin` ends the message). Per-operation cancellation:
 * `total` while waiting for the write side (a fragmented write keeps its message open, and the
 * next write continues it); `terminal` always.
 */
export function asyncWriteSomeOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  fin: boolean,
  buffers: ConstBufferSequence,
  token: TokenFor<WriteSignature> | undefined,
  onDone?: () => void,
): unknown {
  return asyncComposeOr<WriteSignature, TokenFor<WriteSignature> | undefined>(
    (handler) => fin && writeWhole(impl, buffers, handler, onDone),
    (self) => (onDone !== undefined && self.onComplete(onDone), writeBody(self, impl, fin, buffers)),
    token,
    impl.executor,
  );
}

/**
 * A whole message as one frame, when nothing stands in the way: the write side is free, no
 * message is open, no compression, no fragmentation (for a client: the message fits its write
 * buffer, where it is masked), and the handler has no executor of its own. The operation is then
 * one write to the next layer, with no generator: the hot path of an echo or broadcast server,
 * and of a client's small messages. A terminal request on the handler's slot reaches that write
 * as it would reach the full operation's. Returns false, having changed nothing, when the full operation must run.
 */
function writeWhole<N extends AsyncStream>(impl: StreamImpl<N>, buffers: ConstBufferSequence, handler: Handler<WriteSignature>, onDone?: () => void): boolean {
  if (impl.status !== 'open' || impl.timedOut || impl.wrCont || impl.pmdConfig !== null || (impl.wrOwner !== null)) return false;
  const size = bufferSize(buffers);
  // A server's frame may be any size; a client masks through its write buffer, so one buffer-full.
  if (size > impl.wrBufOpt && (impl.wrFragOpt || impl.role === 'client')) return false;
  if (!isPlainHandler(impl, handler)) return false;
  const work = new HandlerWork(handler, impl.executor);
  impl.lockWrite(work);
  impl.beginMessage(size);
  const key = impl.frameKey();
  const n = encodeFrameHeader(impl.wrHeader, 0, { fin: true, opcode: impl.wrOpcode, length: size, key });
  const header = impl.wrHeader.subarray(0, n);
  let bufs: Uint8Array[];
  if (key === undefined) {
    bufs = buffers instanceof Uint8Array ? [header, buffers] : [header, ...buffers];
  } else {
    // The caller's bytes must not change: masked in the write buffer.
    const payload = impl.wrBuf!.subarray(0, size);
    bufferCopy(payload, buffers, size);
    applyMask(payload, key);
    bufs = [header, payload];
  }
  const relay = TerminalRelay.for(handler);
  writeAll(impl.next, bufs, relay.bind((ec: ErrorCode | null) => {
    const stop = impl.checkStopNow(relay.finish(ec));
    impl.unlockWrite(work);
    impl.wakeAfterWrite();
    onDone?.();
    work.complete(true, stop ?? null, stop === undefined ? size : 0);
  }));
  return true;
}

/** At most this many frames, or this many payload bytes, are gathered into one write. */
const gatherFrames = 64; // StreamImpl.headerScratch holds this many headers
const gatherBytes = 256 * 1024;

/**
 * A server's message part on its way out: frames whose headers sit in the stream's header
 * scratch and whose payloads are views of the caller's buffers, never copies. The views are made
 * as Node Buffers straight over the caller's memory: `socket.write` turns any other Uint8Array
 * into a Buffer first, so one object per piece replaces the three that slicing a suffix and
 * converting it made (a 64 KiB message auto-fragmented into 16 frames is 32 pieces).
 */
class ServerFramer {
  readonly #bufs: readonly Uint8Array[];
  readonly #fin: boolean;
  readonly #frag: boolean;
  #index = 0;
  #offset = 0;
  #opcode: number;
  /** Bytes of the part not yet framed. */
  remain: number;
  /** The caller's bytes the last {@link fill} framed. */
  payload = 0;
  readonly #header: FrameHeaderFields = { fin: false, opcode: 0, length: 0, key: undefined };

  constructor(buffers: ConstBufferSequence, fin: boolean, frag: boolean, opcode: number, remain: number) {
    this.#bufs = bufferSequence(buffers);
    this.#fin = fin;
    this.#frag = frag;
    this.#opcode = opcode;
    this.remain = remain;
  }

  /**
   * Appends to `out` the next frames, header and payload views: one frame without
   * fragmentation, else as many as follow one another while no operation waits for the write
   * side (Beast would hand the write side over between them to nobody), within the gather limits.
   */
  fill<N extends AsyncStream>(impl: StreamImpl<N>, out: Uint8Array[]): void {
    const headers = impl.headerScratch();
    const h = this.#header;
    let at = 0;
    let frames = 0;
    this.payload = 0;
    do {
      const n = this.#frag ? Math.min(this.remain, impl.wrBufSize) : this.remain;
      this.remain -= n;
      h.fin = this.#fin && this.remain === 0;
      h.opcode = this.#opcode;
      h.length = n;
      const size = encodeFrameHeader(headers, at, h);
      out.push(Buffer.from(headers.buffer, headers.byteOffset + at, size));
      at += size;
      this.#views(n, out);
      this.payload += n;
      this.#opcode = Opcode.cont;
    } while (this.remain > 0 && ++frames < gatherFrames && this.payload < gatherBytes && !impl.writeWaiters());
  }

  // Views of the next `n` bytes of the caller's buffers.
  #views(n: number, out: Uint8Array[]): void {
    while (n > 0) {
      const b = this.#bufs[this.#index]!;
      const k = Math.min(n, b.length - this.#offset);
      if (k > 0) out.push(Buffer.from(b.buffer, b.byteOffset + this.#offset, k));
      n -= k;
      this.#offset += k;
      if (this.#offset === b.length) {
        this.#index++;
        this.#offset = 0;
      }
    }
  }
}

/** The largest header of a masked frame. */
const maxHeader = 14;

/**
 * A client's message part on its way into gather buffers: where it stands in the caller's
 * buffers, what is left of it and of the frame in progress (with that frame's key and key
 * offset). A class rather than the generator's locals: V8 optimizes `fill`, whose per-frame work
 * then allocates nothing; inside the generator the same loop allocated 3.5 KB per 64 KiB message.
 */
class ClientFramer<N extends AsyncStream> {
  readonly #impl: StreamImpl<N>;
  readonly #bufs: readonly Uint8Array[];
  readonly #fin: boolean;
  readonly #frag: boolean;
  #index = 0;
  #offset = 0;
  #opcode: number;
  #key = 0;
  #keyOffset = 0;
  /** Bytes of the part not yet framed. */
  remain: number;
  /** Bytes of the frame in progress not yet masked (the write side must be kept meanwhile). */
  frameLeft = 0;
  /** The caller's bytes the last {@link fill} took. */
  payload = 0;
  // Reused for every frame: a literal per frame was allocated (encodeFrameHeader is not inlined).
  readonly #header: FrameHeaderFields = { fin: false, opcode: 0, length: 0, key: 0 };

  constructor(impl: StreamImpl<N>, buffers: ConstBufferSequence, fin: boolean, frag: boolean, opcode: number, remain: number) {
    this.#impl = impl;
    this.#bufs = bufferSequence(buffers);
    this.#fin = fin;
    this.#frag = frag;
    this.#opcode = opcode;
    this.remain = remain;
  }

  /**
   * Frames and masks into `gather` what fits: whole frames while no operation waits for the write
   * side (at most `gatherFrames`), or the continuation of a frame. Returns the bytes used.
   */
  fill(gather: MaskBuffer): number {
    const impl = this.#impl;
    const bytes = gather.bytes;
    let at = 0;
    let frames = 0;
    this.payload = 0;
    do {
      if (this.frameLeft === 0) {
        if (bytes.length - at < maxHeader || frames++ === gatherFrames) break;
        const n = this.#frag ? Math.min(this.remain, impl.wrBufSize) : this.remain;
        this.remain -= n;
        const last = this.#fin && this.remain === 0;
        this.#key = impl.frameKey()!;
        this.#keyOffset = 0;
        const h = this.#header;
        h.fin = last;
        h.opcode = this.#opcode;
        h.length = n;
        h.key = this.#key;
        at += encodeFrameHeader(bytes, at, h);
        this.#opcode = Opcode.cont;
        this.frameLeft = n;
        // The message stays open until its final frame is out (see the server's case).
        impl.wrCont = !last;
      }
      const k = Math.min(this.frameLeft, bytes.length - at);
      this.#copy(bytes, at, k);
      this.#keyOffset = gather.mask(at, at + k, this.#key, this.#keyOffset);
      at += k;
      this.frameLeft -= k;
      this.payload += k;
    } while (at < bytes.length && (this.frameLeft > 0 || (this.remain > 0 && !impl.writeWaiters())));
    return at;
  }

  // Copies the next `n` bytes of the caller's buffers into `dst` at `at`.
  #copy(dst: Uint8Array, at: number, n: number): void {
    while (n > 0) {
      const b = this.#bufs[this.#index]!;
      const k = Math.min(n, b.length - this.#offset);
      if (k > 0) dst.set(k === b.length ? b : b.subarray(this.#offset, this.#offset + k), at);
      at += k;
      n -= k;
      this.#offset += k;
      if (this.#offset === b.length) {
        this.#index++;
        this.#offset = 0;
      }
    }
  }
}

function* writeBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, fin: boolean, buffers: ConstBufferSequence) {
  const next = impl.next;
  if (!impl.wrCont) impl.beginMessage(bufferSize(buffers));
  if (impl.wrCompress) return yield* deflateBody(self, impl, fin, buffers);
  const opcode = impl.wrCont ? Opcode.cont : impl.wrOpcode;
  let remain = bufferSize(buffers);
  const frag = impl.wrFrag && remain > impl.wrBufSize;
  let sent = 0;
  let ec: ErrorCode | undefined;
  // A server's frames are views of the caller's buffers; a client's are copied and masked.
  const serverFramer = impl.role === 'server' ? new ServerFramer(buffers, fin, frag, opcode, remain) : null;
  const framer = impl.role === 'client' ? new ClientFramer(impl, buffers, fin, frag, opcode, remain) : null;

  for (;;) {
    const parked = yield* lockWrite(self, impl, impl.opWr, CancellationType.all);
    if (parked !== null) return self.complete(parked, sent);
    ec = impl.checkStopNow(null);
    if (ec !== undefined) break;

    if (impl.role === 'server') {
      const bufs: Uint8Array[] = [];
      serverFramer!.fill(impl, bufs);
      remain = serverFramer!.remain;
      const payload = serverFramer!.payload;
      // The message stays open until its final frame is out: a write cancelled between fragments
      // leaves the next write continuing it.
      impl.wrCont = !(fin && remain === 0);
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
    impl.unlockWrite(self);
    impl.wakeAfterWrite();
  }
  impl.tryUnlockWrite(self);
  impl.wakeAfterWrite();
  self.complete(ec ?? null, sent);
}


// Compressed writes (Beast's do_deflate): deflate into the write buffer, one frame per buffer-full,
// whatever autoFragment says; RSV1 on the message's first frame only. A part that produces no
// output yet (compression latency) sends nothing. The last frame of the message ends with a sync
// flush whose `00 00 FF FF` tail is removed (RFC 7692 section 7.2.1).
function* deflateBody<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, fin: boolean, buffers: ConstBufferSequence) {
  const rest = new BuffersSuffix(buffers);
  let sent = 0;
  let ec: ErrorCode | undefined;
  for (;;) {
    const parked = yield* lockWrite(self, impl, impl.opWr, CancellationType.all);
    if (parked !== null) return self.complete(parked, sent);
    ec = impl.checkStopNow(null);
    if (ec !== undefined) break;
    let out: { produced: number; consumed: number; more: boolean };
    try {
      out = deflateInto(impl, rest, fin, impl.wrBuf!);
    } catch (err) {
      if (!(err instanceof SystemError)) throw err;
      ec = impl.checkStopNow(err.code);
      break;
    }
    // Input zlib took belongs to this message now, framed or not: the message is open until its
    // final frame, and the next part continues it even if nothing was sent yet.
    sent += out.consumed;
    if (out.consumed > 0) impl.wrCont = true;
    if (out.produced === 0) break; // nothing to send yet (compression latency)
    const payload = impl.wrBuf!.subarray(0, out.produced);
    const key = impl.frameKey();
    if (key !== undefined) applyMask(payload, key);
    const frameFin = fin && !out.more;
    const first = !impl.wrFrameSent;
    const headerSize = encodeFrameHeader(impl.wrHeader, 0, {
      fin: frameFin,
      rsv1: first,
      opcode: first ? impl.wrOpcode : Opcode.cont,
      length: out.produced,
      key,
    });
    impl.wrFrameSent = true;
    impl.wrCont = !frameFin;
    const bufs = [impl.wrHeader.subarray(0, headerSize), payload];
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, bufs, h));
    ec = stopAfterStep(self, impl, we);
    if (ec !== undefined) break;
    if (!out.more) {
      if (fin) impl.contextTakeoverWrite();
      break;
    }
    // A woken operation takes the write side at once; otherwise it is still free for us.
    impl.unlockWrite(self);
    impl.wakeAfterWrite();
  }
  impl.tryUnlockWrite(self);
  impl.wakeAfterWrite();
  self.complete(ec ?? null, sent);
}

// Deflates what fits of `rest` into `buf` (Beast's impl.deflate). `more` is false once the
// message is complete: all input taken and, with `fin`, flushed with the tail removed.
function deflateInto<N extends AsyncStream>(impl: StreamImpl<N>, rest: BuffersSuffix, fin: boolean, buf: Uint8Array) {
  const z = impl.deflater();
  let produced = 0;
  let consumed = 0;
  for (const piece of rest.data()) {
    if (piece.length === 0) continue;
    const r = z.write(piece, buf.subarray(produced));
    produced += r.produced;
    consumed += r.consumed;
    if (r.consumed < piece.length || produced === buf.length) break;
  }
  rest.consume(consumed);
  if (fin && produced < buf.length && bufferSize(rest.data()) === 0) {
    produced += z.flushBlock(buf.subarray(produced)).produced;
    // With room for it, the sync flush adds only the empty stored block (and a byte of bits).
    if (buf.length - produced >= 6) {
      produced += z.flushSync(buf.subarray(produced)).produced;
      return { produced: produced - 4, consumed, more: false };
    }
  }
  return { produced, consumed, more: true };
}
