/**
 * Closing within a bound: the closing handshake, and if it has not finished in time (a peer that
 * neither reads nor answers), the next layer closed outright. Beast closes a socket when its
 * owner is destroyed; here the bound is what guarantees the socket goes (DESIGN section 8).
 */

import { type AsyncStream, type ErrorCode } from '../net/index.js';
import type { CloseReason, Stream } from '../beast/websocket/index.js';

/** Closes the next layer of `stream` (a TcpStream, an SslStream, any layer with `close()`). */
export function destroyStream<L extends AsyncStream>(stream: Stream<L>): void {
  const next = stream.nextLayer() as AsyncStream & { close?: () => void; nextLayer?: () => unknown };
  next.close?.();
  // An SslStream closes its own TLS socket; the TCP layer under it goes too.
  const below = next.nextLayer?.() as { close?: () => void } | undefined;
  below?.close?.();
}

/**
 * Starts the closing handshake with `reason` and calls `done` once the stream is closed: when
 * the handshake completes, or after `ms` with the next layer closed (`done` gets the close's
 * error, or the timeout's `null` with `timedOut` true). A stream that is not open is closed at once.
 */
export function closeWithin<L extends AsyncStream>(
  stream: Stream<L>,
  reason: CloseReason | number,
  ms: number,
  done: (ec: ErrorCode | null, timedOut: boolean) => void,
): void {
  if (!stream.isOpen()) {
    destroyStream(stream);
    queueMicrotask(() => done(null, false));
    return;
  }
  let finished = false;
  const timer = setTimeout(() => {
    if (finished) return;
    finished = true;
    destroyStream(stream);
    done(null, true);
  }, ms);
  stream.asyncClose(reason, (ec) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    // A failed close (the peer vanished) leaves nothing to wait for: the socket goes now.
    if (ec !== null) destroyStream(stream);
    done(ec, false);
  });
}
