/**
 * connect(url): ws and wss against a `ws` server, the Host field, subprotocols, extra headers,
 * permessage-deflate, certificate verification with `ca`, SNI, timeouts, AbortSignal, any
 * token, errors that name the URL and the address, and the URL rules.
 */

import { expect } from 'chai';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer as WsServer } from 'ws';
import { connect, messages, send, type ClientStream } from '../../lib/front/index.js';
import { interleaveFamilies, parseWebSocketUrl } from '../../lib/front/url.js';
import { asTuple, Endpoint, error as netError, ssl, SystemError, type ErrorCode } from '../../lib/net/index.js';
import { error as beastError } from '../../lib/beast/core/index.js';
import { permessageDeflateAvailable, error as wsError } from '../../lib/beast/websocket/index.js';
import { cert, key, otherCert, otherKey } from './support.js';

async function wsServer(options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<{ wss: WsServer; port: number; requests: IncomingMessage[] }> {
  const wss = new WsServer({ host: '127.0.0.1', port: 0, ...options });
  const requests: IncomingMessage[] = [];
  wss.on('connection', (c, req) => {
    requests.push(req);
    c.on('message', (m, isBinary) => c.send(m, { binary: isBinary }));
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, port: (wss.address() as AddressInfo).port, requests };
}

const closeWss = (wss: WsServer): Promise<void> => {
  for (const c of wss.clients) c.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
};

async function echoOnce(ws: ClientStream, text: string): Promise<string> {
  await send(ws, text);
  for await (const m of messages(ws)) return String(m.data);
  return '';
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

describe('front: connect(url)', () => {
  it('connects to ws:// by name, sends Host with the port, subprotocols and extra headers', async () => {
    const { wss, port, requests } = await wsServer({ handleProtocols: (p) => [...p].at(-1) ?? false });
    const ws = await connect(`ws://localhost:${port}/path?q=1`, { protocols: ['a', 'b'], headers: { 'X-Token': 't' } });
    expect(await echoOnce(ws, 'hi')).to.equal('hi');
    expect(requests[0]!.headers.host).to.equal(`localhost:${port}`);
    expect(requests[0]!.url).to.equal('/path?q=1');
    expect(requests[0]!.headers['sec-websocket-protocol']).to.equal('a, b');
    expect(requests[0]!.headers['x-token']).to.equal('t');
    await ws.asyncClose(1000);
    await closeWss(wss);
  });

  // Without synchronous zlib (net/node-internals.ts, 4) `deflate: true` offers nothing, and the
  // connection works uncompressed against a server that would have accepted.
  const pmd = permessageDeflateAvailable();
  it(pmd ? 'negotiates permessage-deflate when asked' : 'asked for permessage-deflate on a Node without synchronous zlib: offers nothing, talks uncompressed', async () => {
    const { wss, port, requests } = await wsServer({ perMessageDeflate: true });
    try {
      const ws = await connect(`ws://127.0.0.1:${port}/`, { deflate: true });
      try {
        if (pmd) expect(requests[0]!.headers['sec-websocket-extensions']).to.contain('permessage-deflate');
        else expect(requests[0]!.headers['sec-websocket-extensions']).to.equal(undefined);
        expect(ws.getStatus().active).to.equal(pmd);
        expect(await echoOnce(ws, 'x'.repeat(1000))).to.equal('x'.repeat(1000));
      } finally {
        await ws.asyncClose(1000);
      }
    } finally {
      await closeWss(wss);
    }
  });

  describe('wss://', () => {
    let server: ReturnType<typeof createHttpsServer>;
    let port: number;
    let servername: string | undefined;
    let wss: WsServer;
    const start = async (c: string, k: string): Promise<void> => {
      server = createHttpsServer({ cert: c, key: k });
      server.on('secureConnection', (s) => void (servername = (s as unknown as { servername?: string }).servername));
      wss = new WsServer({ server });
      wss.on('connection', (c2) => c2.on('message', (m) => c2.send(String(m))));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    };
    afterEach(async () => {
      await closeWss(wss);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('verifies the certificate against ca, sends SNI, and talks', async () => {
      await start(cert, key);
      const ws = await connect(`wss://localhost:${port}/`, { ca: cert });
      expect(servername).to.equal('localhost');
      expect(ws.nextLayer()).to.be.instanceOf(ssl.SslStream);
      expect(await echoOnce(ws, 'over tls')).to.equal('over tls');
      await ws.asyncClose(1000);
    });

    it('refuses a certificate no authority vouches for, by default', async () => {
      await start(cert, key);
      const err = await failure(connect(`wss://localhost:${port}/`));
      expect(err.code.category.name).to.equal(ssl.sslCategory.name);
      expect(err.message).to.contain(`wss://localhost:${port}/`);
    });

    it('refuses a certificate for another name', async () => {
      await start(otherCert, otherKey);
      const err = await failure(connect(`wss://localhost:${port}/`, { ca: otherCert }));
      expect(err.code).to.equal(ssl.error.hostnameMismatch);
    });
  });

  it('says what and where: connection refused names the URL and the address', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await failure(connect(`ws://127.0.0.1:${port}/x`));
    expect(err.code).to.equal(netError.connectionRefused);
    expect(err.message).to.equal(`connect ws://127.0.0.1:${port}/x (peer 127.0.0.1:${port}): ${netError.connectionRefused.message()}`);
  });

  it('reports a declined upgrade with its HTTP status', async () => {
    const { wss, port } = await wsServer({ verifyClient: () => false });
    const err = await failure(connect(`ws://127.0.0.1:${port}/`));
    expect(err.code).to.equal(wsError.upgradeDeclined);
    expect(err.message).to.contain('HTTP 401');
    await closeWss(wss);
  });

  describe('a server that accepts TCP and never answers', () => {
    let silent: NetServer;
    let port: number;
    const held = new Set<import('node:net').Socket>();
    beforeEach(async () => {
      silent = createNetServer((s) => {
        held.add(s);
        s.on('close', () => held.delete(s));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as AddressInfo).port;
    });
    afterEach(async () => {
      for (const s of held) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('times out after handshakeTimeout with beast.error.timeout', async () => {
      const err = await failure(connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 100 }));
      expect(err.code).to.equal(beastError.timeout);
    });

    it('aborts on the AbortSignal: operationAborted, with the reason as cause', async () => {
      const ac = new AbortController();
      const p = connect(`ws://127.0.0.1:${port}/`, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 20);
      const err = await failure(p);
      expect(err.code).to.equal(netError.operationAborted);
      expect((err.cause as Error).message).to.equal('user gave up');
    });

    it('takes any token: a callback, asTuple()', async () => {
      const ec = await new Promise<ErrorCode | null>((resolve) =>
        connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 50 }, (e, s) => {
          expect(s.isOpen()).to.equal(false);
          resolve(e);
        }),
      );
      expect(ec).to.equal(beastError.timeout);
      const [ec2] = await connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 50 }, asTuple());
      expect(ec2).to.equal(beastError.timeout);
    });
  });

  it('connects over IPv6 to an address literal', async function () {
    const wss = new WsServer({ host: '::1', port: 0 });
    const ok = await new Promise<boolean>((resolve) => {
      wss.once('listening', () => resolve(true));
      wss.once('error', () => resolve(false));
    });
    if (!ok) {
      await new Promise((resolve) => wss.close(resolve));
      return this.skip();
    }
    wss.on('connection', (c) => c.on('message', (m) => c.send(String(m))));
    const port = (wss.address() as AddressInfo).port;
    const ws = await connect(`ws://[::1]:${port}/`);
    expect(await echoOnce(ws, 'six')).to.equal('six');
    await ws.asyncClose(1000);
    await closeWss(wss);
  });

  it('parses URLs: default ports, Host with a non-default port only, IPv6, and refuses other schemes', () => {
    expect(parseWebSocketUrl('ws://example.com/a?b').port).to.equal(80);
    expect(parseWebSocketUrl('ws://example.com/a?b').hostHeader).to.equal('example.com');
    expect(parseWebSocketUrl('ws://example.com/a?b').target).to.equal('/a?b');
    expect(parseWebSocketUrl('wss://example.com').port).to.equal(443);
    expect(parseWebSocketUrl('wss://example.com:443/').hostHeader).to.equal('example.com');
    expect(parseWebSocketUrl('wss://example.com:8443/').hostHeader).to.equal('example.com:8443');
    const v6 = parseWebSocketUrl('ws://[::1]:9/');
    expect([v6.host, v6.isAddress, v6.hostHeader]).to.deep.equal(['::1', true, '[::1]:9']);
    expect(() => connect('http://example.com/')).to.throw(TypeError, /ws: or wss:/);
    expect(() => connect('not a url')).to.throw(TypeError);
    expect(() => connect('ws://example.com/#frag')).to.throw(TypeError);
  });

  it('tries addresses alternating families, starting with the resolver first', () => {
    const list = [new Endpoint('::1', 1), new Endpoint('::2', 1), new Endpoint('127.0.0.1', 1), new Endpoint('127.0.0.2', 1)];
    expect(interleaveFamilies(list).map((e) => e.address)).to.deep.equal(['::1', '127.0.0.1', '::2', '127.0.0.2']);
  });
});
