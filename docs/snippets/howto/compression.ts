import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, send } from 'tsbeast';

const server = createServer().listen(0, '127.0.0.1');
const wss = acceptWebSockets(server, { deflate: { compLevel: 6 } }, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
await new Promise((resolve) => server.once('listening', resolve));

const ws = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { deflate: true });
console.log('permessage-deflate active:', ws.getStatus().active);
await send(ws, 'a highly compressible message '.repeat(100));
for await (const message of messages(ws)) {
  console.log('echoed', message.data.length, 'characters');
  await ws.asyncClose(1000);
}
await wss.close();
server.close();
