/**
 * The state of a WebSocket stream shared by its composed operations (Beast's `stream::impl_type`):
 * read and write state, the soft mutexes and parked operations, the timer, and the few helpers
 * every operation calls (check_stop_now, update_timer, frame building). Operations live in ops/.
 */

import type { Handler } from '../../net/associators.js';
import type { FlatBuffer } from '../../net/dynamic-buffer.js';
import { error as netError, type ErrorCode } from '../../net/error.js';
import type { Executor } from '../../net/executor.js';
import type { AsyncStream, IoSignature, LazyReadStream, ReadTargetSource } from '../../net/stream.js';
import { SteadyTimer } from '../../net/timer.js';
import { error as beastError } from '../core/error.js';
import { closeReason, encodeClosePayload, type CloseReason } from './close.js';
import { encodeFrameHeader, FrameHeaderDecoder, isControl, Opcode, type Role } from './frame.js';
import { PermessageDeflate, type PermessageDeflateStatus, type PmdConfig } from './deflate.js';
import { applyMask, maskKeys } from './mask.js';
import { Deflater, Inflater } from './zlib-codec.js';
import { none, Timeout, type ControlCallback } from './options.js';
import { DeflateState, ParkedOps, TimeoutState } from './lazy-state.js';
import { ReadBuffer } from './read-buffer.js';
import type { SavedHandler } from './saved-handler.js';
import { Utf8Checker } from './utf8.js';
import { withBit } from './bits.js';

/** The life of a stream: handshake, open, closing (a close frame was sent), then closed or failed. */
export type Status = 'handshake' | 'open' | 'closing' | 'closed' | 'failed';

/** What the decoder of the next frame header found. */
export type ParseResult = 'frame' | 'needMore' | ErrorCode;

/** Bytes the read buffer holds at most; payloads larger than this are read straight into the caller's buffer. */
export const readBufferBytes = 65536;

/** Beast's tcp_frame_size: the first read of a message is offered this much (read_size_hint). */
export const tcpFrameSize = 1536;

// Shared by every stream until it sets its own: none of these is ever modified in place (the
// options are frozen, a control payload is replaced, never written), and an idle connection
// should not carry copies (bench/idle-memory).
const noPayload = new Uint8Array(0);
const noReason = closeReason(0);
const defaultTimeout = new Timeout();
const defaultPmd = new PermessageDeflate();

// The stream's yes/no state, as bits of one field (see StreamImpl's flag accessors): as fields,
// thirteen booleans cost every connection 104 bytes (bench/idle-memory).
const RD_FIN = 1 << 0;
const RD_MASKED = 1 << 1;
const RD_DONE = 1 << 2;
const RD_CLOSE = 1 << 3;
const WR_CLOSE = 1 << 4;
const WR_CONT = 1 << 5;
const WR_FRAG = 1 << 6;
const WR_FRAG_OPT = 1 << 7;
const WR_COMPRESS = 1 << 8;
const WR_COMPRESS_OPT = 1 << 9;
const WR_FRAME_SENT = 1 << 10;
const EC_DELIVERED = 1 << 11;
const TIMED_OUT = 1 << 12;

/** What starts an idle ping when the keep-alive timer asks for one (set once by stream.ts: ops/ping imports this module). */
let idlePingStarter: (<N extends AsyncStream>(impl: StreamImpl<N>) => void) | null = null;

/** @internal Sets what {@link StreamImpl.startIdlePing} starts. */
export function setIdlePingStarter(start: <N extends AsyncStream>(impl: StreamImpl<N>) => void): void {
  idlePingStarter = start;
}

/** What a next layer may offer beyond reading and writing, for closing and teardown. */
export interface NextLayerHooks {
  close?(): void;
}

export class StreamImpl<NextLayer extends AsyncStream> implements ReadTargetSource {
  readonly executor: Executor;
  role: Role = 'client';
  status: Status = 'closed';

