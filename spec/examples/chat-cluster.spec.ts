/**
 * The chat demo on real infrastructure: Debian's redis-server, three chat instances sharing one
 * room through Redis (a node:cluster process with two workers, and a separate process), and
 * nginx in front of both processes, as docs/howto/chat-scaling.md describes:
 *
 *   ws clients ──> nginx :N ──┬──> chat process A :PA (WORKERS=2) ──> worker 1, worker 2 ──┐
 *                             └──> chat process B :PB ─────────────────────────────────────┴──> redis-server :R
 *
 * Clients connect through nginx until they sit on all three instances; every member sees every
 * message once, each sender's in the order sent, and the same member count. Then process B is
 * killed (SIGKILL: no goodbye); its members reconnect through nginx, which sends them to A, take
 * their names back, and everything sent after that reaches everyone. Skips (pending, with the
 * reason) only when redis-server or nginx is not installed.
 */

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Example, portOf, stopAll } from './child.js';
import { findCommand, freePort, Peer, sleep } from '../peers/support.js';

interface Event {
  type: string;
  seq: number;
  name: string;
  text?: string;
  count?: number;
  instance?: string;
}

/** A chat member speaking the page's protocol, reconnecting with its name and token when told. */
class Member {
  ws: WebSocket | null = null;
  instance = '';
  count = 0;
  /** Messages seen, in arrival order (history included, deduplicated by the server). */
  readonly messages: Event[] = [];
  closes = 0;
  #welcome: (() => void) | null = null;

  constructor(readonly name: string, readonly url: string) {}

  /** Connects and resolves once welcomed. */
  async connect(): Promise<void> {
    const ws = new WebSocket(`${this.url}/chat?name=${this.name}&token=token-of-${this.name}`);
    this.ws = ws;
    ws.on('error', () => {}); // the close follows
    ws.on('close', () => this.closes++);
    const welcomed = new Promise<void>((resolve, reject) => {
      this.#welcome = resolve;
      ws.once('close', (code) => reject(new Error(`${this.name}: closed (${code}) before the welcome`)));
    });
    ws.on('message', (data: Buffer) => {
      const e = JSON.parse(data.toString()) as Event & { history?: Event[] };
      if (e.type === 'welcome') {
        expect(e.name, 'the server kept the name').to.equal(this.name);
        this.instance = e.instance!;
        this.count = e.count!;
        for (const h of e.history!) if (!this.messages.some((m) => m.seq === h.seq)) this.messages.push(h);
        this.#welcome?.();
      } else if (e.type === 'message') {
        this.messages.push(e);
      } else {
        this.count = e.count!;
      }
    });
    await welcomed;
  }

  /** The texts seen from `sender`, in arrival order. */
  from(sender: string): string[] {
    return this.messages.filter((m) => m.name === sender).map((m) => m.text!);
  }

  terminate(): void {
    this.ws?.terminate();
  }
}

/** Waits until `ok()` holds, checking every 50 ms, at most `ms`. */
async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  // The proxying part is examples/chat/nginx.conf's; only paths and ports differ.
  return `
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream chat {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 75s;
      proxy_connect_timeout 2s;
    }
  }
}
`;
}

