/**
 * A server stream over a TcpSocket that waits for the next message with nothing buffered holds
 * no read block (its read waits through `asyncReadSomeLazy`; a block larger than the spare size,
 * grown by large frames, is kept), and loses nothing by it: over real
 * sockets on 127.0.0.1, messages that arrive after such waits are read whole, whatever their
 * size and however they are cut, and a wait cancelled or ended by the peer asks for no block.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import * as net from 'node:net';
import { TcpStream } from '../../../lib/beast/core/index.js';
import { Stream, Timeout } from '../../../lib/beast/websocket/index.js';
import type { AsyncStream } from '../../../lib/net/stream.js';
import {
  asTuple,
  bindCancellationSlot,
  CancellationSignal,
  CancellationType,
  error as netError,
  FlatBuffer,
  IoContext,
} from '../../../lib/net/index.js';
import { Endpoint, TcpAcceptor, type TcpSocket } from '../../../lib/net/ip/tcp.js';
import { error } from '../../../lib/beast/websocket/error.js';
import { clientFrame, closePayload, concat, Opcode, pattern } from './ops/fixture.js';
import { implOf } from '../../support/internals.js';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

for (const layer of ['TcpSocket', 'TcpStream'] as const)
describe(`websocket/Stream idle reads over ${layer}`, () => {
  let ioc: IoContext;
  let running: Promise<number>;
  let acceptor: TcpAcceptor;
  let client: net.Socket;
  let sock: TcpSocket;
  let ws: Stream<AsyncStream>;

  beforeEach(async () => {
    ioc = new IoContext();
    acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
    const accepted = new Promise<TcpSocket>((resolve, reject) =>
      acceptor.asyncAccept((ec, s) => (ec === null ? resolve(s) : reject(ec))),
    );
    running = ioc.run();
    await acceptor.asyncListen();
    client = net.connect(acceptor.localEndpoint().port, '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    client.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    sock = await accepted;
    // Over a TcpStream, as the examples run it: the suggested timeouts, no stream deadline.
    ws = layer === 'TcpSocket' ? new Stream<AsyncStream>(sock) : new Stream<AsyncStream>(new TcpStream(sock));
    if (layer === 'TcpStream') ws.setOption(Timeout.suggested('server'));
    await ws.asyncAccept();
    await once(client, 'data'); // the 101
  });

  afterEach(async () => {
    // With timeouts, a read sees the end, fails the stream and so stops its timer (otherwise the
    // idle timer would keep run() going); without, run() may already have returned.
    if (layer === 'TcpStream') void ws.asyncRead(new FlatBuffer(), asTuple());
    client.destroy();
    sock.close();
    acceptor.close();
    await running;
  });

  const readBlock = (): number => implOf(ws).reader.buf.capacity();

  it('waits holding no block; messages read after waits arrive whole, whatever their size and cuts', async () => {
    // Up to the spare block's size, every wait holds no block; a larger message grows the block,
    // which a busy connection keeps (as before lazy reads), so later waits are not checked.
    const sizes = [5, 4096, 0, 300, 4097, 70_000, 7];
    for (const [i, size] of sizes.entries()) {
      const b = new FlatBuffer();
      const p = ws.asyncRead(b);
      await settle();
      if (i <= 4) expect(readBlock()).to.equal(0);
      const payload = pattern(size, size + 1);
      client.write(clientFrame({ opcode: Opcode.binary, payload }));
      expect(await p).to.equal(size);
      expect(Buffer.compare(b.dataView(), payload)).to.equal(0);
    }
    // Several messages in one segment, the last one cut in two: the first read takes a block,
    // the rest is read from it without waiting; then the wait for the cut one's tail.
    const all = [pattern(10, 1), pattern(2000, 2), pattern(3000, 3)];
    const frames = concat(...all.map((payload) => clientFrame({ opcode: Opcode.binary, payload })));
    client.write(frames.subarray(0, frames.length - 100));
    for (const [i, payload] of all.entries()) {
      const b = new FlatBuffer();
      const p = ws.asyncRead(b);
      if (i === all.length - 1) {
        await settle();
        client.write(frames.subarray(frames.length - 100));
      }
      expect(await p).to.equal(payload.length);
      expect(Buffer.compare(b.dataView(), payload)).to.equal(0);
    }
  });

  it('a ping between messages is answered; the wait after it holds no block either', async () => {
    const pong = once(client, 'data');
    const b = new FlatBuffer();
    const p = ws.asyncRead(b);
    client.write(clientFrame({ opcode: Opcode.ping, payload: 'hi' }));
    const [bytes] = (await pong) as [Buffer];
    expect([...bytes]).to.deep.equal([0x8a, 2, 0x68, 0x69]);
    await settle();
    expect(readBlock()).to.equal(0);
    client.write(clientFrame({ opcode: Opcode.text, payload: 'after' }));
    expect(await p).to.equal(5);
    expect(Buffer.from(b.dataView()).toString()).to.equal('after');
  });

  it('a wait cancelled (terminal) completes with operationAborted, having asked for no block', async () => {
    const signal = new CancellationSignal();
    const p = ws.asyncRead(new FlatBuffer(), bindCancellationSlot(signal.slot(), asTuple()));
    await settle();
    signal.emit(CancellationType.terminal);
    expect(await p).to.deep.equal([netError.operationAborted, 0]);
    expect(readBlock()).to.equal(0);
    // A terminal cancellation leaves the stream fit only for closing: its socket is closed.
    expect(sock.isOpen(), 'the next layer is closed').to.equal(false);
  });

  it('the peer\'s close frame ends a wait with closed', async () => {
    const p = ws.asyncRead(new FlatBuffer(), asTuple());
    await settle();
    client.write(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    client.end();
    expect(await p).to.deep.equal([error.closed, 0]);
  });
});
