// A write that cannot finish (the peer reads nothing) cancelled by a deadline, for handler
// tracking: run it with TSBEAST_HANDLER_TRACKING=1 (see docs/topics/handler-tracking.md).
import { asTuple, cancelAfter, Endpoint, IoContext, TcpAcceptor, TcpSocket } from 'tsbeast/net';
import { Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
const running = ioc.run();
await acceptor.asyncListen();

// The server takes the handshake, then reads nothing until the client is gone.
const server = (async () => {
  const ws = new Stream(await acceptor.asyncAccept());
  await ws.asyncAccept();
  return ws;
})();

const ws = new Stream(new TcpSocket(ioc));
await ws.nextLayer().asyncConnect(acceptor.localEndpoint());
await ws.asyncHandshake('localhost', '/');
const peer = await server;

// 64 MiB fill the socket buffers on both sides: the write waits until the deadline cancels it.
const [ec] = await ws.asyncWrite(Buffer.alloc(64 << 20), cancelAfter(50, asTuple()));
console.log('write:', ec?.message());
peer.nextLayer().close();
acceptor.close();
await running;
