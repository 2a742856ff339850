/**
 * The lingering close after a refused handshake (RFC 9112 section 9.6): once the error response
 * is written, the server half-closes, reads and discards what the peer still sends until it
 * closes, for at most {@link lingerMs} and {@link lingerBytes}, then closes the connection.
 * Closing at once while request bytes are still unread would make the kernel answer with a
 * reset, which may destroy the response before the peer reads it. Beast writes the response and
 * leaves the socket to its owner; here the stream closes it (DESIGN section 8).
 */

import type { ComposedSelf } from '../../../net/compose.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import { SteadyTimer } from '../../../net/timer.js';
import type { StreamImpl } from '../stream-impl.js';
import type { TeardownHooks } from './teardown.js';

/** The longest a refused connection lingers for the peer to close, in milliseconds. */
export const lingerMs = 2000;

/** The most bytes a refused connection reads (and discards) while it lingers. */
export const lingerBytes = 64 * 1024;

const scratch = new Uint8Array(4096);

/**
 * Half-closes `impl`'s next layer, drains it within the bounds, and closes it. A next layer
 * without `shutdown` (the test stream) is closed at once: what it already holds stays readable.
 * The stream's own timer is stopped first: the linger has its own bound, and the operation
 * delivers the refusal, not a timeout.
 */
export function* lingerSteps<N extends AsyncStream>(self: ComposedSelf<readonly unknown[]>, impl: StreamImpl<N>) {
  impl.close();
  const next = impl.next as N & TeardownHooks;
  if (next.shutdown === undefined) return impl.closeNextLayer();
  try {
    next.shutdown(1);
  } catch {
    return impl.closeNextLayer(); // not connected any more
  }
  const timer = new SteadyTimer(impl.executor);
  timer.expiresAfter(lingerMs);
  timer.asyncWait((ec) => {
    if (ec === null) impl.closeNextLayer();
  });
  for (let drained = 0; drained < lingerBytes; ) {
    const [ec, n] = yield* self.call<IoSignature>((h) => next.asyncReadSome(scratch, h));
    if (ec !== null || n === 0) break;
    drained += n;
  }
  timer.cancel();
  impl.closeNextLayer();
}
