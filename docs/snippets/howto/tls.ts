import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, send } from 'tsbeast';

const cert = readFileSync('spec/fixtures/cert.pem'); // a self-signed certificate for localhost
const server = createServer({ cert, key: readFileSync('spec/fixtures/key.pem') }).listen(0, '127.0.0.1');
const wss = acceptWebSockets(server, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
await new Promise((resolve) => server.once('listening', resolve));
const url = `wss://localhost:${(server.address() as AddressInfo).port}/`;

// Without `ca`, Node's bundled roots are trusted, and they do not vouch for this certificate.
await connect(url).catch((err: Error) => console.log(err.message.replace(/:\d+/g, ':PORT')));

const ws = await connect(url, { ca: cert }); // SNI "localhost", chain and name verified
await send(ws, 'over TLS');
for await (const message of messages(ws)) {
  console.log(message.data);
  await ws.asyncClose(1000);
}
await wss.close();
server.close();
