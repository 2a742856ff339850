// echo_server: a WebSocket echo server (Beast's websocket_server_async), in either token style.
//
//   node dist/examples/echo_server.js [--host 127.0.0.1] [--port 9001] [--token callback|promise] [--deflate]
//
// Every message comes back unchanged: text as text, binary as binary, a fragmented message as one
// whole message. Reads answer pings and the peer's close by themselves. On SIGINT or SIGTERM the
// server stops accepting, closes every connection with 1001 (going away), cuts those that have
// not finished closing after 5 s, and exits 0. A session's error (a refused handshake, a reset,
// a protocol violation) is logged and ends that session only; its socket is closed by the stream.

import { constants } from 'node:os';
import { Endpoint, error as netError, FlatBuffer, IoContext, SignalSet, SystemError, TcpAcceptor, type ErrorCode, TcpSocket } from 'tsbeast/net';
import { CloseCode, error as wsError, PermessageDeflate, Stream, Timeout } from 'tsbeast/websocket';
import { TcpStream } from 'tsbeast/core';

import { parseCommandLine } from './command-line.js';

const usage = `usage: node dist/examples/echo_server.js [--host 127.0.0.1] [--port 9001] [--token callback|promise] [--deflate]

A WebSocket echo server: every message comes back unchanged. SIGINT or SIGTERM closes every
connection with 1001 (going away) and exits.`;
const args = parseCommandLine({
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '9001' },
  token: { type: 'string', default: 'callback' },
  deflate: { type: 'boolean', default: false },
}, usage);
if (args.token !== 'callback' && args.token !== 'promise') throw new Error(`--token callback|promise, not ${args.token}`);

type WebSocket = Stream<TcpStream>;

// ---- one echo session, written twice: the steps are the same, only the token differs ----------

/** The session with callbacks: each step's handler starts the next, as in Beast's example. */
function echoWithCallbacks(ws: WebSocket, done: () => void): void {
  const buffer = new FlatBuffer();
  const fail = (ec: ErrorCode, what: string): void => {
    report(ec, what);
    done();
  };
  const onRead = (ec: ErrorCode | null): void => {
    if (ec !== null) return fail(ec, 'read');
    ws.text(ws.gotText()); // answer text with text, binary with binary
    ws.asyncWrite(buffer.data(), onWrite);
  };
  const onWrite = (ec: ErrorCode | null): void => {
    if (ec !== null) return fail(ec, 'write');
    buffer.consume(buffer.size());
    ws.asyncRead(buffer, onRead);
  };
  ws.asyncAccept((ec) => {
    if (ec !== null) return fail(ec, 'accept');
    ws.asyncRead(buffer, onRead);
  });
}

/** The same session with promises: the same steps, top to bottom. */
async function echoWithPromises(ws: WebSocket): Promise<void> {
  const buffer = new FlatBuffer();
  let step = 'accept';
  try {
    await ws.asyncAccept();
    for (;;) {
      step = 'read';
      await ws.asyncRead(buffer);
      ws.text(ws.gotText());
      step = 'write';
      await ws.asyncWrite(buffer.data());
      buffer.consume(buffer.size());
    }
  } catch (err) {
    if (!(err instanceof SystemError)) throw err;
    report(err.code, step);
  }
}

/** Ends a session: a clean close by the peer, or our own shutdown, is not worth a line. */
function report(ec: ErrorCode, what: string): void {
  if (ec === wsError.closed || ec === netError.operationAborted) return;
  console.error(`${what}: ${ec.message()}`);
}

// ---- the server: accept connections until a signal, then close them all cleanly ---------------

const ioc = new IoContext();
const acceptor = new TcpAcceptor(ioc, new Endpoint(args.host, Number(args.port)));
const sessions = new Set<WebSocket>();
const running = ioc.run();
await acceptor.asyncListen();
console.log(`listening on ${acceptor.localEndpoint().toString()}`);

function startSession(socket: TcpSocket): void {
  // An echo is a request and its answer: without TCP_NODELAY, Nagle's algorithm and the peer's
  // delayed ACK hold back the last frame of a message that spans several frames for ~40 ms.
  socket.setOption(TcpSocket.noDelay(true));
  const ws = new Stream(new TcpStream(socket));
  ws.setOption(Timeout.suggested('server'));
  // An echo holds each message whole before it writes it back: one frame per message, as the
  // peer sent it. Beast's default, frames of the write buffer's size (4 KiB), suits messages
  // written as they are made; here it would only cost a header per 4 KiB, and the peer a frame
  // to parse for each (bench/native: a 64 KiB echo at about 1.5x the server CPU of one frame).
  ws.autoFragment(false);
  if (args.deflate) ws.setOption(new PermessageDeflate({ serverEnable: true }));
  sessions.add(ws);
  const forget = (): void => void sessions.delete(ws);
  if (args.token === 'callback') echoWithCallbacks(ws, forget);
  else void echoWithPromises(ws).finally(forget);
}

/** Accepts the next connection; an error (the acceptor was closed) ends the loop. */
function acceptLoop(): void {
  acceptor.asyncAccept((ec, socket) => {
    if (ec !== null) return report(ec, 'accept');
    startSession(socket);
    acceptLoop();
  });
}
acceptLoop();

/** How long the closing handshakes may take on shutdown before what is left is cut. */
const closeTimeoutMs = 5000;

function shutdown(signal: string): void {
  console.log(`${signal}: closing ${sessions.size} connection(s)`);
  acceptor.close();
  for (const ws of sessions) {
    // One still in its opening handshake (or already closing) has no handshake to start: cut it.
    if (!ws.isOpen()) ws.nextLayer().close();
    else ws.asyncClose(CloseCode.goingAway, (ec) => { if (ec !== null) report(ec, 'close'); });
  }
  // A peer that never answers our close frame must not hold the exit: after the close timeout
  // the sockets left are closed, which ends their sessions. Unreferenced: an earlier end exits.
  setTimeout(() => {
    if (sessions.size > 0) console.log(`closing ${sessions.size} connection(s) that did not finish closing`);
    for (const ws of sessions) ws.nextLayer().close();
  }, closeTimeoutMs).unref();
}

// Asio's signal_set: the first SIGINT or SIGTERM starts the shutdown. The wait holds work, as the
// acceptor does; once it completed, a second Ctrl-C has Node's default action and ends at once.
const signals = new SignalSet(ioc, 'SIGINT', 'SIGTERM');
signals.asyncWait((ec, signalNumber) => {
  if (ec !== null) return report(ec, 'signal wait');
  shutdown(Object.entries(constants.signals).find(([, n]) => n === signalNumber)?.[0] ?? `signal ${signalNumber}`);
});

// run() resolves once no work is left: the acceptor is closed and every session has ended.
await running;
console.log('stopped');
