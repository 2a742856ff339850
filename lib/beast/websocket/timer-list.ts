/**
 * Timers shared by the streams: every stream's timer with the same duration is an entry in one
 * list, in deadline order, and the list holds one Node timer, for its head. This is how Node keeps
 * its own timers (one list per duration, each Node `Timeout` an entry), but without a `Timeout`
 * object, a callback closure and its context per stream: an idle connection with the suggested
 * server timeouts held those for as long as it lived (about 330 B of the 5.2 KB of heap one
 * connection cost, bench/idle-heap.ts). An entry's deadline is its arming time plus its duration,
 * so the list stays sorted by re-arming an entry at its tail; it fires when that deadline is
 * reached, never earlier, as precisely as a Node timer of its own.
 *
 * The Node timer is looked up (`setTimeout`, `performance.now()`) at each call, so fake clocks in
 * tests apply. It is referenced while the list has entries, as a Node timer per stream was.
 */

/** One duration's entries, oldest deadline first. */
class TimerList {
  head: TimerEntry | null = null;
  tail: TimerEntry | null = null;
  /** The Node timer set for the head's deadline, while the list has entries. */
  handle: NodeJS.Timeout | null = null;

  constructor(readonly ms: number) {}

  /** The Node timer fired: every entry whose deadline passed leaves the list and fires. */
  readonly expire = (): void => {
    this.handle = null;
    const now = performance.now();
    const due: TimerEntry[] = [];
    for (let e = this.head; e !== null && e.deadline <= now; e = e.next) due.push(e);
    for (const e of due) e.unschedule();
    // What is left is due later: the timer waits for the new head (not before its deadline).
    if (this.head !== null) this.handle = setTimeout(this.expire, Math.max(1, Math.ceil(this.head.deadline - now)));
    for (const e of due) e.fired();
  };
}

/** The lists with entries, by duration in milliseconds; a list that empties is dropped. */
const lists = new Map<number, TimerList>();

/** A timer in a shared list (Timeouts extends it): fields of its own object, no allocation per arm. */
export abstract class TimerEntry {
  /**
   * When the entry is due (`performance.now()` time rounded up to the millisecond, as Node's own
   * timer clock is), while scheduled. A whole number stays a small integer in the object; a
   * fraction would cost every entry a boxed number, 16 B (bench/idle-heap.ts).
   */
  deadline = 0;
  /** The list the entry is in, else null. */
  list: TimerList | null = null;
  prev: TimerEntry | null = null;
  next: TimerEntry | null = null;

  /** Called once the deadline passed, after the entry left its list. */
  abstract fired(): void;

  /** The entry is in a list: its deadline has not passed yet. */
  scheduled(): boolean {
    return this.list !== null;
  }

  /** (Re)arms the entry to fire `ms` milliseconds from now. */
  schedule(ms: number): void {
    const deadline = Math.ceil(performance.now()) + ms;
    // Re-armed in its own list (every operation of an open stream re-arms its idle timer): it
    // moves to the tail and the list's Node timer stays. Unscheduling first would empty the list
    // of a lone connection and cost a clearTimeout, a new list and a setTimeout per message; the
    // Node timer, set for an earlier deadline, fires early and waits again for the head.
    const own = this.list;
    if (own !== null && own.ms === ms) {
      this.deadline = deadline;
      if (own.tail === this) return;
      if (this.prev !== null) this.prev.next = this.next;
      else own.head = this.next;
      this.next!.prev = this.prev;
      this.prev = own.tail;
      this.next = null;
      own.tail!.next = this;
      own.tail = this;
      return;
    }
    this.unschedule();
    let list = lists.get(ms);
    if (list === undefined) lists.set(ms, (list = new TimerList(ms)));
    this.deadline = deadline;
    this.list = list;
    this.prev = list.tail;
    if (list.tail !== null) list.tail.next = this;
    else list.head = this;
    list.tail = this;
    list.handle ??= setTimeout(list.expire, ms);
  }

  /** Takes the entry out of its list, if in one; the list's Node timer goes with its last entry. */
  unschedule(): void {
    const list = this.list;
    if (list === null) return;
    if (this.prev !== null) this.prev.next = this.next;
    else list.head = this.next;
    if (this.next !== null) this.next.prev = this.prev;
    else list.tail = this.prev;
    this.prev = this.next = this.list = null;
    if (list.head === null) {
      if (list.handle !== null) clearTimeout(list.handle);
      list.handle = null;
      lists.delete(list.ms);
    }
  }
}
