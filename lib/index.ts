/**
 * tsbeast: Boost.Asio's asynchronous model and Boost.Beast's WebSocket stream for Node.js.
 * The root gives the common case: the front door (`connect`, `acceptWebSockets`, `messages`,
 * `send`, …) by name, the names a WebSocket client or server on the Asio model uses most
 * (`Stream`, `TcpStream`, close codes, options), the net layer as `net` and the WebSocket layer
 * as `websocket`. Each layer is also a subpath export (`tsbeast/net`, `tsbeast/websocket`,
 * `tsbeast/front`, …).
 *
 * ```ts
 * import { connect, messages, net, Stream, TcpStream, CloseCode } from 'tsbeast';
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
export {
  connect,
  acceptWebSockets,
  listenWebSockets,
  WebSocketServer,
  messages,
  send,
  SendQueue,
  sendQueueOf,
  streamInfo,
  isNormalClose,
  type ConnectOptions,
  type ClientStream,
  type ServerOptions,
  type ServerStream,
  type ListenOptions,
  type UpgradeInfo,
  type Verdict,
  type Message,
  type MessagesOptions,
  type SendQueueOptions,
  type ConnectSignature,
  type ListenSignature,
  type SendSignature,
  type CloseSignature,
  type StreamHandler,
  type StreamInfo,
  type NodeServer,
  type TextMessage,
  type BinaryMessage,
  type ByteMessage,
  type WhenFull,
} from './front/index.js';
