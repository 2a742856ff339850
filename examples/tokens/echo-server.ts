// The echo server the token examples talk to: it runs in the example's own process and context.

import { Endpoint, FlatBuffer, TcpAcceptor, type IoContext, type TcpSocket } from 'tsbeast/net';
import { Stream } from 'tsbeast/websocket';

/** A running echo server: where to connect, and how to stop accepting. */
export interface EchoServer {
  readonly endpoint: Endpoint;
  /** Stops accepting; connections already accepted end when their clients close them. */
  close(): void;
}

/**
 * Starts a WebSocket echo server on 127.0.0.1 (a free port) on `ioc`, which must be running.
 * Each connection echoes messages, text as text and binary as binary, until it is closed.
 */
export async function startEchoServer(ioc: IoContext): Promise<EchoServer> {
  const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
  await acceptor.asyncListen();
  const acceptLoop = (): void =>
    acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return; // closed
      void echo(new Stream(socket));
      acceptLoop();
    });
  acceptLoop();
  return { endpoint: acceptor.localEndpoint(), close: () => acceptor.close() };
}

/** One connection: take the handshake, then echo until the client closes. */
async function echo(ws: Stream<TcpSocket>): Promise<void> {
  const message = new FlatBuffer();
  try {
    await ws.asyncAccept();
    for (;;) {
      await ws.asyncRead(message);
      ws.text(ws.gotText());
      await ws.asyncWrite(message.data());
      message.consume(message.size());
    }
  } catch {
    // The client closed (or went away): the session is over either way.
  }
}
