/**
 * autobahn_client against a small fake of Autobahn's fuzzing server (built on `ws`): the three
 * endpoints of its protocol and four cases (echo text, echo binary, a fragmented message, a ping).
 * The fake checks each echo itself, as Autobahn does, and records the updateReports call.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type AddressInfo, type WebSocket } from 'ws';
import { Example, stopAll } from './child.js';
import { permessageDeflateAvailable } from '../../lib/beast/websocket/index.js';

/** One case: drives the client through `ws`, resolves with 'ok' or what went wrong. */
type Case = (ws: WebSocket) => Promise<string>;

/** The next message from the client, with its type. */
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, binary) => resolve({ data, binary })));
}

const binaryPayload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const cases: Case[] = [
  async (ws) => {
    ws.send('Hello, Autobahn');
    const m = await nextMessage(ws);
    return !m.binary && m.data.toString() === 'Hello, Autobahn' ? 'ok' : `echo text: got ${m.binary ? 'binary' : 'text'} "${m.data}"`;
  },
  async (ws) => {
    ws.send(binaryPayload);
    const m = await nextMessage(ws);
    return m.binary && m.data.equals(binaryPayload) ? 'ok' : 'echo binary: bytes or type differ';
  },
  async (ws) => {
    ws.send('frag', { fin: false });
    ws.send('men', { fin: false });
    ws.send('ted', { fin: true });
    const m = await nextMessage(ws);
    return !m.binary && m.data.toString() === 'fragmented' ? 'ok' : `fragmented: got "${m.data}"`;
  },
  async (ws) => {
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('autobahn');
    return (await pong).toString() === 'autobahn' ? 'ok' : 'ping: wrong pong payload';
  },
];

/** The fake fuzzing server: what the client did, as Autobahn would record it. */
interface Record {
  results: Map<number, string>;
  agents: Set<string>;
  reportsFor: string[];
  /** The extensions negotiated on each connection. */
  extensions: Set<string>;
}

/** The case whose 101 carries a wrong Sec-WebSocket-Accept (a client must refuse it), if any. */
async function startFuzzingServer(perMessageDeflate: boolean, badAcceptCase = 0): Promise<[WebSocketServer, Record]> {
  const record: Record = { results: new Map(), agents: new Set(), reportsFor: [], extensions: new Set() };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  const isBadCase = (req: IncomingMessage): boolean => new URL(req.url ?? '/', 'ws://f').searchParams.get('case') === String(badAcceptCase);
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    if (!isBadCase(req)) return;
    const i = headers.findIndex((h) => h.toLowerCase().startsWith('sec-websocket-accept:'));
    headers[i] = 'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  });
  wss.on('connection', (ws, req: IncomingMessage) => {
    ws.on('error', () => {});
    if (isBadCase(req)) return; // the client refuses the handshake and leaves
    const url = new URL(req.url ?? '/', 'ws://fuzzing-server');
    record.extensions.add(ws.extensions);
    if (url.pathname === '/getCaseCount') {
      ws.send(String(cases.length));
      ws.close(1000);
    } else if (url.pathname === '/runCase') {
      const n = Number(url.searchParams.get('case'));
      record.agents.add(url.searchParams.get('agent') ?? '');
      const run = cases[n - 1];
      if (run === undefined) return ws.close(1011, 'no such case');
      void run(ws).then((result) => {
        record.results.set(n, result);
        ws.close(1000);
      });
    } else if (url.pathname === '/updateReports') {
      record.reportsFor.push(url.searchParams.get('agent') ?? '');
      ws.close(1000);
    } else {
      ws.close(1011, 'unknown endpoint');
    }
  });
  await once(wss, 'listening');
  return [wss, record];
}

describe('examples: autobahn_client against a fake fuzzing server', function () {
  this.timeout(20_000);
  let wss: WebSocketServer | null = null;

  afterEach(async () => {
    if (wss !== null) {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss!.close(resolve));
      wss = null;
    }
    await stopAll();
  });

  it('goes on to the next case when a case\'s handshake fails (a wrong Sec-WebSocket-Accept)', async () => {
    const [server, record] = await startFuzzingServer(false, 2);
    wss = server;
    const { port } = server.address() as AddressInfo;
    const client = new Example('autobahn_client', ['--url', `ws://127.0.0.1:${port}`, '--agent', 'tsbeast spec']);
    expect(await client.exited(), client.output).to.deep.equal({ code: 0, signal: null });
    expect([...record.results]).to.deep.equal([[1, 'ok'], [3, 'ok'], [4, 'ok']]);
    expect(record.reportsFor).to.deep.equal(['tsbeast spec']);
    expect(client.stdout).to.equal([
      '4 cases',
      'case 1/4: closed (1000)',
      'case 2/4: handshake failed: The WebSocket handshake Sec-WebSocket-Accept field is invalid',
      'case 3/4: closed (1000)',
      'case 4/4: closed (1000)',
      'reports updated for agent tsbeast spec',
      '',
    ].join('\n'));
  });

  // Where this Node cannot run permessage-deflate (net/node-internals.ts, 4) the client does not
  // offer it, and the server that would accept it runs every case uncompressed.
  const pmd = permessageDeflateAvailable();
  for (const deflate of [false, true]) {
    const note = !deflate ? '' : pmd ? ' (permessage-deflate accepted)' : ' (the server accepts permessage-deflate; no synchronous zlib on this Node: not offered, uncompressed)';
    it(`runs every case, echoing each message, then updates the reports${note}`, async () => {
      const [server, record] = await startFuzzingServer(deflate);
      wss = server;
      const { port } = server.address() as AddressInfo;
      const client = new Example('autobahn_client', ['--url', `ws://127.0.0.1:${port}`, '--agent', 'tsbeast spec']);
      expect(await client.exited(), client.output).to.deep.equal({ code: 0, signal: null });

      expect([...record.results]).to.deep.equal([[1, 'ok'], [2, 'ok'], [3, 'ok'], [4, 'ok']]);
      expect([...record.agents]).to.deep.equal(['tsbeast spec']);
      expect(record.reportsFor).to.deep.equal(['tsbeast spec']);
      expect([...record.extensions]).to.deep.equal([deflate && pmd ? 'permessage-deflate' : '']);
      expect(client.stdout).to.equal([
        '4 cases',
        'case 1/4: closed (1000)',
        'case 2/4: closed (1000)',
        'case 3/4: closed (1000)',
        'case 4/4: closed (1000)',
        'reports updated for agent tsbeast spec',
        '',
      ].join('\n'));
    });
  }
});
