/**
 * The read side of a WebSocket connection without I/O (the sans-I/O core of Beast's `read_some_op`
 * and of the wait for the peer's close in `close_op`): the read buffer, the frame header decoder,
 * unmasking, UTF-8 validation and inflation. Bytes go in ({@link FrameReader.prepareRead} /
 * {@link FrameReader.commit}); out come events: more bytes are needed, a data frame's payload is
 * due, a control frame arrived whole, or the peer broke a rule (with the error and the close code
 * that answers it). The operations in ops/ do the I/O and decide what each event means to them;
 * nothing here reads, writes, locks or completes anything.
 */

import { isUtf8 } from 'node:buffer';
import { bufferCopy, buffersPrefix, copyBytesAt, type BuffersSuffix } from '../../net/buffer.js';
import { FlatBuffer, type DynamicBuffer } from '../../net/dynamic-buffer.js';
import type { ErrorCode } from '../../net/error.js';
import { inflateInto } from './frame-inflate.js';
import type { ReadTargetSource } from '../../net/stream.js';
import { CloseCode } from './close.js';
import type { DeflateState } from './deflate-state.js';
import { error } from './error.js';
import { FrameHeaderDecoder, isControl, Opcode, peekDataFrameSize, peekWholeMessage, type Role } from './frame.js';
import { applyMask, applyMaskAt, copyMaskedAt } from './mask.js';
import { packFlags } from './bits.js';
import { ReadBuffer } from './read-buffer.js';
import { Utf8Checker } from './utf8.js';

/** Bytes the read buffer holds at most; payloads larger than this are read straight into the caller's buffer. */
export const readBufferBytes = 65536;

/**
 * A frame with at least this much payload still to come is a large one: a read for it gets the
 * whole buffer ({@link FrameReader.prepareRead}). Smaller frames grow the buffer only as far as
 * they need, so that a connection that sees them keeps a small block.
 */
const largeFrameBytes = 16 * 1024;

/**
 * What {@link FrameReader.nextFrame} found: not enough bytes for the next frame (`needMore`), a
 * data frame whose payload is now due (`data`), a whole control frame (`control`), or a
 * violation ({@link FrameReader.violation} and {@link FrameReader.closeCode} say which).
 */
export type ReadEvent = 'needMore' | 'data' | 'control' | 'violation';

const noPayload = new Uint8Array(0);

export class FrameReader implements ReadTargetSource {
  readonly buf = new ReadBuffer(readBufferBytes);
  readonly decoder = new FrameHeaderDecoder({ role: 'client', readMessageMax: 16 * 1024 * 1024 });
  /** Payload bytes of the current data frame not yet taken (Beast's `rd_remain`). */
  remain = 0;
  /** The booleans below, packed (bits.ts); `done` starts set. */
  bits = 2;
  /** The current frame's FIN as the read loop sees it (cleared after a control frame). */
  declare fin: boolean;
  /** The last read consumed the final byte of a message (Beast's `rd_done`). */
  declare done: boolean;
  /** The opcode of the message being read (text or binary). */
  op: number = Opcode.text;
  /** Message bytes delivered so far (inflated bytes for a compressed message). */
  size = 0;
  #masked = false;
  #key = 0;
  /** The key offset of the payload byte at `#unmasked`. */
  #keyOffset = 0;
  /**
   * Payload bytes of the current frame at the front of the buffer that are already unmasked. A
   * payload is unmasked as it is copied out to the caller (`#copyOut`): unmasked in place
   * and then copied, a large payload took three passes through the SIMD path where it now takes
   * two. Only the inflater and a text message's whole-message check read it where it lies, and
   * they unmask it there first ({@link unmaskBuffered}).
   */
  #unmasked = 0;
  /** The control frame just decoded. */
  ctrlOp = 0;
  ctrlPayload: Uint8Array = noPayload;
  /** The last violation and the close code that answers it. */
  violation: ErrorCode | null = null;
  closeCode: number = CloseCode.none;
  /** The payload bytes the last payload step delivered. */
  taken = 0;
  /** The deflate state when permessage-deflate is active for this connection, else null. */
  pmd: DeflateState | null = null;
  #utf8: Utf8Checker | null = null;

  /** Starts over for a new connection (a stream may be reused). */
  reset(role: Role): void {
    this.decoder.role = role;
    this.decoder.messageOpen = false;
    this.buf.clear();
    this.remain = 0;
    this.fin = false;
    this.done = true;
    this.size = 0;
    this.#utf8?.reset();
    this.setDeflate(null);
  }

  /** Activates (or with null, deactivates) inflation of compressed messages. */
  setDeflate(pmd: DeflateState | null): void {
    this.pmd = pmd;
    this.decoder.deflate = pmd !== null;
  }

