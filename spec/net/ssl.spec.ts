/**
 * Specs for lib/net/ssl: SslContext, SslStream over real loopback TCP (the TLS layer takes the
 * Node socket), over a TcpStream with deadlines, and over a TestStream pair through the Duplex
 * adapter; plus the error mapping. Certificates come from spec/fixtures (see its README). Every
 * stream, socket and acceptor a test opens is closed in afterEach; the root hook checks that no
 * TLSWrap or socket is left behind.
 */

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { error as beastError } from '../../lib/beast/core/error.js';
import { TcpStream } from '../../lib/beast/core/tcp-stream.js';
import { TestStream } from '../../lib/beast/test/stream.js';
import {
  asTuple,
  asyncRead,
  asyncWrite,
  bindCancellationSlot,
  buffer,
  buffersToString,
  CancellationSignal,
  CancellationType,
  Endpoint,
  error as netError,
  IoContext,
  makeWorkGuard,
  TcpAcceptor,
  TcpSocket,
  type AsyncStream,
  type ErrorCode,
  type IoSignature,
  type WorkGuard,
} from '../../lib/net/index.js';
import {
  condition,
  error,
  fromTlsError,
  SslContext,
  SslStream,
  sslCategory,
  verifyFailIfNoPeerCert,
  verifyNone,
  verifyPeer,
  type SslSignature,
} from '../../lib/net/ssl.js';
import { recorder, settle } from '../support/recorder.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../spec/fixtures/${name}`, import.meta.url), 'latin1');
const cert = fixture('cert.pem');
const key = fixture('key.pem');
const otherCert = fixture('other-cert.pem');
const otherKey = fixture('other-key.pem');

function serverContext(certPem = cert, keyPem = key): SslContext {
  const ctx = new SslContext('tlsServer');
  ctx.useCertificate(certPem);
  ctx.usePrivateKey(keyPem);
  return ctx;
}

function clientContext(ca: string | null = cert): SslContext {
  const ctx = new SslContext('tlsClient');
  if (ca !== null) ctx.addCertificateAuthority(ca);
  return ctx;
}



