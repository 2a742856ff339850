// The chat demo (a port of Beast's websocket chat-multi example): `npm start`, then open
// http://127.0.0.1:8080/ in several browsers. One port serves the page over HTTP and the chat
// over WebSocket; every message anyone sends appears for everyone.
//
//   PORT=8080 node dist/examples/chat/server.js      (PORT=0 picks a free port)

import { Endpoint, IoContext, SystemError, TcpAcceptor } from 'tsbeast/net';
import { HttpSession } from './http-session.js';
import { SharedState } from './shared-state.js';

const host = '127.0.0.1';
const port = Number(process.env.PORT || 8080);

const ioc = new IoContext();
const state = new SharedState();
const acceptor = new TcpAcceptor(ioc, new Endpoint(host, port));
const running = ioc.run();
try {
  await acceptor.asyncListen();
} catch (err) {
  if (!(err instanceof SystemError)) throw err;
  console.error(`cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
}
console.log(`chat demo on http://${host}:${acceptor.localEndpoint().port}/`);

/** Accepts connections until the acceptor is closed; each starts as an HTTP session. */
function acceptLoop(): void {
  acceptor.asyncAccept((ec, socket) => {
    if (ec !== null) return; // closed: we are shutting down
    new HttpSession(socket, state).run();
    acceptLoop();
  });
}
acceptLoop();

function shutdown(signal: string): void {
  console.log(`${signal}: shutting down`);
  process.off('SIGINT', shutdown);
  process.off('SIGTERM', shutdown);
  acceptor.close();
  state.stopAll(); // browsers see 1001 (going away)
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

// run() resolves once the acceptor is closed and every connection has ended.
await running;
console.log('stopped');
