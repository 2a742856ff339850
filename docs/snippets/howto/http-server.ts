import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, send, streamInfo } from 'tsbeast';

// Plain HTTP requests are Node's; upgrades to /chat go to the WebSocket server.
const server = createServer((_req, res) => res.end('plain HTTP\n')).listen(0, '127.0.0.1');
const wss = acceptWebSockets(
  server,
  {
    path: '/chat',
    protocols: ['chat.v2', 'chat.v1'],
    // Refuse before accepting: 401 without the token, 403 from a foreign page.
    verify: (info) => {
      if (info.request.fields.get('Authorization') !== 'Bearer secret') return 401;
      return info.origin === undefined || info.origin === 'https://app.example';
    },
  },
  async (ws, info) => {
    await send(ws, `welcome ${info.peer.startsWith('127.0.0.1') ? 'local' : 'remote'} user, protocol ${info.protocol}`);
    for await (const message of messages(ws)) await send(ws, message.data);
  },
);
await new Promise((resolve) => server.once('listening', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/chat`;

await connect(url).catch((err: Error) => console.log(err.message.replace(/:\d+/g, ':PORT')));
const ws = await connect(url, { protocols: ['chat.v1', 'chat.v2'], headers: { Authorization: 'Bearer secret' } });
console.log('agreed on', streamInfo(ws)?.protocol);
for await (const message of messages(ws)) {
  console.log(message.data);
  await ws.asyncClose(1000);
}
await wss.close();
server.close();
