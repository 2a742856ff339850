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

/** What the legitimate client says, and what it must hear back, in each example's protocol. */
interface Talk {
  /** Called once connected: takes what the server sends first. */
  greet(peer: WsPeer): Promise<void>;
  /** Sends `text` and checks the server's answer carries it. */
  roundTrip(peer: WsPeer, text: string): Promise<void>;
}

const echo: Talk = {
  greet: async () => {},
  roundTrip: async (peer, text) => {
    peer.ws.send(text);
    expect((await peer.message()).data.toString()).to.equal(text);
  },
};

// The chat sends a welcome first, then every message of the room as JSON, its own included.
const chat: Talk = {
  greet: async (peer) => {
    expect(JSON.parse((await peer.message()).data.toString())).to.include({ type: 'welcome' });
  },
  roundTrip: async (peer, text) => {
    peer.ws.send(text);
    // Joins and leaves of the hostile peers that got through the handshake come first.
    for (;;) {
      const event = JSON.parse((await peer.message()).data.toString()) as { type: string; text?: string };
      if (event.type === 'join' || event.type === 'leave') continue;
      expect(event).to.include({ type: 'message', text });
      return;
    }
  },
};

const examples: Array<[string, () => Example, RegExp, Talk]> = [
  ['echo_server', () => new Example('echo_server', ['--port', '0']), /listening on 127\.0\.0\.1:(\d+)/, echo],
  ['the chat demo', () => new Example('chat/server', [], { PORT: '0' }), /chat demo on http:\/\/127\.0\.0\.1:(\d+)\//, chat],
];

describe('examples: hostile peers and a bounded shutdown', function () {
  this.timeout(30_000);
  const peers: WsPeer[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.terminate();
    await stopAll();
  });

  for (const [name, start, ready, talk] of examples) {
    it(`${name}: every abrupt end, refusal and violation is logged and closed; descriptors come back; SIGTERM exits even with a silent peer`, async () => {
      const server = start();
      const port = await portOf(server, ready);
      const legit = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
      peers.push(legit);
      await talk.greet(legit);
      await sleep(50);
      const before = fdsOf(server.pid);

      for (const [, attack] of attacks) await Promise.all(Array.from({ length: 10 }, () => attack(port)));
      const stop = Date.now() + 5000;
      while (fdsOf(server.pid) !== before && Date.now() < stop) await sleep(20);
      expect(fdsOf(server.pid), `descriptors of ${name} after 70 hostile connections`).to.equal(before);

      await talk.roundTrip(legit, 'still here');

      // A peer that never answers our close frame must not hold the shutdown.
      const silent = await RawPeer.connect(port);
      await silent.handshake();
      silent.sock.pause();
      const t0 = Date.now();
      server.kill('SIGTERM');
      expect((await legit.closed).code).to.equal(1001);
      expect(await server.exited()).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - t0).to.be.below(10_000);
      expect(server.stdout).to.match(/stopped\n$/);
      silent.sock.destroy();
    });
  }
});