  /** Whether the message being read is compressed (Beast's `rd_deflated`). */
  deflated(): boolean {
    return this.pmd !== null && this.decoder.messageCompressed;
  }

  /** Whether the reader is at a message boundary with nothing buffered: the next step is to read. */
  waitsForMessage(): boolean {
    return this.done && this.remain === 0 && this.buf.size() === 0;
  }

  /** Whether the next step is a frame header (Beast's condition at `loop`). */
  needsHeader(): boolean {
    return this.remain === 0 && (!this.fin || this.done);
  }

  // ---- frames -----------------------------------------------------------------------------------

  /**
   * Decodes the next frame header from the buffer (Beast's `parse_fh`). A control frame is
   * returned only once its whole payload is buffered, unmasked into {@link ctrlPayload}; for a
   * data frame the payload state is set up (its payload is unmasked as it is taken).
   */
  nextFrame(): ReadEvent {
    const d = this.decoder;
    const bytes = this.buf.block();
    const at = this.buf.readOffset();
    const avail = this.buf.size();
    const n = d.decode(bytes, at, at + avail);
    if (n === 0) return 'needMore';
    if (n < 0) return this.violate(d.error!, d.error === error.messageTooBig ? CloseCode.tooBig : CloseCode.protocolError);
    if (isControl(d.opcode)) {
      // decode() keeps no state for control frames, so decoding one again later is harmless.
      if (avail < n + d.length) return 'needMore';
      const payload = bytes.slice(at + n, at + n + d.length);
      if (d.masked) applyMask(payload, d.key);
      this.buf.consume(n + d.length);
      this.ctrlOp = d.opcode;
      this.ctrlPayload = payload;
      // Cleared, or the control frame's FIN would be taken for the message's end.
      this.fin = false;
      return 'control';
    }
    this.buf.consume(n);
    if (d.opcode !== Opcode.cont) {
      this.op = d.opcode;
      this.size = 0;
      if (this.pmd !== null) this.pmd.startMessage();
      this.#utf8?.reset();
    }
    this.ctrlOp = 0;
    this.remain = d.length;
    this.fin = d.fin;
    this.#masked = d.masked;
    this.#key = d.key;
    this.#keyOffset = 0;
    this.#unmasked = 0;
    return 'data';
  }

  /**
   * Whether the buffer holds a whole message as one unfragmented, uncompressed data frame of at
   * most `room` payload bytes, with no message under way: then {@link nextFrame} and
   * {@link copyPayload} deliver it with no I/O. Looks at the bytes only; changes nothing.
   */
  holdsWholeMessage(room: number): boolean {
    if (!this.done || this.remain !== 0 || this.pmd !== null) return false;
    const length = peekWholeMessage(this.buf.block(), this.buf.readOffset(), this.buf.size());
    return length >= 0 && length <= room;
  }

  /**
   * The payload size of the next data frame, when its header is buffered and nothing of the
   * current frame is left: the first frame of a message at a message boundary (the whole message
   * when it is not fragmented), a continuation frame within one; 0 for anything else (a control
   * frame, a compressed message, a header not all there). Looks at the bytes only; changes
   * nothing. A whole-message read prepares this much rather than Beast's `read_size_hint` (1536
   * bytes at a frame's start, then the rest of the frame): one pass of the read steps a frame
   * instead of two, and no growing of the caller's buffer in between (64 KiB sent as 4 KiB frames
   * took 48 passes; bench/ws-instructions).
   */
  bufferedFrameSize(): number {
    if (this.remain !== 0 || (this.fin && !this.done) || this.pmd !== null) return 0;
    return peekDataFrameSize(this.buf.block(), this.buf.readOffset(), this.buf.size(), this.done);
  }

  // ---- payload ----------------------------------------------------------------------------------

  /**
   * Whether to fill the buffer before taking `want` payload bytes: small payloads go through the
   * buffer (more bytes per read); large ones are read straight into the caller's buffers (no copy).
   */
  wantsFill(want: number): boolean {
    return this.buf.size() === 0 && want < readBufferBytes;
  }

  /**
   * Copies the buffered payload of the current frame to the front of `out`, unmasked, validates
   * it and consumes it from `out`. Returns false on a violation; {@link taken} holds the bytes
   * delivered.
   */
  copyPayload(out: BuffersSuffix): boolean {
    const n = Math.min(this.remain, this.buf.size());
    let done = 0;
    for (const piece of out.data()) {
      if (done === n) break;
      const k = Math.min(piece.length, n - done);
      this.#copyOut(piece, done, k);
      done += k;
    }
    this.consumePayload(done);
    return this.#accept(out, done, false);
  }

