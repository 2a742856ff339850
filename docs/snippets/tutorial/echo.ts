import { buffer, buffersToString, Endpoint, FlatBuffer, IoContext, Resolver, TcpAcceptor } from 'tsbeast/net';
import { TcpStream } from 'tsbeast/core';
import { CloseCode, Stream, Timeout } from 'tsbeast/websocket';

const ioc = new IoContext();
const running = ioc.run();

// Step 1, the server: listen on loopback, any free port.
const acceptor = new TcpAcceptor(ioc, Endpoint.loopback(0));
await acceptor.asyncListen();

// Step 2, a session: accept a connection, wrap it, set Beast's suggested timeouts, take the
// handshake, then echo each message back until the peer closes.
async function session(): Promise<void> {
  const ws = new Stream(new TcpStream(await acceptor.asyncAccept()));
  ws.setOption(Timeout.suggested('server'));
  await ws.asyncAccept();
  const message = new FlatBuffer();
  try {
    for (;;) {
      await ws.asyncRead(message);
      ws.text(ws.gotText());
      await ws.asyncWrite(message.data());
      message.consume(message.size());
    }
  } catch (err) {
    console.log('server: session ended:', (err as Error).message);
  }
}
const served = session();

// Step 3, the client: resolve, connect, handshake, send, read the echo, close.
const endpoints = await new Resolver(ioc).asyncResolve('localhost', String(acceptor.localEndpoint().port));
const ws = new Stream(new TcpStream(ioc));
await ws.nextLayer().asyncConnect(endpoints);
ws.setOption(Timeout.suggested('client'));
await ws.asyncHandshake('localhost', '/');
await ws.asyncWrite(buffer('hello'));
const reply = new FlatBuffer();
await ws.asyncRead(reply);
console.log('client: got', buffersToString(reply.data()));
await ws.asyncClose(CloseCode.normal);

// Step 4, shut down: wait for the session, stop listening; run() then has nothing left to do.
await served;
acceptor.close();
await running;
console.log('done');
