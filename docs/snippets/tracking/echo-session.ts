// An echo session on 127.0.0.1, for handler tracking: run it with TSBEAST_HANDLER_TRACKING=1 and
// every operation, handler and close shows in the log (see docs/topics/handler-tracking.md).
import { buffer, FlatBuffer, Endpoint, IoContext, TcpAcceptor, TcpSocket } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
const running = ioc.run();
await acceptor.asyncListen();

const server = (async () => {
  const ws = new Stream(await acceptor.asyncAccept());
  await ws.asyncAccept();
  const message = new FlatBuffer();
  try {
    for (;;) {
      await ws.asyncRead(message);
      await ws.asyncWrite(message.data());
      message.consume(message.size());
    }
  } catch {
    // the client closed
  }
})();

const ws = new Stream(new TcpSocket(ioc));
await ws.nextLayer().asyncConnect(acceptor.localEndpoint());
await ws.asyncHandshake('localhost', '/');
const reply = new FlatBuffer();
for (const text of ['hello', 'Beast']) {
  await ws.asyncWrite(buffer(text));
  await ws.asyncRead(reply);
}
await ws.asyncClose(CloseCode.normal);
await server;
acceptor.close();
await running;
console.log('echoed:', reply.size(), 'bytes');
