/**
 * nginx (Debian's) as a reverse proxy on loopback in front of tsbeast's echo server, configured
 * for the WebSocket upgrade, with tsbeast's client on the other side. nginx relays the upgraded
 * connection with buffers of its own, so frames cross it cut and joined at other places: messages
 * of every size must still arrive whole. Its `proxy_read_timeout` is 5 s: an idle connection
 * lives only through keep-alive pings, and dies without them.
 */

import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Response } from '../../lib/beast/http/message.js';
import { none, Stream, Timeout } from '../../lib/beast/websocket/index.js';
import { buffer, buffersToString, FlatBuffer } from '../../lib/net/index.js';
import { Endpoint, TcpSocket } from '../../lib/net/ip/tcp.js';
import { Clients, codeOf, freePort, Peer, pattern, requireCommand, sleep, TsEchoServer, tsErrorName } from './support.js';

const MiB = 1024 * 1024;
const readTimeout = 5; // seconds: nginx's proxy_read_timeout

function config(dir: string, port: number, upstream: number): string {
  return `
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_buffer_size 4k;
      proxy_read_timeout ${readTimeout}s;
      proxy_send_timeout ${readTimeout}s;
    }
  }
}
`;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
async function listening(port: number, nginx: Peer, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${ms} ms:\n${nginx.stderr}`);
    await sleep(50);
  }
}

describe('peers: nginx as a WebSocket reverse proxy', function () {
  this.timeout(60_000);
  let server: TsEchoServer;
  let nginx: Peer;
  let port: number;
  let dir: string;
  let clients: Clients;

  before(async () => {
    const program = requireCommand('nginx', 'nginx');
    server = await TsEchoServer.start();
    dir = mkdtempSync(join(tmpdir(), 'tsbeast-nginx-'));
    port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port, server.port));
    nginx = Peer.spawn(program, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;']);
    await listening(port, nginx);
  });
  after(async () => {
    await nginx?.kill('SIGTERM');
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clients = new Clients();
  });
  afterEach(async () => {
    await clients.stop();
  });

  it('upgrades through the proxy', async () => {
    const socket = new TcpSocket(clients.ioc);
    await socket.asyncConnect(Endpoint.loopback(port));
    const ws = new Stream(socket);
    const res = new Response();
    const session = server.nextSession();
    await ws.asyncHandshake(res, `127.0.0.1:${port}`, '/through/nginx');
    expect(res.status).to.equal(101);
    expect(res.fields.get('Server')).to.match(/^nginx/);
    await ws.asyncClose(1000);
    expect(await session).to.deep.include({ error: 'websocket.closed', code: 1000 });
  });

  it('carries messages of every size whole, text and binary, whatever the frames', async () => {
    const session = server.nextSession();
    const ws = await clients.connect(port);
    const sizes = [0, 1, 125, 126, 127, 4095, 4096, 4097, 65535, 65536, 65537, 1 * MiB, 16 * MiB];
    const b = new FlatBuffer();
    let count = 0;
    for (const size of sizes) {
      for (const kind of ['binary', 'text'] as const) {
        for (const frameBytes of size > 1 * MiB ? [4096] : [4096, 100, 1 * MiB]) {
          const payload = pattern(kind, size, size & 255);
          ws.binary(kind === 'binary');
          ws.writeBufferBytes(frameBytes); // auto-fragmented into frames of this size
          await ws.asyncWrite(payload);
          await ws.asyncRead(b);
          count++;
          expect(ws.gotBinary(), `${kind} ${size}`).to.equal(kind === 'binary');
          expect(b.size(), `${kind} ${size}`).to.equal(size);
          expect(Buffer.from(b.dataView()).equals(payload), `${kind} ${size} in frames of ${frameBytes}`).to.equal(true);
          b.consume(b.size());
        }
      }
    }
    // And one message in parts, with a ping between them.
    ws.text(true);
    await ws.asyncWriteSome(false, buffer('one, '));
    await ws.asyncPing('between');
    await ws.asyncWriteSome(true, buffer('two'));
    await ws.asyncRead(b);
    expect(buffersToString(b.data())).to.equal('one, two');
    await ws.asyncClose(1000);
    expect(await session).to.deep.include({ error: 'websocket.closed', code: 1000, messages: count + 1 });
  });

  it('keeps an idle connection open with keep-alive pings', async () => {
    const session = server.nextSession();
    const controls: string[] = [];
    // A ping every 2 s, well within nginx's 5 s; each pong may take up to 2 s before our idle
    // timeout fails the stream (a CI run once saw a pong take over the 1 s this allowed before).
    const ws = await clients.connect(port, (s) => {
      s.setOption(new Timeout(none, 4000, true));
      s.controlCallback((kind) => controls.push(kind));
    });
    const b = new FlatBuffer();
    const read = ws.asyncRead(b);
    await sleep((readTimeout + 2) * 1000);
    ws.text(true);
    await ws.asyncWrite(buffer('still here'));
    await read;
    expect(buffersToString(b.data())).to.equal('still here');
    expect(controls.filter((k) => k === 'pong').length).to.be.at.least(2);
    await ws.asyncClose(1000);
    expect(await session).to.deep.include({ error: 'websocket.closed', code: 1000 });
  });

  it('loses an idle connection without keep-alive pings (nginx\'s timeout is real)', async () => {
    const session = server.nextSession();
    const ws = await clients.connect(port);
    const started = Date.now();
    const err = await ws.asyncRead(new FlatBuffer()).then(() => null, (e: unknown) => codeOf(e));
    const elapsed = (Date.now() - started) / 1000;
    expect(tsErrorName(err)).to.equal('eof');
    expect(elapsed).to.be.within(readTimeout - 0.5, readTimeout + 2);
    expect((await session).error).to.equal('eof');
  });
});