describe('examples: the chat on Redis, node:cluster and nginx', function () {
  this.timeout(90_000);
  let dir: string | null = null;
  let redis: Peer | null = null;
  let nginx: Peer | null = null;
  const members: Member[] = [];

  before(function () {
    const missing = ['redis-server', 'nginx'].filter((c) => findCommand(c) === null);
    if (missing.length > 0) {
      console.log(`      skipped: ${missing.join(' and ')} not installed (apt-get install -y ${missing.join(' ')})`);
      this.skip();
    }
  });

  afterEach(async () => {
    for (const m of members.splice(0)) m.terminate();
    await stopAll();
    await nginx?.kill('SIGTERM');
    await redis?.kill('SIGTERM');
    nginx = redis = null;
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('one room across three instances; a killed instance\'s members reconnect through nginx and lose nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbeast-chat-cluster-'));
    const redisPort = await freePort();
    redis = Peer.spawn(findCommand('redis-server')!, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    await until('redis-server to start', () => redis!.lines.some((l) => l.includes('Ready to accept connections')));
    const env = { PORT: '0', REDIS_URL: `redis://127.0.0.1:${redisPort}` };

    const a = new Example('chat/server', [], { ...env, WORKERS: '2' });
    const b = new Example('chat/server', [], env);
    const ports = [await portOf(a, /chat demo on http:\/\/127\.0\.0\.1:(\d+)\/ \(2 workers, Redis bus\)/), await portOf(b, /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//)];

    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, ports));
    nginx = Peer.spawn(findCommand('nginx')!, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;']);
    const url = `ws://127.0.0.1:${nginxPort}`;

    // Join through nginx until all three instances have members (round robin: a few suffice).
    for (let i = 0; i < 12; i++) {
      const m = new Member(`user${i}`, url);
      for (let tries = 0; ; tries++) {
        try {
          await m.connect();
          break;
        } catch (err) {
          if (tries === 20) throw err; // nginx may still be starting
          await sleep(100);
        }
      }
      members.push(m);
      if (i >= 5 && new Set(members.map((x) => x.instance)).size === 3) break;
    }
    const instances = new Set(members.map((x) => x.instance));
    expect(instances.size, `instances: ${[...instances].join(', ')}`).to.equal(3);
    const n = members.length;
    await until('every member to count everyone', () => members.every((m) => m.count === n));

    // Everyone talks at once; everyone hears everything once, each sender in order.
    const perSender = 5;
    for (let k = 0; k < perSender; k++) for (const m of members) m.ws!.send(`${m.name} says ${k}`);
    await until('every message everywhere', () => members.every((m) => m.messages.length === n * perSender));
    for (const m of members) {
      for (const s of members) expect(m.from(s.name), `${m.name} hears ${s.name}`).to.deep.equal([...Array(perSender).keys()].map((k) => `${s.name} says ${k}`));
      // One order for the whole room: the same sequence for everyone.
      expect(m.messages.map((e) => e.seq)).to.deep.equal(members[0]!.messages.map((e) => e.seq));
    }
    expect(members.every((m) => m.count === n)).to.equal(true);

    // Kill process B without a goodbye. Its members see the connection drop and reconnect
    // through nginx, which now finds only A.
    const bInstanceName = (await b.waitFor(/Redis bus, instance (.*)\)$/m))[1]!;
    expect(instances.has(bInstanceName), `B (${bInstanceName}) has members`).to.equal(true);
    const moved = members.filter((m) => m.instance === bInstanceName);
    expect(moved.length).to.be.greaterThan(0);
    b.kill('SIGKILL');
    await b.exited();
    await until('B\'s members to lose their connection', () => moved.every((m) => m.closes > 0));
    for (const m of moved) {
      for (let tries = 0; ; tries++) {
        try {
          await m.connect();
          break;
        } catch (err) {
          if (tries === 20) throw err;
          await sleep(200);
        }
      }
      expect(m.instance, `${m.name} moved to A`).to.not.equal(bInstanceName);
    }
    await until('the count to be whole again', () => members.every((m) => m.count === n));

    // Everything said after the reconnect reaches everyone, once, in order.
    const before = new Map(members.map((m) => [m, m.messages.length]));
    for (let k = 0; k < perSender; k++) for (const m of members) m.ws!.send(`${m.name} is back ${k}`);
    await until('every later message everywhere', () => members.every((m) => m.messages.length >= before.get(m)! + n * perSender), 20_000);
    await sleep(200); // and nothing more (no duplicates) arrives
    for (const m of members) {
      const after = m.messages.slice(before.get(m)!);
      expect(after.length, `${m.name}: count of later messages`).to.equal(n * perSender);
      for (const s of members) {
        expect(after.filter((e) => e.name === s.name).map((e) => e.text)).to.deep.equal([...Array(perSender).keys()].map((k) => `${s.name} is back ${k}`));
      }
    }
    expect(members.every((m) => m.count === n), 'the same member count everywhere').to.equal(true);
    expect(a.stderr, 'process A logged no error').to.equal('');
  });
});
