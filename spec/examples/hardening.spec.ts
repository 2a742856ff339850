/**
 * The examples as they ship, against peers that vanish or misbehave (issue 16): the echo server
 * and the chat demo, each a child process, take abrupt disconnects at every stage, refused
 * handshakes and protocol violations; each is logged and ends one session, the process's
 * descriptor count (/proc/<pid>/fd) comes back to where it was, a legitimate client still gets
 * its messages back, and SIGTERM with a peer that never answers the close frame still exits 0,
 * after the close timeout.
 */

import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { Example, portOf, stopAll } from './child.js';
import { WsPeer } from './ws-peer.js';
import { RawPeer, frame, upgradeRequest } from '../attack/peer.js';
import { Opcode } from '../beast/websocket/ops/fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** One abrupt or hostile connection; resolves when the peer is gone. */
const attacks: Array<[string, (port: number) => Promise<void>]> = [
  ['connect, then FIN', async (port) => (await RawPeer.connect(port)).finAndGo()],
  ['FIN mid-handshake', async (port) => {
    const p = await RawPeer.connect(port);
    p.sock.write(upgradeRequest().slice(0, 30));
    await sleep(10);
    await p.finAndGo();
  }],
  ['FIN after the handshake', async (port) => {
    const p = await RawPeer.connect(port);
    await p.handshake();
    await p.finAndGo();
  }],
  ['RST mid-frame', async (port) => {
    const p = await RawPeer.connect(port);
    await p.handshake();
    p.sock.write(frame({ opcode: Opcode.text, payload: 'x'.repeat(500) }).subarray(0, 50));
    await sleep(10);
    p.reset();
  }],
  ['half-close after the handshake', async (port) => {
    const p = await RawPeer.connect(port);
    await p.handshake();
    await p.halfClose();
  }],
  ['refused handshake (no key)', async (port) => {
    const p = await RawPeer.connect(port);
    p.sock.write(upgradeRequest().replace(/Sec-WebSocket-Key: [^\r]*\r\n/, ''));
    await p.awaitEnd();
    p.sock.destroy();
  }],
  ['protocol violation (unmasked frame)', async (port) => {
    const p = await RawPeer.connect(port);
    await p.handshake();
    p.sock.write(frame({ opcode: Opcode.text, payload: 'hi', key: undefined }));
    await p.awaitEnd();
    p.sock.destroy();
  }],
];

const examples: Array<[string, () => Example, RegExp]> = [
  ['echo_server', () => new Example('echo_server', ['--port', '0']), /listening on 127\.0\.0\.1:(\d+)/],
  ['the chat demo', () => new Example('chat/server', [], { PORT: '0' }), /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//],
];

describe('examples: hostile peers and a bounded shutdown', function () {
  this.timeout(30_000);
  const peers: WsPeer[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.terminate();
    await stopAll();
  });

  for (const [name, start, ready] of examples) {
    it(`${name}: every abrupt end, refusal and violation is logged and closed; descriptors come back; SIGTERM exits even with a silent peer`, async () => {
      const server = start();
      const port = await portOf(server, ready);
      const legit = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
      peers.push(legit);
      await sleep(50);
      const before = fdsOf(server.pid);

      for (const [, attack] of attacks) await Promise.all(Array.from({ length: 10 }, () => attack(port)));
      const stop = Date.now() + 5000;
      while (fdsOf(server.pid) !== before && Date.now() < stop) await sleep(20);
      expect(fdsOf(server.pid), `descriptors of ${name} after 70 hostile connections`).to.equal(before);

      legit.ws.send('still here');
      expect((await legit.message()).data.toString()).to.equal('still here');

      // A peer that never answers our close frame must not hold the shutdown.
      const silent = await RawPeer.connect(port);
      await silent.handshake();
      silent.sock.pause();
      const t0 = Date.now();
      server.kill('SIGTERM');
      expect(await legit.closed).to.deep.equal({ code: 1001, reason: '' });
      expect(await server.exited()).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - t0).to.be.below(10_000);
      expect(server.stdout).to.match(/stopped\n$/);
      silent.sock.destroy();
    });
  }
});
