/**
 * tsbeast: Boost.Asio's asynchronous model and Boost.Beast's WebSocket stream for Node.js.
 * The root gives the common case: the net layer as `net`, the WebSocket layer as `websocket`, and
 * the names a WebSocket client or server uses most (`Stream`, `TcpStream`, close codes, options).
 * Each layer is also a subpath export (`tsbeast/net`, `tsbeast/websocket`, …).
 *
 * ```ts
 * import { net, Stream, TcpStream, CloseCode } from 'tsbeast';
 * ```
 */

export * as net from './net/index.js';
export * as websocket from './beast/websocket/index.js';
export {
  Stream,
  CloseCode,
  closeReason,
  Timeout,
  Decorator,
  PermessageDeflate,
  type CloseReason,
  type Payload,
  type ReadSignature,
  type WriteSignature,
  type ControlSignature,
  type HandshakeSignature,
} from './beast/websocket/index.js';
export { TcpStream, DuplexStream } from './beast/core/index.js';
