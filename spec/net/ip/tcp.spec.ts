/**
 * Specs for lib/net/ip: Endpoint, Resolver, TcpSocket, TcpAcceptor and the range asyncConnect,
 * over real loopback sockets on 127.0.0.1. Every socket, server and acceptor a test opens is
 * closed in afterEach; the root hook checks that no Node handle is left behind.
 */

import { batchWriteMax } from '../../../lib/net/ip/write-batch.js';
import { expect } from 'chai';
import sinon from 'sinon';
import * as net from 'node:net';
import { once } from 'node:events';
import {
  asTuple,
  asyncConnect,
  asyncRead,
  asyncWrite,
  bindCancellationSlot,
  bindExecutor,
  buffer,
  buffersToString,
  CancellationSignal,
  CancellationType,
  deferred,
  Endpoint,
  error,
  inlineExecutor,
  IoContext,
  makeWorkGuard,
  Resolver,
  ShutdownType,
  SystemError,
  TcpAcceptor,
  TcpSocket,
  type ErrorCode,
  type IoSignature,
  type WorkGuard,
} from '../../../lib/net/index.js';
import { recorder, settle } from '../../support/recorder.js';
import { privateApisEnabled } from '../../../lib/net/node-internals.js';


const text = (b: Uint8Array, n = b.length): string => buffersToString(b.subarray(0, n));
const rejection = (p: Promise<unknown>): Promise<SystemError> =>
  p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e as SystemError,
  );

