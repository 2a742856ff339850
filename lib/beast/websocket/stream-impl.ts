/**
 * The state of a WebSocket stream shared by its composed operations (Beast's `stream::impl_type`),
 * as a table of plain fields in Beast's order, and the few steps every operation takes
 * (`check_stop_now`, `update_timer`, failing and closing). The concepts live beside it, one file
 * each: the read side in frame-reader.ts, the soft mutexes and wake orders in soft-mutex.ts, the
 * timer in timeouts.ts, permessage-deflate in deflate-state.ts, frame building for writes in
 * frame-writer.ts. Operations live in ops/.
 */

import { error as netError, type ErrorCode } from '../../net/error.js';
import type { AsyncStream } from '../../net/stream.js';
import { error as beastError } from '../core/error.js';
import { closeReason, type CloseReason } from './close.js';
import { PermessageDeflate, type PermessageDeflateStatus, type PmdConfig } from './deflate.js';
import { DeflateState } from './deflate-state.js';
import { Opcode, type Role } from './frame.js';
import { FrameReader } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { Timeout, type ControlCallback } from './options.js';
import { packFlags } from './bits.js';
import { hasSyncZlib } from '../../net/node-internals.js';
import { SoftMutexes } from './soft-mutex.js';
import { Timeouts } from './timeouts.js';

/** The life of a stream: handshake, open, closing (a close frame was sent), then closed or failed. */
export type Status = 'handshake' | 'open' | 'closing' | 'closed' | 'failed';

/** Beast's tcp_frame_size: the first read of a message is offered this much (read_size_hint). */
export const tcpFrameSize = 1536;

// Shared by every stream until it sets its own: none of these is ever modified in place (the
// options are frozen), and an idle connection should not carry copies (bench/idle-memory).
const noReason = closeReason(0);
const defaultTimeout = new Timeout();
const defaultPmd = new PermessageDeflate();

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

/**
 * The stream's state. It extends {@link SoftMutexes} rather than holding one, only to save an
 * object per connection (bench/idle-memory); the locks are still reached as {@link locks}.
 */
export class StreamImpl<NextLayer extends AsyncStream> extends SoftMutexes {
  role: Role = 'client';
  status: Status = 'closed';
  /** The read side: buffer, frame decoding, unmasking, UTF-8, inflation. */
  readonly reader = new FrameReader();
  /** The write side's frame building, made by the first write or write option (see {@link writer}). */
  #writer: FrameWriter | null = null;
  /** The booleans below, packed (bits.ts). */
  bits = 0;
  /** The peer's close frame was received (Beast's `rd_close`). */
  declare rdClose: boolean;
  /** Our close frame was sent (Beast's `wr_close`). */
  declare wrClose: boolean;
  /** The first error was delivered: later operations get operationAborted (Beast's `ec_delivered`). */
  declare ecDelivered: boolean;
  /** The timer expired: the next operation to look gets the timeout (Beast's `timed_out`). */
  declare timedOut: boolean;
  /** The peer's close reason (Beast's `cr`). */
  cr: CloseReason = noReason;
  ctrlCb: ControlCallback | null = null;
  /** permessage-deflate, made when the option is set or the extension negotiated. */
  #pmd: DeflateState | null = null;
  /** The timer, made when a Timeout option is set (default: no timeouts). */
  #timeouts: Timeouts | null = null;

  constructor(readonly next: NextLayer & NextLayerHooks) {
    super(next.getExecutor());
  }

  /** The read and write soft mutexes, and the operations parked behind them (soft-mutex.ts). */
  get locks(): SoftMutexes {
    return this;
  }

  // ---- options ----------------------------------------------------------------------------------

