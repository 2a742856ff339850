import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, send, type ClientStream } from 'tsbeast';

const server = createServer().listen(0, '127.0.0.1');
const wss = acceptWebSockets(server, { closeTimeout: 2000 }, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
await new Promise((resolve) => server.once('listening', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;

// Two clients that read until the server closes them.
async function client(ws: ClientStream): Promise<number> {
  for await (const message of messages(ws)) void message;
  return ws.reason().code;
}
const streams = await Promise.all([connect(url), connect(url)]);
const codes = streams.map(client);
await send(streams[0]!, 'ping'); // make sure both are accepted and live
while (wss.streams().size < 2) await new Promise((resolve) => setTimeout(resolve, 5));

// On SIGTERM, a server would do this: stop taking upgrades, close every stream with 1001
// (each closing handshake bounded by closeTimeout, then the socket is closed), then stop HTTP.
console.log('closing', wss.streams().size, 'streams');
await wss.close();
server.close();
console.log('clients saw', (await Promise.all(codes)).join(', '));
