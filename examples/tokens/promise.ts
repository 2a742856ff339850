// Token style: promises (the default token). Connect, send one message, read the reply, close;
// a failure rejects with a SystemError whose `.code` is the ErrorCode.

import { buffer, buffersToString, FlatBuffer, IoContext, TcpSocket } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { startEchoServer } from './echo-server.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: node dist/examples/tokens/promise.js

One task in the token style of promises with await: connect to an echo server started in the same
process, send one message, read the reply, close.`);

const ioc = new IoContext();
const running = ioc.run();
const server = await startEchoServer(ioc);

const ws = new Stream(new TcpSocket(ioc));
await ws.nextLayer().asyncConnect(server.endpoint);
await ws.asyncHandshake('127.0.0.1', '/');
const sent = await ws.asyncWrite(buffer('hello, promises'));
console.log(`sent ${sent} bytes`);
const reply = new FlatBuffer();
await ws.asyncRead(reply);
console.log(`got "${buffersToString(reply.data())}"`);
await ws.asyncClose(CloseCode.normal);
console.log('closed');

server.close();
await running;
