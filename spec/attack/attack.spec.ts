/**
 * The attack suite (issue 16, DESIGN section 8): the echo server as it ships (spec/attack/server.ts)
 * against peers that vanish at every stage (FIN, reset, half-close: before the handshake, in the
 * middle of it, after it, in the middle of a frame), send refused or malformed handshakes, stay
 * silent or crawl, send corrupt compressed data, flood pings, or never read. Each case checks
 * that the server's descriptor count (`/proc/self/fd`) comes back to where it started, that peak
 * memory stays bounded, that a legitimate client alongside gets every message back whole, that
 * every attacked session's next layer was closed by the time its handler ran, and what the peer
 * received (status or close code). The table of results is printed and saved to
 * .cache/attack-table.md.
 */

import { expect } from 'chai';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { EchoServer } from './server.js';
import { concat, frame, LegitClient, RawPeer, upgradeRequest } from './peer.js';
import { closePayload, Opcode } from '../beast/websocket/ops/fixture.js';
import { permessageDeflateAvailable } from '../../lib/beast/websocket/index.js';

/** Whether the server can negotiate permessage-deflate on this Node (see the corrupt-data case). */
const deflate = permessageDeflateAvailable();

const fdCount = (): number => readdirSync('/proc/self/fd').length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How much the process's RSS may grow during one case (the slow reader's 8 MiB in flight included). */
const rssBound = 96 * 1024 * 1024;

interface Case {
  name: string;
  /** Attacking connections, run at once. */
  conns?: number;
  /** One attack; resolves when the peer is done (its socket may still be open). */
  run(port: number): Promise<RawPeer>;
  /** What every peer must have received. */
  expect: RegExp;
}

interface Row {
  name: string;
  fdsBefore: number;
  fdsAfter: number;
  peakRssMiB: number;
  received: string;
  serverSaw: string;
}
const rows: Row[] = [];

// ---- the cases ----------------------------------------------------------------------------------

type Stage = 'before handshake' | 'mid-handshake' | 'after handshake' | 'mid-frame';
type Ending = 'FIN' | 'RST' | 'half-close';

async function reach(p: RawPeer, stage: Stage): Promise<void> {
  if (stage === 'mid-handshake') p.sock.write(upgradeRequest().slice(0, 40));
  if (stage === 'after handshake' || stage === 'mid-frame') await p.handshake();
  if (stage === 'mid-frame') p.sock.write(frame({ opcode: Opcode.binary, payload: new Uint8Array(1000) }).subarray(0, 100));
  await sleep(20);
}

async function end(p: RawPeer, how: Ending): Promise<void> {
  if (how === 'FIN') await p.finAndGo();
  else if (how === 'RST') p.reset();
  else await p.halfClose();
}

const cases: Case[] = [];
for (const stage of ['before handshake', 'mid-handshake', 'after handshake', 'mid-frame'] as const) {
  const opened = stage === 'after handshake' || stage === 'mid-frame';
  for (const how of ['FIN', 'RST', 'half-close'] as const) {
    cases.push({
      name: `${how} ${stage}`,
      async run(port) {
        const p = await RawPeer.connect(port);
        await reach(p, stage);
        await end(p, how);
        return p;
      },
      // A half-closing peer reads on: the server closes its side at once, with no answer.
      expect: how === 'half-close' ? (opened ? /^101, FIN$/ : /^FIN$/) : opened ? /^101, (\(peer left first\)|FIN|RST)$/ : /^(\(peer left first\)|FIN|RST)$/,
    });
  }
}

