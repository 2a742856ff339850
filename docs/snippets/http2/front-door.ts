import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, send, streamInfo } from 'tsbeast';

const cert = readFileSync('spec/fixtures/cert.pem'); // a self-signed certificate for localhost
const server = createSecureServer({
  cert,
  key: readFileSync('spec/fixtures/key.pem'),
  allowHTTP1: true, // HTTP/1.1 upgrades too, on the same port
  settings: { enableConnectProtocol: true }, // offer WebSockets over HTTP/2 (RFC 8441)
});
let connections = 0;
server.on('secureConnection', () => connections++);
const wss = acceptWebSockets(server, async (ws) => {
  for await (const message of messages(ws)) await send(ws, message.data);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `wss://localhost:${(server.address() as AddressInfo).port}/`;

// Three WebSockets on one pooled HTTP/2 session to this origin.
const streams = await Promise.all(['one', 'two', 'three'].map(() => connect(url, { ca: cert, http2: true })));
for (const [i, ws] of streams.entries()) {
  await send(ws, `hello ${i}`);
  for await (const message of messages(ws)) {
    console.log(streamInfo(ws)?.via, message.data);
    break;
  }
}
console.log('TLS connections:', connections);

// Without `http2` (or when the server does not offer it): the HTTP/1.1 upgrade.
const classic = await connect(url, { ca: cert });
console.log('without http2:', streamInfo(classic)?.via, '- TLS connections:', connections);

for (const ws of [...streams, classic]) await ws.asyncClose(1000); // the last one closes the session
await wss.close();
server.close();
