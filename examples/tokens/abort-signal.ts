// Token style: AbortSignal. Connect, send one message, read the reply, close, all under one
// deadline; then a server that never answers shows the deadline (and cancelAfter) firing.

import {
  bindAbortSignal,
  buffer,
  buffersToString,
  cancelAfter,
  Endpoint,
  FlatBuffer,
  IoContext,
  SystemError,
  TcpAcceptor,
  TcpSocket,
} from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { startEchoServer } from './echo-server.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: node dist/examples/tokens/abort-signal.js

One task in the token style of promises, each operation bound to an AbortSignal: connect to an echo server started in the same
process, send one message, read the reply, close.`);

const ioc = new IoContext();
const running = ioc.run();
const server = await startEchoServer(ioc);

// One AbortSignal for the whole exchange: whichever operation is pending when it fires is
// cancelled, and its promise rejects with operationAborted (the signal's reason as `.cause`).
const deadline = AbortSignal.timeout(5000);
const ws = new Stream(new TcpSocket(ioc));
await ws.nextLayer().asyncConnect(server.endpoint, bindAbortSignal(deadline));
await ws.asyncHandshake('127.0.0.1', '/', bindAbortSignal(deadline));
await ws.asyncWrite(buffer('hello, AbortSignal'), bindAbortSignal(deadline));
const reply = new FlatBuffer();
await ws.asyncRead(reply, bindAbortSignal(deadline));
console.log(`got "${buffersToString(reply.data())}" within the deadline`);
await ws.asyncClose(CloseCode.normal, bindAbortSignal(deadline));
console.log('closed');
server.close();

// A server that accepts connections but never answers the WebSocket handshake.
const silent = new TcpAcceptor(ioc, Endpoint.loopback(0));
await silent.asyncListen();

const stuck = new Stream(new TcpSocket(ioc));
await stuck.nextLayer().asyncConnect(silent.localEndpoint());
try {
  await stuck.asyncHandshake('127.0.0.1', '/', bindAbortSignal(AbortSignal.timeout(100)));
} catch (err) {
  if (!(err instanceof SystemError)) throw err;
  console.log(`silent server, AbortSignal.timeout(100): ${err.message} (cause: ${(err.cause as Error).name})`);
}
// A terminal cancellation leaves the stream fit only for closing its socket.
stuck.nextLayer().close();

// cancelAfter gives one operation a timeout without an AbortSignal.
const stuckToo = new Stream(new TcpSocket(ioc));
await stuckToo.nextLayer().asyncConnect(silent.localEndpoint());
try {
  await stuckToo.asyncHandshake('127.0.0.1', '/', cancelAfter(100));
} catch (err) {
  if (!(err instanceof SystemError)) throw err;
  console.log(`silent server, cancelAfter(100): ${err.message}`);
}
stuckToo.nextLayer().close();

silent.close();
await running;
