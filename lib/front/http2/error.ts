/**
 * The `http2.error` values: what can go wrong in an RFC 8441 handshake that has no counterpart in
 * RFC 6455's (whose errors, `websocket.error.badSecVersion` and the others, are reused where the
 * rule is the same), and `http2.condition.handshakeFailed`, which groups both. Pure data.
 */

import { ErrorCategory, ErrorCondition } from '../../net/index.js';
import { condition as wsCondition } from '../../beast/websocket/index.js';

/** The category of {@link error}. */
export const http2Category = ErrorCategory.fromMessages('front.http2', {
  1: 'The HTTP/2 peer does not offer WebSockets (SETTINGS_ENABLE_CONNECT_PROTOCOL is not 1)',
  2: 'The HTTP/2 session is closed',
  3: 'The extended CONNECT has no :protocol, or one other than websocket',
  4: 'The extended CONNECT has no :scheme',
  5: 'The extended CONNECT has no :path',
  6: 'The extended CONNECT has no :authority',
  7: 'The extended CONNECT carries Sec-WebSocket-Key or Sec-WebSocket-Accept (RFC 8441 section 5)',
  8: 'The HTTP/2 stream was reset',
});

/** The `http2.error` values. */
export const error = Object.freeze({
  /** The peer's SETTINGS do not enable the extended CONNECT: fall back to HTTP/1.1. */
  notOffered: http2Category.code(1),
  /** The session was closed or destroyed before the WebSocket's stream could be opened. */
  sessionClosed: http2Category.code(2),
  badProtocol: http2Category.code(3),
  noScheme: http2Category.code(4),
  noPath: http2Category.code(5),
  noAuthority: http2Category.code(6),
  secKeyPresent: http2Category.code(7),
  /** The peer reset the stream (RST_STREAM) before the handshake ended. */
  streamReset: http2Category.code(8),
});

/** The `http2.condition` values. */
export const condition = Object.freeze({
  /**
   * Every error of an opening handshake over HTTP/2: this category's request checks and the
   * RFC 6455 ones it shares with HTTP/1.1 (`websocket.condition.handshakeFailed`).
   */
  handshakeFailed: new ErrorCondition(
    'http2.handshakeFailed',
    (ec) => (ec.category === http2Category && ec.value >= 3 && ec.value <= 7) || ec.matches(wsCondition.handshakeFailed),
  ),
});
