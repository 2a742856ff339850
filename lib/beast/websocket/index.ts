/**
 * `tsbeast/websocket`: Beast's WebSocket stream and its protocol core.
 */

export { PreparedMessage } from './prepared.js';
export { Stream, type Payload, type ReadSignature, type WriteSignature, type ControlSignature, type HandshakeSignature } from './stream.js';
export { error, condition, websocketCategory } from './error.js';
export { CloseCode, closeReason, isValidCloseCode, type CloseReason } from './close.js';
export { Timeout, Decorator, none, type ControlCallback, type FrameType } from './options.js';
export type { Role } from './frame.js';
export { isUpgrade } from '../http/message.js';
export { PermessageDeflate, type PermessageDeflateInit, type PermessageDeflateStatus } from './deflate.js';
// The negotiation steps alone, for handshakes carried by another protocol (RFC 8441 over HTTP/2).
export { makeOffer, negotiate, acceptResponse, type PmdConfig } from './deflate.js';
export { permessageDeflateAvailable } from './zlib-codec.js';
