/**
 * The one rule for shortcuts: an operation may run without its composed steps only where the
 * general path would do the same thing, with no suspension, and the handler could not tell.
 * Two exist, each behind this predicate plus one condition of its own: a read whose whole message
 * is already in the read buffer (ops/read.ts), and a write of a whole message as one frame with
 * the write side free (ops/write.ts). spec/beast/websocket/ops/differential.spec.ts runs every
 * read and write scenario with shortcuts on and off and compares every byte and completion.
 */

import { associationsOf, type Handler } from '../../../net/associators.js';
import type { AsyncStream } from '../../../net/stream.js';
import type { StreamImpl } from '../stream-impl.js';

let enabled = process.env['TSBEAST_NO_SHORTCUTS'] !== '1';

/**
 * @internal Turns the shortcuts on or off (the differential spec; also TSBEAST_NO_SHORTCUTS=1);
 * returns the previous setting.
 */
export function setShortcuts(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/**
 * Whether an operation of `impl` with `handler` may take a shortcut at all: shortcuts are on, the
 * stream is open with no timeout pending and no compression (`framed`: the operation's frames
 * are already built, compressed or not, so negotiated compression leaves it nothing to do: a
 * prepared message's), and the handler has no immediate
 * executor and no executor other than the stream's (so completing it through a HandlerWork is
 * what the composed operation would do). A connected cancellation slot is allowed: the shortcut
 * relays it to its one child through a TerminalRelay.
 */
export function mayShortcut<N extends AsyncStream>(impl: StreamImpl<N>, handler: Handler<readonly never[]>, framed = false): boolean {
  if (!enabled || impl.status !== 'open' || impl.timedOut || (impl.pmdConfig !== null && !framed)) return false;
  const a = associationsOf(handler);
  if (a.immediateExecutor !== undefined) return false;
  return a.executor === undefined || a.executor === impl.executor;
}