  // Read side. The decoder holds the framing state; rdFin is the current frame's FIN as the read
  // loop sees it (cleared after a control frame so that it is not taken for the message's end).
  readonly rdBuf: FlatBuffer = new ReadBuffer(readBufferBytes);
  readonly decoder = new FrameHeaderDecoder({ role: 'client', readMessageMax: 16 * 1024 * 1024 });
  #rdUtf8: Utf8Checker | null = null;
  /** The UTF-8 state of the text message being read, made by the first one (idle: none). */
  get rdUtf8(): Utf8Checker {
    return (this.#rdUtf8 ??= new Utf8Checker());
  }
  /**
   * The operation holding the read side (Beast's `rd_block` soft mutex), or null. A field rather
   * than an object of its own: one per connection less (bench/idle-memory). See the lock methods.
   */
  rdOwner: object | null = null;
  rdRemain = 0;
  rdOp: number = Opcode.text;
  rdKey = 0;
  rdKeyOffset = 0;
  /** Payload bytes of the current frame at the front of the read buffer that are already unmasked. */
  rdUnmasked = 0;
  rdSize = 0;
  /** The control frame just decoded (opcode and payload), for the read and close operations. */
  ctrlOp = 0;
  ctrlPayload: Uint8Array = noPayload;

  // Write side.
  /** The operation holding the write side (Beast's `wr_block`), or null. */
  wrOwner: object | null = null;
  wrOpcode: number = Opcode.text;
  wrBufOpt = 4096;
  wrBufSize = 0;
  wrBuf: Uint8Array | null = null;

  // permessage-deflate: what this connection negotiated (null: not active), and the rest of its
  // state, made when the option is set or the extension negotiated.
  pmdConfig: PmdConfig | null = null;
  #pmd: DeflateState | null = null;
  /** The permessage-deflate options (shared defaults until set). */
  get pmdOpts(): PermessageDeflate {
    return this.#pmd?.opts ?? defaultPmd;
  }
  set pmdOpts(opts: PermessageDeflate) {
    if (this.#pmd === null) this.#pmd = new DeflateState(opts);
    else this.#pmd.opts = opts;
  }
  /** The deflate state; exists while {@link pmdConfig} is set. */
  get pmd(): DeflateState {
    return (this.#pmd ??= new DeflateState(defaultPmd));
  }
  #wrHeader: Uint8Array | null = null;
  /**
   * The header of the frame being written; reused, because one write at a time holds the write side.
   * Made by the first write: a connection that never writes a frame holds none.
   */
  get wrHeader(): Uint8Array {
    return (this.#wrHeader ??= new Uint8Array(14));
  }

  // Operations parked behind a soft mutex, made the first time one parks (or asks for a slot):
  // a connection that never waits holds none.
  #parked: ParkedOps | null = null;

  cr: CloseReason = noReason;
  ctrlCb: ControlCallback | null = null;
  /** The timeout options and the timer, made when a Timeout option is set (default: no timeouts). */
  #timeouts: TimeoutState | null = null;

  // ---- flags: booleans kept as bits of #flags ---------------------------------------------------

  #flags = RD_DONE | WR_FRAG_OPT | WR_COMPRESS_OPT;

  /** The current frame's FIN as the read loop sees it (cleared after a control frame). */
  get rdFin(): boolean {
    return (this.#flags & RD_FIN) !== 0;
  }
  set rdFin(on: boolean) {
    this.#flags = withBit(this.#flags, RD_FIN, on);
  }

  /** The current frame is masked. */
  get rdMasked(): boolean {
    return (this.#flags & RD_MASKED) !== 0;
  }
  set rdMasked(on: boolean) {
    this.#flags = withBit(this.#flags, RD_MASKED, on);
  }

  /** The last read consumed the final byte of a message. */
  get rdDone(): boolean {
    return (this.#flags & RD_DONE) !== 0;
  }
  set rdDone(on: boolean) {
    this.#flags = withBit(this.#flags, RD_DONE, on);
  }

  /** The peer's close frame was received. */
  get rdClose(): boolean {
    return (this.#flags & RD_CLOSE) !== 0;
  }
  set rdClose(on: boolean) {
    this.#flags = withBit(this.#flags, RD_CLOSE, on);
  }

  /** Our close frame was sent. */
  get wrClose(): boolean {
    return (this.#flags & WR_CLOSE) !== 0;
  }
  set wrClose(on: boolean) {
    this.#flags = withBit(this.#flags, WR_CLOSE, on);
  }

  /** The next frame written continues a message. */
  get wrCont(): boolean {
    return (this.#flags & WR_CONT) !== 0;
  }
  set wrCont(on: boolean) {
    this.#flags = withBit(this.#flags, WR_CONT, on);
  }

  /** The message being written is fragmented (auto_fragment, as set when it began). */
  get wrFrag(): boolean {
    return (this.#flags & WR_FRAG) !== 0;
  }
  set wrFrag(on: boolean) {
    this.#flags = withBit(this.#flags, WR_FRAG, on);
  }

  /** The auto_fragment option. */
  get wrFragOpt(): boolean {
    return (this.#flags & WR_FRAG_OPT) !== 0;
  }
  set wrFragOpt(on: boolean) {
    this.#flags = withBit(this.#flags, WR_FRAG_OPT, on);
  }

  /** The message being written is compressed. */
  get wrCompress(): boolean {
    return (this.#flags & WR_COMPRESS) !== 0;
  }
  set wrCompress(on: boolean) {
    this.#flags = withBit(this.#flags, WR_COMPRESS, on);
  }

  /** The compress option. */
  get wrCompressOpt(): boolean {
    return (this.#flags & WR_COMPRESS_OPT) !== 0;
  }
  set wrCompressOpt(on: boolean) {
    this.#flags = withBit(this.#flags, WR_COMPRESS_OPT, on);
  }

  /** A frame of the current message went out: later frames are continuations without RSV1. */
  get wrFrameSent(): boolean {
    return (this.#flags & WR_FRAME_SENT) !== 0;
  }
  set wrFrameSent(on: boolean) {
    this.#flags = withBit(this.#flags, WR_FRAME_SENT, on);
  }

  /** The first error was delivered: later operations get operationAborted. */
  get ecDelivered(): boolean {
    return (this.#flags & EC_DELIVERED) !== 0;
  }
  set ecDelivered(on: boolean) {
    this.#flags = withBit(this.#flags, EC_DELIVERED, on);
  }

  /** The timer expired: the next operation to look gets the timeout. */
  get timedOut(): boolean {
    return (this.#flags & TIMED_OUT) !== 0;
  }
  set timedOut(on: boolean) {
    this.#flags = withBit(this.#flags, TIMED_OUT, on);
  }

  constructor(readonly next: NextLayer & NextLayerHooks) {
    this.executor = next.getExecutor();
  }

  get #ops(): ParkedOps {
    return (this.#parked ??= new ParkedOps(this.executor));
  }

  /** Where a read waits for the write side (to answer a control frame). */
  get opRd(): SavedHandler {
    return this.#ops.rd;
  }

  /** Where a write waits for the write side. */
  get opWr(): SavedHandler {
    return this.#ops.wr;
  }

  /** Where a ping or pong waits for the write side. */
  get opPing(): SavedHandler {
    return this.#ops.ping;
  }

  /** Where the idle ping waits for the write side. */
  get opIdlePing(): SavedHandler {
    return this.#ops.idlePing;
  }

  /** Where a close waits for the write side. */
  get opClose(): SavedHandler {
    return this.#ops.close;
  }

  /** Where a read waits for the read side (held by a close). */
  get opRRd(): SavedHandler {
    return this.#ops.rRd;
  }

  /** Where a close waits for the read side (held by a read). */
  get opRClose(): SavedHandler {
    return this.#ops.rClose;
  }

  // ---- soft mutexes (Beast's rd_block and wr_block) ------------------------------------------
  // Never blocking: an operation that cannot take a side parks in one of the slots above and is
  // handed the lock when the owner releases it.

  /** Takes the read side for `op` if it is free. */
  tryLockRead(op: object): boolean {
    if (this.rdOwner !== null) return false;
    this.rdOwner = op;
    return true;
  }

  /** Takes the read side, which must be free (a woken operation taking the lock handed to it). */
  lockRead(op: object): void {
    if (this.rdOwner !== null) throw new Error('read side: already locked');
    this.rdOwner = op;
  }

  /** Releases the read side, which `op` must own. */
  unlockRead(op: object): void {
    if (this.rdOwner !== op) throw new Error('read side: not the owner');
    this.rdOwner = null;
  }

  /** Releases the read side if `op` owns it; returns whether it did. */
  tryUnlockRead(op: object): boolean {
    if (this.rdOwner !== op) return false;
    this.rdOwner = null;
    return true;
  }

  /** Takes the write side for `op` if it is free. */
  tryLockWrite(op: object): boolean {
    if (this.wrOwner !== null) return false;
    this.wrOwner = op;
    return true;
  }

  /** Takes the write side, which must be free. */
  lockWrite(op: object): void {
    if (this.wrOwner !== null) throw new Error('write side: already locked');
    this.wrOwner = op;
  }

  /** Releases the write side, which `op` must own. */
  unlockWrite(op: object): void {
    if (this.wrOwner !== op) throw new Error('write side: not the owner');
    this.wrOwner = null;
  }

  /** Releases the write side if `op` owns it; returns whether it did. */
  tryUnlockWrite(op: object): boolean {
    if (this.wrOwner !== op) return false;
    this.wrOwner = null;
    return true;
  }

  /** The timeout options (shared defaults until set). */
  get timeoutOpt(): Timeout {
    return this.#timeouts?.opts ?? defaultTimeout;
  }
  set timeoutOpt(opts: Timeout) {
    if (this.#timeouts === null) this.#timeouts = new TimeoutState(opts);
    else this.#timeouts.opts = opts;
  }

  /** The keep-alive ping is on its way (only the timer starts one, so the timeout state exists). */
  get idlePinging(): boolean {
    return this.#timeouts?.idlePinging ?? false;
  }
  set idlePinging(on: boolean) {
    this.#timeouts!.idlePinging = on;
  }

  /** Resets the per-connection state when a handshake or accept begins (a stream may be reused). */
  reset(role: Role): void {
    this.role = role;
    this.decoder.role = role;
    this.decoder.messageOpen = false;
    this.status = 'handshake';
    this.rdBuf.clear();
    this.rdRemain = 0;
    this.rdFin = false;
    this.rdDone = true;
    this.rdClose = false;
    this.rdSize = 0;
    this.#rdUtf8?.reset();
    this.wrClose = false;
    this.wrCont = false;
    this.setPmd(null);
    this.cr = noReason;
    this.ecDelivered = false;
    this.timedOut = false;
    if (this.#timeouts !== null) this.#timeouts.idleCounter = 0;
  }

  /** The stream completed its handshake. */
  open(): void {
    this.status = 'open';
    this.updateTimer();
  }

  /**
   * Decides whether an operation stops here and with which error (Beast's `check_stop_now`),
   * called at the start of every operation and after every intermediate completion. A timeout
   * is delivered to one operation only; after the stream closed or failed every operation gets
   * `operationAborted`; the first real error is delivered as it is and fails the stream.
   * Returns the error to complete with, or `undefined` to continue.
   */
  checkStopNow(ec: ErrorCode | null): ErrorCode | undefined {
    if (this.timedOut) {
      this.timedOut = false;
      return beastError.timeout;
    }
    if (this.status === 'closed' || this.status === 'failed') return netError.operationAborted;
    if (ec === null) return undefined;
    if (this.ecDelivered) return netError.operationAborted;
    this.ecDelivered = true;
    this.fail();
    return ec;
  }

  /**
   * The stream failed: nothing more will be read or written, so the next layer is closed now.
   * Beast leaves that to the destructor of the session owning the socket; JavaScript has none,
   * and a failed stream whose owner forgets it would hold its socket for good (DESIGN section 8).
   */
  fail(): void {
    this.status = 'failed';
    this.#disarm();
    this.closeNextLayer();
  }

  // ---- timeouts ----------------------------------------------------------------------------

  /**
   * Arms or disarms the timer for the current status (Beast's `update_timer`). With no Timeout
   * option set there is nothing to arm (every timeout is `none`) and no timer to disarm.
   */
  updateTimer(): void {
    const ts = this.#timeouts;
    if (ts === null) return;
    const t = ts.opts;
    switch (this.status) {
      case 'handshake':
        if (t.handshakeTimeout !== none && !ts.armed) this.#arm(ts, t.handshakeTimeout);
        break;
      case 'open':
        ts.idleCounter = 0;
        if (t.idleTimeout !== none) this.#arm(ts, t.keepAlivePings ? t.idleTimeout / 2 : t.idleTimeout);
        else this.#disarm();
        break;
      case 'closing':
        if (t.handshakeTimeout !== none) {
          ts.idleCounter = 0;
          this.#arm(ts, t.handshakeTimeout);
        }
        break;
      default:
        this.#disarm();
    }
  }

  /** Something arrived: the idle timer starts over (Beast's `reset_idle`). */
  resetIdle(): void {
    if (this.#timeouts !== null) this.#timeouts.idleCounter = 0;
  }

  /** Starts the idle ping operation (through what stream.ts registered). */
  startIdlePing(): void {
    idlePingStarter?.(this);
  }

  #arm(ts: TimeoutState, ms: number): void {
    ts.armed = true;
    this.#wait(ts, ms);
  }

  #wait(ts: TimeoutState, ms: number): void {
    const timer = (ts.timer ??= new SteadyTimer(this.executor));
    timer.expiresAfter(ms);
    timer.asyncWait((ts.onTimer ??= (ec) => this.#expired(ec)));
  }

  #disarm(): void {
    const ts = this.#timeouts;
    if (ts === null) return;
    ts.armed = false;
    ts.timer?.cancel();
  }

  #expired(ec: ErrorCode | null): void {
    if (ec !== null) return; // re-armed or cancelled
    const ts = this.#timeouts!;
    ts.armed = false;
    const t = ts.opts;
    switch (this.status) {
      case 'handshake':
      case 'closing':
        return this.timeOut();
      case 'open':
        if (t.idleTimeout === none) return;
        if (t.keepAlivePings && ts.idleCounter < 1) {
          this.startIdlePing();
          ts.idleCounter++;
          ts.armed = true;
          this.#wait(ts, t.idleTimeout / 2);
          return;
        }
        return this.timeOut();
      default:
    }
  }

  /** The timer expired: the next operation to look gets `beast.error.timeout`; the socket closes. */
  timeOut(): void {
    this.timedOut = true;
    this.fail();
  }

  /** Closes the lowest layer, as Beast's `close_socket` (pending I/O completes with an error). */
  closeNextLayer(): void {
    this.next.close?.();
  }

  /** The stream is done: no timer stays armed. */
  close(): void {
    this.#disarm();
  }

  // ---- reading -----------------------------------------------------------------------------

  /**
   * Decodes the next frame header from the read buffer (Beast's `parse_fh`). For a control frame it
   * also waits until the whole payload is buffered, then unmasks it into {@link ctrlPayload}.
   * For a data frame it sets up the payload state (remaining bytes, masking key, message opcode).
   */
  parseFrameHeader(): ParseResult {
    const d = this.decoder;
    const data = this.rdBuf.dataView();
    const n = d.decode(data, 0, data.length);
    if (n === 0) return 'needMore';
    if (n < 0) return d.error!;
    if (isControl(d.opcode)) {
      // decode() keeps no state for control frames, so decoding one again later is harmless.
      if (data.length < n + d.length) return 'needMore';
      const payload = data.slice(n, n + d.length);
      if (d.masked) applyMask(payload, d.key);
      this.rdBuf.consume(n + d.length);
      this.ctrlOp = d.opcode;
      this.ctrlPayload = payload;
      this.rdFin = false;
      return 'frame';
    }
    this.rdBuf.consume(n);
    if (d.opcode !== Opcode.cont) {
      this.rdOp = d.opcode;
      this.rdSize = 0;
      if (this.#pmd !== null) {
        this.#pmd.rdEbConsumed = 0;
        this.#pmd.rdInflateEnded = false;
      }
      this.#rdUtf8?.reset();
    }
    this.ctrlOp = 0;
    this.rdRemain = d.length;
    this.rdFin = d.fin;
    this.rdMasked = d.masked;
    this.rdKey = d.key;
    this.rdKeyOffset = 0;
    this.rdUnmasked = 0;
    this.unmaskBuffered();
    return 'frame';
  }

  /**
   * Where the next read from the next layer lands (Beast's `read_size`): the read buffer's free
   * capacity, at least 4 KiB (and what the current frame still needs), growing by doubling while
   * reads fill it, up to its 64 KiB limit.
   * An idle connection so holds 4 KiB, not 64; a busy one reaches the limit in a few reads.
   */
  prepareRead(): Uint8Array {
    const b = this.rdBuf as ReadBuffer;
    const size = b.size();
    const free = b.maxSize() - size;
    const room = b.capacity() - size;
    // Waiting for the next frame with nothing buffered, and the last read did not fill its room:
    // the block already there will do, however small (after a handshake, the 512 bytes the
    // request was read into, over a next layer without lazy reads: see readNext). An idle
    // connection so holds no 4 KiB block (bench/idle-memory); the buffer grows as below once a
    // frame is under way or a read comes back full.
    if (size === 0 && this.rdRemain === 0 && room > 0 && !b.filled) return b.prepareView(Math.min(free, room));
    // Room for the payload still due, when a frame is under way: one read rather than many.
    const need = Math.max(4096, size, this.rdRemain);
    return b.prepareView(Math.min(free, room >= need ? room : need));
  }

  /**
   * Reads more bytes from the next layer into the read buffer. Waiting for the next frame with
   * nothing buffered, over a next layer that can take its buffers when bytes arrive, the read
   * buffer lets go of its block first ({@link ReadBuffer.releaseBlock}) and the read waits
   * without one: an idle connection holds no read block (bench/idle-memory).
   */
  readNext(handler: Handler<IoSignature>): void {
    const next = this.next as NextLayer & Partial<LazyReadStream>;
    if (this.rdRemain === 0 && next.asyncReadSomeLazy !== undefined && (this.rdBuf as ReadBuffer).releaseBlock()) {
      next.asyncReadSomeLazy(this, handler);
    } else {
      next.asyncReadSome(this.prepareRead(), handler);
    }
  }

  /** @internal Where the bytes of a read {@link readNext} started without a block go. */
  readTarget(): Uint8Array {
    return this.prepareRead();
  }

  /** The size to offer a dynamic buffer for the next read (Beast's `read_size_hint`). */
  readSizeHint(initial: number): number {
    let result: number;
    // A compressed message inflates to an unknown size: offer at least the initial size.
    if (this.pmdConfig !== null && (this.rdDone || this.decoder.messageCompressed)) result = Math.max(initial, this.rdRemain);
    else if (this.rdDone) result = initial;
    else if (this.rdFin) result = Math.max(1, this.rdRemain);
    else result = Math.max(initial, this.rdRemain);
    const max = this.decoder.readMessageMax;
    return max > 0 ? Math.max(1, Math.min(result, max)) : result;
  }

  // ---- writing -----------------------------------------------------------------------------

  // ---- permessage-deflate ------------------------------------------------------------------------

  /** Activates (or with null, deactivates) the extension for this connection. */
  setPmd(config: PmdConfig | null): void {
    this.pmdConfig = config;
    this.decoder.deflate = config !== null;
    const pmd = config !== null ? this.pmd : this.#pmd;
    if (pmd === null) return;
    pmd.deflater?.close();
    pmd.inflater?.close();
    pmd.deflater = null;
    pmd.inflater = null;
  }

  /** The deflate context for our messages, created on first use (memory only for those who compress). */
  deflater(): Deflater {
    const pmd = this.pmd;
    if (pmd.deflater === null) {
      const cfg = this.pmdConfig!;
      const bits = this.role === 'server' ? cfg.serverMaxWindowBits : cfg.clientMaxWindowBits;
      pmd.deflater = new Deflater(bits, pmd.opts.compLevel, pmd.opts.memLevel);
    }
    return pmd.deflater;
  }

  /** The inflate context for the peer's messages, created on first use. */
  inflater(): Inflater {
    const pmd = this.pmd;
    if (pmd.inflater === null) {
      const cfg = this.pmdConfig!;
      pmd.inflater = new Inflater(this.role === 'server' ? cfg.clientMaxWindowBits : cfg.serverMaxWindowBits);
    }
    return pmd.inflater;
  }

  /** Whether the message being read is compressed (Beast's `rd_deflated`). */
  rdDeflated(): boolean {
    return this.pmdConfig !== null && this.decoder.messageCompressed;
  }

  /** After a compressed message was read: forget the window if the peer does not keep it. */
  contextTakeoverRead(): void {
    const cfg = this.pmdConfig;
    const pmd = this.#pmd;
    if (cfg === null || pmd === null || pmd.inflater === null) return;
    if (pmd.rdInflateEnded || (this.role === 'client' ? cfg.serverNoContextTakeover : cfg.clientNoContextTakeover)) {
      pmd.inflater.reset();
    }
    pmd.rdInflateEnded = false;
  }

  /** After a compressed message was written: forget the window if we do not keep it. */
  contextTakeoverWrite(): void {
    const cfg = this.pmdConfig;
    const deflater = this.#pmd?.deflater ?? null;
    if (cfg === null || deflater === null) return;
    if (this.role === 'client' ? cfg.clientNoContextTakeover : cfg.serverNoContextTakeover) deflater.reset();
  }

  /** What was negotiated (Beast's `get_status`). */
  pmdStatus(): PermessageDeflateStatus {
    const cfg = this.pmdConfig;
    return cfg === null
      ? { active: false, clientWindowBits: 0, serverWindowBits: 0 }
      : { active: true, clientWindowBits: cfg.clientMaxWindowBits, serverWindowBits: cfg.serverMaxWindowBits };
  }

  /** Unmasks the payload bytes of the current frame that arrived in the read buffer. */
  unmaskBuffered(): void {
    const n = Math.min(this.rdRemain, this.rdBuf.size());
    if (!this.rdMasked || n <= this.rdUnmasked) {
      this.rdUnmasked = Math.max(this.rdUnmasked, n);
      return;
    }
    this.rdKeyOffset = applyMask(this.rdBuf.dataView().subarray(this.rdUnmasked, n), this.rdKey, this.rdKeyOffset);
    this.rdUnmasked = n;
  }

  /** Drops `n` payload bytes from the front of the read buffer. */
  consumePayload(n: number): void {
    this.rdBuf.consume(n);
    this.rdRemain -= n;
    this.rdUnmasked = Math.max(0, this.rdUnmasked - n);
  }

  /** Starts a new outgoing message in its first write (Beast's `begin_msg`). */
  beginMessage(size: number): void {
    this.wrCompress = this.pmdConfig !== null && this.wrCompressOpt && size >= this.pmdOpts.msgSizeThreshold;
    this.wrFrag = this.wrFragOpt;
    this.wrBufSize = this.wrBufOpt;
    this.wrFrameSent = false;
    // Clients mask, and compression deflates, into a buffer of their own: the caller's payload is
    // never modified.
    if ((this.role === 'client' || this.wrCompress) && (this.wrBuf === null || this.wrBuf.length !== this.wrBufSize)) {
      this.wrBuf = new Uint8Array(this.wrBufSize);
    }
  }

  #headers: Uint8Array | null = null;

  /**
   * Room for the headers of the frames one write gathers (10 bytes each at most, unmasked),
   * made on the first fragmented write: an idle connection holds none.
   */
  headerScratch(): Uint8Array {
    return (this.#headers ??= new Uint8Array(64 * 10));
  }

  /** Whether an operation waits for the write side (Beast's wake-up set after a write's frame). */
  writeWaiters(): boolean {
    const p = this.#parked;
    return p !== null && (p.close.hasValue() || p.idlePing.hasValue() || p.rd.hasValue() || p.ping.hasValue());
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
    if (key !== undefined) applyMask(out.subarray(n, n + payload.length), key);
    return out.subarray(0, n + payload.length);
  }

  /** A close frame for `reason`. */
  closeFrame(reason: CloseReason): Uint8Array {
    return this.controlFrame(Opcode.close, encodeClosePayload(reason));
  }

  // ---- hand-offs (Beast's fixed wake-up orders) -----------------------------------------------

  // The read side's hand-offs look at a slot without making one: every message read asks.

  /** Whether a close waits for the read side. */
  closeWaitsForRead(): boolean {
    return this.#parked !== null && this.#parked.rClose.hasValue();
  }

  /** Hands the read side to the close waiting for it, if any. */
  wakeCloseForRead(): boolean {
    return this.#parked !== null && this.#parked.rClose.maybeInvoke();
  }

  /** Hands the read side to the read waiting for it (behind a close), if any. */
  wakeReadForRead(): boolean {
    return this.#parked !== null && this.#parked.rRd.maybeInvoke();
  }

  /** After a read releases the write lock: close, idle ping, ping, write. */
  wakeAfterReadWrite(): boolean {
    const p = this.#parked;
    return p !== null && (p.close.maybeInvoke() || p.idlePing.maybeInvoke() || p.ping.maybeInvoke() || p.wr.maybeInvoke());
  }

  /** After a write releases the write lock between frames or at the end: close, idle ping, read, ping. */
  wakeAfterWrite(): boolean {
    const p = this.#parked;
    return p !== null && (p.close.maybeInvoke() || p.idlePing.maybeInvoke() || p.rd.maybeInvoke() || p.ping.maybeInvoke());
  }

  /** After a ping or pong: close, idle ping, read, write. */
  wakeAfterPing(): boolean {
    const p = this.#parked;
    return p !== null && (p.close.maybeInvoke() || p.idlePing.maybeInvoke() || p.rd.maybeInvoke() || p.wr.maybeInvoke());
  }

  /** After an idle ping: close, ping, read, write. */
  wakeAfterIdlePing(): boolean {
    const p = this.#parked;
    return p !== null && (p.close.maybeInvoke() || p.ping.maybeInvoke() || p.rd.maybeInvoke() || p.wr.maybeInvoke());
  }

  /** After a close: read, idle ping, ping, write. */
  wakeAfterClose(): boolean {
    const p = this.#parked;
    return p !== null && (p.rd.maybeInvoke() || p.idlePing.maybeInvoke() || p.ping.maybeInvoke() || p.wr.maybeInvoke());
  }
}
