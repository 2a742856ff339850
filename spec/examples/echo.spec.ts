/**
 * The echo examples as a user runs them: echo_server in each token style, with and without
 * permessage-deflate, driven by a `ws` client and by echo_client; SIGTERM and SIGINT end it with a
 * clean close (1001) and exit code 0; echo_client exits 1 when an echo does not match.
 */

import { expect } from 'chai';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type AddressInfo } from 'ws';
import { Example, portOf, stopAll } from './child.js';
import { WsPeer } from './ws-peer.js';
import { permessageDeflateAvailable } from '../../lib/beast/websocket/index.js';

const listening = /listening on 127\.0\.0\.1:(\d+)/;

/**
 * Whether `--deflate` gets permessage-deflate on this Node: without synchronous zlib
 * (net/node-internals.ts, 4) the examples decline the offer and echo uncompressed, which the
 * `--deflate` cases then check instead.
 */
const pmd = permessageDeflateAvailable();
const declinedNote = ' (permessage-deflate declined: no synchronous zlib on this Node)';

describe('examples: echo_server and echo_client', function () {
  this.timeout(20_000);
  const peers: WsPeer[] = [];
  const servers: WebSocketServer[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.terminate();
    for (const s of servers.splice(0)) {
      for (const c of s.clients) c.terminate();
      await new Promise((resolve) => s.close(resolve));
    }
    await stopAll();
  });

  async function startServer(...args: string[]): Promise<[Example, number]> {
    const server = new Example('echo_server', ['--port', '0', ...args]);
    return [server, await portOf(server, listening)];
  }

  for (const token of ['callback', 'promise']) {
    for (const deflate of [false, true]) {
      const flags = ['--token', token, ...(deflate ? ['--deflate'] : [])];
      const note = deflate && !pmd ? declinedNote : '';
      it(`${flags.join(' ')}: echoes text, binary, fragmented and large messages, answers pings; SIGTERM closes with 1001 and exits 0${note}`, async () => {
        const [server, port] = await startServer(...flags);
        const peer = await WsPeer.connect(`ws://127.0.0.1:${port}/`, deflate);
        peers.push(peer);
        expect(peer.ws.extensions).to.equal(deflate && pmd ? 'permessage-deflate' : '');

        peer.ws.send('hello, echo');
        expect(await peer.message()).to.deep.equal({ data: Buffer.from('hello, echo'), binary: false });

        const bytes = randomBytes(300);
        peer.ws.send(bytes);
        expect(await peer.message()).to.deep.equal({ data: bytes, binary: true });

        // Sent as three frames, echoed as one whole message.
        peer.ws.send('frag', { fin: false });
        peer.ws.send('men', { fin: false });
        peer.ws.send('ted', { fin: true });
        expect(await peer.message()).to.deep.equal({ data: Buffer.from('fragmented'), binary: false });

        const large = Buffer.alloc(200_000, 'tsbeast ');
        peer.ws.send(large, { binary: false });
        expect(await peer.message()).to.deep.equal({ data: large, binary: false });

        peer.ws.ping('are you there?');
        expect((await peer.pong()).toString()).to.equal('are you there?');

        server.kill('SIGTERM');
        expect(await peer.closed).to.deep.equal({ code: 1001, reason: '' });
        expect(await server.exited()).to.deep.equal({ code: 0, signal: null });
        expect(server.stdout).to.match(/SIGTERM: closing 1 connection\(s\)\nstopped\n$/);
        expect(server.stderr).to.equal('');
      });
    }
  }

  it('SIGINT stops it too, with several connections open', async () => {
    const [server, port] = await startServer('--token', 'promise');
    const a = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
    const b = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
    peers.push(a, b);
    a.ws.send('still here');
    await a.message();
    server.kill('SIGINT');
    expect((await a.closed).code).to.equal(1001);
    expect((await b.closed).code).to.equal(1001);
    expect(await server.exited()).to.deep.equal({ code: 0, signal: null });
    expect(server.stdout).to.include('SIGINT: closing 2 connection(s)');
  });

  for (const flags of [['--token', 'callback'], ['--token', 'promise', '--deflate']]) {
    const deflate = flags.includes('--deflate');
    it(`echo_client against echo_server ${flags.join(' ')}: every echo verified, round trips printed${deflate && !pmd ? declinedNote : ''}`, async () => {
      const [server, port] = await startServer(...flags);
      const client = new Example('echo_client', [
        '--url', `ws://127.0.0.1:${port}/`, '--messages', '50', '--size', '10000', ...(deflate ? ['--deflate'] : []),
      ]);
      expect(await client.exited(), client.output).to.deep.equal({ code: 0, signal: null });
      expect(client.stdout).to.include(`connected to ws://127.0.0.1:${port}/ (permessage-deflate: ${deflate && pmd ? 'on' : 'off'})`);
      expect(client.stdout).to.match(/^50 messages, 500000 bytes echoed: mean \d+\.\d{3} ms, p99 \d+\.\d{3} ms round trip$/m);
      server.kill('SIGTERM');
      expect((await server.exited()).code).to.equal(0);
    });
  }

  it('echo_client exits 1 when an echo does not match', async () => {
    // A server that answers every message with its bytes reversed.
    const liar = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(liar);
    await once(liar, 'listening');
    liar.on('connection', (ws) => ws.on('message', (data: Buffer, binary) => ws.send(Buffer.from(data).reverse(), { binary })));
    const { port } = liar.address() as AddressInfo;
    const client = new Example('echo_client', ['--url', `ws://127.0.0.1:${port}/`, '--messages', '3', '--size', '64']);
    expect((await client.exited()).code).to.equal(1);
    expect(client.stderr).to.include('mismatch at message 0: sent 64 bytes of text, got 64 bytes of text');
  });
});
