/**
 * `acceptWebSockets(httpServer)`: a {@link WebSocketServer} fed by the `'upgrade'` event of a
 * Node `http.Server` or `https.Server` (whose sockets are TLS sockets: the stream then reads
 * and writes cleartext through them). One listener per Node server routes each upgrade to the
 * attached WebSocketServer whose path matches; an upgrade no one takes gets 404, unless the
 * program has `'upgrade'` listeners of its own.
 */

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { TcpStream } from '../beast/core/index.js';
import { requestFromIncomingMessage } from '../beast/http/index.js';
import { refusalBytes } from './refusal.js';
import { WebSocketServer, type ServerOptions, type StreamHandler } from './server.js';

interface Router {
  readonly servers: WebSocketServer[];
  readonly listener: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
}

const routers = new WeakMap<HttpServer, Router>();

// Node's upgrade socket has no 'error' listener of Node's any more: one must be there until the
// stream adopts the socket, or a reset during `verify` would crash the process.
function ignore(): void {}

/**
 * Accepts WebSocket connections on `server` (an `http.Server` or `https.Server`, listening or
 * not) and calls `handler` with each open stream. Several WebSocketServers may share one Node
 * server with different `path`s.
 *
 * ```ts
 * const server = http.createServer().listen(8080);
 * acceptWebSockets(server, async (ws) => {
 *   for await (const m of messages(ws)) await send(ws, m.data);
 * });
 * ```
 */
export function acceptWebSockets(server: HttpServer, handler: StreamHandler): WebSocketServer;
export function acceptWebSockets(server: HttpServer, options: ServerOptions, handler: StreamHandler): WebSocketServer;
export function acceptWebSockets(server: HttpServer, a: ServerOptions | StreamHandler, b?: StreamHandler): WebSocketServer {
  const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b];
  if (handler === undefined) throw new TypeError('acceptWebSockets: a stream handler is required');
  const ws = new WebSocketServer(options, handler);
  let router = routers.get(server);
  if (router === undefined) {
    const servers: WebSocketServer[] = [];
    const listener = (req: IncomingMessage, socket: Socket, head: Buffer): void => route(server, servers, req, socket, head);
    router = { servers, listener };
    routers.set(server, router);
    server.on('upgrade', listener);
  }
  const { servers, listener } = router;
  if (servers.some((s) => s.path() === options.path)) {
    throw new TypeError(`acceptWebSockets: a WebSocketServer already takes ${options.path ?? 'every path'} on this server`);
  }
  servers.push(ws);
  ws.setDetach(() => {
    const i = servers.indexOf(ws);
    if (i >= 0) servers.splice(i, 1);
    if (servers.length === 0) {
      server.off('upgrade', listener);
      routers.delete(server);
    }
  });
  return ws;
}

function route(server: HttpServer, servers: readonly WebSocketServer[], req: IncomingMessage, socket: Socket, head: Buffer): void {
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
