/**
 * Beast's soft mutexes (`detail/soft_mutex.hpp`) and the slots where operations wait for them
 * (`saved_handler`), with the orders in which a released side is handed on, declared as data.
 * Never blocking: an operation that cannot take a side parks in a slot and is handed the lock
 * when the owner releases it. No I/O here.
 */

import type { Executor } from '../../net/executor.js';
import { SavedHandler } from './saved-handler.js';

/** The two sides: read (Beast's `rd_block`) and write (`wr_block`). */
export type Side = 'rd' | 'wr';

/**
 * The slots (Beast's `op_rd`, `op_wr`, `op_ping`, `op_idle_ping`, `op_close` wait for the write
 * side; `op_r_rd`, `op_r_close` for the read side).
 */
export type Slot = 'rd' | 'wr' | 'ping' | 'idlePing' | 'close' | 'rRd' | 'rClose';

/**
 * Who is woken, first come first served, when an operation releases a side: Beast's
 * `maybe_invoke` chains, copied from impl/read.hpp, write.hpp, ping.hpp and close.hpp.
 */
export const wakeOrders = Object.freeze({
  /** A write, between frames and at its end (write.hpp, `write_some_op`). */
  afterWrite: ['close', 'idlePing', 'rd', 'ping'],
  /** A read, after its pong or close reply and at its end (read.hpp, `read_some_op`). */
  afterReadWrite: ['close', 'idlePing', 'ping', 'wr'],
  /** A ping or pong (ping.hpp, `ping_op`). */
  afterPing: ['close', 'idlePing', 'rd', 'wr'],
  /** The keep-alive ping (ping.hpp, `idle_ping_op`). */
  afterIdlePing: ['close', 'ping', 'rd', 'wr'],
  /** A close, of the write side (close.hpp, `close_op`; `op_r_rd` goes first, with the read side). */
  afterClose: ['rd', 'idlePing', 'ping', 'wr'],
  /** A read of the read side, between reads and at its end (read.hpp). */
  readSide: ['rClose'],
  /** A close of the read side (close.hpp). */
  closeReadSide: ['rRd'],
} as const satisfies Record<string, readonly Slot[]>);

export type WakeOrder = (typeof wakeOrders)[keyof typeof wakeOrders];

/**
 * The read and write soft mutexes of a stream and its parked operations. The slots are made
 * when the first operation parks: a connection that never waits holds none (bench/idle-memory).
 */
export class SoftMutexes {
  /** The owner of the read side (Beast's `rd_block`). */
  #rd: object | null = null;
  /** The owner of the write side (Beast's `wr_block`). */
  #wr: object | null = null;
  #slots: Record<Slot, SavedHandler> | null = null;

  constructor(readonly executor: Executor) {}

  // Each side is a lock that records its owner (any object: the operation), as Beast's
  // `soft_mutex`; both live in this object, as plain fields (bench/idle-memory).

  /** Whether some operation holds `side`. */
  isLocked(side: Side): boolean {
    return this.#owner(side) !== null;
  }

  /** Whether `op` holds `side`. */
  isLockedBy(side: Side, op: object): boolean {
    return this.#owner(side) === op;
  }

  /** Takes `side` for `op` if it is free. */
  tryLock(side: Side, op: object): boolean {
    if (this.#owner(side) !== null) return false;
    this.#set(side, op);
    return true;
  }

  /** Takes `side`, which must be free (a woken operation taking the lock handed to it). */
  lock(side: Side, op: object): void {
    if (this.#owner(side) !== null) throw new Error('soft mutex: already locked');
    this.#set(side, op);
  }

  /** Releases `side`, which `op` must hold. */
  unlock(side: Side, op: object): void {
    if (this.#owner(side) !== op) throw new Error('soft mutex: not the owner');
    this.#set(side, null);
  }

  /** Releases `side` if `op` holds it; returns whether it did. */
  tryUnlock(side: Side, op: object): boolean {
    if (this.#owner(side) !== op) return false;
    this.#set(side, null);
    return true;
  }

  #owner(side: Side): object | null {
    return side === 'rd' ? this.#rd : this.#wr;
  }

  #set(side: Side, op: object | null): void {
    if (side === 'rd') this.#rd = op;
    else this.#wr = op;
  }

  /** The slot where an operation of that kind parks. */
  slot(name: Slot): SavedHandler {
    const s = (this.#slots ??= makeSlots(this.executor));
    return s[name];
  }

  /** Whether an operation waits in slot `name` (without making the slots). */
  waits(name: Slot): boolean {
    return this.#slots !== null && this.#slots[name].hasValue();
  }

  /** Wakes the first operation waiting in `order`; returns whether one was. */
  wake(order: readonly Slot[]): boolean {
    const s = this.#slots;
    if (s === null) return false;
    for (const name of order) if (s[name].maybeInvoke()) return true;
    return false;
  }

  /** Whether an operation waits for the write side (Beast's wake-up set after a write's frame). */
  writeWaiters(): boolean {
    const s = this.#slots;
    if (s === null) return false;
    for (const name of wakeOrders.afterWrite) if (s[name].hasValue()) return true;
    return false;
  }
}

function makeSlots(executor: Executor): Record<Slot, SavedHandler> {
  const make = (): SavedHandler => new SavedHandler(executor);
  return { rd: make(), wr: make(), ping: make(), idlePing: make(), close: make(), rRd: make(), rClose: make() };
}
