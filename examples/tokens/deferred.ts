// Token style: deferred. Operations are built first and launched later, with whatever token the
// launch gives; a write and a read are launched together as a parallel group.

import {
  asTuple,
  buffer,
  buffersToString,
  deferred,
  FlatBuffer,
  IoContext,
  makeParallelGroup,
  TcpSocket,
  waitForAll,
} from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { startEchoServer } from './echo-server.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: node dist/examples/tokens/deferred.js

One task in the token style of deferred operations, launched later: connect to an echo server started in the same
process, send one message, read the reply, close.`);

const ioc = new IoContext();
const running = ioc.run();
const server = await startEchoServer(ioc);

// Building a deferred operation starts nothing: it captures the call and waits to be launched.
const ws = new Stream(new TcpSocket(ioc));
const connect = ws.nextLayer().asyncConnect(server.endpoint, deferred);
const handshake = ws.asyncHandshake('127.0.0.1', '/', deferred);
console.log(`built connect and handshake; connected yet: ${ws.nextLayer().isOpen()}`);

// Launching with no token gives a promise.
await connect();
await handshake();
console.log(`launched both; open: ${ws.isOpen()}`);

// A write and a read launched at once; the group completes when both have, in completion order.
const reply = new FlatBuffer();
const [order, , sent, , received] = await makeParallelGroup(
  ws.asyncWrite(buffer('hello, deferred'), deferred),
  ws.asyncRead(reply, deferred),
).asyncWait(waitForAll());
console.log(`write and read together: sent ${sent}, received ${received} bytes ("${buffersToString(reply.data())}"), completion order ${JSON.stringify(order)}`);

// Launched with asTuple, the close reports its error as a value instead of rejecting.
const close = ws.asyncClose(CloseCode.normal, deferred);
const [ec] = await close(asTuple());
console.log(`closed, error: ${ec}`);

server.close();
await running;