  /**
   * Copies `count` buffered payload bytes, from the `from`th on, to the front of `dst`, unmasking
   * those not unmasked yet on the way (pieces are taken in order: `from` is at most
   * `#unmasked`). The caller consumes them.
   */
  #copyOut(dst: Uint8Array, from: number, count: number): void {
    const bytes = this.buf.block();
    const at = this.buf.readOffset() + from;
    const clear = this.#masked ? Math.min(count, this.#unmasked - from) : count;
    if (clear > 0) copyBytesAt(dst, bytes, at, at + clear);
    if (clear < count) {
      this.#keyOffset = copyMaskedAt(clear === 0 ? dst : dst.subarray(clear), bytes, at + clear, at + count, this.#key, this.#keyOffset);
      this.#unmasked = from + count;
    }
  }

  /** Where the payload due is read straight into: the front of `out`, no more than the frame's rest. */
  directTarget(out: BuffersSuffix): Uint8Array | readonly Uint8Array[] {
    return buffersPrefix(this.remain, out.data());
  }

  /** `n` payload bytes were read straight into the front of `out`: unmasks, validates, consumes (as {@link copyPayload}). */
  acceptDirect(out: BuffersSuffix, n: number): boolean {
    this.remain -= n;
    return this.#accept(out, n, true);
  }

  /**
   * A data frame with no payload to take (or no room to take it in): an empty final frame still
   * ends the message, and a code point must not be left open. Returns false on a violation.
   */
  checkEmptyEnd(): boolean {
    this.taken = 0;
    return !(this.remain === 0 && this.op === Opcode.text && this.fin && !this.utf8().finish()) || this.badPayload();
  }

  /** After a payload step: the message is done when its final frame has nothing left. */
  frameTaken(): void {
    if (this.remain === 0 && this.fin) this.done = true;
  }

  /**
   * The shortcut's step, after {@link nextFrame} decoded the frame {@link holdsWholeMessage}
   * found: takes the whole payload into `buffer` if it is valid (text: UTF-8, checked whole).
   * Returns the bytes, or -1, having taken nothing, when it is not valid.
   */
  takeWhole(buffer: DynamicBuffer): number {
    const n = this.remain;
    const at = this.buf.readOffset();
    const block = this.buf.block();
    // Text needs a view for its UTF-8 check, unmasked where it lies, and the copy takes that one.
    let text: Uint8Array | null = null;
    if (this.op === Opcode.text) {
      this.unmaskBuffered();
      text = block.subarray(at, at + n);
      if (!isUtf8(text)) return -1;
    }
    // Into a FlatBuffer (an echo's, a front door's) without the list and, for a small binary
    // message, without a view of the payload: two objects a message fewer (bench/ws-instructions).
    const into = buffer instanceof FlatBuffer ? buffer.prepareView(n) : buffer.prepare(n);
    if (text === null && into instanceof Uint8Array) this.#copyOut(into, 0, n);
    else {
      this.unmaskBuffered();
      bufferCopy(into, text ?? block.subarray(at, at + n), n);
    }
    buffer.commit(n);
    this.consumePayload(n);
    this.size = n;
    this.done = true;
    return n;
  }

  /** Drops the rest of the current frame's payload that is buffered (a close waits for the peer's). */
  discardPayload(): void {
    this.consumePayload(Math.min(this.remain, this.buf.size()));
  }

  /**
   * Unmasks where they lie the payload bytes of the current frame that arrived in the buffer, for
   * a reader of them there (the inflater; a text message's UTF-8 check).
   */
  unmaskBuffered(): void {
    const n = Math.min(this.remain, this.buf.size());
    if (!this.#masked || n <= this.#unmasked) {
      this.#unmasked = Math.max(this.#unmasked, n);
      return;
    }
    const at = this.buf.readOffset();
    this.#keyOffset = applyMaskAt(this.buf.block(), at + this.#unmasked, at + n, this.#key, this.#keyOffset);
    this.#unmasked = n;
  }

  /** Drops `n` payload bytes from the front of the buffer. */
  consumePayload(n: number): void {
    this.buf.consume(n);
    this.remain -= n;
    if (n <= this.#unmasked) {
      this.#unmasked -= n;
    } else {
      // Masked bytes dropped unread (a close discarding the rest of a frame): the key moves past them all the same.
      this.#keyOffset = (this.#keyOffset + n - this.#unmasked) & 3;
      this.#unmasked = 0;
    }
  }

  // Validates and counts `n` payload bytes just placed at the front of `out`, then consumes them
  // from `out`; unmasked here when they came straight from the next layer.
  #accept(out: BuffersSuffix, n: number, unmask: boolean): boolean {
    const written = buffersPrefix(n, out.data());
    const pieces = written instanceof Uint8Array ? [written] : written;
    const text = this.op === Opcode.text;
    for (const piece of pieces) {
      if (unmask && this.#masked) this.#keyOffset = applyMask(piece, this.#key, this.#keyOffset);
      if (text && !this.utf8().write(piece)) return this.badPayload();
    }
    if (text && this.remain === 0 && this.fin && !this.utf8().finish()) return this.badPayload();
    this.size += n;
    this.taken = n;
    out.consume(n);
    return true;
  }

  // ---- compressed messages (RFC 7692) -------------------------------------------------------------

  /**
   * Inflates the buffered compressed payload into `out` (frame-inflate.ts). Returns false on a
   * violation; {@link taken} holds the bytes produced either way.
   */
  inflate(out: BuffersSuffix): boolean {
    return inflateInto(this, out);
  }

  // ---- the buffer ---------------------------------------------------------------------------------

  /**
   * Where the next read from the next layer lands (Beast's `read_size`): the buffer's free
   * capacity, at least 4 KiB (and what the current frame still needs; for a frame with 16 KiB
   * or more to come, the whole buffer), growing by doubling while reads
   * within a fragmented message fill it, up to its 64 KiB limit. An idle connection so holds
   * 4 KiB, not 64.
   */
  prepareRead(): Uint8Array {
    const b = this.buf;
    const size = b.size();
    const free = b.maxSize() - size;
    const room = b.capacity() - size;
    // Waiting for the next frame with nothing buffered, and the last read did not fill its room:
    // the block already there will do, however small (after a handshake, the 512 bytes the
    // request was read into). The buffer grows as below once a frame is under way or a read
    // comes back full.
    if (size === 0 && this.remain === 0 && room > 0 && !b.filled) return b.prepareView(Math.min(free, room));
    // Within a fragmented message, a read that filled its room left more fragments waiting: twice
    // the block next time (up to the limit), so that a large message sent as 4 KiB fragments
    // (Beast's auto-fragment default) takes a few reads rather than one per fragment. Like a block
    // grown for a large frame, it is kept (ReadBuffer.releaseBlock); whole messages of up to 4 KiB
    // never grow it.
    // A large frame under way gets the whole buffer, not just the rest of the frame: as Beast reads
    // as much as its buffer holds. Sized to the frame's end, the read left the next frame's first
    // bytes (what the peer sent after it) to the layer below, which kept them in a copy of their
    // own and, on a Node socket, stopped reading until the next read (bench/native, 64 KiB
    // echoes, 64 connections with 16 in flight: 84 µs of server CPU per message against 47).
    const frame = this.remain >= largeFrameBytes ? readBufferBytes : this.remain;
    const need = Math.max(4096, size, frame, b.filled && !this.fin && !this.done ? 2 * b.capacity() : 0);
    return b.prepareView(Math.min(free, room >= need ? room : need));
  }

  /**
   * Whether the next read may wait without a block: nothing is buffered and no payload is due,
   * and the buffer let go of its block ({@link ReadBuffer.releaseBlock}).
   */
  releaseForLazyRead(): boolean {
    return this.remain === 0 && this.buf.releaseBlock();
  }

  /** Where the bytes of a read started without a block go (a lazy read of the next layer). */
  readTarget(): Uint8Array {
    return this.prepareRead();
  }

  /** `n` bytes arrived in the area {@link prepareRead} gave (their payload is unmasked as it is taken). */
  commit(n: number): void {
    this.buf.commit(n);
  }

  /** The size to offer a dynamic buffer for the next read (Beast's `read_size_hint`). */
  readSizeHint(initial: number): number {
    let result: number;
    // A compressed message inflates to an unknown size: offer at least the initial size.
    if (this.pmd !== null && (this.done || this.decoder.messageCompressed)) result = Math.max(initial, this.remain);
    else if (this.done) result = initial;
    else if (this.fin) result = Math.max(1, this.remain);
    else result = Math.max(initial, this.remain);
    const max = this.decoder.readMessageMax;
    return max > 0 ? Math.max(1, Math.min(result, max)) : result;
  }

  // ---- violations -------------------------------------------------------------------------------

  /** Records a violation and the close code that answers it. */
  violate(ec: ErrorCode, code: number): 'violation' {
    this.violation = ec;
    this.closeCode = code;
    return 'violation';
  }

  /** Records invalid payload (1007). */
  badPayload(): false {
    this.violate(error.badFramePayload, CloseCode.badPayload);
    return false;
  }

  /** The UTF-8 state of the text message being read, made by the first one (idle: none). */
  utf8(): Utf8Checker {
    return (this.#utf8 ??= new Utf8Checker());
  }
}

packFlags(FrameReader.prototype, ['fin', 'done']);
