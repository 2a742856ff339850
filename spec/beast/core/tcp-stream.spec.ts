/**
 * Specs for lib/beast/core/tcp-stream: Beast's tcp_stream semantics over real loopback sockets.
 * Deadlines run on sinon's fake clock (setTimeout, clearTimeout and performance faked; setImmediate
 * stays real, so the I/O context and the root hook keep working), plus one run on the real clock
 * against a peer that never answers. Every socket and server a test opens is closed in afterEach.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import * as net from 'node:net';
import sinon from 'sinon';
import { condition, error as beastError } from '../../../lib/beast/core/error.js';
import { TcpStream } from '../../../lib/beast/core/tcp-stream.js';
import {
  asTuple,
  bindCancellationSlot,
  buffer,
  buffersToString,
  CancellationSignal,
  CancellationType,
  Endpoint,
  error,
  IoContext,
  makeWorkGuard,
  steadyNow,
  TcpAcceptor,
  TcpSocket,
  type ErrorCode,
  type IoSignature,
  type WorkGuard,
} from '../../../lib/net/index.js';
import { recorder, settle } from '../../support/recorder.js';



describe('beast/core/TcpStream', () => {
  let ioc: IoContext;
  let guard: WorkGuard;
  let running: Promise<number>;
  let closers: Array<() => void>;
  let clock: sinon.SinonFakeTimers | null;

  beforeEach(() => {
    ioc = new IoContext();
    guard = makeWorkGuard(ioc);
    running = ioc.run();
    closers = [];
    clock = null;
  });

  afterEach(async () => {
    clock?.restore();
    for (const close of closers.reverse()) close();
    guard.reset();
    await running;
    expect(ioc.outstandingWork()).to.equal(0);
  });

  const fakeClock = (): sinon.SinonFakeTimers =>
    (clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  const track = <T extends { close(): void }>(x: T): T => {
    closers.push(() => x.close());
    return x;
  };

  /** A listening acceptor on 127.0.0.1. */
  async function listening(): Promise<TcpAcceptor> {
    const acceptor = track(new TcpAcceptor(ioc));
    acceptor.open();
    acceptor.bind(new Endpoint('127.0.0.1', 0));
    await acceptor.asyncListen();
    return acceptor;
  }

  /** A connected [TcpStream, peer TcpSocket]; the peer never writes unless told to. */
  async function pair(): Promise<[TcpStream, TcpSocket]> {
    const acceptor = await listening();
    const accepted = acceptor.asyncAccept();
    const stream = track(new TcpStream(ioc));
    await stream.asyncConnect(acceptor.localEndpoint());
    return [stream, track(await accepted)];
  }

  it('reads and writes through the socket, and arms no timer without a deadline', async () => {
    const [stream, peer] = await pair();
    const timers = (): number => process.getActiveResourcesInfo().filter((k) => k === 'Timeout').length;
    const before = timers();
    const buf = new Uint8Array(16);
    const read = stream.asyncReadSome(buf);
    expect(timers()).to.equal(before);
    await peer.asyncWriteSome(buffer('hello'));
    expect(buffersToString(buf.subarray(0, await read))).to.equal('hello');
    expect(await stream.asyncWriteSome(buffer('back'))).to.equal(4);
    expect(buffersToString(buf.subarray(0, await peer.asyncReadSome(buf)))).to.equal('back');
    expect(stream.socket()).to.be.instanceOf(TcpSocket);
    expect(stream.nativeHandle()).to.be.instanceOf(net.Socket);
  });

  it('a read pending when the deadline passes completes with beast timeout and the socket closes (fake clock)', async () => {
    const [stream] = await pair();
    const c = fakeClock();
    stream.expiresAfter(1000);
    const cb = recorder<IoSignature>();
    stream.asyncReadSome(new Uint8Array(8), cb.fn);
    cb.started();
    expect(c.countTimers()).to.equal(1);
    c.tick(999);
    await settle();
    expect(cb.calls).to.have.length(0);
    c.tick(1);
    const [ec, n] = await cb.done;
    expect(ec).to.equal(beastError.timeout);
    expect(ec!.matches(condition.timeout)).to.equal(true);
    expect(n).to.equal(0);
    expect(stream.isOpen()).to.equal(false);
    expect(c.countTimers()).to.equal(0);
    await settle();
    expect(cb.calls).to.have.length(1);
    expect(cb.insideInitiation()).to.equal(false);
  });

  it('times out for real against a loopback peer that never answers', async () => {
    const [stream, peer] = await pair();
    stream.expiresAfter(30);
    const started = steadyNow();
    const [ec] = await stream.asyncReadSome(new Uint8Array(8), asTuple());
    expect(ec).to.equal(beastError.timeout);
    expect(steadyNow() - started).to.be.at.least(25);
    expect(stream.isOpen()).to.equal(false);
    // The peer sees the connection go away.
    const [peerEc] = await peer.asyncReadSome(new Uint8Array(8), asTuple());
    expect([error.eof, error.connectionReset]).to.include(peerEc);
  });

  it('one timer at most while armed, none once the operations completed', async () => {
    const [stream, peer] = await pair();
    const c = fakeClock();
    stream.expiresAfter(5000);
    const read = stream.asyncReadSome(new Uint8Array(8), asTuple());
    const write = stream.asyncWriteSome(buffer('x'), asTuple());
    expect(c.countTimers()).to.equal(1);
    expect(await write).to.deep.equal([null, 1]);
    expect(c.countTimers()).to.equal(1);
    await peer.asyncWriteSome(buffer('y'));
    expect(await read).to.deep.equal([null, 1]);
    expect(c.countTimers()).to.equal(0);
  });

  it('expiresNever disables the deadline', async () => {
    const [stream, peer] = await pair();
    const c = fakeClock();
    stream.expiresAfter(100);
    stream.expiresNever();
    const cb = recorder<IoSignature>();
    stream.asyncReadSome(new Uint8Array(8), cb.fn);
    expect(c.countTimers()).to.equal(0);
    c.tick(10_000);
    await settle();
    expect(cb.calls).to.have.length(0);
    await peer.asyncWriteSome(buffer('z'));
    expect(await cb.done).to.deep.equal([null, 1]);
  });

  it('a deadline set while a read is pending applies to the other side only (Beast)', async () => {
    const [stream] = await pair();
    const c = fakeClock();
    const read = recorder<IoSignature>();
    stream.asyncReadSome(new Uint8Array(8), read.fn);
    stream.expiresAfter(100);
    expect(c.countTimers()).to.equal(0);
    c.tick(200);
    await settle();
    expect(read.calls).to.have.length(0);
    // The write side's deadline has passed: the write fails at once and the socket is closed,
    // so the read (whose deadline never passed) completes with operationAborted.
    const [wec] = await stream.asyncWriteSome(buffer('late'), asTuple());
    expect(wec).to.equal(beastError.timeout);
    expect(await read.done).to.deep.equal([error.operationAborted, 0]);
    expect(stream.isOpen()).to.equal(false);
  });

  it('the deadline is a point in time shared by the operations that follow', async () => {
    const [stream, peer] = await pair();
    const c = fakeClock();
    stream.expiresAfter(1000);
    const first = stream.asyncReadSome(new Uint8Array(8), asTuple());
    c.tick(600);
    await peer.asyncWriteSome(buffer('a'));
    expect(await first).to.deep.equal([null, 1]);
    const second = stream.asyncReadSome(new Uint8Array(8), asTuple());
    c.tick(400);
    expect(await second).to.deep.equal([beastError.timeout, 0]);
  });

  it('a connect whose deadline passes completes with beast timeout (fake clock)', async () => {
    const acceptor = await listening();
    const c = fakeClock();
    const stream = track(new TcpStream(ioc));
    stream.expiresAfter(10);
    const p = stream.asyncConnect(acceptor.localEndpoint(), asTuple());
    c.tick(10); // fires before the loopback connection can complete
    expect(await p).to.deep.equal([beastError.timeout]);
    expect(stream.isOpen()).to.equal(false);
  });

  it('connects over a resolver result, skipping a refused first endpoint', async () => {
    const acceptor = await listening();
    const refusing = net.createServer();
    refusing.listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    const deadPort = (refusing.address() as net.AddressInfo).port;
    refusing.close();
    await once(refusing, 'close');
    const accepted = acceptor.asyncAccept();
    const stream = track(new TcpStream(ioc));
    stream.expiresAfter(5000);
    const cb = recorder<[ErrorCode | null, Endpoint]>();
    stream.asyncConnect([new Endpoint('127.0.0.1', deadPort), acceptor.localEndpoint()], cb.fn);
    cb.started();
    const [ec, ep] = await cb.done;
    expect(ec).to.equal(null);
    expect(ep.equals(acceptor.localEndpoint())).to.equal(true);
    track(await accepted);
    await settle();
    expect(cb.calls).to.have.length(1);
    expect(cb.insideInitiation()).to.equal(false);
  });

  it('an empty list fails with notFound; a single refused endpoint with connectionRefused', async () => {
    const stream = track(new TcpStream(ioc));
    expect(await stream.asyncConnect([], asTuple())).to.deep.equal([error.notFound, new Endpoint()]);
    const refusing = net.createServer();
    refusing.listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    const port = (refusing.address() as net.AddressInfo).port;
    refusing.close();
    await once(refusing, 'close');
    expect(await stream.asyncConnect(new Endpoint('127.0.0.1', port), asTuple())).to.deep.equal([error.connectionRefused]);
  });

  it('forwards per-operation cancellation to the socket, leaving no timer', async () => {
    const [stream, peer] = await pair();
    const c = fakeClock();
    stream.expiresAfter(1000);
    const signal = new CancellationSignal();
    const cb = recorder<IoSignature>();
    const buf = new Uint8Array(8);
    stream.asyncReadSome(buf, bindCancellationSlot(signal.slot(), cb.fn));
    cb.started();
    signal.emit(CancellationType.total);
    expect(await cb.done).to.deep.equal([error.operationAborted, 0]);
    expect(c.countTimers()).to.equal(0);
    expect(stream.isOpen()).to.equal(true);
    await peer.asyncWriteSome(buffer('after'));
    expect(buffersToString(buf.subarray(0, await stream.asyncReadSome(buf)))).to.equal('after');
  });

  it('cancel() aborts pending operations; concurrent reads fail with alreadyStarted; empty reads succeed', async () => {
    const [stream] = await pair();
    const first = stream.asyncReadSome(new Uint8Array(8), asTuple());
    expect(await stream.asyncReadSome(new Uint8Array(8), asTuple())).to.deep.equal([error.alreadyStarted, 0]);
    expect(await stream.asyncReadSome(new Uint8Array(0), asTuple())).to.deep.equal([null, 0]);
    stream.cancel();
    expect(await first).to.deep.equal([error.operationAborted, 0]);
    expect(stream.isOpen()).to.equal(true);
  });

  it('with no deadline, empty writes complete with 0 while a write is pending; a deadline set meanwhile applies to the next write', async () => {
    const [stream, peer] = await pair();
    // Handlers, not tokens: with a handler and no deadline the write is the socket's own.
    const write = (b: Uint8Array): Promise<[ErrorCode | null, number]> =>
      new Promise((resolve) => stream.asyncWriteSome(b, (ec, n) => resolve([ec, n])));
    const timers = (): number => process.getActiveResourcesInfo().filter((k) => k === 'Timeout').length;
    // Large enough to stay pending in Node while the peer does not read.
    const pending = write(new Uint8Array(16 * 1024 * 1024));
    expect(await write(new Uint8Array(0))).to.deep.equal([null, 0]);
    expect(await write(buffer('x'))).to.deep.equal([error.alreadyStarted, 0]);
    stream.expiresAfter(60_000);
    const before = timers();
    const sink = new Uint8Array(1 << 20);
    let got = 0;
    while (got < 16 * 1024 * 1024) got += await peer.asyncReadSome(sink);
    expect(await pending).to.deep.equal([null, 16 * 1024 * 1024]);
    expect(timers()).to.equal(before); // the pending write had no deadline, and has none
    const timed = write(new Uint8Array(4 * 1024 * 1024));
    expect(timers()).to.equal(before + 1); // the new deadline's timer
    got = 0;
    while (got < 4 * 1024 * 1024) got += await peer.asyncReadSome(sink);
    expect(await timed).to.deep.equal([null, 4 * 1024 * 1024]);
  });

  it('adopts a Node socket, and times out reads on it', async () => {
    const server = net.createServer();
    closers.push(() => server.close());
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    closers.push(() => client.destroy());
    const [raw] = await accepted;
    const stream = track(TcpStream.adopt(ioc, raw));
    stream.expiresAfter(20);
    expect(await stream.asyncReadSome(new Uint8Array(8), asTuple())).to.deep.equal([beastError.timeout, 0]);
    expect(raw.destroyed).to.equal(true);
  });

  it('releaseSocket hands the socket over and continues with a closed one', async () => {
    const [stream] = await pair();
    const old = track(stream.releaseSocket());
    expect(old.isOpen()).to.equal(true);
    expect(stream.isOpen()).to.equal(false);
    expect(stream.socket()).to.not.equal(old);
    expect((await stream.asyncWriteSome(buffer('x'), asTuple()))[0]).to.equal(error.badDescriptor);
  });
});
