/**
 * The chat demo (examples/chat/server.ts) driven without a browser: the page and the 404s over
 * HTTP, the welcome, messages relayed to everyone under the name the server gave, joins and
 * leaves with the member count, history for a late joiner, the Origin check, a message over the
 * limit closed with 1009, a member that stops reading dropped with 1008 while the others carry
 * on, and SIGTERM.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import * as net from 'node:net';
import { Example, portOf, stopAll } from './child.js';
import { WsPeer } from './ws-peer.js';

const ready = /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//;

/** The next event a member receives, parsed. */
async function next(peer: WsPeer): Promise<Record<string, unknown>> {
  return JSON.parse((await peer.message()).data.toString()) as Record<string, unknown>;
}

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

  /** Joins as `name` and returns the peer with its welcome read. */
  async function join(port: number, name = 'guest', headers: Record<string, string> = {}): Promise<WsPeer> {
    const peer = await WsPeer.connect(`ws://127.0.0.1:${port}/chat?name=${name}&token=token-${name}-x`, false, headers);
    peers.push(peer);
    const welcome = await next(peer);
    expect(welcome.type).to.equal('welcome');
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

  it('relays messages under the server\'s names, with joins, leaves, counts and history', async () => {
    const [chat, port] = await startChat();
    const alice = await join(port, 'alice');
    const bob = await join(port, 'bob');
    expect(await next(alice)).to.deep.include({ type: 'join', name: 'bob', count: 2 });
    // Someone else asking for "alice" gets another name: nobody posts as someone else.
    const other = await WsPeer.connect(`ws://127.0.0.1:${port}/chat?name=alice&token=another-token`);
    peers.push(other);
    expect(await next(other)).to.deep.include({ type: 'welcome', name: 'alice-2', count: 3 });
    expect(await next(alice)).to.deep.include({ type: 'join', name: 'alice-2', count: 3 });
    expect(await next(bob)).to.deep.include({ type: 'join', name: 'alice-2', count: 3 });
    other.ws.send('I am alice');
    for (const peer of [alice, bob, other]) expect(await next(peer)).to.deep.include({ type: 'message', name: 'alice-2', text: 'I am alice' });
    alice.ws.send('hello room');
    for (const peer of [alice, bob, other]) expect(await next(peer)).to.deep.include({ type: 'message', name: 'alice', text: 'hello room' });
    // A late joiner sees what was said.
    const carol = await WsPeer.connect(`ws://127.0.0.1:${port}/chat?name=carol&token=token-carol-x`);
    peers.push(carol);
    const welcome = await next(carol);
    expect((welcome.history as Array<{ text: string }>).map((h) => h.text)).to.deep.equal(['I am alice', 'hello room']);
    expect(welcome.count).to.equal(4);
    bob.ws.close(1000);
    await chat.waitFor(/close 127\.0\.0\.1:\d+ bob: clean, code 1000/);
    expect(await next(carol)).to.deep.include({ type: 'leave', name: 'bob', count: 3 });
    expect(chat.stdout.match(/^join 127\.0\.0\.1:\d+ as \S+ on pid \d+ \(\d in the room\)$/gm)).to.have.length(4);
    expect(chat.stderr).to.equal('');
  });

  it('refuses an upgrade from a foreign page (403), accepts its own origin', async () => {
    const [, port] = await startChat();
    let refused: unknown = null;
    await WsPeer.connect(`ws://127.0.0.1:${port}/chat`, false, { Origin: 'https://evil.example' }).catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/403/);
    await join(port, 'local', { Origin: `http://127.0.0.1:${port}` });
  });

  it('closes a message over the page\'s limit with 1009 (too big)', async () => {
    const [chat, port] = await startChat();
    const page = await get(port, '/');
    const limit = Number(/const maxBytes = (\d+);/.exec(page.body)![1]);
    const peer = await join(port, 'big');
    peer.ws.send('x'.repeat(limit)); // at the limit: fine
    expect(await next(peer)).to.deep.include({ type: 'message', name: 'big' });
    peer.ws.send('x'.repeat(limit + 1));
    expect((await peer.closed).code).to.equal(1009);
    await chat.waitFor(/error 127\.0\.0\.1:\d+ big read: /);
  });

  it('drops a member that stops reading (1008) without stalling the others', async () => {
    const [chat, port] = await startChat();
    // The slow member: a raw socket that completes the upgrade and then never reads again.
    const slow = net.connect(port, '127.0.0.1');
    sockets.push(slow);
    await once(slow, 'connect');
    slow.write('GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [head] = (await once(slow, 'data')) as [Buffer];
    expect(head.toString()).to.match(/^HTTP\/1\.1 101 /);
    slow.pause();
    const fast = await join(port, 'fast');
    await chat.waitFor(/\(2 in the room\)/);

    // Far more than the socket buffers and the 1 MiB queue hold: the slow member must fall behind.
    // The fast member reads each message back before sending the next, so it never does.
    const line = 'x'.repeat(3900);
    for (let i = 0; i < 3000 && !/fell behind/.test(chat.output); i++) {
      fast.ws.send(line);
      let e = await next(fast);
      while (e.type !== 'message') e = await next(fast); // the slow member's leave
      expect(e.text).to.equal(line);
    }
    const [evicted] = await chat.waitFor(/error 127\.0\.0\.1:\d+: fell behind with \d+ messages \(\d+ bytes\) queued; closing with 1008 policy error/);
    expect(evicted).to.include(`error 127.0.0.1:${slow.localPort}:`);
    fast.ws.send('still served');
    for (;;) {
      const e = await next(fast);
      if (e.type === 'message' && e.text === 'still served') break;
    }
    expect(chat.output.match(/fell behind/g)).to.have.length(1);
  });

  it('SIGTERM closes every member with 1001 and exits 0', async () => {
    const [chat, port] = await startChat();
    const [a, b] = [await join(port, 'a'), await join(port, 'b')];
    await chat.waitFor(/\(2 in the room\)/);
    chat.kill('SIGTERM');
    expect((await a.closed).code).to.equal(1001);
    expect((await b.closed).code).to.equal(1001);
    expect(await chat.exited()).to.deep.equal({ code: 0, signal: null });
    expect(chat.stdout).to.match(/SIGTERM: shutting down\n[\s\S]*stopped\n$/);
  });
});
