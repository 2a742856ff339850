/**
 * The parts of a stream's state that most connections never use, each made the first time it is
 * needed (bench/idle-memory). An idle connection with default options holds none of them: every
 * field of {@link StreamImpl} costs each connection 8 bytes, so the state a server with many
 * quiet connections never touches lives here, behind one pointer per part.
 */

import type { Executor } from '../../net/executor.js';
import type { PermessageDeflate } from './deflate.js';
import type { Timeout } from './options.js';
import { SavedHandler } from './saved-handler.js';
import type { Deflater, Inflater } from './zlib-codec.js';

/**
 * The slots where operations wait for a soft mutex; made when the first operation parks (or a
 * wake-up order needs to look), all seven at once.
 */
export class ParkedOps {
  /** A read waiting for the write side (to answer a control frame). */
  readonly rd: SavedHandler;
  /** A write waiting for the write side. */
  readonly wr: SavedHandler;
  /** A ping or pong waiting for the write side. */
  readonly ping: SavedHandler;
  /** The idle ping waiting for the write side. */
  readonly idlePing: SavedHandler;
  /** A close waiting for the write side. */
  readonly close: SavedHandler;
  /** A read waiting for the read side (held by a close). */
  readonly rRd: SavedHandler;
  /** A close waiting for the read side (held by a read). */
  readonly rClose: SavedHandler;

  constructor(executor: Executor) {
    this.rd = new SavedHandler(executor);
    this.wr = new SavedHandler(executor);
    this.ping = new SavedHandler(executor);
    this.idlePing = new SavedHandler(executor);
    this.close = new SavedHandler(executor);
    this.rRd = new SavedHandler(executor);
    this.rClose = new SavedHandler(executor);
  }
}

/**
 * The timeout options and the timer behind them; made when a Timeout option is set. The timer is
 * one Node timer, re-armed in place (`refresh()` when the duration is the same): a SteadyTimer
 * wait per re-arm cost an idle connection a wait record, its work, a cancellation closure and a
 * new Node timer each time (bench/idle-memory, the examples' configuration).
 */
export class TimeoutState {
  /** The Node timer while armed (or its expiry is on its way to the executor), else null. */
  handle: NodeJS.Timeout | null = null;
  /** The duration `handle` was set with. */
  ms = 0;
  /** Counts arms and disarms: an expiry posted under an older count is stale. */
  generation = 0;
  /** One unit of work is held on the executor while armed or while an expiry is posted. */
  holdsWork = false;
  /** The Node timer's callback, made with the first timer. */
  onTimer: (() => void) | null = null;
  /** A handshake or idle timeout is armed. */
  armed = false;
  /** Idle periods passed without anything arriving (a keep-alive ping is sent after the first). */
  idleCounter = 0;
  /** The keep-alive ping is on its way. */
  idlePinging = false;

  constructor(public opts: Timeout) {}
}

/** permessage-deflate: the options, the codecs and the state of the compressed message being read. */
export class DeflateState {
  deflater: Deflater | null = null;
  inflater: Inflater | null = null;
  /** Bytes of the `00 00 FF FF` tail fed to the inflater at the end of a compressed message. */
  rdEbConsumed = 0;
  /**
   * The peer ended its deflate stream inside the message (a block with BFINAL set, which RFC 7692
   * section 7.2.3.4 allows): the rest of the message's payload is dropped and the inflater starts
   * anew with the next message.
   */
  rdInflateEnded = false;

  constructor(public opts: PermessageDeflate) {}
}
