/**
 * `listenWebSockets`: a {@link WebSocketServer} on a port of its own, for programs without an
 * HTTP server: a `TcpAcceptor` accepts connections, each one's upgrade request is read with
 * Beast's HTTP reader under the handshake timeout, and then offered to the server exactly as an
 * `http.Server` upgrade would be. A connection that sends no valid request in time is closed.
 */

import {
  asyncCompose,
  type ComposedSelf,
  asyncWrite,
  Endpoint,
  FlatBuffer,
  TcpAcceptor,
  TcpSocket,
  error as netError,
  type AsyncResult,
  type ErrorCode,
  type Executor,
  type TokenFor,
  type UsePromise,
} from '../net/index.js';
import { TcpStream } from '../beast/core/index.js';
import { asyncRead, Request } from '../beast/http/index.js';
import { frontExecutor } from './context.js';
import { initiateDescribed } from './errors.js';
import { refusalBytes } from './refusal.js';
import { WebSocketServer, type ServerOptions, type StreamHandler } from './server.js';

/** Where {@link listenWebSockets} listens: a port (0: any free one) and an address (default `127.0.0.1`). */
export interface ListenOptions extends ServerOptions {
  readonly port?: number;
  readonly host?: string;
}

/** The completion signature of {@link listenWebSockets}: the error and the listening server. */
export type ListenSignature = [ec: ErrorCode | null, server: WebSocketServer];

/**
 * Listens on `options.host`:`options.port` and calls `handler` with each accepted stream; the
 * server's `localEndpoint()` tells the port. `close()` stops listening and closes every stream
 * with 1001. Signature `[ec, server]`: `addressInUse`, `accessDenied`… when the port cannot be had.
 *
 * ```ts
 * const server = await listenWebSockets({ port: 9001 }, async (ws) => {
 *   for await (const m of messages(ws)) await send(ws, m.data);
 * });
 * ```
 */
export function listenWebSockets(options: ListenOptions, handler: StreamHandler): Promise<WebSocketServer>;
export function listenWebSockets<T extends TokenFor<ListenSignature>>(
  options: ListenOptions,
  handler: StreamHandler,
  token: T,
): AsyncResult<T, ListenSignature>;
export function listenWebSockets(options: ListenOptions, handler: StreamHandler, token?: TokenFor<ListenSignature>): unknown {
  const endpoint = new Endpoint(options.host ?? '127.0.0.1', options.port ?? 0);
  const executor = frontExecutor(options.executor);
  const server = new WebSocketServer(options, handler);
  return initiateDescribed<ListenSignature, TokenFor<ListenSignature> | undefined>(
    (t) => asyncCompose<ListenSignature, TokenFor<ListenSignature>>((self) => listenSteps(self, executor, endpoint, server, options), t, executor),
    token,
    () => `listen on ${endpoint.toString()}`,
  ) as AsyncResult<UsePromise, ListenSignature>;
}

/** The steps of {@link listenWebSockets} (a generator of the module: see `asyncCompose`). */
function* listenSteps(self: ComposedSelf<ListenSignature>, executor: Executor, endpoint: Endpoint, server: WebSocketServer, options: ListenOptions) {
  const acceptor = new TcpAcceptor(executor, endpoint);
  const [ec] = yield* self.call<[ErrorCode | null]>((h) => acceptor.asyncListen(h));
  if (ec !== null) {
    acceptor.close();
    void server.close(() => {}); // releases its hold on an IoContext
    return self.complete(ec, server);
  }
  server.setLocalEndpoint(acceptor.localEndpoint());
  const reading = new Set<TcpStream>();
  server.setDetach(() => {
    acceptor.close();
    for (const tcp of reading) tcp.close();
    reading.clear();
  });
  acceptLoop(acceptor, server, executor, reading, options.timeout?.handshakeTimeout ?? 30_000);
  self.complete(null, server);
}

function acceptLoop(acceptor: TcpAcceptor, server: WebSocketServer, executor: Executor, reading: Set<TcpStream>, timeout: number): void {
  acceptor.asyncAccept((ec, socket) => {
    if (ec !== null) {
      if (server.isClosing() || ec === netError.operationAborted || !acceptor.isOpen()) return;
      // Out of descriptors and the like: try again shortly rather than spin.
      const timer = setTimeout(() => acceptLoop(acceptor, server, executor, reading, timeout), 100);
      server.setDetach(() => {
        clearTimeout(timer);
        acceptor.close();
        for (const tcp of reading) tcp.close();
        reading.clear();
      });
      return;
    }
    readRequest(new TcpStream(socket), server, reading, timeout);
    acceptLoop(acceptor, server, executor, reading, timeout);
  });
}

function readRequest(tcp: TcpStream, server: WebSocketServer, reading: Set<TcpStream>, timeout: number): void {
  tcp.socket().setOption(TcpSocket.noDelay(true));
  const buffer = new FlatBuffer();
  const request = new Request();
  let peer = 'unknown';
  try {
    peer = tcp.socket().remoteEndpoint().toString();
  } catch {
    return tcp.close(); // already gone
  }
  reading.add(tcp);
  if (timeout !== Infinity) tcp.expiresAfter(timeout);
  asyncRead(tcp, buffer, request, (ec) => {
    if (!reading.delete(tcp)) return; // the server closed meanwhile
    tcp.expiresNever();
    if (ec !== null) {
      if (ec === netError.eof || !tcp.isOpen()) return tcp.close();
      return void asyncWrite(tcp, refusalBytes(400), () => tcp.close());
    }
    let done = false;
    server.offer({
      request,
      peer,
      head: buffer.data(),
      incoming: undefined,
      refuse: (status, headers, body) => {
        if (done) return;
        done = true;
        let bytes: Uint8Array;
        try {
          bytes = refusalBytes(status, headers, body);
        } catch {
          bytes = refusalBytes(500);
        }
        tcp.expiresAfter(1000); // a peer that does not read must not keep the socket
        asyncWrite(tcp, bytes, () => tcp.close());
      },
      adopt: () => {
        done = true;
        return tcp;
      },
    });
  });
}
