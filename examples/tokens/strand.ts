// Token style: a strand shared by several connections. Three clients each send one message and
// read the reply; every handler of all three runs on one strand, so the state they share (a
// transcript and a counter) needs no further care: handlers never nest and keep their order.

import { buffer, buffersToString, FlatBuffer, IoContext, makeStrand, TcpSocket, type ErrorCode } from 'tsbeast/net';
import { CloseCode, Stream } from 'tsbeast/websocket';
import { startEchoServer } from './echo-server.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: node dist/examples/tokens/strand.js

Three clients of an echo server started in the same process, each sending one message and
reading the reply, with every handler of all three on one strand.`);

const ioc = new IoContext();
const running = ioc.run();
const server = await startEchoServer(ioc);

const strand = makeStrand(ioc);
const transcript: string[] = [];
let open = 3;

function check(ec: ErrorCode | null, what: string): void {
  if (ec !== null) throw new Error(`${what}: ${ec.message()}`);
}

/** One client; the strand is its socket's executor, so each of its handlers runs on the strand. */
function converse(id: number): void {
  const ws = new Stream(new TcpSocket(strand));
  const reply = new FlatBuffer();
  ws.nextLayer().asyncConnect(server.endpoint, (ec) => {
    check(ec, 'connect');
    ws.asyncHandshake('127.0.0.1', '/', (ec) => {
      check(ec, 'handshake');
      ws.asyncWrite(buffer(`hello from ${id}`), (ec) => {
        check(ec, 'write');
        ws.asyncRead(reply, (ec) => {
          check(ec, 'read');
          transcript.push(`connection ${id} got "${buffersToString(reply.data())}", on the strand: ${strand.runningInThisThread()}`);
          ws.asyncClose(CloseCode.normal, (ec) => {
            check(ec, 'close');
            if (--open === 0) {
              console.log(transcript.sort().join('\n'));
              console.log('all 3 connections closed; their handlers shared one strand');
              server.close();
            }
          });
        });
      });
    });
  });
}

for (const id of [1, 2, 3]) converse(id);
await running;
