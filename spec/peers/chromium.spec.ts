/**
 * Chromium (Debian's) as a peer: the browser's own WebSocket, driven through playwright-core,
 * against tsbeast's echo server: text and binary messages, large ones, pings answered by the
 * browser, the browser closing with a code and reason, and the server closing.
 */

import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireCommand, TsEchoServer } from './support.js';

// The page's code, as text (the specs compile without the DOM's types). Each script is an async
// function of one JSON argument, evaluated in the page.
const helpers = `
  const open = (port) => new Promise((resolve, reject) => {
    const ws = new WebSocket('ws://127.0.0.1:' + port + '/');
    ws.binaryType = 'arraybuffer';
    ws.inbox = [];
    ws.waiters = [];
    ws.onmessage = (e) => { ws.inbox.push(e.data); ws.waiters.splice(0).forEach((w) => w()); };
    ws.closed = new Promise((done) => { ws.onclose = (e) => done({ code: e.code, reason: e.reason, wasClean: e.wasClean }); });
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('WebSocket error'));
  });
  const next = async (ws) => {
    while (ws.inbox.length === 0) await new Promise((resolve) => ws.waiters.push(resolve));
    return ws.inbox.shift();
  };
  const bytes = (n, seed) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255; return b; };
  const same = (a, b) => { if (a.length !== b.length) return false; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; };
`;

const echoScript = `async ({ port }) => {
  ${helpers}
  const ws = await open(port);
  const results = [];
  for (const text of ['hello, tsbeast', 'κόσμε 𝄞', '', 'x'.repeat(70000), 'y'.repeat(4 * 1024 * 1024)]) {
    ws.send(text);
    const got = await next(ws);
    results.push({ kind: 'text', size: text.length, ok: typeof got === 'string' && got === text });
  }
  for (const n of [0, 1, 125, 126, 65536, 1024 * 1024, 16 * 1024 * 1024]) {
    const data = bytes(n, n & 255);
    ws.send(data);
    const got = await next(ws);
    results.push({ kind: 'binary', size: n, ok: got instanceof ArrayBuffer && same(new Uint8Array(got), data) });
  }
  ws.send('!ping from tsbeast'); // the server pings the browser first
  results.push({ kind: 'text', size: 18, ok: (await next(ws)) === '!ping from tsbeast' });
  ws.close(4321, 'bye from chromium');
  return { results, closed: await ws.closed, protocol: ws.protocol, extensions: ws.extensions };
}`;

const serverCloseScript = `async ({ port }) => {
  ${helpers}
  const ws = await open(port);
  ws.send('!close 4005 tsbeast says bye');
  return await ws.closed;
}`;

describe('peers: Chromium\'s WebSocket', function () {
  this.timeout(60_000);
  let browser: Browser;
  let page: Page;
  let server: TsEchoServer;
  let site: Server;

  before(async function () {
    this.timeout(120_000);
    const executablePath = requireCommand('chromium', 'chromium');
    server = await TsEchoServer.start();
    // launch() gives the browser a fresh, temporary user-data-dir.
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
      timeout: 60_000,
    });
    page = await browser.newPage();
    // The page comes from loopback too: Chromium's Local Network Access checks block a page from
    // elsewhere (even about:blank) from opening a connection to 127.0.0.1.
    site = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Connection', 'close');
      res.end('<!doctype html><title>tsbeast peers</title>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    await page.goto(`http://127.0.0.1:${(site.address() as { port: number }).port}/`);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (site !== undefined) {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    }
  });

  const evaluate = <T>(script: string, arg: unknown): Promise<T> => page.evaluate(`(${script})(${JSON.stringify(arg)})`) as Promise<T>;

  it('echoes text and binary messages up to 16 MiB, answers pings, and closes with a code and reason', async () => {
    const session = server.nextSession(50_000);
    const out = await evaluate<{
      results: Array<{ kind: string; size: number; ok: boolean }>;
      closed: { code: number; reason: string; wasClean: boolean };
      protocol: string;
      extensions: string;
    }>(echoScript, { port: server.port });
    for (const r of out.results) expect(r.ok, `${r.kind} of ${r.size}`).to.equal(true);
    expect(out.results).to.have.length(13);
    expect(out.extensions).to.equal(''); // the server offers no permessage-deflate here
    // Our reply repeats the browser's code, without the reason (as Beast's does).
    expect(out.closed).to.deep.equal({ code: 4321, reason: '', wasClean: true });
    const end = await session;
    expect(end).to.deep.include({ stage: 'read', error: 'websocket.closed', code: 4321, reason: 'bye from chromium', messages: 13 });
    expect(end.controls).to.include('pong:from tsbeast');
  });

  it('sees our server close with a code and reason', async () => {
    const session = server.nextSession();
    const closed = await evaluate<{ code: number; reason: string; wasClean: boolean }>(serverCloseScript, { port: server.port });
    expect(closed).to.deep.equal({ code: 4005, reason: 'tsbeast says bye', wasClean: true });
    // The browser's reply repeats our code and reason.
    expect(await session).to.deep.include({ stage: 'close', error: 'ok', code: 4005, reason: 'tsbeast says bye' });
  });
});
