/**
 * tsbeast: Boost.Asio's asynchronous model and Boost.Beast's WebSocket stream for Node.js.
 * The net layer is re-exported here as `net`; each layer is also a subpath export.
 * The front door (`connect`, `acceptWebSockets`, `messages`, `send`…) is exported by name: the
 * common case needs nothing else.
 */

export * as net from './net/index.js';
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
} from './front/index.js';
