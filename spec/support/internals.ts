/**
 * The test entry into internals: the one place specs look behind the public API. Members marked
 * `@internal` are stripped from the published declarations (tsconfig.build.json), so a spec that
 * needs one (to wait until an operation is parked, or to read a buffer's capacity) goes through a
 * function here, and the list of such needs stays short and visible.
 */

import type { Side, Slot } from '../../lib/beast/websocket/soft-mutex.js';
import type { StreamImpl } from '../../lib/beast/websocket/stream-impl.js';
import type { Stream } from '../../lib/beast/websocket/stream.js';
import type { AsyncStream } from '../../lib/net/stream.js';

/** The state a WebSocket stream shares with its operations (owners, parked operations, buffers). */
export function implOf<N extends AsyncStream>(ws: Stream<N>): StreamImpl<N> {
  return ws.impl;
}

/** Whether `ws` still holds an armed timer (or its queued expiry). */
export function timerPending<N extends AsyncStream>(ws: Stream<N>): boolean {
  return ws.impl.timerPending();
}

/** Whether an operation of `ws` holds `side` (Beast's `rd_block` or `wr_block`). */
export function sideHeld<N extends AsyncStream>(ws: Stream<N>, side: Side): boolean {
  return ws.impl.locks.isLocked(side);
}

/** Whether an operation of `ws` is parked in `slot`, waiting to be handed a side. */
export function parkedIn<N extends AsyncStream>(ws: Stream<N>, slot: Slot): boolean {
  return ws.impl.locks.waits(slot);
}
