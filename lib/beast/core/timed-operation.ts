/**
 * The deadlines of a TcpStream's pending operations: one read and one write at most (a connect or
 * a TLS handshake counts as both), each with the deadline it took when it started. Plain
 * bookkeeping for the stream's single Node timer; no timers or I/O here.
 */

/** A timed operation in flight: its deadline, fixed when it started, and whether it passed. */
export interface Timed {
  readonly deadline: number;
  timedOut: boolean;
}

/** The earliest deadline among `a` and `b` that has not passed yet; `Infinity` when there is none. */
export function nextDeadline(a: Timed | null, b: Timed | null): number {
  let at = Infinity;
  if (a !== null && !a.timedOut && a.deadline < at) at = a.deadline;
  if (b !== null && !b.timedOut && b.deadline < at) at = b.deadline;
  return at;
}

/** Marks each of `a` and `b` whose deadline is `now` or earlier as timed out; whether one was. */
export function expire(a: Timed | null, b: Timed | null, now: number): boolean {
  const aExpired = a !== null && !a.timedOut && a.deadline <= now;
  if (aExpired) a.timedOut = true;
  // b may be a itself (a connect occupies both sides): then it is marked already.
  const bExpired = b !== null && !b.timedOut && b.deadline <= now;
  if (bExpired) b.timedOut = true;
  return aExpired || bExpired;
}
