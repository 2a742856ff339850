/**
 * permessage-deflate memory benchmark: this process runs a tsbeast WebSocket echo server with
 * permessage-deflate (serverEnable, default settings) and measures its own RSS once a second,
 * while a CHILD process opens 1,000 `ws` client connections (permessage-deflate on, threshold 0)
 * that each send compressible 4 KiB JSON-like text messages back to back for the test duration.
 * The clients live in the child so that the server's RSS is measured alone.
 *
 * Prints the series (RSS, heap, external, connections, messages/s), then start, peak and end
 * RSS, MiB per connection, and whether RSS levelled off (the last 10 samples of the sending phase
 * within ±10% of their mean).
 *
 *   node dist/bench/deflate-rss.js [connections] [seconds]      (defaults 1000 and 30)
 *
 * Bounded: the child stops after the duration and the whole run has a hard deadline of
 * duration + 60 s. Benchmark code only: it must never be imported by the library.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

import { PermessageDeflate, Stream } from '../lib/beast/websocket/index.js';
import { Endpoint, FlatBuffer, IoContext, TcpAcceptor, type TcpSocket } from '../lib/net/index.js';

const MiB = 1024 * 1024;

type ChildMsg = { opened: number; failed: number } | { sending: true } | { done: true; sent: number; received: number; errors: number };

// ---------------------------------------------------------------------------------------------
// Clients (child process)

/** A 4 KiB JSON-like message that differs from the previous one (so context takeover cannot make it free). */
function message(conn: number, seq: number): string {
  let s = '[';
  for (let i = 0; s.length < 4096 - 120; i++) {
    const id = (conn * 7919 + seq * 104729 + i * 31) % 1000003;
    s += `{"id":${id},"user":"user${id % 997}","seq":${seq},"tags":["t${i % 13}","g${id % 17}"],"ok":${(id & 1) === 0}},`;
  }
  return `${s.slice(0, 4095)}]`.padEnd(4096, ' ');
}

async function runClients(port: number, count: number, seconds: number): Promise<void> {
  const send = (msg: ChildMsg): void => void process.send!(msg);
  const sockets: WebSocket[] = [];
  let errors = 0;
  // Open in batches, below the listen backlog.
  for (let i = 0; i < count; i += 100) {
    const batch: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
      ws.on('error', () => errors++);
      batch.push(
        new Promise((resolve) => {
          ws.once('open', () => {
            sockets.push(ws);
            resolve();
          });
          ws.once('close', () => {
            if (ws.readyState !== WebSocket.OPEN) resolve();
          });
        }),
      );
    }
    await Promise.all(batch);
  }
  const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
  send({ opened: open.length, failed: count - open.length });
  send({ sending: true });
  let sent = 0;
  let received = 0;
  let stopping = false;
  open.forEach((ws, conn) => {
    let seq = 0;
    ws.on('message', () => {
      received++;
      if (stopping) return;
      ws.send(message(conn, ++seq));
      sent++;
    });
    ws.send(message(conn, seq));
    sent++;
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  stopping = true;
  await Promise.all(
    open.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.close(1000);
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5000).unref();
        }),
    ),
  );
  send({ done: true, sent, received, errors });
}

// ---------------------------------------------------------------------------------------------
// Server (this process)

