/**
 * Python's `websockets` (Debian's python3-websockets) as a peer: its client against tsbeast's
 * echo server, tsbeast's client against its server (spec/peers/python/ws_peer.py). Messages of
 * every kind up to 16 MiB, its pings and keep-alive pings and ours, and the closing handshake
 * started by either side, which must end without waiting for a timeout.
 */

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { closeReason, error as wsError, none, Timeout } from '../../lib/beast/websocket/index.js';
import { buffer, buffersToString, FlatBuffer } from '../../lib/net/index.js';
import { Clients, codeOf, debianPython, Peer, peersDir, pattern, requirePythonModule, sleep, TsEchoServer, within } from './support.js';

const script = join(peersDir, 'python', 'ws_peer.py');
const MiB = 1024 * 1024;

type Event = Record<string, unknown> & { event: string };

const events = (p: Peer): Event[] => p.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);

const described = (data: Uint8Array, type: 'text' | 'binary'): Event => ({
  event: 'message',
  type,
  size: data.length,
  sha256: createHash('sha256').update(data).digest('hex'),
});

/** Runs the Python client with `args` until it exits; resolves with its JSON lines. */
async function pythonClient(args: string[], ms = 60_000): Promise<Event[]> {
  const p = Peer.spawn(debianPython, [script, 'client', ...args]);
  try {
    const { code } = await within(p.exited, ms, `python ${args.join(' ')}`);
    expect(code, `python client failed:\n${p.stderr}`).to.equal(0);
    return events(p);
  } finally {
    await p.kill();
  }
}

