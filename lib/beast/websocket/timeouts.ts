/**
 * The stream's timer (Beast's `impl_type::timer` with `update_timer`, `reset_idle` and the
 * `timeout_handler`): the handshake timeout while opening and closing, the idle timeout while
 * open, and the keep-alive ping half-way through an idle period. Made when a Timeout option is
 * set: with the defaults (no timeouts) a stream holds none of this. A stream's timer is an entry
 * in a shared list of the timers of one duration (timer-list.ts), re-armed by moving it to the
 * list's tail: a SteadyTimer wait per re-arm cost an idle connection a wait record, its work, a
 * cancellation closure and a new Node timer each time, and one Node timer per stream still cost
 * it a Timeout object, its callback closure and context and boxed numbers (about 330 B per idle
 * connection, bench/idle-heap.ts over TcpStream with `Timeout.suggested('server')`).
 */

import type { Executor } from '../../net/executor.js';
import { none, type Timeout } from './options.js';
import { packFlags } from './bits.js';
import { TimerEntry } from './timer-list.js';

/** What the timer needs of its stream. */
export interface TimeoutHost {
  readonly executor: Executor;
  readonly status: 'handshake' | 'open' | 'closing' | 'closed' | 'failed';
  /** The time is up: fail the stream with `beast.error.timeout`. */
  timeOut(): void;
  /** Half an idle period passed with keep-alive pings on: send one. */
  startIdlePing(): void;
}

export class Timeouts extends TimerEntry {
  /** Counts arms and disarms: an expiry posted under an older count is stale. */
  #generation = 0;
  /**
   * The booleans below, packed (bits.ts): four fields of their own cost an idle
   * connection 24 B more (bench/idle-heap.ts).
   */
  bits = 0;
  /** One unit of work is held on the executor while armed or while an expiry is posted. */
  declare holdsWork: boolean;
  /** A handshake or idle timeout is armed. */
  declare armed: boolean;
  /**
   * An idle period passed without anything arriving and a keep-alive ping was sent (Beast's
   * `idle_counter` reaching 1; the next idle period with nothing times out).
   */
  declare idledOnce: boolean;
  /** The keep-alive ping is on its way. */
  declare idlePinging: boolean;

  constructor(
    public opts: Timeout,
    readonly host: TimeoutHost,
  ) {
    super();
  }

  /** Arms or disarms the timer for the host's status (Beast's `update_timer`). */
  update(): void {
    const t = this.opts;
    switch (this.host.status) {
      case 'handshake':
        if (t.handshakeTimeout !== none && !this.armed) this.#arm(t.handshakeTimeout);
        break;
      case 'open':
        this.idledOnce = false;
        if (t.idleTimeout !== none) this.#arm(t.keepAlivePings ? t.idleTimeout / 2 : t.idleTimeout);
        else this.disarm();
        break;
      case 'closing':
        if (t.handshakeTimeout !== none) {
          this.idledOnce = false;
          this.#arm(t.handshakeTimeout);
        }
        break;
      default:
        this.disarm();
    }
  }

  /** The timer is in a list or its expiry is queued: the stream holds a timer and a unit of work. */
  pending(): boolean {
    return this.scheduled() || this.holdsWork;
  }

  /** Something arrived: the idle period starts over (Beast's `reset_idle`). */
  resetIdle(): void {
    this.idledOnce = false;
  }

  /** No timer stays armed. */
  disarm(): void {
    this.armed = false;
    this.#generation++;
    this.unschedule();
    if (this.holdsWork) {
      this.holdsWork = false;
      this.host.executor.onWorkFinished();
    }
  }

  #arm(ms: number): void {
    this.armed = true;
    this.#wait(ms);
  }

  // The timer holds one unit of work on the executor while armed, as a SteadyTimer wait would,
  // and its expiry runs through the executor (posted from Node's timer callback).
  #wait(ms: number): void {
    this.#generation++;
    if (!this.holdsWork) {
      this.holdsWork = true;
      this.host.executor.onWorkStarted();
    }
    this.schedule(ms);
  }

  /** The time is up (the entry left its list): the expiry goes to the executor, unless the timer is re-armed meanwhile. */
  fired(): void {
    const generation = this.#generation;
    const executor = this.host.executor;
    executor.post(() => {
      if (this.#generation !== generation) return; // re-armed or disarmed since (and the work passed on)
      // The expiry's unit of work is released after it ran; a re-arm in #expired takes its own.
      this.holdsWork = false;
      this.#expired();
      executor.onWorkFinished();
    });
  }

  #expired(): void {
    this.armed = false;
    const t = this.opts;
    switch (this.host.status) {
      case 'handshake':
      case 'closing':
        return this.host.timeOut();
      case 'open':
        if (t.idleTimeout === none) return;
        if (t.keepAlivePings && !this.idledOnce) {
          this.host.startIdlePing();
          this.idledOnce = true;
          this.armed = true;
          this.#wait(t.idleTimeout / 2);
          return;
        }
        return this.host.timeOut();
      default:
    }
  }
}

packFlags(Timeouts.prototype, ['holdsWork', 'armed', 'idledOnce', 'idlePinging']);