describe('net/ip/tcp', () => {
  let ioc: IoContext;
  let guard: WorkGuard;
  let running: Promise<number>;
  let closers: Array<() => void>;

  beforeEach(() => {
    ioc = new IoContext();
    guard = makeWorkGuard(ioc);
    running = ioc.run();
    closers = [];
  });

  afterEach(async () => {
    for (const close of closers.reverse()) close();
    guard.reset();
    await running;
    expect(ioc.outstandingWork()).to.equal(0);
  });

  const track = <T extends { close(): void }>(x: T): T => {
    closers.push(() => x.close());
    return x;
  };
  const trackNode = (s: net.Socket): net.Socket => {
    closers.push(() => s.destroy());
    return s;
  };

  async function listening(): Promise<TcpAcceptor> {
    const acceptor = track(new TcpAcceptor(ioc));
    acceptor.open();
    acceptor.bind(new Endpoint('127.0.0.1', 0));
    await acceptor.asyncListen();
    return acceptor;
  }

  /** A connected pair: [client made by asyncConnect, server made by asyncAccept]. */
  async function pair(): Promise<[TcpSocket, TcpSocket]> {
    const acceptor = await listening();
    const accepted = acceptor.asyncAccept();
    const client = track(new TcpSocket(ioc));
    await client.asyncConnect(acceptor.localEndpoint());
    return [client, track(await accepted)];
  }

  /** A raw Node server; resolves with the port and the next peer socket. */
  async function rawServer(): Promise<{ port: number; peer: Promise<net.Socket> }> {
    const server = net.createServer({ allowHalfOpen: true });
    closers.push(() => server.close());
    let resolvePeer!: (s: net.Socket) => void;
    const peer = new Promise<net.Socket>((r) => (resolvePeer = r));
    server.on('connection', (s) => resolvePeer(trackNode(s)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, peer };
  }

  describe('Endpoint', () => {
    it('holds address, port and family, and prints them', () => {
      const v4 = new Endpoint('127.0.0.1', 80);
      expect([v4.address, v4.port, v4.family, v4.toString()]).to.deep.equal(['127.0.0.1', 80, 4, '127.0.0.1:80']);
      const v6 = new Endpoint('::1', 443);
      expect([v6.family, v6.toString()]).to.deep.equal([6, '[::1]:443']);
      expect(new Endpoint().toString()).to.equal('0.0.0.0:0');
      expect(Endpoint.any(8080, 6).toString()).to.equal('[::]:8080');
      expect(Endpoint.loopback(1).equals(new Endpoint('127.0.0.1', 1))).to.equal(true);
    });

    it('rejects names and bad ports with invalidArgument', () => {
      for (const make of [() => new Endpoint('localhost', 1), () => new Endpoint('127.0.0.1', 70000), () => new Endpoint('::1', 1.5)]) {
        expect(make).to.throw(SystemError).with.property('code', error.invalidArgument);
      }
    });
  });

  describe('Resolver', () => {
    it('resolves localhost to loopback endpoints with the service port', async () => {
      const results = await new Resolver(ioc).asyncResolve('localhost', '8080');
      expect(results).to.not.be.empty;
      for (const ep of results) {
        expect(ep.port).to.equal(8080);
        expect(['127.0.0.1', '::1']).to.include(ep.address);
      }
    });

    it('maps an unknown name to hostNotFound (callback, once, not inside the call)', async () => {
      const cb = recorder<[ErrorCode | null, Endpoint[]]>();
      new Resolver(ioc).asyncResolve('does-not-exist.invalid', 80, cb.fn);
      cb.started();
      const [ec, results] = await cb.done;
      expect(ec).to.equal(error.hostNotFound);
      expect(results).to.deep.equal([]);
      await settle();
      expect(cb.calls).to.have.length(1);
      expect(cb.insideInitiation()).to.equal(false);
    });

    it('rejects a service that is not a port with serviceNotFound (posted)', async () => {
      const cb = recorder<[ErrorCode | null, Endpoint[]]>();
      new Resolver(ioc).asyncResolve('localhost', 'http', cb.fn);
      cb.started();
      expect((await cb.done)[0]).to.equal(error.serviceNotFound);
      expect(cb.insideInitiation()).to.equal(false);
    });

    it('cancel() completes pending resolves with operationAborted', async () => {
      const r = new Resolver(ioc);
      const p = r.asyncResolve('localhost', 1, asTuple());
      r.cancel();
      expect(await p).to.deep.equal([error.operationAborted, []]);
      await settle(20); // let the system lookup finish before the leak check
    });
  });

  describe('TcpSocket', () => {
    it('connects and echoes; endpoints match on both sides', async () => {
      const [client, server] = await pair();
      expect(client.isOpen()).to.equal(true);
      expect(client.remoteEndpoint().equals(server.localEndpoint())).to.equal(true);
      expect(server.remoteEndpoint().equals(client.localEndpoint())).to.equal(true);
      expect(await client.asyncWriteSome(buffer('ping'))).to.equal(4);
      const buf = new Uint8Array(16);
      const n = await server.asyncReadSome(buf);
      await asyncWrite(server, buf.subarray(0, n));
      expect(text(buf, await asyncRead(client, buf.subarray(0, 4)))).to.equal('ping');
    });

    it('callbacks run exactly once, never inside the initiating call, on the executor', async () => {
      const [client, server] = await pair();
      const w = recorder<IoSignature>();
      const r = recorder<IoSignature>();
      let onExecutor = false;
      const buf = new Uint8Array(8);
      server.asyncReadSome(buf, (...args: IoSignature) => {
        onExecutor = ioc.getExecutor().runningInThisThread();
        r.fn(...args);
      });
      r.started();
      client.asyncWriteSome(buffer('abc'), w.fn);
      w.started();
      expect(await w.done).to.deep.equal([null, 3]);
      expect(await r.done).to.deep.equal([null, 3]);
      await settle();
      expect([w.calls.length, r.calls.length]).to.deep.equal([1, 1]);
      expect([w.insideInitiation(), r.insideInitiation(), onExecutor]).to.deep.equal([false, false, true]);
    });

    it('promise tokens reject with SystemError; asTuple resolves with the signature', async () => {
      const [client, server] = await pair();
      client.shutdown(ShutdownType.send);
      const buf = new Uint8Array(4);
      expect(await server.asyncReadSome(buf, asTuple())).to.deep.equal([error.eof, 0]);
      expect((await rejection(server.asyncReadSome(buf))).code).to.equal(error.eof);
    });

    it('half-close: shutdown(send) gives the peer its bytes then eof, and the other direction still works', async () => {
      const [client, server] = await pair();
      await asyncWrite(client, buffer('last words'));
      client.shutdown(ShutdownType.send);
      const buf = new Uint8Array(64);
      const [ec, n] = await asyncRead(server, buf, asTuple());
      expect([ec, text(buf, n)]).to.deep.equal([error.eof, 'last words']);
      expect((await rejection(client.asyncWriteSome(buffer('x')))).code).to.equal(error.brokenPipe);
      await asyncWrite(server, buffer('reply'));
      expect(text(buf, await asyncRead(client, buf.subarray(0, 5)))).to.equal('reply');
    });

    it('shutdown(receive) completes a pending read with eof', async () => {
      const [, server] = await pair();
      const p = server.asyncReadSome(new Uint8Array(4), asTuple());
      server.shutdown(ShutdownType.receive);
      expect(await p).to.deep.equal([error.eof, 0]);
    });

    it('a peer reset gives connectionReset', async () => {
      const { port, peer } = await rawServer();
      const client = track(new TcpSocket(ioc));
      await client.asyncConnect(new Endpoint('127.0.0.1', port));
      const p = client.asyncReadSome(new Uint8Array(4), asTuple());
      (await peer).resetAndDestroy();
      expect(await p).to.deep.equal([error.connectionReset, 0]);
      expect(client.isOpen()).to.equal(true); // open until close(), as in Asio
    });

    it('a refused connect gives connectionRefused and leaves the socket closed', async () => {
      const acceptor = await listening();
      const port = acceptor.localEndpoint().port;
      acceptor.close();
      const client = track(new TcpSocket(ioc));
      expect(await client.asyncConnect(new Endpoint('127.0.0.1', port), asTuple())).to.deep.equal([error.connectionRefused]);
      expect(client.isOpen()).to.equal(false);
    });

    for (const [name, type] of [['terminal', CancellationType.terminal], ['partial', CancellationType.partial], ['total', CancellationType.total]] as const) {
      it(`a read cancelled (${name}) completes with operationAborted; later bytes go to the next read`, async () => {
        const [client, server] = await pair();
        const signal = new CancellationSignal();
        const big = new Uint8Array(64 * 1024); // big enough to be read into directly
        const cb = recorder<IoSignature>();
        server.asyncReadSome(big, bindCancellationSlot(signal.slot(), cb.fn));
        cb.started();
        await settle();
        signal.emit(type);
        expect(cb.calls).to.have.length(0); // never inside the emit either
        expect(await cb.done).to.deep.equal([error.operationAborted, 0]);
        expect(signal.hasHandler()).to.equal(false);
        await asyncWrite(client, buffer('after'));
        await settle();
        const small = new Uint8Array(3);
        expect(text(small, await server.asyncReadSome(small))).to.equal('aft');
        expect(text(small, await server.asyncReadSome(small))).to.equal('er');
        expect(big.every((b) => b === 0)).to.equal(true); // the cancelled read's buffer is untouched
      });
    }

    it('cancel() completes a pending read; the socket stays usable', async () => {
      const [client, server] = await pair();
      const p = server.asyncReadSome(new Uint8Array(4), asTuple());
      server.cancel();
      expect(await p).to.deep.equal([error.operationAborted, 0]);
      await asyncWrite(client, buffer('ok'));
      const buf = new Uint8Array(4);
      expect(text(buf, await server.asyncReadSome(buf))).to.equal('ok');
    });

    it('a second concurrent read or write completes with alreadyStarted (posted), the first unharmed', async () => {
      const [client, server] = await pair();
      const buf = new Uint8Array(8);
      const first = server.asyncReadSome(buf);
      const second = recorder<IoSignature>();
      server.asyncReadSome(new Uint8Array(8), second.fn);
      second.started();
      expect(await second.done).to.deep.equal([error.alreadyStarted, 0]);
      expect(second.insideInitiation()).to.equal(false);
      // Writes above the batching size go to Node directly and stay outstanding until it is done.
      const big = new Uint8Array(batchWriteMax + 1).fill(0x6f);
      const w1 = client.asyncWriteSome(big);
      const w2 = await client.asyncWriteSome(buffer('two'), asTuple());
      expect(w2).to.deep.equal([error.alreadyStarted, 0]);
      expect(await w1).to.equal(big.length);
      expect(text(buf, await first)).to.equal('oooooooo');
    });

    it('small writes are batched and keep their order with a large write between them', async () => {
      const [client, server] = await pair();
      const big = new Uint8Array(batchWriteMax + 10).fill(0x42);
      const expected: number[] = [];
      for (let i = 0; i < 50; i++) {
        const small = Uint8Array.of(i);
        expected.push(i);
        await client.asyncWriteSome(small); // completes once copied: the caller may reuse it
        small[0] = 0xff;
        if (i === 25) {
          await asyncWrite(client, big);
          expected.push(...big);
        }
      }
      const got = new Uint8Array(expected.length);
      await asyncRead(server, got);
      expect(Array.from(got)).to.deep.equal(expected);
    });

    it('the small writes of one turn go to Node in one write, however far their batch grows', async () => {
      const [client, server] = await pair();
      const writes = sinon.spy(net.Socket.prototype, 'write');
      try {
        // 40 writes of 1,000 bytes, the first from a handler, each next one from the last one's
        // handler: one turn, 40 KB, through batches of 2, 4, 8, 16, 32 and 64 KiB.
        const expected: number[] = [];
        const done = new Promise<void>((resolve, reject) => {
          const next = (i: number): void => {
            if (i === 40) return resolve();
            const piece = new Uint8Array(1000).fill(i);
            expected.push(...piece);
            client.asyncWriteSome(piece, (ec, n) => (ec !== null || n !== 1000 ? reject(new Error(`write ${i}: ${ec?.message() ?? n}`)) : next(i + 1)));
          };
          ioc.getExecutor().post(() => next(0));
        });
        await done;
        const got = new Uint8Array(expected.length);
        await asyncRead(server, got);
        expect(Array.from(got)).to.deep.equal(expected);
        expect(writes.args.map((a) => (a[0] as Uint8Array).length)).to.deep.equal([40_000]);
      } finally {
        writes.restore();
      }
    });

    it('never returns more than fits: bytes wait for the next read, in order, across many reads', async () => {
      const [client, server] = await pair();
      await asyncWrite(client, [buffer('0123'), buffer('456789')]); // a list: cork / uncork
      await settle();
      const got: string[] = [];
      for (const size of [3, 3, 4]) {
        const b = new Uint8Array(size);
        got.push(text(b, await server.asyncReadSome(b)));
      }
      expect(got).to.deep.equal(['012', '345', '6789']);
    });

    it('moves 4 MiB both ways intact through direct and landing-buffer reads', async () => {
      const [client, server] = await pair();
      const data = new Uint8Array(4 << 20).map((_, i) => (i * 7) & 0xff);
      const echoed = new Uint8Array(data.length);
      const sink = new Uint8Array(data.length);
      const w = asyncWrite(client, data);
      // Server: alternate small (landing) and large (direct) reads.
      let at = 0;
      for (let i = 0; at < data.length; i++) {
        const want = Math.min(i % 2 === 0 ? 1000 : 100_000, data.length - at);
        at += await server.asyncReadSome(sink.subarray(at, at + want));
      }
      await w;
      expect(Buffer.compare(sink, data)).to.equal(0);
      const back = asyncWrite(server, sink);
      expect(await asyncRead(client, echoed)).to.equal(data.length);
      await back;
      expect(Buffer.compare(echoed, data)).to.equal(0);
    });

    it('keeps two sockets\' leftovers apart while both read large bursts in small pieces', async () => {
      // Each burst lands in a shared buffer; a socket whose rest is large keeps that block for its
      // leftover, and the block goes back for reuse once drained: the two sockets' blocks and
      // bytes must never mix.
      const pairs = [await pair(), await pair()];
      const data = pairs.map((_, k) => new Uint8Array(1 << 20).map((_, i) => (i * (k === 0 ? 7 : 13) + k) & 0xff));
      const sinks = data.map((d) => new Uint8Array(d.length));
      const writes = pairs.map(([client], k) => asyncWrite(client, data[k]!));
      const at = [0, 0];
      for (let i = 0; at[0]! < data[0]!.length || at[1]! < data[1]!.length; i++) {
        const k = i % 2;
        if (at[k]! >= data[k]!.length) continue;
        const want = Math.min(k === 0 ? 3000 : 5000, data[k]!.length - at[k]!);
        at[k]! += await pairs[k]![1].asyncReadSome(sinks[k]!.subarray(at[k]!, at[k]! + want));
      }
      await Promise.all(writes);
      for (let k = 0; k < 2; k++) expect(Buffer.compare(sinks[k]!, data[k]!)).to.equal(0);
    });

    it('re-points Node\'s read target only for cancelled direct reads, at most 16 times, and never writes into a cancelled read\'s buffer', async function () {
      // The private path itself (net/node-internals.ts, 3); with it off there is nothing to re-point.
      if (!privateApisEnabled()) this.skip();
      // Each useUserBuffer call leaves a listener on Node's handle until the socket closes.
      const [client, server] = await pair();
      const handle = (server.nativeHandle() as unknown as { _handle: { useUserBuffer(b: Uint8Array): void } })._handle;
      const spy = sinon.spy(handle, 'useUserBuffer');
      const data = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
      const sink = new Uint8Array(data.length);
      // Large reads started from promise continuations, between callbacks: no re-pointing at all.
      for (let round = 0; round < 50; round++) {
        const w = asyncWrite(client, data);
        let at = 0;
        while (at < data.length) at += await server.asyncReadSome(sink.subarray(at));
        await w;
        expect(Buffer.compare(sink, data), `round ${round}`).to.equal(0);
      }
      expect(spy.callCount).to.equal(0);
      // A large read started inside a read's completion (so Node is given its buffer directly),
      // then cancelled from outside: the handle must be moved off that buffer, up to the bound.
      const cancelled: Uint8Array[] = [];
      for (let round = 0; round < 40; round++) {
        const big = new Uint8Array(32 * 1024).fill(0xee);
        cancelled.push(big);
        let started!: () => void;
        const bigStarted = new Promise<void>((r) => (started = r));
        const second = new Promise<unknown>((resolve) => {
          // Run inline, inside Node's read callback: the next read is offered to Node directly.
          const first = (ec: ErrorCode | null): void => {
            expect(ec).to.equal(null);
            server.asyncReadSome(big, (ec2) => resolve(ec2));
            started();
          };
          server.asyncReadSome(new Uint8Array(1), bindExecutor(inlineExecutor, first));
        });
        await asyncWrite(client, data.subarray(0, 1));
        await bigStarted;
        server.cancel();
        expect(await second).to.equal(error.operationAborted);
      }
      expect(spy.callCount).to.equal(16);
      // Bytes after the bound still arrive whole, and none landed in a cancelled read's buffer.
      const w = asyncWrite(client, data);
      expect(await asyncRead(server, sink)).to.equal(data.length);
      await w;
      expect(Buffer.compare(sink, data)).to.equal(0);
      for (const big of cancelled) expect(big.every((b) => b === 0xee)).to.equal(true);
    });

    it('adopts a socket Node created: reads through data events, keeping leftovers, and writes', async () => {
      const { port, peer } = await rawServer();
      const raw = trackNode(net.connect(port, '127.0.0.1'));
      await once(raw, 'connect');
      const adopted = track(TcpSocket.adopt(ioc, await peer));
      raw.write('hello world');
      const b = new Uint8Array(5);
      expect(text(b, await adopted.asyncReadSome(b))).to.equal('hello');
      const rest = new Uint8Array(64);
      expect(text(rest, await adopted.asyncReadSome(rest))).to.equal(' world'); // kept for this read
      const signal = new CancellationSignal();
      const p = adopted.asyncReadSome(new Uint8Array(64), bindCancellationSlot(signal.slot(), asTuple()));
      await settle();
      signal.emit(CancellationType.total);
      expect(await p).to.deep.equal([error.operationAborted, 0]);
      raw.write('later');
      expect(text(rest, await adopted.asyncReadSome(rest))).to.equal('later');
      await asyncWrite(adopted, buffer('back'));
      const [chunk] = (await once(raw, 'data')) as [Buffer];
      expect(chunk.toString()).to.equal('back');
      raw.end();
      expect(await adopted.asyncReadSome(rest, asTuple())).to.deep.equal([error.eof, 0]);
    });

    it('leaves no per-operation listener on the Node socket; close() removes its own', async () => {
      const [client, server] = await pair();
      const s = server.nativeHandle()!;
      const events = ['connect', 'error', 'end', 'close', 'data', 'drain'] as const;
      const counts = (): number[] => events.map((e) => s.listenerCount(e));
      const before = counts();
      expect(client.nativeHandle()!.listenerCount('connect')).to.equal(0);
      for (let i = 0; i < 5; i++) {
        const p = server.asyncReadSome(new Uint8Array(8));
        await asyncWrite(client, buffer('x'));
        await p;
        await asyncWrite(server, buffer('y'));
        const c = server.asyncReadSome(new Uint8Array(8), asTuple());
        server.cancel();
        await c;
      }
      expect(counts()).to.deep.equal(before);
      server.close();
      expect(s.listenerCount('error') + s.listenerCount('end')).to.be.lessThan(before[1] + before[2]);
      expect(server.isOpen()).to.equal(false);
    });

    it('a write still queued in Node is cancelled (terminal) by destroying the connection', async () => {
      const [client] = await pair(); // the server side never reads
      const signal = new CancellationSignal();
      const p = client.asyncWriteSome(new Uint8Array(32 << 20), bindCancellationSlot(signal.slot(), asTuple()));
      await settle();
      signal.emit(CancellationType.partial); // writes support terminal only: ignored
      signal.emit(CancellationType.terminal);
      expect(await p).to.deep.equal([error.operationAborted, 0]);
      expect(await client.asyncReadSome(new Uint8Array(4), asTuple())).to.deep.equal([error.badDescriptor, 0]);
    });

    it('a write cancelled (terminal) with its bytes still queued leaves the socket closed: isOpen() false (issue 17.7)', async () => {
      const [client] = await pair(); // the server side never reads
      const signal = new CancellationSignal();
      const read = client.asyncReadSome(new Uint8Array(4), asTuple());
      const p = client.asyncWriteSome(new Uint8Array(32 << 20), bindCancellationSlot(signal.slot(), asTuple()));
      await settle();
      signal.emit(CancellationType.terminal);
      expect(await p).to.deep.equal([error.operationAborted, 0]);
      expect(await read).to.deep.equal([error.operationAborted, 0]);
      expect(client.isOpen()).to.equal(false);
      expect(client.nativeHandle()).to.equal(null);
      client.close(); // harmless
    });

    it('copies the buffer sequence at initiation: a deferred write or read launched after the caller emptied its list (issue 17.1)', async () => {
      const [client, server] = await pair();
      const seq = [buffer('ab'), buffer('cd')];
      const write = client.asyncWriteSome(seq, deferred);
      seq.length = 0;
      expect(await write(asTuple())).to.deep.equal([null, 4]);
      const into = [new Uint8Array(1), new Uint8Array(3)];
      const targets = [...into];
      const read = asyncRead(server, into, deferred);
      into.length = 0;
      expect(await read(asTuple())).to.deep.equal([null, 4]);
      expect(targets.map((b) => text(b))).to.deep.equal(['a', 'bcd']);
      // The free asyncWrite too, with a callback (its first step runs inside the call).
      const big = [new Uint8Array(3 << 20), new Uint8Array(3 << 20).fill(1)];
      const done = new Promise<[ErrorCode | null, number]>((resolve) => asyncWrite(client, big, (ec, n) => resolve([ec, n])));
      big.length = 0;
      const sink = new Uint8Array(6 << 20);
      const [[wec, wn], [rec, rn]] = await Promise.all([done, asyncRead(server, sink, asTuple())]);
      expect([wec, wn, rec, rn]).to.deep.equal([null, 6 << 20, null, 6 << 20]);
      expect([sink[(3 << 20) - 1], sink[3 << 20]]).to.deep.equal([0, 1]);
    });

    it('operations on a closed socket fail (posted); endpoints throw', async () => {
      const s = new TcpSocket(ioc);
      expect(await s.asyncReadSome(new Uint8Array(1), asTuple())).to.deep.equal([error.badDescriptor, 0]);
      expect(await s.asyncWriteSome(new Uint8Array(1), asTuple())).to.deep.equal([error.badDescriptor, 0]);
      expect(() => s.localEndpoint()).to.throw(SystemError);
      expect(() => s.shutdown(ShutdownType.both)).to.throw(SystemError);
      s.close(); // harmless
    });

    it('close() completes pending operations with operationAborted', async () => {
      const [, server] = await pair();
      const p = server.asyncReadSome(new Uint8Array(4), asTuple());
      server.close();
      expect(await p).to.deep.equal([error.operationAborted, 0]);
    });

    it('a connect cancelled (terminal) completes with operationAborted and closes', async () => {
      const acceptor = await listening();
      const client = track(new TcpSocket(ioc));
      const signal = new CancellationSignal();
      const p = client.asyncConnect(acceptor.localEndpoint(), bindCancellationSlot(signal.slot(), asTuple()));
      signal.emit(CancellationType.terminal);
      expect(await p).to.deep.equal([error.operationAborted]);
      expect(client.isOpen()).to.equal(false);
    });

    describe('asyncReadSomeLazy', () => {
      /** A source that counts its calls and hands out `room` bytes each time. */
      const source = (room: number): { readTarget(): Uint8Array; calls: Uint8Array[] } => {
        const calls: Uint8Array[] = [];
        return {
          calls,
          readTarget(): Uint8Array {
            const b = new Uint8Array(room);
            calls.push(b);
            return b;
          },
        };
      };

      it('asks for buffers only once bytes arrived, completes as asyncReadSome, never inside the initiating call', async () => {
        const [client, server] = await pair();
        const src = source(16);
        const r = recorder<IoSignature>();
        server.asyncReadSomeLazy(src, r.fn);
        r.started();
        await settle();
        expect(src.calls.length).to.equal(0);
        await asyncWrite(client, buffer('hello'));
        expect(await r.done).to.deep.equal([null, 5]);
        expect([src.calls.length, text(src.calls[0]!, 5), r.insideInitiation()]).to.deep.equal([1, 'hello', false]);
      });

      it('bytes that do not fit wait for the next read; bytes already waiting are taken at once (posted)', async () => {
        const [client, server] = await pair();
        const src = source(4);
        const first = server.asyncReadSomeLazy(src);
        await asyncWrite(client, buffer('abcdefghij'));
        expect(await first).to.equal(4);
        const r = recorder<IoSignature>();
        server.asyncReadSomeLazy(src, r.fn);
        r.started();
        expect(src.calls.length).to.equal(2); // asked inside the call: the bytes were there
        expect(await r.done).to.deep.equal([null, 4]);
        expect(r.insideInitiation()).to.equal(false);
        const rest = new Uint8Array(8);
        expect(text(rest, await server.asyncReadSome(rest))).to.equal('ij');
        expect(src.calls.map((b) => text(b))).to.deep.equal(['abcd', 'efgh']);
      });

      it('a read that ends without bytes never asks: cancel, eof, close; a second read gets alreadyStarted', async () => {
        const [client, server] = await pair();
        const src = source(8);
        const p = server.asyncReadSomeLazy(src, asTuple());
        expect(await server.asyncReadSomeLazy(src, asTuple())).to.deep.equal([error.alreadyStarted, 0]);
        server.cancel();
        expect(await p).to.deep.equal([error.operationAborted, 0]);
        await asyncWrite(client, buffer('kept'));
        const b = new Uint8Array(8);
        expect(text(b, await server.asyncReadSome(b))).to.equal('kept');
        client.shutdown(ShutdownType.send);
        expect(await server.asyncReadSomeLazy(src, asTuple())).to.deep.equal([error.eof, 0]);
        const q = client.asyncReadSomeLazy(src, asTuple());
        client.close();
        expect(await q).to.deep.equal([error.operationAborted, 0]);
        expect(src.calls.length).to.equal(0);
      });

      it('a cancellation slot reaches a lazy read; the bytes go to the next read', async () => {
        const [client, server] = await pair();
        const src = source(8);
        const signal = new CancellationSignal();
        const p = server.asyncReadSomeLazy(src, bindCancellationSlot(signal.slot(), asTuple()));
        await settle();
        signal.emit(CancellationType.terminal);
        expect(await p).to.deep.equal([error.operationAborted, 0]);
        await asyncWrite(client, buffer('after'));
        expect(await server.asyncReadSomeLazy(src)).to.equal(5);
        expect(src.calls.map((b) => text(b, 5))).to.deep.equal(['after']);
      });

      it('works on an adopted socket (data events)', async () => {
        const { port, peer } = await rawServer();
        const raw = trackNode(net.connect(port, '127.0.0.1'));
        await once(raw, 'connect');
        const adopted = track(TcpSocket.adopt(ioc, await peer));
        const src = source(3);
        const p = adopted.asyncReadSomeLazy(src);
        await settle();
        expect(src.calls.length).to.equal(0);
        raw.write('hello');
        expect(await p).to.equal(3);
        expect(await adopted.asyncReadSomeLazy(src)).to.equal(2);
        expect(src.calls.map((b) => text(b))).to.deep.equal(['hel', 'lo\0']);
      });
    });

    it('sets and remembers noDelay and keepAlive', async () => {
      const [client] = await pair();
      client.setOption(TcpSocket.noDelay(true));
      client.setOption(TcpSocket.keepAlive(true));
      expect([client.getOption('noDelay'), client.getOption('keepAlive')]).to.deep.equal([true, true]);
    });
  });

  describe('types (checked by the compiler)', () => {
    it('results follow the token', () => {
      // Never called: the assignments are the test.
      const typed = (a: TcpAcceptor, r: Resolver, s: TcpSocket): void => {
        const accepted: Promise<TcpSocket> = a.asyncAccept();
        const resolved: Promise<Endpoint[]> = r.asyncResolve('localhost', 80);
        const connected: Promise<void> = s.asyncConnect(new Endpoint());
        const some: Promise<number> = s.asyncReadSome(new Uint8Array(1));
        const tuple: Promise<[ErrorCode | null, number]> = s.asyncWriteSome(new Uint8Array(1), asTuple());
        const range: Promise<Endpoint> = asyncConnect(s, []);
        const nothing: void = s.asyncReadSome(new Uint8Array(1), (ec, n) => {
          const e: ErrorCode | null = ec;
          const k: number = n;
          void [e, k];
        });
        void [accepted, resolved, connected, some, tuple, range, nothing];
      };
      expect(typed).to.be.a('function');
    });
  });

  describe('TcpAcceptor', () => {
    it('queues connections that arrive before anyone accepts', async () => {
      const acceptor = await listening();
      const clients = [track(new TcpSocket(ioc)), track(new TcpSocket(ioc))];
      await Promise.all(clients.map((c) => c.asyncConnect(acceptor.localEndpoint())));
      await asyncWrite(clients[0], buffer('first'));
      const a = track(await acceptor.asyncAccept());
      const b = track(await acceptor.asyncAccept());
      expect(a.remoteEndpoint().equals(clients[0].localEndpoint())).to.equal(true);
      expect(b.remoteEndpoint().equals(clients[1].localEndpoint())).to.equal(true);
      const buf = new Uint8Array(5);
      expect(text(buf, await asyncRead(a, buf))).to.equal('first');
    });

    it('an accept cancelled (terminal) completes with operationAborted; the next accept gets the connection', async () => {
      const acceptor = await listening();
      const signal = new CancellationSignal();
      const cb = recorder<[ErrorCode | null, TcpSocket]>();
      acceptor.asyncAccept(bindCancellationSlot(signal.slot(), cb.fn));
      cb.started();
      signal.emit(CancellationType.terminal);
      const [ec, sock] = await cb.done;
      expect([ec, sock.isOpen(), cb.insideInitiation()]).to.deep.equal([error.operationAborted, false, false]);
      const client = track(new TcpSocket(ioc));
      const next = acceptor.asyncAccept();
      await client.asyncConnect(acceptor.localEndpoint());
      expect(track(await next).remoteEndpoint().equals(client.localEndpoint())).to.equal(true);
    });

    it('close() completes pending accepts with operationAborted', async () => {
      const acceptor = await listening();
      const p = acceptor.asyncAccept(asTuple());
      acceptor.close();
      const [ec, sock] = await p;
      expect([ec, sock.isOpen(), acceptor.isOpen()]).to.deep.equal([error.operationAborted, false, false]);
    });

    it('reports a bind failure to asyncListen and to accepts', async () => {
      const first = await listening();
      const second = track(new TcpAcceptor(ioc));
      second.open();
      second.bind(first.localEndpoint());
      expect(await second.asyncListen(asTuple())).to.deep.equal([error.addressInUse]);
      expect((await second.asyncAccept(asTuple()))[0]).to.equal(error.addressInUse);
    });

    it('refuses to accept before listen() and after close()', async () => {
      const acceptor = track(new TcpAcceptor(ioc));
      acceptor.open();
      expect((await acceptor.asyncAccept(asTuple()))[0]).to.equal(error.invalidArgument);
      acceptor.close();
      expect((await acceptor.asyncAccept(asTuple()))[0]).to.equal(error.badDescriptor);
      expect(() => acceptor.localEndpoint()).to.throw(SystemError);
    });
  });

  describe('asyncConnect (range)', () => {
    it('tries each endpoint in turn and reports the one that accepted', async () => {
      const refused = await listening();
      const dead = refused.localEndpoint();
      refused.close();
      const acceptor = await listening();
      const accepted = acceptor.asyncAccept();
      const client = track(new TcpSocket(ioc));
      const ep = await asyncConnect(client, [dead, acceptor.localEndpoint()]);
      expect(ep.equals(acceptor.localEndpoint())).to.equal(true);
      track(await accepted);
    });

    it('fails with the last error, or notFound for no endpoints', async () => {
      const refused = await listening();
      const dead = refused.localEndpoint();
      refused.close();
      const client = track(new TcpSocket(ioc));
      const [ec, ep] = await asyncConnect(client, [dead], asTuple());
      expect([ec, ep.toString()]).to.deep.equal([error.connectionRefused, '0.0.0.0:0']);
      expect((await asyncConnect(client, [], asTuple()))[0]).to.equal(error.notFound);
    });
  });
});
