// Token style: callbacks. Connect, send one message, read the reply, close; each step's handler
// starts the next, and the error comes first in every handler.

import { buffer, buffersToString, FlatBuffer, IoContext, TcpSocket, type ErrorCode } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { startEchoServer } from './echo-server.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: node dist/examples/tokens/callback.js

One task in the token style of callbacks: each step's handler starts the next: connect to an echo server started in the same
process, send one message, read the reply, close.`);

const ioc = new IoContext();
const running = ioc.run();
const server = await startEchoServer(ioc);

const ws = new Stream(new TcpSocket(ioc));
const reply = new FlatBuffer();

function check(ec: ErrorCode | null, what: string): void {
  if (ec !== null) throw new Error(`${what}: ${ec.message()}`);
}

ws.nextLayer().asyncConnect(server.endpoint, (ec) => {
  check(ec, 'connect');
  ws.asyncHandshake('127.0.0.1', '/', (ec) => {
    check(ec, 'handshake');
    ws.asyncWrite(buffer('hello, callbacks'), (ec, sent) => {
      check(ec, 'write');
      console.log(`sent ${sent} bytes`);
      ws.asyncRead(reply, (ec) => {
        check(ec, 'read');
        console.log(`got "${buffersToString(reply.data())}"`);
        ws.asyncClose(CloseCode.normal, (ec) => {
          check(ec, 'close');
          console.log('closed');
          server.close();
        });
      });
    });
  });
});

await running; // resolves when the last handler has run and nothing is left to do
