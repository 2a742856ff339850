/**
 * Shared spec helpers for I/O objects: a callback that records how it was called (the
 * completion guarantees), and waits of a few event-loop turns.
 */

import type { Handler } from '../../lib/net/index.js';

/** A callback that records its calls and whether one came inside the initiating call. */
export function recorder<A extends readonly unknown[]>() {
  const calls: A[] = [];
  let initiating = true;
  let inside = false;
  let resolve!: (args: A) => void;
  const done = new Promise<A>((r) => (resolve = r));
  const fn: Handler<A> = (...args: A) => {
    calls.push(args);
    if (initiating) inside = true;
    resolve(args);
  };
  return {
    fn,
    calls,
    done,
    /** Call right after the initiating function returned. */
    started(): void {
      initiating = false;
    },
    insideInitiation: (): boolean => inside,
  };
}

/** One turn of the event loop. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A few turns of the event loop, for Node's own callbacks to settle. */
export const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await turn();
};
