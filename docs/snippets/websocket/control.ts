import { FlatBuffer, IoContext } from 'tsbeast/net';
import { TestStream } from 'tsbeast/test';
import { closeReason, Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);
const running = ioc.run();
await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);

// Control frames are seen by reads: the callback reports them, and pings are answered by the read.
server.controlCallback((kind, payload) => console.log(`server saw ${kind} "${payload}"`));
client.controlCallback((kind, payload) => console.log(`client saw ${kind} "${payload}"`));
const serverRead = server.asyncRead(new FlatBuffer()).catch((e: Error) => console.log('server read:', e.message));
const clientRead = client.asyncRead(new FlatBuffer()).catch((e: Error) => console.log('client read:', e.message));

await client.asyncPing('are you there?');
await server.asyncPing('still here');

// The client closes: its own pending read ends with operationAborted; the server's read receives
// the close frame, answers it, and ends with `closed`, the peer's reason in reason().
await client.asyncClose(closeReason(4000, 'done'));
await Promise.all([clientRead, serverRead]);
console.log('server got', server.reason());
await running;
