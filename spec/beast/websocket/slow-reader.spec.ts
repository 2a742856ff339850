/**
 * A slow reader on a busy connection never grows the server's memory beyond its bounds: over
 * real sockets on 127.0.0.1, a server writes messages as fast as its writes complete to a client
 * that completed the upgrade and then stopped reading. Once the kernel's buffers are full, the
 * server's writes stop completing, and the bytes queued in Node (`writableLength`) stay under the
 * socket's limit: small writes are copied into the write batch only while less than 256 KiB is
 * queued, and any other write completes only when Node has handed it to the kernel.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import * as net from 'node:net';
import { Stream } from '../../../lib/beast/websocket/index.js';
import { buffer, IoContext, type ErrorCode } from '../../../lib/net/index.js';
import { Endpoint, TcpAcceptor, type TcpSocket } from '../../../lib/net/ip/tcp.js';

/** The most Node may hold for one socket: the 256 KiB queue limit, a 64 KiB batch, one message. */
const bound = (message: number): number => 256 * 1024 + 64 * 1024 + message;

interface Outcome {
  /** Bytes of messages whose writes completed. */
  written: number;
  /** The largest `writableLength` seen after any completion. */
  maxQueued: number;
  /** A write was still pending when the server stopped looking (the reader held it back). */
  blocked: boolean;
}

/**
 * Writes `size`-byte messages to a client that never reads, until no write has completed for
 * 200 ms (or 256 MiB went out, which means the peer was not slow at all).
 */
async function writeToSlowReader(size: number): Promise<Outcome> {
  const ioc = new IoContext();
  const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
  const accepted = new Promise<TcpSocket>((resolve, reject) =>
    acceptor.asyncAccept((ec, sock) => (ec === null ? resolve(sock) : reject(ec))),
  );
  const running = ioc.run();
  await acceptor.asyncListen();
  const client = net.connect(acceptor.localEndpoint().port, '127.0.0.1');
  client.on('error', () => {});
  await once(client, 'connect');
  client.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const sock = await accepted;
  const ws = new Stream(sock);
  await ws.asyncAccept();
  await once(client, 'data'); // the 101
  client.pause(); // and never read again

  const payload = buffer(new Uint8Array(size).fill(0x61));
  const outcome: Outcome = { written: 0, maxQueued: 0, blocked: false };
  let lastCompletion = Date.now();
  let pending = false;
  let failed: ErrorCode | null = null;
  const writeNext = (): void => {
    pending = true;
    ws.asyncWrite(payload, (ec) => {
      pending = false;
      lastCompletion = Date.now();
      if (ec !== null) return void (failed = ec);
      outcome.written += size;
      outcome.maxQueued = Math.max(outcome.maxQueued, sock.nativeHandle()?.writableLength ?? 0);
      if (outcome.written < 256 * 1024 * 1024) writeNext();
    });
  };
  writeNext();
  while (pending && Date.now() - lastCompletion < 200) await new Promise((r) => setTimeout(r, 20));
  outcome.blocked = pending;
  expect(failed).to.equal(null);

  client.destroy();
  sock.close();
  acceptor.close();
  await running;
  return outcome;
}

describe('websocket: a slow reader on a busy connection', function () {
  this.timeout(20_000);

  for (const size of [1024, 64 * 1024]) {
    it(`keeps Node's queue for the socket bounded (${size / 1024} KiB messages)`, async () => {
      const r = await writeToSlowReader(size);
      expect(r.blocked, 'the server is held back by the reader').to.equal(true);
      // More than the kernel holds went through before the writes stopped: the bound was reached
      // by a reader that really stopped, not by a short run.
      expect(r.written).to.be.above(bound(size));
      expect(r.maxQueued).to.be.at.most(bound(size));
    });
  }
});
