// One HTTP connection of the chat demo (Beast's chat-multi `http_session`): it serves the page at
// `/`, answers 404 elsewhere, and hands a WebSocket upgrade over to a WebSocketSession.

import { error as netError, FlatBuffer, ShutdownType, TcpSocket, type ErrorCode } from 'tsbeast/net';
import { asyncRead, asyncWrite, error as httpError, isUpgrade, keepAlive, Request, Response } from 'tsbeast/http';
import { condition as beastCondition, TcpStream } from 'tsbeast/core';
import { page } from './page.js';
import type { Connection, SharedState } from './shared-state.js';
import { WebSocketSession } from './websocket-session.js';

/** How long a client may take to send a request. */
const requestTimeoutMs = 30_000;

/**
 * An HTTP connection: requests are read one after another (keep-alive) until the client is done,
 * or until one asks to become a WebSocket.
 */
export class HttpSession implements Connection {
  readonly #stream: TcpStream;
  readonly #state: SharedState;
  readonly #peer: string;
  readonly #buffer = new FlatBuffer();

  constructor(socket: TcpSocket, state: SharedState) {
    // Chat is interactive: a message split into frames must not wait for delayed ACKs (Nagle).
    socket.setOption(TcpSocket.noDelay(true));
    this.#stream = new TcpStream(socket);
    this.#state = state;
    this.#peer = peerOf(socket);
  }

  /** Starts reading requests. */
  run(): void {
    this.#state.opened(this);
    this.#read();
  }

  /** Closes the connection (the server is shutting down). */
  stop(): void {
    this.#stream.close();
  }

  #read(): void {
    const request = new Request();
    this.#stream.expiresAfter(requestTimeoutMs);
    asyncRead(this.#stream, this.#buffer, request, (ec) => this.#onRead(ec, request));
  }

  #onRead(ec: ErrorCode | null, request: Request): void {
    if (ec === httpError.endOfStream) return this.#done(); // the client is done with us
    if (ec !== null) return this.#fail(ec, 'read');

    if (isUpgrade(request)) {
      // The socket, the request and whatever followed it go to the WebSocket session; the
      // WebSocket timeouts take over from this stream's deadline.
      this.#state.closed(this);
      const session = new WebSocketSession(this.#stream.releaseSocket(), this.#state, this.#peer);
      session.run(request, this.#buffer.data());
      return;
    }

    const response = respond(request);
    const again = keepAlive(request);
    if (!again) response.fields.set('Connection', 'close');
    asyncWrite(this.#stream, response, (ec) => {
      if (ec !== null) return this.#fail(ec, 'write');
      if (again) this.#read();
      else this.#done();
    });
  }

  /** Ends the connection cleanly: our side of the stream is shut down, then the socket closed. */
  #done(): void {
    this.#state.closed(this);
    if (this.#stream.isOpen()) {
      try {
        this.#stream.shutdown(ShutdownType.send);
      } catch {
        // Already reset by the peer: nothing left to shut down.
      }
    }
    this.#stream.close();
  }

  #fail(ec: ErrorCode, what: string): void {
    // Our own shutdown, and an idle keep-alive connection timing out, are not errors.
    if (ec !== netError.operationAborted && !ec.matches(beastCondition.timeout)) {
      console.error(`error ${this.#peer} http ${what}: ${ec.message()}`);
    }
    this.#state.closed(this);
    this.#stream.close();
  }
}

/** The peer's address for the log; a connection reset since it was accepted has none. */
function peerOf(socket: TcpSocket): string {
  try {
    return socket.remoteEndpoint().toString();
  } catch {
    return 'unknown peer';
  }
}

/** The answer to a plain HTTP request: the page at `/`, 404 elsewhere, 405 for other methods. */
function respond(request: Request): Response {
  const path = request.target.split('?')[0];
  if (path !== '/') {
    return new Response({
      status: 404,
      fields: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: `The resource '${request.target}' was not found.\n`,
    });
  }
  if (request.method !== 'GET') {
    return new Response({ status: 405, fields: { Allow: 'GET', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Only GET here.\n' });
  }
  return new Response({
    fields: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
    body: page,
  });
}
