/**
 * The front door relies on the WebSocket stream to disarm its own timer when an operation fails
 * (the stream's `fail()` disarms it and closes the next layer): it has no workaround of its own
 * (lib/front/close.ts once re-set the Timeout option after a failed close or handshake). Each case
 * checks, over real sockets on 127.0.0.1, that the stream holds no timer once it is done with.
 */

import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket } from 'ws';
import { closeWithin, connect, messages, type ClientStream } from '../../lib/front/index.js';
import { Timeout } from '../../lib/beast/websocket/index.js';
import { timerPending } from '../support/internals.js';

async function wsServer(options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<{ wss: WsServer; port: number; peers: WebSocket[] }> {
  const wss = new WsServer({ host: '127.0.0.1', port: 0, ...options });
  const peers: WebSocket[] = [];
  wss.on('connection', (c) => void peers.push(c));
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, port: (wss.address() as AddressInfo).port, peers };
}

const stop = (wss: WsServer): Promise<void> => {
  for (const c of wss.clients) c.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
};

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond(), 'condition reached').to.equal(true);
};

describe('front: a stream done with holds no timer', () => {
  it('closeWithin on a stream whose peer vanished', async () => {
    const { wss, port, peers } = await wsServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    // Every timeout armed, long enough that only the stream's own disarm ends them in this test.
    ws.setOption(new Timeout(60_000, 60_000, true));
    expect(timerPending(ws), 'armed while open').to.equal(true);
    await until(() => peers.length === 1);
    peers[0]!.terminate();
    const [ec, timedOut, pending] = await new Promise<[unknown, boolean, boolean]>((resolve) =>
      closeWithin(ws, 1000, 10_000, (e, t) => resolve([e, t, timerPending(ws)])),
    );
    expect(timedOut, 'the close ended before its bound').to.equal(false);
    expect(ec, 'the close failed').to.not.equal(null);
    expect(pending, 'timer').to.equal(false);
    await stop(wss);
  });

  it('closeWithin whose bound expires (the peer never answers the close)', async () => {
    const { wss, port } = await wsServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    ws.setOption(new Timeout(60_000, 60_000, true));
    // The ws peer answers a close at once; pause its socket so that it never reads ours.
    for (const c of wss.clients) (c as unknown as { _socket: { pause(): void } })._socket.pause();
    const timedOut = await new Promise<boolean>((resolve) => closeWithin(ws, 1000, 50, (_e, t) => resolve(t)));
    expect(timedOut).to.equal(true);
    // The close operation ends with the socket closed under it, failing the stream.
    await until(() => !timerPending(ws));
    await stop(wss);
  });

  it('a declined connect', async () => {
    const { wss, port } = await wsServer({ verifyClient: () => false });
    const [ec, pending] = await new Promise<[unknown, boolean]>((resolve) =>
      connect(`ws://127.0.0.1:${port}/`, {}, (e: unknown, ws: ClientStream) => resolve([e, timerPending(ws)])),
    );
    expect(ec).to.not.equal(null);
    expect(pending, 'timer').to.equal(false);
    await stop(wss);
  });

  it('messages() ended by a peer that drops the connection', async () => {
    const { wss, port, peers } = await wsServer();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    ws.setOption(new Timeout(60_000, 60_000, true));
    await until(() => peers.length === 1);
    setTimeout(() => peers[0]!.terminate(), 10);
    let failed = false;
    try {
      for await (const m of messages(ws)) void m;
    } catch {
      failed = true;
    }
    expect(failed, 'the loop ended with an error').to.equal(true);
    expect(timerPending(ws), 'timer').to.equal(false);
    await stop(wss);
  });
});
