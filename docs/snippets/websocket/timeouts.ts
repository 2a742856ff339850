import { FlatBuffer, IoContext } from 'tsbeast/net';
import { TestStream } from 'tsbeast/test';
import { Stream, Timeout } from 'tsbeast/websocket';

console.log('suggested for a server:', Timeout.suggested('server'));

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);
const running = ioc.run();
await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);

// 40 ms of silence fails the server's read; without keep-alive pings nothing is sent meanwhile.
server.setOption(new Timeout(1000, 40, false));
try {
  await server.asyncRead(new FlatBuffer());
} catch (err) {
  console.log('server read:', (err as Error).message, '- open:', server.isOpen());
}
await client.asyncRead(new FlatBuffer()).catch((e: Error) => console.log('client read:', e.message));
await running;
