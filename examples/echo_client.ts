// echo_client: sends messages to a WebSocket echo server, checks every echo, and prints round trips.
//
//   node dist/examples/echo_client.js --url ws://HOST:PORT/ [--messages N] [--size BYTES] [--deflate]
//
// Messages alternate between text and binary; each must come back with the same bytes and the same
// type. Exits 1 on the first mismatch.

import { randomBytes } from 'node:crypto';
import { buffersToBytes, FlatBuffer, IoContext, Resolver, TcpSocket } from 'tsbeast/net';
import { CloseCode, PermessageDeflate, Stream } from 'tsbeast/websocket';
import { TcpStream } from 'tsbeast/core';

import { parseCommandLine } from './command-line.js';

const usage = `usage: node dist/examples/echo_client.js [--url ws://127.0.0.1:9001/] [--messages 100] [--size 1024] [--deflate]

Sends messages of the given size to a WebSocket echo server, checks each reply, and closes.`;
const args = parseCommandLine({
  url: { type: 'string', default: 'ws://127.0.0.1:9001/' },
  messages: { type: 'string', default: '100' },
  size: { type: 'string', default: '1024' },
  deflate: { type: 'boolean', default: false },
}, usage);
const url = new URL(args.url);
const count = Number(args.messages);
const size = Number(args.size);
if (url.protocol !== 'ws:') throw new Error(`only ws:// URLs, not ${url.protocol}`);

const ioc = new IoContext();
const running = ioc.run();

// Resolve, connect, handshake: the `Host` field carries the port when it is not the default.
const endpoints = await new Resolver(ioc).asyncResolve(url.hostname, url.port || '80');
const ws = new Stream(new TcpStream(ioc));
if (args.deflate) ws.setOption(new PermessageDeflate({ clientEnable: true }));
ws.readMessageMax(Math.max(ws.readMessageMax(), size)); // echoes as large as --size
// Round trips are measured, so Nagle's algorithm must not hold back the last frame of a message.
ws.nextLayer().socket().setOption(TcpSocket.noDelay(true));
await ws.nextLayer().asyncConnect(endpoints);
await ws.asyncHandshake(url.host, url.pathname + url.search);
console.log(`connected to ${url.href} (permessage-deflate: ${ws.getStatus().active ? 'on' : 'off'})`);

/** A message of `size` bytes: printable ASCII for text (valid UTF-8), random bytes for binary. */
function makeMessage(text: boolean): Uint8Array {
  const bytes = randomBytes(size);
  if (text) for (let i = 0; i < bytes.length; i++) bytes[i] = 0x20 + (bytes[i]! % 95);
  return bytes;
}

const rtts: number[] = [];
const reply = new FlatBuffer();
for (let i = 0; i < count; i++) {
  const text = i % 2 === 0;
  const sent = makeMessage(text);
  const start = performance.now();
  ws.text(text);
  await ws.asyncWrite(sent);
  await ws.asyncRead(reply);
  rtts.push(performance.now() - start);
  const got = buffersToBytes(reply.data());
  if (ws.gotText() !== text || !Buffer.from(got).equals(sent)) {
    console.error(`mismatch at message ${i}: sent ${sent.length} bytes of ${text ? 'text' : 'binary'}, ` +
      `got ${got.length} bytes of ${ws.gotText() ? 'text' : 'binary'}`);
    process.exitCode = 1;
    break;
  }
  reply.consume(reply.size());
}
await ws.asyncClose(CloseCode.normal);
await running;

if (process.exitCode !== 1) {
  const sorted = [...rtts].sort((a, b) => a - b);
  const mean = rtts.reduce((a, b) => a + b, 0) / Math.max(rtts.length, 1);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
  console.log(`${count} messages, ${count * size} bytes echoed: mean ${mean.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms round trip`);
}
