/**
 * `acceptWebSockets(httpServer)`: a {@link WebSocketServer} fed by the `'upgrade'` event of a
 * Node `http.Server` or `https.Server` (whose sockets are TLS sockets: the stream then reads
 * and writes cleartext through them). One listener per Node server routes each upgrade to the
 * attached WebSocketServer whose path matches; an upgrade no one takes gets 404, unless the
 * program has `'upgrade'` listeners of its own. On a Node HTTP/2 server the same servers also
 * take extended CONNECTs (RFC 8441) from its `'stream'` event, answered through `http2`'s
 * `asyncAccept`; other HTTP/2 streams are left to the program's listeners.
 */

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { TcpStream } from '../beast/core/index.js';
import type { Stream } from '../beast/websocket/index.js';
import { requestFromIncomingMessage } from '../beast/http/index.js';
import { refusalBytes } from './refusal.js';
import { WebSocketServer, type ServerOptions, type ServerStream, type StreamHandler } from './server.js';
import { asyncAccept as asyncAcceptHttp2, refuse as refuseHttp2 } from './http2/accept.js';
import { isWebSocketConnect, requestFromHttp2Headers } from './http2/headers.js';
import { Http2Layer } from './http2/layer.js';

/** The Node servers {@link acceptWebSockets} takes: HTTP/1.1 ones, and HTTP/2 ones (with or without TLS). */
export type NodeServer = HttpServer | Http2Server | Http2SecureServer;

interface Router {
  readonly servers: WebSocketServer[];
  readonly listener: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  readonly streamListener: ((stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void) | null;
}

const routers = new WeakMap<NodeServer, Router>();

// An HTTP/2 server (Node's Http2Server or Http2SecureServer): the one kind with `updateSettings`.
function isHttp2Server(server: NodeServer): server is Http2Server | Http2SecureServer {
  return typeof (server as Partial<Http2Server>).updateSettings === 'function';
}

// Node's upgrade socket has no 'error' listener of Node's any more: one must be there until the
// stream adopts the socket, or a reset during `verify` would crash the process.
function ignore(): void {}

/**
 * Accepts WebSocket connections on `server` (an `http.Server` or `https.Server`, listening or
 * not) and calls `handler` with each open stream. Several WebSocketServers may share one Node
 * server with different `path`s.
 *
 * On an `http2.Http2SecureServer` (created with `allowHTTP1: true` and
 * `settings: { enableConnectProtocol: true }`) both ways in are taken on one port: extended
 * CONNECTs over HTTP/2 (the stream's next layer is then an `Http2Layer`) and HTTP/1.1 upgrades;
 * `streamInfo(ws).via` says which. The same options apply to both (`verify`, `protocols`,
 * `deflate`…); a refusal over HTTP/2 is its status on the stream.
 *
 * @param server The Node server whose upgrades (and, on an HTTP/2 server, extended CONNECTs) to take.
 * @param handler Called with each open stream and what is known of its request.
 *
 * ```ts
 * const server = http.createServer().listen(8080);
 * acceptWebSockets(server, async (ws) => {
 *   for await (const m of messages(ws)) await send(ws, m.data);
 * });
 * ```
 */
export function acceptWebSockets(server: NodeServer, handler: StreamHandler): WebSocketServer;
/**
 * {@inheritDoc acceptWebSockets:0}
 * @param options The path to take, subprotocols, `verify`, compression, timeouts; see {@link ServerOptions}.
 */
export function acceptWebSockets(server: NodeServer, options: ServerOptions, handler: StreamHandler): WebSocketServer;
export function acceptWebSockets(server: NodeServer, a: ServerOptions | StreamHandler, b?: StreamHandler): WebSocketServer {
  const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b];
  if (handler === undefined) throw new TypeError('acceptWebSockets: a stream handler is required');
  const ws = new WebSocketServer(options, handler);
  let router = routers.get(server);
  if (router === undefined) {
    const servers: WebSocketServer[] = [];
    const listener = (req: IncomingMessage, socket: Socket, head: Buffer): void => route(server, servers, req, socket, head);
    const streamListener = isHttp2Server(server)
      ? (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => routeStream(servers, stream, headers)
      : null;
    router = { servers, listener, streamListener };
    routers.set(server, router);
    server.on('upgrade', listener);
    if (streamListener !== null) server.on('stream', streamListener);
  }
  const { servers, listener, streamListener } = router;
  if (servers.some((s) => s.path() === options.path)) {
    throw new TypeError(`acceptWebSockets: a WebSocketServer already takes ${options.path ?? 'every path'} on this server`);
  }
  servers.push(ws);
  ws.setDetach(() => {
    const i = servers.indexOf(ws);
    if (i >= 0) servers.splice(i, 1);
    if (servers.length === 0) {
      server.off('upgrade', listener);
      if (streamListener !== null) server.off('stream', streamListener);
      routers.delete(server);
    }
  });
  return ws;
}

/** An extended CONNECT for `websocket` on an HTTP/2 server: routed as an upgrade is. */
function routeStream(servers: readonly WebSocketServer[], stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  if (!isWebSocketConnect(headers)) return; // the program's own streams
  const request = requestFromHttp2Headers(headers);
  const q = request.target.indexOf('?');
  const path = q < 0 ? request.target : request.target.slice(0, q);
  const ws = servers.find((s) => s.path() === path) ?? servers.find((s) => s.path() === undefined);
  stream.on('error', ignore);
  if (ws === undefined) return refuseHttp2(stream, 404, 'no WebSocket here');
  let done = false;
  ws.offer({
    request,
    peer: stream.session === undefined ? 'unknown' : peerOf(stream.session.socket as Socket),
    head: new Uint8Array(0),
    incoming: undefined,
    refuse: (status) => {
      if (done) return;
      done = true;
      refuseHttp2(stream, status);
    },
    adopt: (executor) => {
      done = true;
      stream.off('error', ignore);
      return new Http2Layer(executor, stream);
    },
    accept: (ws: ServerStream, handler) => asyncAcceptHttp2(ws as Stream<Http2Layer>, headers, handler),
  });
}

function route(server: NodeServer, servers: readonly WebSocketServer[], req: IncomingMessage, socket: Socket, head: Buffer): void {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  // An exact path first, then a server that takes every path.
  const ws = servers.find((s) => s.path() === path) ?? servers.find((s) => s.path() === undefined);
  if (ws === undefined) {
    if (server.listenerCount('upgrade') > 1) return; // the program's own listener may take it
    socket.on('error', ignore);
    socket.end(refusalBytes(404), () => socket.destroy());
    return;
  }
  socket.on('error', ignore);
  let done = false;
  ws.offer({
    request: requestFromIncomingMessage(req),
    peer: peerOf(socket),
    head,
    incoming: req,
    refuse: (status, headers, body) => {
      if (done) return;
      done = true;
      if (socket.destroyed) return;
      let bytes: Buffer;
      try {
        bytes = refusalBytes(status, headers, body);
      } catch {
        bytes = refusalBytes(500);
      }
      socket.end(bytes, () => socket.destroy());
      // A peer that never reads must not keep the socket: bounded by one second.
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => clearTimeout(timer));
    },
    adopt: (executor) => {
      done = true;
      socket.off('error', ignore);
      return TcpStream.adopt(executor, socket);
    },
  });
}

function peerOf(socket: Socket): string {
  const a = socket.remoteAddress;
  if (a === undefined) return 'unknown';
  return a.includes(':') ? `[${a}]:${socket.remotePort}` : `${a}:${socket.remotePort}`;
}
