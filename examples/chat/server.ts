// The chat demo (grown from Beast's websocket chat-multi example): `npm start`, then open
// http://127.0.0.1:8080/ in several browsers. One port serves the page over HTTP and the chat
// over WebSocket (/chat). The room goes through a bus (bus.ts), so it can span processes:
//
//   PORT=8080 HOST=127.0.0.1 node dist/examples/chat/server.js   one process, room in memory
//   WORKERS=2 node dist/examples/chat/server.js                  node:cluster, one room for all workers
//   REDIS_URL=redis://127.0.0.1:6379 node dist/...               Redis pub/sub: any number of
//                                                                instances, on any machines
//   ORIGINS=https://chat.example.com                             pages allowed to connect (default: same origin)
//
// PORT=0 picks a free port. SIGTERM or SIGINT closes every member with 1001, waits at most a few
// seconds, destroys what is left, and exits. docs/howto/chat-scaling.md explains the topologies.

import cluster from 'node:cluster';
import { constants } from 'node:os';
import { Endpoint, IoContext, SignalSet, SystemError, TcpAcceptor, type ErrorCode } from 'tsbeast/net';
import { MemoryBus, type Bus } from './bus.js';
import { ClusterBus, serveClusterHub } from './cluster-bus.js';
import { HttpSession, OriginPolicy } from './http-session.js';
import { RedisBus } from './redis-bus.js';
import { Room } from './room.js';
import { closeGraceMs } from './websocket-session.js';
import { parseCommandLine } from '../command-line.js';

parseCommandLine({}, `usage: [PORT=8080] [HOST=127.0.0.1] [WORKERS=1] [REDIS_URL=...] [ORIGINS=...] node dist/examples/chat/server.js

The chat demo: serves the page over HTTP and the chat over WebSocket (/chat) on HOST:PORT
(PORT=0 picks a free port). WORKERS=N runs N node:cluster workers sharing one room; REDIS_URL
makes the room span any number of instances; ORIGINS lists the pages allowed to connect (default:
same origin). Open http://127.0.0.1:8080/ in several browsers.`);

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 8080);
const workers = Number(process.env.WORKERS || 1);
const redisUrl = process.env.REDIS_URL;

if (cluster.isPrimary && workers > 1) await primary();
else await instance();

/** Under node:cluster, the primary: forks the workers (which share the port) and serves their room. */
async function primary(): Promise<void> {
  if (redisUrl === undefined) serveClusterHub(); // with Redis, each worker is an instance of its own
  const ports: number[] = [];
  const ready = new Promise<void>((resolve) => {
    cluster.on('message', (_w, m: { chat?: string; port?: number }) => {
      if (m?.chat !== 'listening') return;
      ports.push(m.port!);
      if (ports.length === workers) resolve();
    });
  });
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.id} exited (${signal ?? code}); its members reconnect to the others`);
    if (Object.keys(cluster.workers ?? {}).length === 0 && (stopping || ports.length < workers)) finish();
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  await ready;
  console.log(`chat demo on http://${host}:${ports[0]}/ (${workers} workers, ${redisUrl ? 'Redis' : 'cluster'} bus)`);

  function shutdown(signal: NodeJS.Signals): void {
    console.log(`${signal}: shutting down`);
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  }
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  function finish(): void {
    console.log('stopped');
    process.exit(stopping ? 0 : 1);
  }
}

/** One chat server: a process of its own, or a cluster worker. */
async function instance(): Promise<void> {
  let bus: Bus;
  try {
    bus = redisUrl !== undefined ? await RedisBus.connect(redisUrl) : cluster.isWorker ? new ClusterBus() : new MemoryBus();
  } catch (err) {
    console.error(`cannot reach the bus: ${(err as Error).message}`);
    process.exit(1);
  }
  const room = new Room(bus);
  const origins = new OriginPolicy(process.env.ORIGINS);
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint(host, port));
  const running = ioc.run();
  try {
    await acceptor.asyncListen();
  } catch (err) {
    if (!(err instanceof SystemError)) throw err;
    console.error(`cannot listen on ${host}:${port}: ${err.message}`);
    await bus.close();
    process.exit(1);
  }
  const bound = acceptor.localEndpoint().port;
  if (cluster.isWorker) process.send!({ chat: 'listening', port: bound });
  else console.log(`chat demo on http://${host}:${bound}/ (${redisUrl ? `Redis bus, instance ${bus.instance}` : 'in-memory bus'})`);

  /** Accepts connections until the acceptor is closed; each starts as an HTTP session. */
  function acceptLoop(): void {
    acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return; // closed: we are shutting down
      new HttpSession(socket, room, origins).run();
      acceptLoop();
    });
  }
  acceptLoop();

  // Asio's signal_set. Ctrl-C reaches a cluster's workers and its primary, which passes SIGTERM
  // on: the first signal starts the shutdown, and the set keeps waiting (so a second one is taken
  // here, not by Node's default action) until the shutdown cancels it.
  const signals = new SignalSet(ioc, 'SIGINT', 'SIGTERM');
  let stopping = false;
  const onSignal = (ec: ErrorCode | null, signalNumber: number): void => {
    if (ec !== null) return; // cancelled by the shutdown
    signals.asyncWait(onSignal);
    if (stopping) return;
    stopping = true;
    void shutdown(Object.entries(constants.signals).find(([, n]) => n === signalNumber)?.[0] ?? `signal ${signalNumber}`);
  };
  signals.asyncWait(onSignal);

  async function shutdown(signal: string): Promise<void> {
    if (!cluster.isWorker) console.log(`${signal}: shutting down`);
    acceptor.close();
    // Members see 1001 (going away) and reconnect, perhaps to another instance; a member that does
    // not answer within the close timeout is cut off, so a shutdown is bounded.
    const destroyed = await room.stopAll(closeGraceMs + 500);
    if (destroyed > 0) console.log(`${destroyed} connections did not close in time and were destroyed`);
    await bus.close();
    signals.cancel();
    // Every handler has run once run() resolves; a second is plenty for the last ones.
    await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    if (!cluster.isWorker) console.log('stopped');
    process.exit(0);
  }
}