/** A refused handshake: the request's bytes, and the answer the peer must get before the FIN. */
const refused = (name: string, request: string, answer: string, halfOpen = false): Case => ({
  name: `refused: ${name}`,
  async run(port) {
    const p = await RawPeer.connect(port, halfOpen);
    p.sock.write(request);
    await p.awaitEnd();
    return p;
  },
  expect: new RegExp(`^${answer}, FIN$`),
});
const req = (lines: string[]): string => [...lines, '', ''].join('\r\n');
const base = ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const without = (name: string): string[] => base.filter((l) => !l.startsWith(`${name}:`));
const bad400 = '400, Connection: close';
cases.push(
  refused('no Sec-WebSocket-Key', req(without('Sec-WebSocket-Key')), bad400),
  refused('two different Sec-WebSocket-Key', req([...base, 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==']), bad400),
  refused('Sec-WebSocket-Version 13 and 8', req([...base, 'Sec-WebSocket-Version: 8']), bad400),
  refused('two Host fields', req([...base, 'Host: example.com']), bad400),
  refused('Sec-WebSocket-Version: 8', req([...without('Sec-WebSocket-Version'), 'Sec-WebSocket-Version: 8']), '426, Connection: close, Sec-WebSocket-Version: 13'),
  refused('HTTP/2.0', req(['GET / HTTP/2.0', ...base.slice(1)]), '505, Connection: close'),
  refused('a header section over 8 KiB', req([...base, `Cookie: ${'x'.repeat(9000)}`]), '431, Connection: close'),
  refused('bare LF', [...base, '', ''].join('\n'), bad400),
  refused('NUL in a field value', req([...base, 'X-A: a\0b']), bad400),
  refused('a space before the colon', req([...base, 'X-A : b']), bad400),
  refused('differing duplicate Content-Length', req([...base, 'Content-Length: 1', 'Content-Length: 2']), bad400),
  refused('Transfer-Encoding with Content-Length', req([...base, 'Transfer-Encoding: chunked', 'Content-Length: 5']), bad400),
  refused('not HTTP', 'HELLO\r\n\r\n', bad400),
  { ...refused('refused, then the peer stays (lingering close bounded)', req(without('Sec-WebSocket-Key')), bad400, true), conns: 2 },
);

cases.push(
  {
    name: 'silent before the handshake',
    conns: 4,
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.awaitEnd();
      return p;
    },
    expect: /^FIN$/,
  },
  {
    name: 'slow handshake (a byte every 20 ms)',
    conns: 4,
    async run(port) {
      const p = await RawPeer.connect(port);
      for (const ch of upgradeRequest()) {
        if (p.end !== null || p.sock.destroyed) break;
        p.sock.write(ch);
        await sleep(20);
      }
      await p.awaitEnd();
      return p;
    },
    expect: /^(FIN|RST)$/,
  },
  {
    name: 'silent after the handshake (pings unanswered)',
    conns: 4,
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.handshake();
      await p.awaitEnd();
      return p;
    },
    expect: /^101, ping, FIN$/,
  },
  {
    name: 'ping flood (5000 pings, then close)',
    conns: 4,
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.handshake();
      const ping = frame({ opcode: Opcode.ping, payload: 'flood' });
      p.sock.write(concat(...Array.from({ length: 5000 }, () => ping), frame({ opcode: Opcode.close, payload: closePayload(1000) })));
      await p.awaitEnd();
      return p;
    },
    expect: /^101, 5000 pong, close 1000, FIN$/,
  },
  {
    name: 'slow reader (8 MiB sent, nothing read, then reset)',
    conns: 2,
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.handshake();
      p.sock.pause();
      const msg = frame({ opcode: Opcode.binary, payload: new Uint8Array(256 * 1024) });
      for (let i = 0; i < 32; i++) p.sock.write(msg);
      await sleep(500);
      p.reset();
      return p;
    },
    expect: /^101, /,
  },
  // Where this Node cannot run permessage-deflate (net/node-internals.ts, 4) the server declines
  // the offer, and the same compressed frame is an RSV1 bit nothing negotiated: 1002, not 1007.
  {
    name: deflate ? 'corrupt permessage-deflate data' : 'compressed data after a declined permessage-deflate offer (no synchronous zlib here)',
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.handshake(['Sec-WebSocket-Extensions: permessage-deflate']);
      const accepted = /\r\nSec-WebSocket-Extensions: permessage-deflate/i.test(p.received().toString('latin1'));
      if (accepted !== deflate) throw new Error(`the 101 ${accepted ? 'accepted' : 'declined'} permessage-deflate`);
      p.sock.write(frame({ opcode: Opcode.binary, rsv: 0x40, payload: Uint8Array.of(0xff, 0xff, 0xff, 0xff) }));
      await p.awaitEnd();
      return p;
    },
    expect: deflate ? /^101, close 1007, FIN$/ : /^101, close 1002, FIN$/,
  },
  {
    name: 'protocol violation (an unmasked frame)',
    async run(port) {
      const p = await RawPeer.connect(port);
      await p.handshake();
      p.sock.write(frame({ opcode: Opcode.text, payload: 'hi', key: undefined }));
      await p.awaitEnd();
      return p;
    },
    expect: /^101, close 1002, FIN$/,
  },
);

// ---- the runner ---------------------------------------------------------------------------------

async function until(test: () => boolean, ms: number): Promise<void> {
  const stop = Date.now() + ms;
  while (!test() && Date.now() < stop) await sleep(10);
}

describe('attack suite: the echo server against hostile peers (loopback)', function () {
  this.timeout(15_000);

  after(() => {
    const lines = [
      '| case | fds before | fds after | peak RSS (MiB) | the peer received | the server\'s sessions ended with |',
      '|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${r.fdsBefore} | ${r.fdsAfter} | ${r.peakRssMiB.toFixed(1)} | ${r.received} | ${r.serverSaw} |`),
    ];
    mkdirSync('.cache', { recursive: true });
    writeFileSync('.cache/attack-table.md', `${lines.join('\n')}\n`);
    if (process.env['TSBEAST_ATTACK_TABLE'] !== undefined) console.log(lines.join('\n'));
  });

  for (const c of cases) {
    it(c.name, async () => {
      const server = await EchoServer.start();
      const legit = await LegitClient.connect(server.port());
      await sleep(20);
      const fdsBefore = fdCount();
      const rssBefore = process.memoryUsage.rss();
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
      let peers: RawPeer[] = [];
      try {
        legit.start();
        peers = await Promise.all(Array.from({ length: c.conns ?? 8 }, () => c.run(server.port())));
        await legit.stop();
        for (const p of peers) p.sock.destroy();
        await until(() => server.sessions.size === 1 && fdCount() === fdsBefore, 5000);
      } finally {
        clearInterval(sampler);
        for (const p of peers) p.sock.destroy();
      }
      const fdsAfter = fdCount();
      const received = [...new Set(peers.map((p) => p.summary()))];
      const ends = [...server.ends];
      const serverSaw = [...new Set(ends.map((e) => `${e.step}: ${e.ec.message()}`))].join('; ');
      rows.push({ name: c.name, fdsBefore, fdsAfter, peakRssMiB: (peak - rssBefore) / 2 ** 20, received: received.join(' / '), serverSaw });
      await legit.close();
      await server.stop();

      expect(fdsAfter, 'descriptors back to where they started').to.equal(fdsBefore);
      expect(peak - rssBefore, 'RSS growth').to.be.below(rssBound);
      expect(legit.broken, 'the legitimate client lost nothing').to.deep.equal([]);
      expect(legit.intact).to.be.greaterThan(0);
      for (const r of received) expect(r, 'what the peer received').to.match(c.expect);
      expect(ends.length, 'every attacked session ended').to.equal(c.conns ?? 8);
      expect(ends.filter((e) => e.nextOpen).map((e) => `${e.step}: ${e.ec.message()}`), 'next layer closed when the handler ran').to.deep.equal([]);
    });
  }
});
