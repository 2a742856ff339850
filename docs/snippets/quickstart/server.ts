import { createServer } from 'node:http';
import { acceptWebSockets, messages, send } from 'tsbeast';

const server = createServer().listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
acceptWebSockets(server, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
