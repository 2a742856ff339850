// autobahn_client: the client side of the Autobahn|Testsuite fuzzing server's protocol.
//
//   node dist/examples/autobahn_client.js [--url ws://127.0.0.1:9001] [--agent tsbeast]
//
// Asks `/getCaseCount` how many cases there are, runs each with `/runCase?case=N&agent=A` (echoing
// every message until the server closes), then asks for `/updateReports?agent=A` so the report
// includes this agent. Start the fuzzing server first, e.g.
// `docker run -it --rm -v "$PWD/autobahn:/config" -p 9001:9001 crossbario/autobahn-testsuite`.

import { asTuple, buffersToString, ErrorCode, FlatBuffer, IoContext, Resolver } from 'tsbeast/net';
import { error as wsError, PermessageDeflate, Stream } from 'tsbeast/websocket';
import { TcpStream } from 'tsbeast/core';

import { parseCommandLine } from './command-line.js';

const usage = `usage: node dist/examples/autobahn_client.js [--url ws://127.0.0.1:9001] [--agent tsbeast]

Runs every case of an Autobahn|Testsuite fuzzingserver at the URL as an echo client, then asks
the server to update its reports.`;
const args = parseCommandLine({
  url: { type: 'string', default: 'ws://127.0.0.1:9001' },
  agent: { type: 'string', default: 'tsbeast' },
}, usage);
const url = new URL(args.url);
const agent = encodeURIComponent(args.agent);

const ioc = new IoContext();
const running = ioc.run();
const endpoints = await new Resolver(ioc).asyncResolve(url.hostname, url.port || '80');

/**
 * Opens a WebSocket connection to `target` on the fuzzing server, or returns why it could not:
 * a fuzzing server tests refused handshakes too (a wrong Sec-WebSocket-Accept), and one failed
 * case must not end the run.
 */
async function connect(target: string): Promise<Stream<TcpStream> | ErrorCode> {
  const ws = new Stream(new TcpStream(ioc));
  // Offer permessage-deflate so that the compression cases (12.x, 13.x) run too.
  ws.setOption(new PermessageDeflate({ clientEnable: true }));
  // The largest cases (9.x) send 16 MiB messages; leave room above that.
  ws.readMessageMax(64 * 1024 * 1024);
  const [connectError] = await ws.nextLayer().asyncConnect(endpoints, asTuple());
  if (connectError !== null) return connectError;
  // A refused handshake closes the socket by itself; dispose is for symmetry.
  const [handshakeError] = await ws.asyncHandshake(url.host, target, asTuple());
  if (handshakeError !== null) return (dispose(ws), handshakeError);
  return ws;
}

/** Connects to an endpoint that the run cannot do without; a failure ends the run. */
async function mustConnect(target: string): Promise<Stream<TcpStream>> {
  const ws = await connect(target);
  if (!(ws instanceof ErrorCode)) return ws;
  console.error(`${target}: ${ws.message()}`);
  process.exit(1);
}

/**
 * Echoes every message (text as text, binary as binary) until the connection ends, and returns
 * the error that ended it: `websocket.error.closed` when the server closed cleanly. `asTuple`
 * turns each failure into a value, so the loop reads without try/catch.
 */
async function echoUntilClosed(ws: Stream<TcpStream>): Promise<ErrorCode> {
  const buffer = new FlatBuffer();
  for (;;) {
    const [readError] = await ws.asyncRead(buffer, asTuple());
    if (readError !== null) return readError;
    ws.text(ws.gotText());
    const [writeError] = await ws.asyncWrite(buffer.data(), asTuple());
    if (writeError !== null) return writeError;
    buffer.consume(buffer.size());
  }
}

/**
 * Closes the socket if it is still open. A stream that failed or finished its closing handshake
 * has already closed it (docs/topics/differences.md); this is for every other way out.
 */
function dispose(ws: Stream<TcpStream>): void {
  if (ws.nextLayer().isOpen()) ws.nextLayer().close();
}

// 1. How many cases?
const counter = await mustConnect('/getCaseCount');
const countMessage = new FlatBuffer();
await counter.asyncRead(countMessage);
const caseCount = Number(buffersToString(countMessage.data()));
await counter.asyncRead(new FlatBuffer(), asTuple()); // the server closes after the count
dispose(counter);
console.log(`${caseCount} cases`);

// 2. Run each case: the server drives it; we echo until it closes.
for (let n = 1; n <= caseCount; n++) {
  const ws = await connect(`/runCase?case=${n}&agent=${agent}`);
  if (ws instanceof ErrorCode) {
    console.log(`case ${n}/${caseCount}: handshake failed: ${ws.message()}`);
    continue;
  }
  const ec = await echoUntilClosed(ws);
  dispose(ws);
  const how = ec === wsError.closed ? `closed (${ws.reason().code})` : `ended: ${ec.message()}`;
  console.log(`case ${n}/${caseCount}: ${how}`);
}

// 3. Have the server write its report for this agent.
const reports = await mustConnect(`/updateReports?agent=${agent}`);
await reports.asyncRead(new FlatBuffer(), asTuple());
dispose(reports);
console.log(`reports updated for agent ${args.agent}`);
await running;
