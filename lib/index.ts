/**
 * tsbeast: Boost.Asio's asynchronous model and Boost.Beast's WebSocket stream for Node.js.
 * The net layer is re-exported here as `net`; each layer is also a subpath export.
 */

export * as net from './net/index.js';