describe('peers: Python websockets', function () {
  this.timeout(60_000);

  before(async () => {
    await requirePythonModule('websockets', 'python3-websockets');
  });

  describe('its client, a tsbeast server', () => {
    let server: TsEchoServer;

    before(async () => {
      server = await TsEchoServer.start();
    });
    after(async () => {
      await server.close();
    });

    it('sends text, binary, empty, fragmented and 16 MiB messages and gets them back', async () => {
      const session = server.nextSession(60_000);
      const out = await pythonClient([String(server.port), 'echo']);
      expect(out.filter((e) => e.event === 'message')).to.deep.equal([
        described(Buffer.from('hello, tsbeast'), 'text'),
        described(Buffer.from([0, 1, 0xfe, 0xff]), 'binary'),
        described(Buffer.alloc(0), 'text'),
        described(Buffer.alloc(0), 'binary'),
        described(Buffer.from('κόσμε 𝄞'), 'text'),
        described(pattern('binary', 16 * MiB, 5), 'binary'),
        described(pattern('text', 16 * MiB, 9), 'text'),
        described(Buffer.from('fragmented'), 'text'),
        described(Buffer.from([1, 2, 3]), 'binary'),
      ]);
      const closed = out.find((e) => e.event === 'closed')!;
      // Our reply carries the code alone, as Beast's does; the close completes without a timeout.
      expect(closed).to.include({ code: 1000, reason: '' });
      expect(closed['elapsed']).to.be.below(1);
      expect(await session).to.deep.include({ stage: 'read', error: 'websocket.closed', code: 1000, reason: 'done', messages: 9 });
    });

    it('gets the pong to its ping, and its keep-alive pings keep the connection', async () => {
      const session = server.nextSession();
      const out = await pythonClient([String(server.port), 'ping']);
      expect(out.find((e) => e.event === 'pong')).to.not.equal(undefined);
      expect(out.find((e) => e.event === 'message')).to.deep.equal(described(Buffer.from('still here'), 'text'));
      expect(out.find((e) => e.event === 'closed')).to.include({ code: 1000 });
      const end = await session;
      expect(end).to.deep.include({ error: 'websocket.closed', code: 1000 });
      expect(end.controls[0]).to.equal('ping:from python');
      // 2.5 s idle with a ping every 0.3 s, each answered within websockets' 3 s: more than 5 pings.
      expect(end.controls.filter((c) => c.startsWith('ping:')).length).to.be.at.least(6);
    });

    it('answers our keep-alive pings while it idles', async () => {
      const pinging = await TsEchoServer.start({ timeout: new Timeout(5000, 2000, true) });
      try {
        const session = pinging.nextSession();
        const out = await pythonClient([String(pinging.port), 'idle', '3.5']);
        expect(out.find((e) => e.event === 'message')).to.deep.equal(described(Buffer.from('still here'), 'text'));
        const end = await session;
        expect(end).to.deep.include({ error: 'websocket.closed', code: 1000 });
        // An idle timeout of 2 s: a ping every second, each answered within the next.
        expect(end.controls.filter((c) => c.startsWith('pong:')).length).to.be.at.least(2);
      } finally {
        await pinging.close();
      }
    });

    for (const code of [1000, 1001, 1008, 3000, 4000, 4999]) {
      it(`closes with ${code} and a reason`, async () => {
        const session = server.nextSession();
        const out = await pythonClient([String(server.port), 'close', String(code), `python says ${code}`]);
        const closed = out.find((e) => e.event === 'closed')!;
        expect(closed).to.include({ code, reason: '' });
        expect(closed['elapsed']).to.be.below(1);
        expect(await session).to.deep.include({ stage: 'read', error: 'websocket.closed', code, reason: `python says ${code}` });
      });
    }

    it('sees our server close with a code and reason, without waiting for a timeout', async () => {
      const session = server.nextSession();
      const out = await pythonClient([String(server.port), 'serverclose', '4002', 'tsbeast says bye']);
      const closed = out.find((e) => e.event === 'closed')!;
      expect(closed).to.include({ code: 4002, reason: 'tsbeast says bye', sent: 4002 });
      expect(closed['elapsed']).to.be.below(1);
      // websockets' reply repeats our code and reason.
      expect(await session).to.deep.include({ stage: 'close', error: 'ok', code: 4002, reason: 'tsbeast says bye' });
    });
  });

  describe('a tsbeast client, its server', () => {
    let python: Peer;
    let port: number;
    let clients: Clients;

    before(async () => {
      // It pings every second and fails a connection that does not answer within 3 s.
      python = Peer.spawn(debianPython, [script, 'server', '1']);
      port = Number((await python.next(/^listening (\d+)$/))[1]);
    });
    after(async () => {
      await python.stop();
    });
    beforeEach(() => {
      clients = new Clients();
    });
    afterEach(async () => {
      await clients.stop();
    });

    /** The Python server's end of the connection from our local `localPort`. */
    async function pythonEnd(localPort: number): Promise<Event> {
      const m = await python.find(new RegExp(`^\\{"event": "end", "port": ${localPort},`));
      return JSON.parse(m.input!) as Event;
    }

    it('round-trips text, binary, empty, fragmented and 16 MiB messages', async () => {
      const ws = await clients.connect(port);
      const b = new FlatBuffer();
      const cases: Array<[Uint8Array, boolean]> = [
        [buffer('hello, websockets'), false],
        [Uint8Array.of(0, 1, 254, 255), true],
        [new Uint8Array(0), false],
        [new Uint8Array(0), true],
        [pattern('binary', 16 * MiB, 3), true],
        [pattern('text', 16 * MiB, 4), false],
      ];
      for (const [payload, binary] of cases) {
        ws.binary(binary);
        await ws.asyncWrite(payload);
        await ws.asyncRead(b);
        expect(ws.gotBinary()).to.equal(binary);
        expect(Buffer.from(b.dataView()).equals(Buffer.from(payload))).to.equal(true);
        b.consume(b.size());
      }
      ws.text(true);
      ws.writeBufferBytes(8);
      await ws.asyncWrite(buffer('fragmented into 8-byte frames 𝄞'));
      await ws.asyncRead(b);
      expect(buffersToString(b.data())).to.equal('fragmented into 8-byte frames 𝄞');
      const local = ws.nextLayer().localEndpoint().port;
      await ws.asyncClose(closeReason(1000, 'done'));
      expect(ws.reason().code).to.equal(1000);
      expect(await pythonEnd(local)).to.include({ initiator: 'client', code: 1000, reason: 'done' });
    });

    it('answers its keep-alive pings, and its pongs answer ours', async () => {
      const controls: string[] = [];
      const ws = await clients.connect(port, (s) => {
        s.controlCallback((kind) => controls.push(kind));
        s.setOption(new Timeout(none, 1600, true));
      });
      const b = new FlatBuffer();
      const read = ws.asyncRead(b);
      await sleep(3500);
      ws.text(true);
      await ws.asyncWrite(buffer('still here'));
      await read;
      expect(buffersToString(b.data())).to.equal('still here');
      // 3.5 s: Python pings every second; a ping received re-arms our timer (as in Beast), so we
      // ping 0.8 s after each of its pings, and either ping or its answer keeps us open.
      expect(controls.filter((k) => k === 'ping').length).to.be.at.least(3);
      expect(controls.filter((k) => k === 'pong').length).to.be.at.least(2);
      const local = ws.nextLayer().localEndpoint().port;
      await ws.asyncClose(1000);
      expect(await pythonEnd(local)).to.include({ code: 1000 });
    });

    it('sees it close with a code and reason; the closing handshake ends at once', async () => {
      const ws = await clients.connect(port);
      const local = ws.nextLayer().localEndpoint().port;
      await ws.asyncWrite(buffer('!close 4003 python says bye'));
      const err = await ws.asyncRead(new FlatBuffer()).then(() => null, (e: unknown) => codeOf(e));
      expect(err).to.equal(wsError.closed);
      expect(ws.reason()).to.deep.equal({ code: 4003, reason: 'python says bye' });
      const end = await pythonEnd(local);
      expect(end).to.include({ initiator: 'server', code: 4003, reason: '' });
      expect(end['elapsed']).to.be.below(1);
    });

    it('closes with a code and reason, and it sees them', async () => {
      const ws = await clients.connect(port);
      const local = ws.nextLayer().localEndpoint().port;
      await ws.asyncClose(closeReason(4004, 'tsbeast says bye'));
      expect(ws.reason()).to.deep.equal({ code: 4004, reason: 'tsbeast says bye' });
      expect(await pythonEnd(local)).to.include({ initiator: 'client', code: 4004, reason: 'tsbeast says bye' });
    });
  });
});
