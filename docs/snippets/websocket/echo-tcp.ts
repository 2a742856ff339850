import { buffer, buffersToString, Endpoint, FlatBuffer, IoContext, TcpAcceptor, TcpSocket } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
const running = ioc.run();
await acceptor.asyncListen();

// The server: accept one connection, take the WebSocket handshake, echo messages until closed.
const server = (async () => {
  const ws = new Stream(await acceptor.asyncAccept());
  await ws.asyncAccept();
  const message = new FlatBuffer();
  try {
    for (;;) {
      await ws.asyncRead(message);
      ws.text(ws.gotText()); // answer text with text, binary with binary
      await ws.asyncWrite(message.data());
      message.consume(message.size());
    }
  } catch (err) {
    return (err as Error).message;
  }
})();

// The client: connect, handshake, send, read the echo, close.
const socket = new TcpSocket(ioc);
await socket.asyncConnect(acceptor.localEndpoint());
const ws = new Stream(socket);
await ws.asyncHandshake('localhost', '/');
await ws.asyncWrite(buffer('hello, Beast'));
const reply = new FlatBuffer();
await ws.asyncRead(reply);
console.log('client got:', buffersToString(reply.data()));
await ws.asyncClose(CloseCode.normal);
console.log('closed with', ws.reason().code);

console.log('server read ended:', await server);
acceptor.close();
await running;