interface Sample {
  t: number;
  rss: number;
  heap: number;
  external: number;
  conns: number;
  msgs: number;
  phase: 'connecting' | 'sending' | 'closing';
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1000);
  const seconds = Number(process.argv[3] ?? 30);
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
  let conns = 0;
  let echoed = 0;
  let accepting = true;
  const streams = new Set<Stream<TcpSocket>>();

  const serve = async (socket: TcpSocket): Promise<void> => {
    const ws = new Stream(socket);
    ws.setOption(new PermessageDeflate({ serverEnable: true }));
    streams.add(ws);
    try {
      await ws.asyncAccept();
      conns++;
      const b = new FlatBuffer();
      for (;;) {
        await ws.asyncRead(b);
        ws.text(ws.gotText());
        await ws.asyncWrite(b.data());
        b.consume(b.size());
        echoed++;
      }
    } catch {
      // closed by the client, or failed: either way this connection is over
    } finally {
      if (conns > 0) conns--;
      streams.delete(ws);
      socket.close();
    }
  };
  const accept = (): void =>
    acceptor.asyncAccept((ec, socket) => {
      if (ec !== null) return;
      void serve(socket);
      if (accepting) accept();
    });

  const running = ioc.run();
  await acceptor.asyncListen(1024);
  accept();
  const port = acceptor.localEndpoint().port;

  const t0 = Date.now();
  const samples: Sample[] = [];
  let phase: Sample['phase'] = 'connecting';
  let lastEchoed = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    samples.push({
      t: (Date.now() - t0) / 1000,
      rss: m.rss / MiB,
      heap: m.heapUsed / MiB,
      external: (m.external + m.arrayBuffers) / MiB,
      conns,
      msgs: echoed - lastEchoed,
      phase,
    });
    lastEchoed = echoed;
    const s = samples[samples.length - 1]!;
    console.log(
      `t=${s.t.toFixed(0).padStart(3)}s  rss=${s.rss.toFixed(1).padStart(7)} MiB  heap=${s.heap.toFixed(1).padStart(6)} MiB  ` +
        `ext+ab=${s.external.toFixed(1).padStart(6)} MiB  conns=${String(s.conns).padStart(4)}  msgs/s=${String(s.msgs).padStart(6)}  ${s.phase}`,
    );
  };
  const baseline = process.memoryUsage().rss / MiB;
  console.log(`deflate-rss: ${count} ws clients (child process), ${seconds} s of 4 KiB compressible messages; server baseline RSS ${baseline.toFixed(1)} MiB`);
  sample();
  const timer = setInterval(sample, 1000);

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['clients', String(port), String(count), String(seconds)], { stdio: 'inherit' });
  const deadline = setTimeout(() => {
    console.log('deflate-rss: deadline reached, stopping the clients');
    child.kill('SIGKILL');
  }, (seconds + 60) * 1000);
  let opened = 0;
  let result: Extract<ChildMsg, { done: true }> | null = null;
  child.on('message', (msg: ChildMsg) => {
    if ('opened' in msg) {
      opened = msg.opened;
      console.log(`deflate-rss: ${msg.opened} connections open`);
    } else if ('sending' in msg) phase = 'sending';
    else if ('done' in msg) {
      result = msg;
      phase = 'closing';
    }
  });
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(deadline);
  sample();
  clearInterval(timer);
  accepting = false;
  acceptor.close();
  for (const ws of streams) ws.nextLayer().close();
  ioc.stop();
  await running;

  // Summary over the sending phase.
  const sending = samples.filter((s) => s.phase === 'sending');
  const peak = Math.max(...samples.map((s) => s.rss));
  const endSending = sending.length > 0 ? sending[sending.length - 1]!.rss : samples[samples.length - 1]!.rss;
  const last10 = sending.slice(-10);
  const mean = last10.reduce((a, s) => a + s.rss, 0) / Math.max(1, last10.length);
  const levelled = last10.length === 10 && last10.every((s) => Math.abs(s.rss - mean) <= 0.1 * mean);
  const rate = sending.length > 0 ? sending.reduce((a, s) => a + s.msgs, 0) / sending.length : 0;
  const r = result as Extract<ChildMsg, { done: true }> | null;
  console.log('');
  console.log(`connections opened: ${opened} of ${count}; messages echoed: ${echoed} (${rate.toFixed(0)}/s while sending); client errors: ${r?.errors ?? 'n/a'}`);
  console.log(`RSS start ${baseline.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB, end of sending ${endSending.toFixed(1)} MiB, after close ${samples[samples.length - 1]!.rss.toFixed(1)} MiB`);
  console.log(`per connection: ${((endSending - baseline) / Math.max(1, opened)).toFixed(3)} MiB at the end of sending, ${((peak - baseline) / Math.max(1, opened)).toFixed(3)} MiB at peak`);
  console.log(
    `levels off: ${levelled ? 'yes' : 'no'} (last ${last10.length} sending samples, mean ${mean.toFixed(1)} MiB, ` +
      `range ${Math.min(...last10.map((s) => s.rss)).toFixed(1)}–${Math.max(...last10.map((s) => s.rss)).toFixed(1)} MiB, tolerance ±10%)`,
  );
  process.exit(r === null || opened < count ? 1 : 0);
}

if (process.argv[2] === 'clients') {
  runClients(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