  /** The timeout options (shared defaults until set). */
  get timeoutOpt(): Timeout {
    return this.#timeouts?.opts ?? defaultTimeout;
  }
  set timeoutOpt(opts: Timeout) {
    if (this.#timeouts === null) this.#timeouts = new Timeouts(opts, this);
    else this.#timeouts.opts = opts;
  }

  /** The permessage-deflate options (shared defaults until set). */
  get pmdOpts(): PermessageDeflate {
    return this.#pmd?.opts ?? defaultPmd;
  }

  /**
   * The options the handshake negotiates with: {@link pmdOpts}, or none where Node's synchronous
   * zlib is not there (net/node-internals.ts, 4: the extension is then neither offered nor accepted).
   */
  get pmdOffer(): PermessageDeflate {
    return hasSyncZlib() ? this.pmdOpts : defaultPmd;
  }
  set pmdOpts(opts: PermessageDeflate) {
    if (this.#pmd === null) this.#pmd = new DeflateState(opts);
    else this.#pmd.opts = opts;
  }

  /** What permessage-deflate negotiated (null: not active). */
  get pmdConfig(): PmdConfig | null {
    return this.#pmd?.config ?? null;
  }

  /** The deflate state; exists while {@link pmdConfig} is set. */
  get pmd(): DeflateState {
    return (this.#pmd ??= new DeflateState(defaultPmd));
  }

  /** Activates (or with null, deactivates) the extension for this connection; frees old contexts. */
  setPmd(config: PmdConfig | null): void {
    if (config === null && this.#pmd === null) return;
    const pmd = this.pmd;
    pmd.close();
    pmd.config = config;
    this.reader.setDeflate(config !== null ? pmd : null);
  }

  /** What was negotiated (Beast's `get_status`). */
  pmdStatus(): PermessageDeflateStatus {
    const cfg = this.pmdConfig;
    return cfg === null
      ? { active: false, clientWindowBits: 0, serverWindowBits: 0 }
      : { active: true, clientWindowBits: cfg.clientMaxWindowBits, serverWindowBits: cfg.serverMaxWindowBits };
  }

  /** The keep-alive ping is on its way (only the timer starts one, so the timer exists). */
  get idlePinging(): boolean {
    return this.#timeouts?.idlePinging ?? false;
  }
  set idlePinging(on: boolean) {
    this.#timeouts!.idlePinging = on;
  }

  /**
   * The write side's frame building: options, the message under way, headers and buffers. Made
   * by the first write or write option: a connection that only waits for messages holds none
   * (bench/idle-memory).
   */
  get writer(): FrameWriter {
    if (this.#writer === null) {
      this.#writer = new FrameWriter();
      this.#writer.reset(this.role);
    }
    return this.#writer;
  }

  // ---- life -------------------------------------------------------------------------------------

  /** Resets the per-connection state when a handshake or accept begins (a stream may be reused). */
  reset(role: Role): void {
    this.role = role;
    this.status = 'handshake';
    this.reader.reset(role);
    this.#writer?.reset(role);
    this.rdClose = false;
    this.wrClose = false;
    this.setPmd(null);
    this.cr = noReason;
    this.ecDelivered = false;
    this.timedOut = false;
    this.#timeouts?.resetIdle();
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
    this.close();
    this.closeNextLayer();
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

  /** The stream is done: no timer stays armed, and the zlib contexts are freed. */
  close(): void {
    this.#timeouts?.disarm();
    this.#pmd?.close();
  }

  // ---- timeouts ---------------------------------------------------------------------------------

  /** Arms or disarms the timer for the current status (Beast's `update_timer`). */
  updateTimer(): void {
    this.#timeouts?.update();
  }

  /** The stream holds an armed timer (or its queued expiry); for specs (spec/support/internals.ts). */
  timerPending(): boolean {
    return this.#timeouts?.pending() ?? false;
  }

  /** Something arrived: the idle timer starts over (Beast's `reset_idle`). */
  resetIdle(): void {
    this.#timeouts?.resetIdle();
  }

  /** Starts the idle ping operation (through what stream.ts registered). */
  startIdlePing(): void {
    idlePingStarter?.(this);
  }

  // ---- what every operation asks --------------------------------------------------------------

  /** The size to offer a dynamic buffer for the next read (Beast's `read_size_hint`). */
  readSizeHint(initial: number): number {
    return this.reader.readSizeHint(initial);
  }

  /** Whether the message being read is text (Beast's `got_text`). */
  gotText(): boolean {
    return this.reader.op === Opcode.text;
  }
}

packFlags(StreamImpl.prototype, ['rdClose', 'wrClose', 'ecDelivered', 'timedOut']);
