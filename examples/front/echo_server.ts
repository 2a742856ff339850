// front/echo_server: the echo server of examples/echo_server.ts, through the front door: an
// http.Server, acceptWebSockets, messages() and send(). No IoContext, no run().
//
//   node dist/examples/front/echo_server.js [--host 127.0.0.1] [--port 9001] [--deflate]
//
// On SIGINT or SIGTERM it closes every connection with 1001 (going away) and exits 0.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { acceptWebSockets, messages, send } from 'tsbeast';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9001' },
    deflate: { type: 'boolean', default: false },
  },
});

const server = createServer((_req, res) => res.end('a WebSocket echo server\n'));
const wss = acceptWebSockets(server, { deflate: args.deflate }, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
server.listen(Number(args.port), args.host, () => {
  console.log(`listening on ws://${args.host}:${(server.address() as AddressInfo).port}/`);
});

function shutdown(signal: string): void {
  console.log(`${signal}: closing ${wss.streams().size} connection(s)`);
  void wss.close().then(() => server.close());
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
