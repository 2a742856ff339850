/**
 * The write side's frame building, without I/O (the framing half of Beast's `write_some_op` and
 * the control frames of ping, pong and close): the write options, the state of the message being
 * written, and the framers that lay a message part out as frames (a server's as views of the
 * caller's buffers, a client's masked into gather buffers), and deflation into frames.
 */

import { Buffer } from 'node:buffer';
import { bufferCopy, bufferSequence, bufferSize, type BuffersSuffix, type ConstBufferSequence } from '../../net/buffer.js';
import { encodeClosePayload, type CloseReason } from './close.js';
import { encodeFrameHeader, Opcode, type FrameHeaderFields, type Role } from './frame.js';
import { applyMask, applyMaskAt, maskKeys } from './mask.js';
import type { MaskBuffer } from './mask-buffers.js';
import type { Deflater } from './zlib-codec.js';

export class FrameWriter {
  role: Role = 'client';
  /** The opcode of new messages (Beast's `wr_opcode`): text or binary. */
  opcode: number = Opcode.text;
  /** The write buffer size option (Beast's `wr_buf_opt`). */
  bufOpt = 4096;
  /** The write buffer size of the message being written (Beast's `wr_buf_size`). */
  bufSize = 0;
  /** Where a client masks, and compression deflates: the caller's payload is never modified. */
  buf: Uint8Array | null = null;
  /** The next frame written continues a message (Beast's `wr_cont`). */
  cont = false;
  /** The message being written is fragmented (auto_fragment, as set when it began). */
  frag = false;
  /** The auto_fragment option (Beast's `wr_frag_opt`). */
  fragOpt = true;
  /** The message being written is compressed (Beast's `wr_compress`). */
  compress = false;
  /** The compress option (Beast's `wr_compress_opt`). */
  compressOpt = true;
  /** A frame of the current message went out: later frames are continuations without RSV1. */
  frameSent = false;
  #header: Uint8Array | null = null;
  #headers: Uint8Array | null = null;
  #headerView: Uint8Array | null = null;
  #payload: Uint8Array | null = null;

  /** Starts over for a new connection. */
  reset(role: Role): void {
    this.role = role;
    this.cont = false;
  }

