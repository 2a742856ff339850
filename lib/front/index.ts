/**
 * `tsbeast/front`: the front door. A WebSocket client from a URL, a server on Node's HTTP servers
 * or on a port of its own, messages as an async iterable, and a send queue; all built from the
 * public API of net and beast, all taking any completion token, and all running on Node's own
 * loop (`systemExecutor`) unless given an `IoContext`.
 */

export { connect, type ConnectOptions, type ConnectSignature, type ClientStream, type Pem } from './connect.js';
export {
  WebSocketServer,
  type ServerOptions,
  type ServerStream,
  type StreamHandler,
  type UpgradeInfo,
  type Verdict,
  type CloseSignature,
} from './server.js';
export { acceptWebSockets, type NodeServer } from './upgrade.js';
export { listenWebSockets, type ListenOptions, type ListenSignature } from './listener.js';
export { messages, isNormalClose, type Message, type TextMessage, type BinaryMessage, type ByteMessage, type MessagesOptions } from './messages.js';
export { SendQueue, send, sendQueueOf, type SendQueueOptions, type SendSignature, type WhenFull } from './send-queue.js';
export { streamInfo, type StreamPlace as StreamInfo } from './errors.js';
export { closeWithin, destroyStream } from './close.js';
export { contextWatchdogMs, contextNotRunningCode } from './context.js';
