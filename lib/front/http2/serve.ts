/**
 * WebSockets on a Node HTTP/2 server, both ways a browser arrives: an extended CONNECT on an
 * HTTP/2 session (RFC 8441) and, on the same port when the server allows HTTP/1.1, the classic
 * upgrade. One routing rule, one hook to refuse or prepare, one callback with the open stream,
 * whichever way it came. The server itself (TLS, pages, other streams) stays the caller's.
 */

import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';

import { type ErrorCode, toExecutor, type ExecutorLike, type AsyncStream, makeWorkGuard } from '../../net/index.js';
import { DuplexStream } from '../../beast/core/index.js';
import { type Request, requestFromIncomingMessage } from '../../beast/http/index.js';
import { Stream } from '../../beast/websocket/index.js';
import { asyncAccept, refuse } from './accept.js';
import { isWebSocketConnect, requestFromHttp2Headers } from './headers.js';
import { Http2Layer } from './layer.js';

/** How a WebSocket arrived. */
export type Arrival = 'http2' | 'http/1.1';

/** What {@link serveWebSockets} does with the requests for WebSockets. */
export interface ServeOptions {
  /** The executor the streams run on (an `IoContext`); held busy while attached. */
  readonly executor: ExecutorLike;
  /** Which requests to take: a path (the target without its query) or a predicate; default all. Others get 404. */
  readonly path?: string | ((req: Request) => boolean);
  /**
   * Runs before the answer, with the new stream and the request (method `CONNECT` and version 20
   * over HTTP/2, `GET` and 11 over HTTP/1.1): set options (a `Decorator` choosing the subprotocol,
   * `PermessageDeflate`, `Timeout`), or return a status (401, 403, …) to refuse.
   */
  readonly prepare?: (ws: Stream<AsyncStream>, req: Request, via: Arrival) => number | void;
  /** Called with each stream whose handshake succeeded. */
  readonly onStream: (ws: Stream<AsyncStream>, req: Request, via: Arrival) => void;
  /** Called when a handshake failed (the stream or connection is closed already). */
  readonly onError?: (ec: ErrorCode, req: Request, via: Arrival) => void;
}

/** The result of {@link serveWebSockets}: detaching stops taking new WebSockets. */
export interface Attachment {
  /** Removes the listeners and releases the executor; open streams go on. */
  detach(): void;
}

function routeMatches(path: ServeOptions['path'], req: Request): boolean {
  if (path === undefined) return true;
  if (typeof path === 'function') return path(req);
  const q = req.target.indexOf('?');
  return (q < 0 ? req.target : req.target.slice(0, q)) === path;
}

/**
 * Takes WebSockets on `server`: extended CONNECTs with `:protocol` websocket from its `'stream'`
 * event (other streams are left to the caller's listeners), and HTTP/1.1 upgrades from its
 * `'upgrade'` event (with `allowHTTP1`). The server should be created with
 * `settings: { enableConnectProtocol: true }`, or browsers will not use HTTP/2 for WebSockets.
 */
export function serveWebSockets(server: Http2Server | Http2SecureServer, options: ServeOptions): Attachment {
  const ex = toExecutor(options.executor);
  const guard = makeWorkGuard(ex);
  const done = (ws: Stream<AsyncStream>, req: Request, via: Arrival) => (ec: ErrorCode | null): void => {
    if (ec === null) options.onStream(ws, req, via);
    else options.onError?.(ec, req, via);
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (!isWebSocketConnect(headers)) return;
    const req = requestFromHttp2Headers(headers);
    if (!routeMatches(options.path, req)) return refuse(stream, 404, 'no WebSocket here');
    const ws = new Stream(new Http2Layer(ex, stream));
    const status = options.prepare?.(ws as Stream<AsyncStream>, req, 'http2');
    if (typeof status === 'number') return refuse(stream, status);
    asyncAccept(ws, headers, done(ws as Stream<AsyncStream>, req, 'http2'));
  };

  const onUpgrade = (msg: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const req = requestFromIncomingMessage(msg);
    const status = routeMatches(options.path, req) ? undefined : 404;
    const ws = new Stream(new DuplexStream(ex, socket));
    const refused = status ?? options.prepare?.(ws as Stream<AsyncStream>, req, 'http/1.1');
    if (typeof refused === 'number') {
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 ${refused} ${refused === 404 ? 'Not Found' : 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    ws.asyncAccept(req, head, done(ws as Stream<AsyncStream>, req, 'http/1.1'));
  };

  server.on('stream', onStream);
  server.on('upgrade', onUpgrade);
  let attached = true;
  return {
    detach(): void {
      if (!attached) return;
      attached = false;
      server.removeListener('stream', onStream);
      server.removeListener('upgrade', onUpgrade);
      guard.reset();
    },
  };
}
