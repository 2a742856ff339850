/**
 * The server under attack: the echo server of examples/echo_server.ts as it ships (a
 * `Stream<TcpStream>` per connection, permessage-deflate offered, callbacks), in this process so
 * that `/proc/self/fd` counts its descriptors, with `Timeout.suggested('server')` scaled down
 * (handshake 500 ms, idle 1 s with keep-alive pings) so that silent peers end within a test.
 * A session that ends does nothing more than the example does: closing is the library's job, and
 * each end records whether the next layer was already closed when the handler ran.
 */

import { TcpStream } from '../../lib/beast/core/index.js';
import { PermessageDeflate, Stream, Timeout } from '../../lib/beast/websocket/index.js';
import { Endpoint, FlatBuffer, IoContext, TcpAcceptor, TcpSocket, type ErrorCode } from '../../lib/net/index.js';

/** How one session ended. */
export interface SessionEnd {
  step: 'accept' | 'read' | 'write';
  ec: ErrorCode;
  /** `nextLayer().isOpen()` inside the failing operation's handler: must be false. */
  nextOpen: boolean;
}

/** The scaled-down suggested server timeouts the attack suite runs with. */
export const attackTimeout = new Timeout(500, 1000, true);

export class EchoServer {
  readonly ioc = new IoContext();
  readonly acceptor: TcpAcceptor;
  readonly sessions = new Set<Stream<TcpStream>>();
  readonly ends: SessionEnd[] = [];
  #running: Promise<number> | null = null;

  private constructor() {
    this.acceptor = new TcpAcceptor(this.ioc, new Endpoint('127.0.0.1', 0));
  }

  static async start(): Promise<EchoServer> {
    const s = new EchoServer();
    s.#running = s.ioc.run();
    await s.acceptor.asyncListen();
    s.#acceptLoop();
    return s;
  }

  port(): number {
    return this.acceptor.localEndpoint().port;
  }

  /** Stops accepting, cuts what is left (the legitimate client's session), waits for the end. */
  async stop(): Promise<void> {
    this.acceptor.close();
    for (const ws of this.sessions) ws.nextLayer().close();
    await this.#running;
  }

  #acceptLoop(): void {
    this.acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return;
      this.#session(socket);
      this.#acceptLoop();
    });
  }

  #session(socket: TcpSocket): void {
    socket.setOption(TcpSocket.noDelay(true));
    const ws = new Stream(new TcpStream(socket));
    ws.setOption(attackTimeout);
    ws.setOption(new PermessageDeflate({ serverEnable: true }));
    this.sessions.add(ws);
    const buffer = new FlatBuffer();
    const fail = (step: SessionEnd['step'], ec: ErrorCode): void => {
      this.ends.push({ step, ec, nextOpen: ws.nextLayer().isOpen() });
      this.sessions.delete(ws);
    };
    const onRead = (ec: ErrorCode | null): void => {
      if (ec !== null) return fail('read', ec);
      ws.text(ws.gotText());
      ws.asyncWrite(buffer.data(), onWrite);
    };
    const onWrite = (ec: ErrorCode | null): void => {
      if (ec !== null) return fail('write', ec);
      buffer.consume(buffer.size());
      ws.asyncRead(buffer, onRead);
    };
    ws.asyncAccept((ec) => {
      if (ec !== null) return fail('accept', ec);
      ws.asyncRead(buffer, onRead);
    });
  }
}
