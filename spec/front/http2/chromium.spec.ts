/**
 * Headless Chromium against the HTTP/2 server: it loads a page over https (h2, the spec
 * certificate), and the page's WebSocket to the same origin must arrive as an extended CONNECT
 * (RFC 8441) on the very session that carried the page, then echo text and binary messages,
 * answer a ping, and close with a code. What Chromium sent is kept in `observed` and printed.
 */

import { expect } from 'chai';
import * as http2 from 'node:http2';
import { chromium, type Browser } from 'playwright-core';

import { FlatBuffer, IoContext, type AsyncStream } from '../../../lib/net/index.js';
import { PermessageDeflate, permessageDeflateAvailable, Stream } from '../../../lib/beast/websocket/index.js';
import * as h2 from '../../../lib/front/http2/index.js';
import { requireCommand } from '../../peers/support.js';
import { cert, key } from './support.js';

const page = `<!doctype html><meta charset="utf-8"><title>tsbeast over HTTP/2</title>
<script>
window.run = async () => {
  const ws = new WebSocket('wss://' + location.host + '/chat');
  ws.binaryType = 'arraybuffer';
  const inbox = [], waiters = [];
  ws.onmessage = (e) => { inbox.push(e.data); waiters.splice(0).forEach((w) => w()); };
  const next = async () => { while (inbox.length === 0) await new Promise((r) => waiters.push(r)); return inbox.shift(); };
  const closed = new Promise((r) => { ws.onclose = (e) => r({ code: e.code, reason: e.reason, wasClean: e.wasClean }); });
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('WebSocket error')); });
  const results = [];
  for (const text of ['hello over h2', 'κόσμε 𝄞', 'z'.repeat(300000)]) { ws.send(text); results.push((await next()) === text); }
  const bin = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
  ws.send(bin);
  const got = new Uint8Array(await next());
  results.push(got.length === bin.length && got.every((v, i) => v === bin[i]));
  ws.send('!ping');
  results.push((await next()) === '!ping');
  ws.close(4001, 'bye over h2');
  return { results, protocol: ws.protocol, extensions: ws.extensions, closed: await closed };
};
</script>`;

interface Observed {
  pageSession: http2.ServerHttp2Session | null;
  pageAlpn: string | null;
  connects: Array<{ headers: Record<string, unknown>; session: unknown }>;
  wsArrivals: string[];
  chromiumSettings: http2.Settings | null;
  controls: string[];
  end: string;
  closeReason: { code: number; reason: string } | null;
  sessions: number;
}

describe('http2: Chromium opens its WebSocket on the page\'s HTTP/2 session', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  const ioc = new IoContext();
  let server: http2.Http2SecureServer;
  let attachment: h2.Attachment;
  const sessions = new Set<http2.ServerHttp2Session>();
  const observed: Observed = {
    pageSession: null, pageAlpn: null, connects: [], wsArrivals: [], chromiumSettings: null, controls: [], end: '', closeReason: null, sessions: 0,
  };
  let running: Promise<number>;
  let sessionDone: Promise<void>;

  before(async function () {
    this.timeout(120_000);
    const executablePath = requireCommand('chromium', 'chromium');
    server = http2.createSecureServer({ cert, key, allowHTTP1: true, settings: { enableConnectProtocol: true } });
    server.on('session', (s: http2.ServerHttp2Session) => {
      observed.sessions++;
      sessions.add(s);
      s.on('remoteSettings', (settings) => void (observed.chromiumSettings ??= settings));
      s.on('close', () => sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      if (h2.isWebSocketConnect(headers)) {
        observed.connects.push({ headers: { ...headers }, session: stream.session });
        return; // serveWebSockets answers it
      }
      if (headers[':path'] === '/') {
        observed.pageSession = (stream.session as http2.ServerHttp2Session | undefined) ?? null;
        observed.pageAlpn = stream.session?.alpnProtocol ?? null;
        stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8' });
        stream.end(page);
      } else {
        stream.respond({ ':status': 404 });
        stream.end();
      }
    });
    let resolveDone: () => void;
    sessionDone = new Promise((resolve) => (resolveDone = resolve));
    attachment = h2.serveWebSockets(server, {
      executor: ioc,
      path: '/chat',
      prepare: (ws) => ws.setOption(new PermessageDeflate({ serverEnable: true })),
      onStream: (ws: Stream<AsyncStream>, _req, via) => {
        observed.wsArrivals.push(via);
        ws.controlCallback((kind, payload) => observed.controls.push(`${kind}:${payload}`));
        void (async () => {
          const b = new FlatBuffer();
          try {
            for (;;) {
              await ws.asyncRead(b);
              const text = ws.gotText() ? Buffer.from(b.data()[0] ?? []).toString() : '';
              if (text === '!ping') await ws.asyncPing('from tsbeast');
              ws.text(ws.gotText());
              await ws.asyncWrite(b.data());
              b.consume(b.size());
            }
          } catch (err) {
            observed.end = (err as { code?: { message(): string } }).code?.message() ?? String(err);
            observed.closeReason = { code: ws.reason().code, reason: ws.reason().reason };
          }
          resolveDone();
        })();
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running = ioc.run();
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
      timeout: 60_000,
    });
  });

  after(async () => {
    await browser?.close();
    for (const s of sessions) s.destroy();
    attachment?.detach();
    await new Promise((resolve) => server?.close(resolve));
    await running;
  });

  const pmd = permessageDeflateAvailable();
  it(`loads the page over h2 and its WebSocket arrives as an extended CONNECT on the same session${pmd ? '' : ' (permessage-deflate declined: no synchronous zlib on this Node)'}`, async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const tab = await context.newPage();
      const port = (server.address() as { port: number }).port;
      const response = await tab.goto(`https://127.0.0.1:${port}/`);
      expect(response?.status()).to.equal(200);
      const out = (await tab.evaluate('window.run()')) as {
        results: boolean[];
        protocol: string;
        extensions: string;
        closed: { code: number; reason: string; wasClean: boolean };
      };
      await sessionDone;
      const summary = {
        chromium: browser!.version(),
        pageAlpn: observed.pageAlpn,
        sessions: observed.sessions,
        connect: observed.connects.map((c) => Object.fromEntries(Object.entries(c.headers).filter(([k]) => !['user-agent', 'cookie'].includes(k)))),
        chromiumSettings: observed.chromiumSettings,
        arrivals: observed.wsArrivals,
        controls: observed.controls,
        extensions: out.extensions,
        closed: out.closed,
        serverEnd: observed.end,
        serverSawClose: observed.closeReason,
      };
      console.log(`      Chromium over HTTP/2: ${JSON.stringify(summary)}`);
      expect(out.results).to.deep.equal([true, true, true, true, true]);
      expect(observed.pageAlpn).to.equal('h2');
      expect(observed.connects).to.have.length(1);
      expect(observed.connects[0]!.headers).to.deep.include({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/chat', 'sec-websocket-version': '13' });
      expect(observed.connects[0]!.session).to.equal(observed.pageSession);
      expect(observed.wsArrivals).to.deep.equal(['http2']);
      expect(observed.sessions).to.equal(1);
      // Without synchronous zlib (net/node-internals.ts, 4) the server declines Chromium's offer.
      if (pmd) expect(out.extensions).to.match(/^permessage-deflate/);
      else expect(out.extensions).to.equal('');
      expect(observed.controls).to.include('pong:from tsbeast');
      expect(observed.closeReason).to.deep.equal({ code: 4001, reason: 'bye over h2' });
      expect(out.closed).to.deep.include({ code: 4001, wasClean: true });
    } finally {
      await context.close();
    }
  });
});