  /**
   * The header of the frame being written; reused, because one write at a time holds the write
   * side. Made by the first write: a connection that never writes a frame holds none.
   */
  header(): Uint8Array {
    return (this.#header ??= new Uint8Array(14));
  }

  /**
   * The first `n` bytes of {@link header}, as a view kept while headers keep that length: a view
   * per write was an object per message (bench/ws-instructions).
   */
  headerView(n: number): Uint8Array {
    const v = this.#headerView;
    if (v !== null && v.length === n) return v;
    return (this.#headerView = this.header().subarray(0, n));
  }

  // The first `size` bytes of the write buffer, kept while messages keep that size (as headerView);
  // dropped with the write buffer.
  #payloadView(size: number): Uint8Array {
    const v = this.#payload;
    if (v !== null && v.length === size) return v;
    return (this.#payload = this.buf!.subarray(0, size));
  }

  /**
   * Room for the headers of the frames one write gathers (10 bytes each at most, unmasked),
   * made on the first fragmented write: an idle connection holds none.
   */
  headerScratch(): Uint8Array {
    return (this.#headers ??= new Uint8Array(gatherFrames * 10));
  }

  /** Starts a new outgoing message in its first write (Beast's `begin_msg`); `deflate`: compression is active and allowed for its size. */
  beginMessage(deflate: boolean): void {
    this.compress = deflate && this.compressOpt;
    this.frag = this.fragOpt;
    this.bufSize = this.bufOpt;
    this.frameSent = false;
    if ((this.role === 'client' || this.compress) && (this.buf === null || this.buf.length !== this.bufSize)) {
      this.buf = new Uint8Array(this.bufSize);
      this.#payload = null;
    }
  }

  /** A new masking key for a client frame; `undefined` for a server. */
  frameKey(): number | undefined {
    return this.role === 'client' ? maskKeys.next() : undefined;
  }

  /** Serializes a whole control frame (ping, pong or close), masked when this is a client. */
  controlFrame(opcode: number, payload: Uint8Array): Uint8Array {
    const key = this.frameKey();
    const out = new Uint8Array(14 + payload.length);
    const n = encodeFrameHeader(out, 0, { fin: true, opcode, length: payload.length, key });
    out.set(payload, n);
    if (key !== undefined) applyMaskAt(out, n, n + payload.length, key);
    return out.subarray(0, n + payload.length);
  }

  /** A close frame for `reason`. */
  closeFrame(reason: CloseReason): Uint8Array {
    return this.controlFrame(Opcode.close, encodeClosePayload(reason));
  }

  /**
   * A whole message of `size` bytes as one frame in `header` plus payload: views of `buffers` for
   * a server, a masked copy in the write buffer for a client (which must fit it). Returns the
   * buffers to write.
   */
  wholeFrame(buffers: ConstBufferSequence, size: number): Uint8Array[] {
    const key = this.frameKey();
    const header = this.header();
    const n = encodeFrameHeader(header, 0, { fin: true, opcode: this.opcode, length: size, key });
    if (key === undefined) return buffers instanceof Uint8Array ? [this.headerView(n), buffers] : [this.headerView(n), ...buffers];
    const payload = this.#payloadView(size);
    bufferCopy(payload, buffers, size);
    applyMask(payload, key);
    return [this.headerView(n), payload];
  }
}

/** At most this many frames, or this many payload bytes, are gathered into one write. */
const gatherFrames = 64; // FrameWriter.headerScratch holds this many headers
const gatherBytes = 256 * 1024;

/**
 * What both framers share: the message part in the caller's buffers and how far framing has come
 * through it, and each frame's length, FIN bit and opcode (Beast's `write_some_op`: frames of the
 * write buffer size with auto-fragmentation, else the whole part in one frame).
 */
abstract class PartFramer {
  protected readonly bufs: readonly Uint8Array[];
  readonly #fin: boolean;
  readonly #frag: boolean;
  /** Where framing stands: the buffer of {@link bufs}, and the byte in it. */
  protected index = 0;
  protected offset = 0;
  #opcode: number;
  /** Bytes of the part not yet framed. */
  remain: number;
  /** The caller's bytes the last `fill` took. */
  payload = 0;

  constructor(buffers: ConstBufferSequence, fin: boolean, frag: boolean, opcode: number, remain: number) {
    this.bufs = bufferSequence(buffers);
    this.#fin = fin;
    this.#frag = frag;
    this.#opcode = opcode;
    this.remain = remain;
  }

  /** Sets `h` for the next frame, and returns its payload length. */
  protected nextFrame(h: FrameHeaderFields, bufSize: number): number {
    const n = this.#frag ? Math.min(this.remain, bufSize) : this.remain;
    this.remain -= n;
    h.fin = this.#fin && this.remain === 0;
    h.opcode = this.#opcode;
    h.length = n;
    this.#opcode = Opcode.cont;
    return n;
  }

  /** Moves `k` bytes on in `b`, the current buffer, and past it at its end. */
  protected advance(k: number, b: Uint8Array): void {
    this.offset += k;
    if (this.offset === b.length) {
      this.index++;
      this.offset = 0;
    }
  }
}

/**
 * A server's message part on its way out: frames whose headers sit in the stream's header
 * scratch and whose payloads are views of the caller's buffers, never copies. The views are made
 * as Node Buffers straight over the caller's memory: `socket.write` turns any other Uint8Array
 * into a Buffer first, so one object per piece replaces the three that slicing a suffix and
 * converting it made (a 64 KiB message auto-fragmented into 16 frames is 32 pieces).
 */
export class ServerFramer extends PartFramer {
  readonly #header: FrameHeaderFields = { fin: false, opcode: 0, length: 0, key: undefined };

  /**
   * Appends to `out` the next frames, header and payload views: one frame without
   * fragmentation, else as many as follow one another while no operation waits for the write
   * side (Beast would hand the write side over between them to nobody), within the gather limits.
   */
  fill(w: FrameWriter, waiters: () => boolean, out: Uint8Array[]): void {
    const headers = w.headerScratch();
    const h = this.#header;
    let at = 0;
    let frames = 0;
    this.payload = 0;
    do {
      const n = this.nextFrame(h, w.bufSize);
      const size = encodeFrameHeader(headers, at, h);
      out.push(Buffer.from(headers.buffer, headers.byteOffset + at, size));
      at += size;
      this.#views(n, out);
      this.payload += n;
    } while (this.remain > 0 && ++frames < gatherFrames && this.payload < gatherBytes && !waiters());
  }

  // Views of the next `n` bytes of the caller's buffers.
  #views(n: number, out: Uint8Array[]): void {
    while (n > 0) {
      const b = this.bufs[this.index]!;
      const k = Math.min(n, b.length - this.offset);
      if (k > 0) out.push(Buffer.from(b.buffer, b.byteOffset + this.offset, k));
      n -= k;
      this.advance(k, b);
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
export class ClientFramer extends PartFramer {
  readonly #w: FrameWriter;
  readonly #waiters: () => boolean;
  #key = 0;
  #keyOffset = 0;
  /** Bytes of the frame in progress not yet masked (the write side must be kept meanwhile). */
  frameLeft = 0;
  // Reused for every frame: a literal per frame was allocated (encodeFrameHeader is not inlined).
  readonly #header: FrameHeaderFields = { fin: false, opcode: 0, length: 0, key: 0 };

  constructor(w: FrameWriter, waiters: () => boolean, buffers: ConstBufferSequence, fin: boolean, frag: boolean, opcode: number, remain: number) {
    super(buffers, fin, frag, opcode, remain);
    this.#w = w;
    this.#waiters = waiters;
  }

  /**
   * Frames and masks into `gather` what fits: whole frames while no operation waits for the write
   * side (at most `gatherFrames`), or the continuation of a frame. Returns the bytes used.
   */
  fill(gather: MaskBuffer): number {
    const w = this.#w;
    const bytes = gather.bytes;
    let at = 0;
    let frames = 0;
    this.payload = 0;
    do {
      if (this.frameLeft === 0) {
        if (bytes.length - at < maxHeader || frames++ === gatherFrames) break;
        const h = this.#header;
        this.frameLeft = this.nextFrame(h, w.bufSize);
        this.#key = maskKeys.next();
        this.#keyOffset = 0;
        h.key = this.#key;
        at += encodeFrameHeader(bytes, at, h);
        // The message stays open until its final frame is out (see the server's case).
        w.cont = !h.fin;
      }
      const k = Math.min(this.frameLeft, bytes.length - at);
      this.#copy(bytes, at, k);
      this.#keyOffset = gather.mask(at, at + k, this.#key, this.#keyOffset);
      at += k;
      this.frameLeft -= k;
      this.payload += k;
    } while (at < bytes.length && (this.frameLeft > 0 || (this.remain > 0 && !this.#waiters())));
    return at;
  }

  // Copies the next `n` bytes of the caller's buffers into `dst` at `at`.
  #copy(dst: Uint8Array, at: number, n: number): void {
    while (n > 0) {
      const b = this.bufs[this.index]!;
      const k = Math.min(n, b.length - this.offset);
      if (k > 0) dst.set(k === b.length ? b : b.subarray(this.offset, this.offset + k), at);
      at += k;
      n -= k;
      this.advance(k, b);
    }
  }
}

/** Deflates what fits of `rest` into `buf` (Beast's impl.deflate). `more` is false once the
message is complete: all input taken and, with `fin`, flushed with the tail removed. */
export function deflateInto(z: Deflater, rest: BuffersSuffix, fin: boolean, buf: Uint8Array): { produced: number; consumed: number; more: boolean } {
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
