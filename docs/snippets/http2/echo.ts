import * as http2 from 'node:http2';
import { buffer, buffersToString, FlatBuffer, IoContext, type AsyncStream } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { asyncHandshake, Http2Layer, serveWebSockets } from 'tsbeast/http2';

const ioc = new IoContext();

// The server: any Node HTTP/2 server with the extended CONNECT enabled (RFC 8441).
const server = http2.createServer({ settings: { enableConnectProtocol: true } });
const attachment = serveWebSockets(server, {
  executor: ioc,
  path: '/echo',
  onStream: (ws) => void echo(ws),
});
async function echo(ws: Stream<AsyncStream>): Promise<void> {
  const message = new FlatBuffer();
  try {
    for (;;) {
      await ws.asyncRead(message);
      ws.text(ws.gotText());
      await ws.asyncWrite(message.data());
      message.consume(message.size());
    }
  } catch {
    // closed by the client
  }
}
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const running = ioc.run();

// The client: one session, three WebSockets on it, each an HTTP/2 stream.
const { port } = server.address() as { port: number };
const session = http2.connect(`http://127.0.0.1:${port}`);
for (const name of ['one', 'two', 'three']) {
  const ws = new Stream(new Http2Layer(ioc));
  await asyncHandshake(ws, session, 'localhost', '/echo');
  await ws.asyncWrite(buffer(`hello ${name}`));
  const reply = new FlatBuffer();
  await ws.asyncRead(reply);
  console.log(`stream ${ws.nextLayer().stream()!.id}:`, buffersToString(reply.data()));
  await ws.asyncClose(CloseCode.normal);
}

session.close();
attachment.detach();
server.close();
await running;
