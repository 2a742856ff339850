/**
 * connect(url, { http2 }): WebSockets over HTTP/2 (RFC 8441) from the front door. Several share
 * one pooled session (counted on the server: sessions and TLS connections), the pool closes it
 * after the last one ends, the client falls back to HTTP/1.1 when the server does not offer
 * extended CONNECT (HTTP/1.1-only server, or h2 without the setting), h2c when asked, and
 * abort, timeout and refusal fail with clear errors and leave nothing open.
 */

import { expect } from 'chai';
import * as http2 from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { connect, messages, send, streamInfo, acceptWebSockets, type ClientStream } from '../../lib/front/index.js';
import { pooledSessions } from '../../lib/front/http2-pool.js';
import { asTuple, error as netError, SystemError, type ErrorCode } from '../../lib/net/index.js';
import { error as beastError } from '../../lib/beast/core/index.js';
import { error as wsError } from '../../lib/beast/websocket/index.js';
import { Harness } from './http2/support.js';
import { cert, key, startHttp } from './support.js';

async function echoOnce(ws: ClientStream, text: string): Promise<string> {
  await send(ws, text);
  for await (const m of messages(ws)) return String(m.data);
  return '';
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function failure(p: Promise<unknown>): Promise<SystemError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SystemError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

/** A TCP server that takes connections and never answers (for abort and timeout). */
async function silentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('front: connect(url, { http2 })', () => {
  it('opens 8 WebSockets over one TLS connection and one session, and closes it after the last', async () => {
    const h = await new Harness('tls').start();
    try {
      const url = `wss://localhost:${h.port}/echo`;
      const first = await Promise.all([1, 2, 3, 4].map(() => connect(url, { http2: true, ca: cert })));
      const later = await Promise.all([5, 6, 7, 8].map(() => connect(url, { http2: true, ca: cert, deflate: true })));
      const all = [...first, ...later];
      for (const [i, ws] of all.entries()) {
        expect(streamInfo(ws)?.via).to.equal('h2');
        expect(streamInfo(ws)?.peer).to.match(/:\d+$/);
        expect(ws.autoFragment()).to.equal(false, 'one frame per message, as over HTTP/1.1');
        expect(await echoOnce(ws, `m${i}`)).to.equal(`m${i}`);
      }
      expect(h.seen.streams).to.have.length(8);
      expect(h.seen.streams.every((s) => s.via === 'http2')).to.equal(true);
      expect(h.seen.connections).to.equal(1);
      expect(h.seen.sessions).to.equal(1);
      expect(pooledSessions()).to.equal(1);
      // Closing all but one keeps the session; the last one's end closes it.
      for (const ws of all.slice(1)) await ws.asyncClose(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(h.sessions.size).to.equal(1);
      await all[0]!.asyncClose(1000);
      await until(() => h.sessions.size === 0 && pooledSessions() === 0, 'the session to close');
    } finally {
      await h.stop();
    }
  });

  it("opens another session when the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached", async () => {
    const h = await new Harness('tls', { enableConnectProtocol: true, maxConcurrentStreams: 3 }).start();
    try {
      const url = `wss://localhost:${h.port}/echo`;
      const all = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => connect(url, { http2: true, ca: cert })));
      for (const [i, ws] of all.entries()) expect(await echoOnce(ws, `s${i}`)).to.equal(`s${i}`);
      expect(all.every((ws) => streamInfo(ws)?.via === 'h2')).to.equal(true);
      expect(h.seen.sessions).to.equal(3);
      expect(h.seen.connections).to.equal(3);
      for (const ws of all) await ws.asyncClose(1000);
      await until(() => h.sessions.size === 0 && pooledSessions() === 0, 'the sessions to close');
    } finally {
      await h.stop();
    }
  });

  it('opens a new session for a WebSocket after the pooled one was closed', async () => {
    const h = await new Harness('tls').start();
    try {
      const url = `wss://localhost:${h.port}/echo`;
      const a = await connect(url, { http2: true, ca: cert });
      await a.asyncClose(1000);
      await until(() => pooledSessions() === 0, 'the pool to empty');
      const b = await connect(url, { http2: true, ca: cert });
      expect(await echoOnce(b, 'again')).to.equal('again');
      await b.asyncClose(1000);
      expect(h.seen.sessions).to.equal(2);
      await until(() => h.sessions.size === 0, 'the session to close');
    } finally {
      await h.stop();
    }
  });

  it('falls back to HTTP/1.1 against an HTTP/1.1-only server (ALPN)', async () => {
    const { server, port, stop } = await startHttp(true);
    const wss = acceptWebSockets(server, async (ws) => {
      for await (const m of messages(ws)) await send(ws, m.data);
    });
    try {
      const ws = await connect(`wss://localhost:${port}/`, { http2: true, ca: cert });
      expect(streamInfo(ws)?.via).to.equal('http/1.1');
      expect(await echoOnce(ws, 'one')).to.equal('one');
      await ws.asyncClose(1000);
      expect(pooledSessions()).to.equal(0);
    } finally {
      await wss.close();
      await stop();
    }
  });

  it('falls back to HTTP/1.1 against an h2 server without enableConnectProtocol', async () => {
    const h = await new Harness('tls', { enableConnectProtocol: false }).start();
    try {
      const ws = await connect(`wss://localhost:${h.port}/echo`, { http2: true, ca: cert });
      expect(streamInfo(ws)?.via).to.equal('http/1.1');
      expect(await echoOnce(ws, 'two')).to.equal('two');
      expect(h.seen.streams.map((s) => s.via)).to.deep.equal(['http/1.1']);
      await ws.asyncClose(1000);
      await until(() => pooledSessions() === 0 && h.sessions.size === 0, 'the probing session to close');
    } finally {
      await h.stop();
    }
  });

  it("uses cleartext HTTP/2 for ws:// only with http2: 'h2c'", async () => {
    const h = await new Harness('h2c').start();
    try {
      const url = `ws://127.0.0.1:${h.port}/echo`;
      const [a, b] = await Promise.all([connect(url, { http2: 'h2c' }), connect(url, { http2: 'h2c' })]);
      expect(streamInfo(a!)?.via).to.equal('h2');
      expect(await echoOnce(b!, 'c')).to.equal('c');
      expect(h.seen.connections).to.equal(1);
      // http2: true on ws:// stays HTTP/1.1, which an h2c-only server does not speak.
      await a!.asyncClose(1000);
      await b!.asyncClose(1000);
      await until(() => h.sessions.size === 0 && pooledSessions() === 0, 'the session to close');
    } finally {
      await h.stop();
    }
  });

  it('carries subprotocols and headers in the extended CONNECT, and reports a refusal with its status', async () => {
    const h = await new Harness('tls').start({
      prepare: (_ws, req) => (req.fields.get('X-Token') === 'ok' ? undefined : 403),
    });
    try {
      const url = `wss://localhost:${h.port}/echo`;
      const ok = await connect(url, { http2: true, ca: cert, headers: { 'X-Token': 'ok' } });
      const e = await failure(connect(url, { http2: true, ca: cert, headers: { 'X-Token': 'no' } }));
      expect(e.code).to.equal(wsError.upgradeDeclined);
      expect(e.message).to.contain('HTTP 403').and.contain(url);
      expect(await echoOnce(ok, 'still')).to.equal('still');
      await ok.asyncClose(1000);
      await until(() => h.sessions.size === 0 && pooledSessions() === 0, 'the session to close');
    } finally {
      await h.stop();
    }
  });

  it('is aborted by its signal and times out within handshakeTimeout, leaving no session or socket', async () => {
    const { port, stop } = await silentServer();
    try {
      const url = `wss://localhost:${port}/`;
      const ac = new AbortController();
      const p = connect(url, { http2: true, ca: cert, signal: ac.signal });
      setTimeout(() => ac.abort(new Error('enough')), 30);
      const e = await failure(p);
      expect(e.code).to.equal(netError.operationAborted);
      const [ec, ws] = await connect(url, { http2: true, ca: cert, handshakeTimeout: 80 }, asTuple());
      expect((ec as ErrorCode | null)).to.equal(beastError.timeout);
      expect(ws.isOpen()).to.equal(false);
      expect(pooledSessions()).to.equal(0);
    } finally {
      await stop();
    }
  });

  it('fails with the connection error, naming the URL, when nothing listens', async () => {
    const { port, stop } = await silentServer();
    await stop();
    const url = `wss://127.0.0.1:${port}/`;
    const e = await failure(connect(url, { http2: true, ca: cert }));
    expect(e.code).to.equal(netError.connectionRefused);
    expect(e.message).to.contain(url);
    expect(pooledSessions()).to.equal(0);
  });

  it('acceptWebSockets on an Http2SecureServer takes extended CONNECTs and HTTP/1.1 upgrades on one port', async () => {
    const server = http2.createSecureServer({ cert, key, allowHTTP1: true, settings: { enableConnectProtocol: true } });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s: http2.ServerHttp2Session) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    const sockets = new Set<Socket>();
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    const seen: string[] = [];
    const wss = acceptWebSockets(server, { path: '/echo', protocols: ['chat'], verify: (info) => info.request.fields.get('X-Token') !== 'bad' }, async (ws, info) => {
      seen.push(`${streamInfo(ws)?.via ?? '?'} ${info.protocol}`);
      for await (const m of messages(ws)) await send(ws, m.data);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const url = `wss://localhost:${port}/echo`;
      const a = await connect(url, { http2: true, ca: cert, protocols: ['chat'] });
      const b = await connect(url, { ca: cert, protocols: ['chat'] });
      expect(streamInfo(a)?.via).to.equal('h2');
      expect(streamInfo(a)?.protocol).to.equal('chat');
      expect(streamInfo(b)?.via).to.equal('http/1.1');
      expect(await echoOnce(a, 'over h2')).to.equal('over h2');
      expect(await echoOnce(b, 'over 1.1')).to.equal('over 1.1');
      expect(seen.sort()).to.deep.equal(['h2 chat', 'http/1.1 chat']);
      const refused = await failure(connect(url, { http2: true, ca: cert, headers: { 'X-Token': 'bad' } }));
      expect(refused.message).to.contain('HTTP 403');
      const missing = await failure(connect(`wss://localhost:${port}/nowhere`, { http2: true, ca: cert }));
      expect(missing.message).to.contain('HTTP 404');
      await a.asyncClose(1000);
      await b.asyncClose(1000);
      await until(() => sessions.size === 0 && pooledSessions() === 0, 'the sessions to close');
    } finally {
      await wss.close();
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
