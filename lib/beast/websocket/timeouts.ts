/**
 * The stream's timer (Beast's `impl_type::timer` with `update_timer`, `reset_idle` and the
 * `timeout_handler`): the handshake timeout while opening and closing, the idle timeout while
 * open, and the keep-alive ping half-way through an idle period. Made when a Timeout option is
 * set: with the defaults (no timeouts) a stream holds none of this.
 */

import type { ErrorCode } from '../../net/error.js';
import type { Executor } from '../../net/executor.js';
import { SteadyTimer } from '../../net/timer.js';
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
  #timer: SteadyTimer | null = null;
  #onTimer: ((ec: ErrorCode | null) => void) | null = null;
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

  /** Something arrived: the idle period starts over (Beast's `reset_idle`). */
  resetIdle(): void {
    this.#idleCounter = 0;
  }

  /** No timer stays armed. */
  disarm(): void {
    this.#armed = false;
    this.#timer?.cancel();
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#wait(ms);
  }

  #wait(ms: number): void {
    const timer = (this.#timer ??= new SteadyTimer(this.host.executor));
    timer.expiresAfter(ms);
    timer.asyncWait((this.#onTimer ??= (ec) => this.#expired(ec)));
  }

  #expired(ec: ErrorCode | null): void {
    if (ec !== null) return; // re-armed or cancelled
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
