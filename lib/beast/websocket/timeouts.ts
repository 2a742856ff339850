/**
 * The stream's timer (Beast's `impl_type::timer` with `update_timer`, `reset_idle` and the
 * `timeout_handler`): the handshake timeout while opening and closing, the idle timeout while
 * open, and the keep-alive ping half-way through an idle period. Made when a Timeout option is
 * set: with the defaults (no timeouts) a stream holds none of this. The timer is one Node timer,
 * re-armed in place (`refresh()` when the duration is the same): a SteadyTimer wait per re-arm
 * cost an idle connection a wait record, its work, a cancellation closure and a new Node timer
 * each time (bench/idle-memory, the examples' configuration).
 */

import type { Executor } from '../../net/executor.js';
import { none, type Timeout } from './options.js';

/** What the timer needs of its stream. */
export interface TimeoutHost {
  readonly executor: Executor;
  readonly status: 'handshake' | 'open' | 'closing' | 'closed' | 'failed';
  /** The time is up: fail the stream with `beast.error.timeout`. */
  timeOut(): void;
  /** Half an idle period passed with keep-alive pings on: send one. */
  startIdlePing(): void;
}

export class Timeouts {
  /** The Node timer while armed (or its expiry is on its way to the executor), else null. */
  #handle: NodeJS.Timeout | null = null;
  /** The duration `#handle` was set with. */
  #ms = 0;
  /** Counts arms and disarms: an expiry posted under an older count is stale. */
  #generation = 0;
  /** One unit of work is held on the executor while armed or while an expiry is posted. */
  #holdsWork = false;
  /** The Node timer's callback, made with the first timer. */
  #onTimer: (() => void) | null = null;
  /** A handshake or idle timeout is armed. */
  #armed = false;
  /** Idle periods passed without anything arriving (a keep-alive ping is sent after the first). */
  #idleCounter = 0;
  /** The keep-alive ping is on its way. */
  idlePinging = false;

  constructor(
    public opts: Timeout,
    readonly host: TimeoutHost,
  ) {}

  /** Arms or disarms the timer for the host's status (Beast's `update_timer`). */
  update(): void {
    const t = this.opts;
    switch (this.host.status) {
      case 'handshake':
        if (t.handshakeTimeout !== none && !this.#armed) this.#arm(t.handshakeTimeout);
        break;
      case 'open':
        this.#idleCounter = 0;
        if (t.idleTimeout !== none) this.#arm(t.keepAlivePings ? t.idleTimeout / 2 : t.idleTimeout);
        else this.disarm();
        break;
      case 'closing':
        if (t.handshakeTimeout !== none) {
          this.#idleCounter = 0;
          this.#arm(t.handshakeTimeout);
        }
        break;
      default:
        this.disarm();
    }
  }

  /** A Node timer is set or its expiry is queued: the stream holds a timer and a unit of work. */
  pending(): boolean {
    return this.#handle !== null || this.#holdsWork;
  }

  /** Something arrived: the idle period starts over (Beast's `reset_idle`). */
  resetIdle(): void {
    this.#idleCounter = 0;
  }

  /** No timer stays armed. */
  disarm(): void {
    this.#armed = false;
    this.#generation++;
    if (this.#handle !== null) {
      clearTimeout(this.#handle);
      this.#handle = null;
    }
    if (this.#holdsWork) {
      this.#holdsWork = false;
      this.host.executor.onWorkFinished();
    }
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#wait(ms);
  }

  // The timer holds one unit of work on the executor while armed, as a SteadyTimer wait would,
  // and its expiry runs through the executor (posted from Node's timer callback).
  #wait(ms: number): void {
    this.#generation++;
    if (!this.#holdsWork) {
      this.#holdsWork = true;
      this.host.executor.onWorkStarted();
    }
    if (this.#handle !== null && this.#ms === ms) {
      this.#handle.refresh();
      return;
    }
    if (this.#handle !== null) clearTimeout(this.#handle);
    this.#ms = ms;
    this.#handle = setTimeout((this.#onTimer ??= () => this.#fired()), ms);
  }

  /** Node's timer fired: the expiry goes to the executor, unless the timer is re-armed meanwhile. */
  #fired(): void {
    this.#handle = null;
    const generation = this.#generation;
    const executor = this.host.executor;
    executor.post(() => {
      if (this.#generation !== generation) return; // re-armed or disarmed since (and the work passed on)
      // The expiry's unit of work is released after it ran; a re-arm in #expired takes its own.
      this.#holdsWork = false;
      this.#expired();
      executor.onWorkFinished();
    });
  }

  #expired(): void {
    this.#armed = false;
    const t = this.opts;
    switch (this.host.status) {
      case 'handshake':
      case 'closing':
        return this.host.timeOut();
      case 'open':
        if (t.idleTimeout === none) return;
        if (t.keepAlivePings && this.#idleCounter < 1) {
          this.host.startIdlePing();
          this.#idleCounter++;
          this.#armed = true;
          this.#wait(t.idleTimeout / 2);
          return;
        }
        return this.host.timeOut();
      default:
    }
  }
}
