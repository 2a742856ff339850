/**
 * A soft mutex (Beast's `detail::soft_mutex`): records which operation owns one side of the
 * stream (reading or writing). It never blocks; an operation that cannot take it parks itself in
 * a {@link SavedHandler} and is handed the lock when the owner releases it. No I/O here.
 */

export class SoftMutex {
  #owner: object | null = null;

  /** Takes the lock for `op` if it is free. */
  tryLock(op: object): boolean {
    if (this.#owner !== null) return false;
    this.#owner = op;
    return true;
  }

  /** Takes the lock, which must be free (a woken operation taking the lock handed to it). */
  lock(op: object): void {
    if (this.#owner !== null) throw new Error('SoftMutex: already locked');
    this.#owner = op;
  }

  /** Releases the lock, which `op` must own. */
  unlock(op: object): void {
    if (this.#owner !== op) throw new Error('SoftMutex: not the owner');
    this.#owner = null;
  }

  /** Releases the lock if `op` owns it; returns whether it did. */
  tryUnlock(op: object): boolean {
    if (this.#owner !== op) return false;
    this.#owner = null;
    return true;
  }

  /** Whether the lock is held (by `op`, when given). */
  isLocked(op?: object): boolean {
    return op === undefined ? this.#owner !== null : this.#owner === op;
  }
}
