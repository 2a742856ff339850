/**
 * `tsbeast/http2`: WebSockets over HTTP/2 (RFC 8441), on `node:http2` and the same
 * `websocket.Stream`: a server answers extended CONNECTs ({@link asyncAccept},
 * {@link serveWebSockets}), a client opens WebSockets as streams of one session
 * ({@link asyncHandshake}), after asking whether the server offers them
 * ({@link supportsWebSockets}, {@link asyncWaitForSettings}). Built only from the public API of
 * `net` and `beast`.
 */

export { Http2Layer } from './layer.js';
export { asyncAccept, refuse } from './accept.js';
export { asyncHandshake } from './handshake.js';
export { supportsWebSockets, asyncWaitForSettings, type SettingsSignature } from './settings.js';
export { serveWebSockets, type ServeOptions, type Attachment, type Arrival } from './serve.js';
export {
  isWebSocketConnect,
  checkConnectRequest,
  requestFromHttp2Headers,
  responseFromHttp2Headers,
  connectHeaders,
  responseHeaders,
  http2Version,
} from './headers.js';
export { error, condition, http2Category } from './error.js';
