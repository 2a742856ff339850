// One HTTP connection of the chat demo (Beast's chat-multi `http_session`): it serves the page at
// `/`, answers 404 elsewhere, and hands a WebSocket upgrade over to a WebSocketSession.

import { error as netError, FlatBuffer, ShutdownType, TcpSocket, type ErrorCode } from 'tsbeast/net';
import { asyncRead, asyncWrite, error as httpError, isUpgrade, keepAlive, Request, Response } from 'tsbeast/http';
import { condition as beastCondition, TcpStream } from 'tsbeast/core';
import { page } from './page.js';
import { validName } from './protocol.js';
import type { Connection, Room } from './room.js';
import { WebSocketSession, type Identity } from './websocket-session.js';

/** How long a client may take to send a request. */
const requestTimeoutMs = 30_000;

/**
 * An HTTP connection: requests are read one after another (keep-alive) until the client is done,
 * or until one asks to become a WebSocket.
 */
export class HttpSession implements Connection {
  readonly #stream: TcpStream;
  readonly #room: Room;
  readonly #peer: string;
  readonly #buffer = new FlatBuffer();

  readonly #origins: OriginPolicy;

  constructor(socket: TcpSocket, room: Room, origins: OriginPolicy) {
    this.#origins = origins;
    // Chat is interactive: a message split into frames must not wait for delayed ACKs (Nagle).
    socket.setOption(TcpSocket.noDelay(true));
    this.#stream = new TcpStream(socket);
    this.#room = room;
    this.#peer = peerOf(socket);
  }

  /** Starts reading requests. */
  run(): void {
    this.#room.opened(this);
    this.#read();
  }

  /** Closes the connection (the server is shutting down): an idle keep-alive has nothing to say. */
  stop(): void {
    this.#stream.close();
  }

  /** Closes the socket now. */
  destroy(): void {
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

    if (isUpgrade(request) && chatPath(request) && this.#origins.allows(request)) {
      // The socket, the request and whatever followed it go to the WebSocket session; the
      // WebSocket timeouts take over from this stream's deadline.
      this.#room.closed(this);
      const session = new WebSocketSession(this.#stream.releaseSocket(), this.#room, this.#peer, identity(request));
      session.run(request, this.#buffer.data());
      return;
    }

    const refused = isUpgrade(request);
    const response = refused ? refuse(request) : respond(request);
    const again = keepAlive(request) && !refused;
    if (!again) response.fields.set('Connection', 'close');
    asyncWrite(this.#stream, response, (ec) => {
      if (ec !== null) return this.#fail(ec, 'write');
      if (again) this.#read();
      else this.#done();
    });
  }

  /** Ends the connection cleanly: our side of the stream is shut down, then the socket closed. */
  #done(): void {
    this.#room.closed(this);
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
    this.#room.closed(this);
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

/**
 * Which pages may open the chat's WebSocket. A browser sends the page's origin with every
 * upgrade and lets any page connect anywhere, so without this check any site a member visits
 * could post in the room as that member (cross-site WebSocket hijacking). The default is the
 * page's own origin, `http://` or `https://` and the Host the request came to; `ORIGINS` (a
 * comma-separated list) replaces it, e.g. for a site whose page is served elsewhere. Programs
 * that are not browsers send no Origin and are let in: they could send any Origin they liked.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string> | null;

  constructor(list: string | undefined) {
    const origins = (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    this.#allowed = origins.length > 0 ? new Set(origins) : null;
  }

  allows(request: Request): boolean {
    const origin = request.fields.get('Origin');
    if (origin === undefined) return true;
    if (this.#allowed !== null) return this.#allowed.has(origin);
    const host = request.fields.get('Host');
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  }
}

/** Whether the request is for the chat's WebSocket endpoint. */
function chatPath(request: Request): boolean {
  const path = request.target.split('?')[0];
  return path === '/chat' || path === '/';
}

/** The name and token the page asked for in the query string, made valid. */
function identity(request: Request): Identity {
  const query = new URL(request.target, 'http://chat.invalid').searchParams;
  const token = query.get('token');
  return {
    name: validName(query.get('name')),
    // The token lets a browser take its name back after a reconnect; without one, a fresh one.
    token: token !== null && /^[A-Za-z0-9_-]{8,64}$/.test(token) ? token : crypto.randomUUID(),
  };
}

/** The answer to an upgrade we do not accept: 403 for a foreign page, 404 for another path. */
function refuse(request: Request): Response {
  const found = chatPath(request);
  return new Response({
    status: found ? 403 : 404,
    fields: { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' },
    body: found ? `The origin '${request.fields.get('Origin') ?? ''}' may not open this chat.\n` : `The resource '${request.target}' was not found.\n`,
  });
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
