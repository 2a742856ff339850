// Node's own WebSocket client (undici's, `node --experimental-websocket` on Node 20) as a peer of
// tsbeast's echo server (spec/peers/node.spec.ts). Prints one JSON line per step.
//
//   node --experimental-websocket ws_client.mjs <url> echo          text and binary messages, then close(4000)
//   node --experimental-websocket ws_client.mjs <url> serverclose   asks the server to close with 4005

import { createHash } from 'node:crypto';

const [url, scenario] = process.argv.slice(2);
const say = (fields) => console.log(JSON.stringify(fields));

if (typeof WebSocket !== 'function') {
  say({ event: 'error', what: 'no global WebSocket: run with --experimental-websocket (Node 20)' });
  process.exit(2);
}

const describe = (data) => {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return { type: typeof data === 'string' ? 'text' : 'binary', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
};

const ws = new WebSocket(url);
ws.binaryType = 'arraybuffer';
const inbox = [];
let waiter = null;
ws.onmessage = (e) => {
  inbox.push(e.data);
  waiter?.();
};
const closed = new Promise((resolve) => {
  ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
});
ws.onerror = () => say({ event: 'error', what: 'error event' });

const next = async () => {
  while (inbox.length === 0) await new Promise((resolve) => (waiter = resolve));
  return inbox.shift();
};

await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  setTimeout(() => reject(new Error('no open event in 10 s')), 10_000).unref();
});
say({ event: 'open', protocol: ws.protocol, extensions: ws.extensions });

if (scenario === 'echo') {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 5) & 255;
  const messages = ['hello, tsbeast', 'κόσμε 𝄞', '', new Uint8Array([0, 1, 2, 255]), new Uint8Array(0), big, 'x'.repeat(200_000)];
  for (const m of messages) {
    ws.send(m);
    say({ event: 'message', ...describe(await next()) });
  }
  ws.close(4000, 'node says bye');
} else if (scenario === 'serverclose') {
  ws.send('!close 4005 tsbeast says bye');
} else {
  say({ event: 'error', what: `unknown scenario ${scenario}` });
  process.exit(2);
}
say({ event: 'closed', ...(await closed) });
