// front/client: connect to a URL, send messages without waiting for each other (the send queue
// keeps them in order), read the echoes, close.
//
//   node dist/examples/front/client.js --url ws://127.0.0.1:9001/ [--messages 10] [--deflate] [--ca cert.pem]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, messages, send } from 'tsbeast';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9001/' },
    messages: { type: 'string', default: '10' },
    deflate: { type: 'boolean', default: false },
    ca: { type: 'string' },
  },
});
const count = Number(args.messages);

const ws = await connect(args.url, {
  deflate: args.deflate,
  ...(args.ca === undefined ? {} : { ca: readFileSync(args.ca) }),
  signal: AbortSignal.timeout(30_000),
});
const sent = Array.from({ length: count }, (_, i) => send(ws, `message ${i}`));
let received = 0;
for await (const message of messages(ws)) {
  if (message.data !== `message ${received}`) throw new Error(`out of order: ${String(message.data)}`);
  if (++received === count) break;
}
await Promise.all(sent);
await ws.asyncClose(1000);
console.log(`${received} messages echoed by ${args.url}`);
