/**
 * The chat demo (examples/chat/server.ts) driven without a browser: the page and the 404s over
 * HTTP, messages relayed to everyone over WebSocket with log lines for connect and close, a
 * member that stops reading dropped with 1008 while the others carry on, and SIGTERM.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { Example, portOf, stopAll } from './child.js';
import { WsPeer } from './ws-peer.js';

const ready = /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//;

interface Got {
  status: number;
  type: string | undefined;
  body: string;
}

async function get(port: number, path: string, method = 'GET'): Promise<Got> {
  const req = request({ host: '127.0.0.1', port, path, method, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, type: res.headers['content-type'], body };
}

describe('examples: the chat demo over HTTP and WebSocket', function () {
  this.timeout(20_000);
  const peers: WsPeer[] = [];
  const sockets: net.Socket[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.terminate();
    for (const s of sockets.splice(0)) s.destroy();
    await stopAll();
  });

  async function startChat(): Promise<[Example, number]> {
    const chat = new Example('chat/server', [], { PORT: '0' });
    return [chat, await portOf(chat, ready)];
  }

  async function join(port: number): Promise<WsPeer> {
    const peer = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
    peers.push(peer);
    return peer;
  }

  it('serves the page at /, 404 elsewhere, 405 for other methods', async () => {
    const [, port] = await startChat();
    const page = await get(port, '/');
    expect(page.status).to.equal(200);
    expect(page.type).to.equal('text/html; charset=utf-8');
    expect(page.body).to.include('<title>tsbeast chat</title>');
    expect(await get(port, '/missing')).to.deep.equal({
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: "The resource '/missing' was not found.\n",
    });
    expect((await get(port, '/', 'POST')).status).to.equal(405);
  });

  it('relays every message to every member and logs connects and clean closes', async () => {
    const [chat, port] = await startChat();
    const [a, b, c] = [await join(port), await join(port), await join(port)];
    await chat.waitFor(/\(3 in the room\)/);
    a.ws.send('alice: hello room');
    for (const peer of [a, b, c]) {
      expect(await peer.message()).to.deep.equal({ data: Buffer.from('alice: hello room'), binary: false });
    }
    b.ws.close(1000);
    await chat.waitFor(/close 127\.0\.0\.1:\d+: clean, code 1000 \(2 in the room\)/);
    c.ws.send('carol: still here');
    expect((await a.message()).data.toString()).to.equal('carol: still here');
    expect(chat.stdout.match(/^connect 127\.0\.0\.1:\d+ \(\d in the room\)$/gm)).to.have.length(3);
    expect(chat.stderr).to.equal('');
  });

  it('drops a member that stops reading (1008) without stalling the others', async () => {
    const [chat, port] = await startChat();
    // The slow member: a raw socket that completes the upgrade and then never reads again.
    const slow = net.connect(port, '127.0.0.1');
    sockets.push(slow);
    await once(slow, 'connect');
    slow.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [head] = (await once(slow, 'data')) as [Buffer];
    expect(head.toString()).to.match(/^HTTP\/1\.1 101 /);
    slow.pause();
    const fast = await join(port);
    await chat.waitFor(/\(2 in the room\)/);

    // Far more than the socket buffers and the 1 MiB queue hold: the slow member must fall behind.
    // The fast member reads each message back before sending the next, so it never does.
    const line = 'x'.repeat(60_000);
    for (let i = 0; i < 400; i++) {
      fast.ws.send(line);
      expect((await fast.message()).data.length).to.equal(line.length);
    }
    const [evicted] = await chat.waitFor(/error 127\.0\.0\.1:\d+: fell behind with \d+ messages \(\d+ bytes\) queued; closing with 1008 policy error/);
    expect(evicted).to.include(`error 127.0.0.1:${slow.localPort}:`);
    fast.ws.send('fast: still served');
    expect((await fast.message()).data.toString()).to.equal('fast: still served');
    expect(chat.output.match(/fell behind/g)).to.have.length(1);
  });

  it('SIGTERM closes every member with 1001 and exits 0', async () => {
    const [chat, port] = await startChat();
    const [a, b] = [await join(port), await join(port)];
    await chat.waitFor(/\(2 in the room\)/);
    chat.kill('SIGTERM');
    expect((await a.closed).code).to.equal(1001);
    expect((await b.closed).code).to.equal(1001);
    expect(await chat.exited()).to.deep.equal({ code: 0, signal: null });
    expect(chat.stdout).to.match(/SIGTERM: shutting down\n[\s\S]*stopped\n$/);
  });
});
