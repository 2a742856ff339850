/**
 * Stream options (Beast's `stream_base::timeout`, the decorator, the control callback types).
 * Plain data; no I/O.
 */

import type { Request, Response } from '../http/message.js';
import type { Role } from './frame.js';

/** A duration meaning "disabled" (Beast's `stream_base::none()`). */
export const none = Infinity;

/**
 * Timeouts of a stream (Beast's `stream_base::timeout`), in milliseconds; {@link none} disables.
 * - `handshakeTimeout` bounds the opening handshake and the closing handshake.
 * - `idleTimeout`: with nothing received for this long the stream times out; with
 *   `keepAlivePings`, a ping is sent at half the idle time first, and the timeout only fires if
 *   nothing arrives in the second half. The period starts over when a read starts and with every
 *   frame it takes, the peer's pings included (Beast re-arms on a ping too): while a read is
 *   pending, a peer that sends something more often than every half idle time gets no keep-alive
 *   ping of ours.
 */
export class Timeout {
  constructor(
    readonly handshakeTimeout: number = none,
    readonly idleTimeout: number = none,
    readonly keepAlivePings = false,
  ) {
    Object.freeze(this);
  }

  /**
   * Beast's suggested settings: 30 s for handshakes; a server also times out after 300 s of
   * silence with keep-alive pings, a client never does.
   */
  static suggested(role: Role): Timeout {
    // Frozen, so one of each serves every stream (a server calls this per connection).
    return role === 'server' ? suggestedServer : suggestedClient;
  }
}

const suggestedServer = new Timeout(30_000, 300_000, true);
const suggestedClient = new Timeout(30_000, none, false);

/** The kind of control frame reported to the control callback (Beast's `frame_type`). */
export type FrameType = 'close' | 'ping' | 'pong';

/**
 * Called when a read receives a control frame: with the ping or pong payload, or the close
 * reason text. It runs in the same context as the read's handler would.
 */
export type ControlCallback = (kind: FrameType, payload: string) => void;

/**
 * Decorates the HTTP messages of the opening handshake (Beast's `stream_base::decorator`): the
 * client's request before it is sent (subprotocols, authentication, User-Agent) and the server's
 * response before it is sent (the chosen subprotocol, Server). Set with `setOption`.
 */
export class Decorator {
  constructor(
    readonly decorators: {
      readonly request?: (req: Request) => void;
      readonly response?: (res: Response) => void;
    },
  ) {
    Object.freeze(this);
  }
}