describe('net/ssl', () => {
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

  /** A connected pair of TcpSockets on 127.0.0.1: [client, server]. */
  async function tcpPair(): Promise<[TcpSocket, TcpSocket]> {
    const acceptor = track(new TcpAcceptor(ioc));
    acceptor.open();
    acceptor.bind(new Endpoint('127.0.0.1', 0));
    await acceptor.asyncListen();
    const accepted = acceptor.asyncAccept();
    const client = track(new TcpSocket(ioc));
    await client.asyncConnect(acceptor.localEndpoint());
    return [client, track(await accepted)];
  }

  /** Runs both handshakes; resolves with [client ec, server ec]. */
  function handshakes<A extends AsyncStream, B extends AsyncStream>(
    client: SslStream<A>,
    server: SslStream<B>,
  ): Promise<[ErrorCode | null, ErrorCode | null]> {
    return Promise.all([
      client.asyncHandshake('client', asTuple()).then(([ec]) => ec),
      server.asyncHandshake('server', asTuple()).then(([ec]) => ec),
    ]);
  }

  /** TLS streams over a loopback TCP pair: [client, server]. */
  async function tlsPair(cctx = clientContext(), sctx = serverContext()): Promise<[SslStream<TcpSocket>, SslStream<TcpSocket>]> {
    const [c, s] = await tcpPair();
    return [track(new SslStream(c, cctx)), track(new SslStream(s, sctx))];
  }

  describe('over TCP (the TLS layer owns the Node socket)', () => {
    it('echoes with the peer verified against the fixture CA; handlers once, never inside the call', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      const hs = recorder<SslSignature>();
      client.asyncHandshake('client', hs.fn);
      hs.started();
      expect(await server.asyncHandshake('server', asTuple())).to.deep.equal([null]);
      expect(await hs.done).to.deep.equal([null]);
      expect(client.nativeHandle()!.authorized).to.equal(true);

      const w = recorder<IoSignature>();
      client.asyncWriteSome(buffer('hello over tls'), w.fn);
      w.started();
      expect(await w.done).to.deep.equal([null, 14]);
      const buf = new Uint8Array(14);
      expect(await asyncRead(server, buf)).to.equal(14);
      await asyncWrite(server, buf);
      const back = new Uint8Array(14);
      await asyncRead(client, back);
      expect(buffersToString(back)).to.equal('hello over tls');
      await settle();
      expect([hs.calls.length, w.calls.length, hs.insideInitiation(), w.insideInitiation()]).to.deep.equal([1, 1, false, false]);
    });

    it('never hands a read more than fits; the rest waits for the next read', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      await asyncWrite(client, buffer('0123456789'));
      const got: string[] = [];
      let total = 0;
      while (total < 10) {
        const small = new Uint8Array(4);
        const n = await server.asyncReadSome(small);
        expect(n).to.be.within(1, 4);
        got.push(buffersToString(small.subarray(0, n)));
        total += n;
      }
      expect(got.join('')).to.equal('0123456789');
    });

    it('rejects a certificate for another name with hostnameMismatch', async () => {
      const [client, server] = await tlsPair(clientContext(otherCert), serverContext(otherCert, otherKey));
      client.setHostname('localhost');
      const [cec, sec] = await handshakes(client, server);
      expect(cec).to.equal(error.hostnameMismatch);
      expect(cec!.category).to.equal(sslCategory);
      expect(cec!.matches(condition.verificationFailed)).to.equal(true);
      expect(cec!.matches(condition.handshakeFailed)).to.equal(true);
      // The server may or may not have finished before the client hung up.
      expect([null, error.streamTruncated, netError.connectionReset]).to.include(sec);
      expect((await client.asyncReadSome(new Uint8Array(4), asTuple()))[0]).to.equal(error.hostnameMismatch);
    });

    it('rejects a certificate no trusted authority signed with selfSignedCertificate', async () => {
      const [client, server] = await tlsPair(clientContext(null));
      client.setHostname('localhost');
      const [cec] = await handshakes(client, server);
      expect(cec).to.equal(error.selfSignedCertificate);
      expect(cec!.message()).to.match(/self-signed/);
    });

    it('verifyNone accepts any certificate', async () => {
      const cctx = clientContext(null);
      cctx.setVerifyMode(verifyNone);
      const [client, server] = await tlsPair(cctx);
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      expect(client.nativeHandle()!.authorized).to.equal(false);
    });

    it('without a host name, checks the certificate against the peer address', async () => {
      const [client, server] = await tlsPair();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const [client2, server2] = await tlsPair(clientContext(otherCert), serverContext(otherCert, otherKey));
      expect((await handshakes(client2, server2))[0]).to.equal(error.hostnameMismatch);
    });

    it('asyncShutdown exchanges close_notify: the peer reads eof, both shutdowns succeed', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const shut = client.asyncShutdown(asTuple());
      expect(await server.asyncReadSome(new Uint8Array(8), asTuple())).to.deep.equal([netError.eof, 0]);
      expect(await server.asyncShutdown(asTuple())).to.deep.equal([null]);
      expect(await shut).to.deep.equal([null]);
      expect((await client.asyncWriteSome(buffer('x'), asTuple()))[0]).to.equal(netError.brokenPipe);
    });

    it('asyncTeardown on both sides shuts TLS down and closes', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const [a, b] = await Promise.all([client.asyncTeardown('client', asTuple()), server.asyncTeardown('server', asTuple())]);
      expect([a, b]).to.deep.equal([[null], [null]]);
      expect(client.nextLayer().isOpen()).to.equal(false);
      expect((await client.asyncReadSome(new Uint8Array(4), asTuple()))[0]).to.equal(netError.badDescriptor);
    });

    it('reads fail with notConnected before the handshake; a second handshake with alreadyConnected', async () => {
      const [client, server] = await tlsPair();
      expect(await client.asyncReadSome(new Uint8Array(4), asTuple())).to.deep.equal([netError.notConnected, 0]);
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      expect(await client.asyncHandshake('client', asTuple())).to.deep.equal([netError.alreadyConnected]);
    });

    it('a cancelled read consumes nothing; close() aborts what is pending', async () => {
      const [client, server] = await tlsPair();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const signal = new CancellationSignal();
      const cb = recorder<IoSignature>();
      const buf = new Uint8Array(8);
      server.asyncReadSome(buf, bindCancellationSlot(signal.slot(), cb.fn));
      cb.started();
      signal.emit(CancellationType.total);
      expect(await cb.done).to.deep.equal([netError.operationAborted, 0]);
      await asyncWrite(client, buffer('still'));
      expect(buffersToString(buf.subarray(0, await server.asyncReadSome(buf)))).to.equal('still');
      const pending = server.asyncReadSome(buf, asTuple());
      server.close();
      expect(await pending).to.deep.equal([netError.operationAborted, 0]);
    });

    it('a server with verifyFailIfNoPeerCert refuses a client without a certificate, accepts one with', async () => {
      const sctx = serverContext();
      sctx.addCertificateAuthority(otherCert);
      sctx.setVerifyMode(verifyPeer | verifyFailIfNoPeerCert);
      const [client, server] = await tlsPair(clientContext(), sctx);
      const [, sec] = await handshakes(client, server);
      expect(sec).to.equal(error.noPeerCertificate);

      const cctx = clientContext();
      cctx.useCertificate(otherCert);
      cctx.usePrivateKey(otherKey);
      const [client2, server2] = await tlsPair(cctx, sctx);
      expect(await handshakes(client2, server2)).to.deep.equal([null, null]);
      expect(server2.nativeHandle()!.getPeerCertificate().subject.CN).to.equal('other.example');
    });

    it('a server with verifyPeer refuses a client certificate it cannot verify', async () => {
      const sctx = serverContext();
      sctx.setVerifyMode(verifyPeer);
      const cctx = clientContext();
      cctx.useCertificate(otherCert);
      cctx.usePrivateKey(otherKey);
      const [client, server] = await tlsPair(cctx, sctx);
      const [, sec] = await handshakes(client, server);
      expect(sec!.matches(condition.verificationFailed)).to.equal(true);
    });
  });

  it('serves TLS on a socket adopted from a net.Server', async () => {
    const server = net.createServer();
    closers.push(() => server.close());
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const c = track(new TcpSocket(ioc));
    await c.asyncConnect(new Endpoint('127.0.0.1', port));
    const raw = await accepted;
    closers.push(() => raw.destroy());
    const client = track(new SslStream(c, clientContext()));
    client.setHostname('localhost');
    const tlsServer = track(new SslStream(TcpStream.adopt(ioc, raw), serverContext()));
    expect(await handshakes(client, tlsServer)).to.deep.equal([null, null]);
    await asyncWrite(client, buffer('adopted'));
    const buf = new Uint8Array(7);
    await asyncRead(tlsServer, buf);
    expect(buffersToString(buf)).to.equal('adopted');
  });

  describe('the handshake deadline of its own (a silent or stalled peer)', () => {
    it('a server handshake with a peer that sends nothing completes with timedOut; the socket is closed', async () => {
      const [c, s] = await tcpPair();
      const server = track(new SslStream(s, serverContext()));
      expect(server.handshakeTimeout()).to.equal(30_000);
      server.handshakeTimeout(50);
      const t0 = Date.now();
      expect(await server.asyncHandshake('server', asTuple())).to.deep.equal([netError.timedOut]);
      expect(Date.now() - t0).to.be.below(5000);
      expect(s.isOpen(), 'the next layer is closed').to.equal(false);
      // The silent peer sees the end of the connection.
      expect(await c.asyncReadSome(new Uint8Array(8), asTuple())).to.deep.equal([netError.eof, 0]);
    });

    it('a handshake that completes in time leaves no timer (and Infinity disables the deadline)', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      server.handshakeTimeout(Infinity);
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
    });
  });

  describe('over a TcpStream (deadlines apply to TLS operations)', () => {
    it('a handshake with a peer that never answers completes with beast timeout', async () => {
      const [c] = await tcpPair();
      const stream = new TcpStream(c);
      const client = track(new SslStream(stream, clientContext()));
      client.setHostname('localhost');
      stream.expiresAfter(30);
      expect(await client.asyncHandshake('client', asTuple())).to.deep.equal([beastError.timeout]);
      expect(stream.isOpen()).to.equal(false);
    });

    it('a TLS read under the deadline times out; the stream is closed', async () => {
      const [c, s] = await tcpPair();
      const stream = new TcpStream(c);
      const client = track(new SslStream(stream, clientContext()));
      const server = track(new SslStream(s, serverContext()));
      client.setHostname('localhost');
      stream.expiresAfter(5000);
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      stream.expiresAfter(30);
      expect(await client.asyncReadSome(new Uint8Array(8), asTuple())).to.deep.equal([beastError.timeout, 0]);
      expect(stream.isOpen()).to.equal(false);
    });
  });

  describe('over a TestStream pair (the Duplex adapter)', () => {
    function adapted(): [SslStream<TestStream>, SslStream<TestStream>] {
      const [a, b] = TestStream.pair(ioc);
      const client = track(new SslStream(a, clientContext()));
      client.setHostname('localhost');
      return [client, track(new SslStream(b, serverContext()))];
    }

    it('handshakes, echoes and shuts down cleanly', async () => {
      const [client, server] = adapted();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      await asyncWrite(client, buffer('adapted'));
      const buf = new Uint8Array(7);
      await asyncRead(server, buf);
      expect(buffersToString(buf)).to.equal('adapted');
      const shut = server.asyncShutdown(asTuple());
      expect(await client.asyncReadSome(buf, asTuple())).to.deep.equal([netError.eof, 0]);
      expect(await client.asyncShutdown(asTuple())).to.deep.equal([null]);
      expect(await shut).to.deep.equal([null]);
    });

    it('a transport that ends without close_notify reads as streamTruncated', async () => {
      const [client, server] = adapted();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      await asyncWrite(server, buffer('last'));
      server.nextLayer().close();
      const buf = new Uint8Array(8);
      expect(buffersToString(buf.subarray(0, await client.asyncReadSome(buf)))).to.equal('last');
      expect(await client.asyncReadSome(buf, asTuple())).to.deep.equal([error.streamTruncated, 0]);
    });

    it('teardown treats a peer that closes without answering close_notify as success', async () => {
      const [client, server] = adapted();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const teardown = client.asyncTeardown('client', asTuple());
      expect(await server.asyncReadSome(new Uint8Array(4), asTuple())).to.deep.equal([netError.eof, 0]);
      server.nextLayer().close(); // no close_notify back: the client's shutdown sees a truncation
      expect(await teardown).to.deep.equal([null]);
      expect(client.nextLayer().nwrite()).to.be.greaterThan(0);
    });

    it('a shutdown whose close_notify cannot be written fails with the transport error', async () => {
      const [client, server] = adapted();
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      server.nextLayer().close();
      expect(await client.asyncShutdown(asTuple())).to.deep.equal([netError.connectionReset]);
    });

    it('a bad certificate is rejected here too', async () => {
      const [a, b] = TestStream.pair(ioc);
      const client = track(new SslStream(a, clientContext(otherCert)));
      client.setHostname('localhost');
      const server = track(new SslStream(b, serverContext(otherCert, otherKey)));
      expect((await handshakes(client, server))[0]).to.equal(error.hostnameMismatch);
    });
  });

  describe('asyncReadSomeLazy (an idle reader above holds no buffer)', () => {
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

    it('asks for buffers only once decrypted bytes are there; the rest waits; never inside the call', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const src = source(4);
      const r = recorder<IoSignature>();
      server.asyncReadSomeLazy(src, r.fn);
      r.started();
      await settle();
      expect(src.calls.length).to.equal(0);
      await asyncWrite(client, buffer('abcdefgh'));
      expect(await r.done).to.deep.equal([null, 4]);
      expect(r.insideInitiation()).to.equal(false);
      expect(await server.asyncReadSomeLazy(src)).to.equal(4);
      expect(src.calls.map((b) => buffersToString(b))).to.deep.equal(['abcd', 'efgh']);
    });

    it('a read that ends without bytes never asks: cancelled, then the peer closes', async () => {
      const [client, server] = await tlsPair();
      client.setHostname('localhost');
      expect(await handshakes(client, server)).to.deep.equal([null, null]);
      const src = source(8);
      const signal = new CancellationSignal();
      const cancelled = server.asyncReadSomeLazy(src, bindCancellationSlot(signal.slot(), asTuple()));
      signal.emit(CancellationType.total);
      expect(await cancelled).to.deep.equal([netError.operationAborted, 0]);
      const ended = server.asyncReadSomeLazy(src, asTuple());
      client.close();
      const [ec, n] = await ended;
      expect(ec).to.not.equal(null);
      expect([n, src.calls.length]).to.deep.equal([0, 0]);
    });
  });

  describe('errors and context', () => {
    it('maps Node TLS error names into the asio.ssl category', () => {
      expect(fromTlsError({ code: 'CERT_HAS_EXPIRED' })).to.equal(error.certificateExpired);
      expect(fromTlsError({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).to.equal(error.hostnameMismatch);
      expect(fromTlsError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).to.equal(error.unableToVerifyLeafSignature);
      expect(fromTlsError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })).to.equal(error.selfSignedCertificate);
      expect(fromTlsError({ code: 'ECONNRESET' })).to.equal(netError.connectionReset);
      const alert = fromTlsError({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
      expect(alert.category).to.equal(sslCategory);
      expect(fromTlsError({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' })).to.equal(alert);
      expect(alert.message()).to.contain('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
      expect(fromTlsError({ code: 'constructor' })).to.not.equal(undefined);
      expect(error.streamTruncated.matches(condition.handshakeFailed)).to.equal(false);
      expect(error.certificateExpired.matches(condition.verificationFailed)).to.equal(true);
    });

    it('builds its Node context once per change; verification is on for clients only by default', () => {
      const ctx = serverContext();
      const first = ctx.nativeHandle();
      expect(ctx.nativeHandle()).to.equal(first);
      ctx.addCertificateAuthority(otherCert);
      expect(ctx.nativeHandle()).to.not.equal(first);
      expect([ctx.verifyMode('client'), ctx.verifyMode('server')]).to.deep.equal([verifyPeer, verifyNone]);
      expect(new SslContext('tlsv13').method()).to.equal('tlsv13');
    });

    it('a context that cannot be built fails the handshake (posted) instead of throwing', async () => {
      const [c] = await tcpPair();
      const bad = new SslContext();
      bad.useCertificate(cert);
      bad.usePrivateKey(otherKey); // does not match the certificate
      const server = track(new SslStream(c, bad));
      const cb = recorder<SslSignature>();
      server.asyncHandshake('server', cb.fn);
      cb.started();
      const [ec] = await cb.done;
      expect(ec).to.not.equal(null);
      expect(cb.insideInitiation()).to.equal(false);
      // The TCP socket is untouched by the failed start.
      expect(net.isIP(c.localEndpoint().address)).to.equal(4);
      const [a] = TestStream.pair(ioc);
      const adapted = track(new SslStream(a, bad));
      expect((await adapted.asyncHandshake('server', asTuple()))[0]).to.equal(ec);
      expect(await a.asyncWriteSome(buffer('x'), asTuple())).to.deep.equal([null, 1]);
    });
  });
});
