/**
 * The `websocket.error` values and `websocket.condition` groupings (Beast's `websocket::error`
 * and `websocket::condition`). Pure data; no I/O.
 */

import { ErrorCategory, ErrorCondition, type ErrorCode } from '../../net/error.js';

/** The WebSocket error category. */
export const websocketCategory = ErrorCategory.fromMessages('beast.websocket', {
  1: 'The WebSocket stream was gracefully closed at both endpoints',
  4: 'The WebSocket operation caused a dynamic buffer overflow',
  5: 'The WebSocket stream produced an incomplete deflate block',
  6: 'The WebSocket message exceeded the locally configured limit',
  7: 'The WebSocket handshake was not HTTP/1.1',
  8: 'The WebSocket handshake method was not GET',
  9: 'The WebSocket handshake Host field is missing',
  10: 'The WebSocket handshake Connection field is missing',
  11: 'The WebSocket handshake Connection field is missing the upgrade token',
  12: 'The WebSocket handshake Upgrade field is missing',
  13: 'The WebSocket handshake Upgrade field is missing the websocket token',
  14: 'The WebSocket handshake Sec-WebSocket-Key field is missing',
  15: 'The WebSocket handshake Sec-WebSocket-Key field is invalid',
  16: 'The WebSocket handshake Sec-WebSocket-Version field is missing',
  17: 'The WebSocket handshake Sec-WebSocket-Version field is invalid',
  18: 'The WebSocket handshake Sec-WebSocket-Accept field is missing',
  19: 'The WebSocket handshake Sec-WebSocket-Accept field is invalid',
  20: 'The WebSocket handshake was declined by the remote peer',
  21: 'The WebSocket frame contained an illegal opcode',
  22: 'The WebSocket data frame was unexpected',
  23: 'The WebSocket continuation frame was unexpected',
  24: 'The WebSocket frame contained illegal reserved bits',
  25: 'The WebSocket control frame was fragmented',
  26: 'The WebSocket control frame size was invalid',
  27: 'The WebSocket frame was unmasked',
  28: 'The WebSocket frame was masked',
  29: 'The WebSocket frame size was not canonical',
  30: 'The WebSocket frame payload was not valid utf8',
  31: 'The WebSocket close frame contained an invalid code',
  32: 'The WebSocket close frame payload size was invalid',
  33: 'The WebSocket close frame payload was not valid utf8',
  34: 'The WebSocket server accepted an extension the client did not offer',
  35: 'The WebSocket server selected a subprotocol the client did not offer',
  36: 'The WebSocket handshake repeated a field that must appear once (Host, Sec-WebSocket-Key or Sec-WebSocket-Version)',
});

const c = (v: number): ErrorCode => websocketCategory.code(v);

/** The `websocket.error` values; numbers follow Beast's. */
export const error = Object.freeze({
  /** The peer closed cleanly (a read that received the close frame, after the reply). */
  closed: c(1),
  bufferOverflow: c(4),
  partialDeflateBlock: c(5),
  messageTooBig: c(6),
  badHttpVersion: c(7),
  badMethod: c(8),
  noHost: c(9),
  noConnection: c(10),
  noConnectionUpgrade: c(11),
  noUpgrade: c(12),
  noUpgradeWebsocket: c(13),
  noSecKey: c(14),
  badSecKey: c(15),
  noSecVersion: c(16),
  badSecVersion: c(17),
  noSecAccept: c(18),
  badSecAccept: c(19),
  upgradeDeclined: c(20),
  badOpcode: c(21),
  badDataFrame: c(22),
  badContinuation: c(23),
  badReservedBits: c(24),
  badControlFragment: c(25),
  badControlSize: c(26),
  badUnmaskedFrame: c(27),
  badMaskedFrame: c(28),
  badSize: c(29),
  badFramePayload: c(30),
  badCloseCode: c(31),
  badCloseSize: c(32),
  badClosePayload: c(33),
  /** Not in Beast: the server's response named an extension parameter the client did not offer (RFC 7692 section 5.1). */
  badExtensionResponse: c(34),
  /** Not in Beast: the server's response selected a subprotocol the client did not offer (RFC 6455 section 4.1). */
  badSubprotocol: c(35),
  /**
   * Not in Beast: the upgrade request repeated Host (RFC 9112 section 3.2), Sec-WebSocket-Key or
   * Sec-WebSocket-Version (RFC 6455 section 4.2.1: exactly one of each); answered with 400.
   */
  duplicateField: c(36),
});

const inRange = (lo: number, hi: number) => (ec: ErrorCode): boolean =>
  ec.category === websocketCategory && ec.value >= lo && ec.value <= hi;

/** The `websocket.condition` values. */
export const condition = Object.freeze({
  /** Every error of the opening handshake. */
  handshakeFailed: new ErrorCondition('websocket.handshakeFailed', (ec) => inRange(7, 20)(ec) || inRange(34, 36)(ec)),
  /** Every violation of the framing rules by the peer. */
  protocolViolation: new ErrorCondition('websocket.protocolViolation', inRange(21, 33)),
});
