/**
 * Beast itself as a peer: a small Beast echo server and client (spec/peers/beast/*.cpp, built with
 * g++ against Debian's Boost), against tsbeast's client and server. Text, binary, empty,
 * fragmented and 16 MiB messages, pings both ways, and every close code both sides accept, sent
 * by either side.
 */

import { expect } from 'chai';
import { buffer, buffersToString, FlatBuffer } from '../../lib/net/index.js';
import { closeReason, error as wsError, type Stream } from '../../lib/beast/websocket/index.js';
import type { TcpSocket } from '../../lib/net/ip/tcp.js';
import { buildBeastProgram, Clients, codeOf, fnv1a, pattern, Peer, TsEchoServer, type SessionEnd } from './support.js';

const MiB = 1024 * 1024;

// Every code that both Beast and tsbeast accept in a close frame (0: a close frame without a code).
// 1014 is left out: Beast refuses it (see docs/topics/beast-differential.md).
const closeCodes = [0, 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999];

let serverProgram: string;
let clientProgram: string;

describe('peers: Beast', function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(600_000); // a first build compiles Beast twice, a minute or two each
    [serverProgram, clientProgram] = await Promise.all([buildBeastProgram('echo_server'), buildBeastProgram('echo_client')]);
  });

  describe('a tsbeast client, a Beast server', () => {
    let beast: Peer;
    let port: number;
    let clients: Clients;
    let sessions = 0;

    before(async () => {
      beast = Peer.spawn(serverProgram, ['echo']);
      port = Number((await beast.next(/^listening (\d+)$/))[1]);
    });
    after(async () => {
      await beast.stop();
    });
    beforeEach(() => {
      clients = new Clients();
    });
    afterEach(async () => {
      await clients.stop();
    });

    /** Connects a client; `id` is the number the Beast server gives the session. */
    async function connect(): Promise<{ ws: Stream<TcpSocket>; id: number }> {
      const ws = await clients.connect(port);
      return { ws, id: ++sessions };
    }

    /** The Beast server's end of session `id`: [stage, category, value, code, reason]. */
    async function beastEnd(id: number): Promise<string[]> {
      const m = await beast.find(new RegExp(`^end ${id} (\\S+) (\\S+) (\\d+) (\\d+) ?(.*)$`));
      return m.slice(1);
    }

    async function echo(ws: Stream<TcpSocket>, payload: Uint8Array, binary: boolean): Promise<Buffer> {
      ws.binary(binary);
      await ws.asyncWrite(payload);
      const b = new FlatBuffer();
      await ws.asyncRead(b);
      expect(ws.gotBinary()).to.equal(binary);
      return Buffer.from(b.dataView());
    }

    it('echoes text, binary, empty and fragmented messages', async () => {
      const { ws, id } = await connect();
      expect((await echo(ws, buffer('hello, Beast'), false)).toString()).to.equal('hello, Beast');
      expect([...(await echo(ws, Uint8Array.of(0, 1, 2, 255), true))]).to.deep.equal([0, 1, 2, 255]);
      expect((await echo(ws, new Uint8Array(0), false)).length).to.equal(0);
      expect((await echo(ws, new Uint8Array(0), true)).length).to.equal(0);
      const utf8 = 'κόσμε — 𝄞';
      expect((await echo(ws, buffer(utf8), false)).toString()).to.equal(utf8);
      // One message in four frames, a code point split between two of them.
      ws.text(true);
      const parts = [Buffer.from('frag'), Buffer.from('men'), Buffer.from('ted 𝄞').subarray(0, 5), Buffer.from('ted 𝄞').subarray(5)];
      for (const [i, part] of parts.entries()) await ws.asyncWriteSome(i === parts.length - 1, part);
      const b = new FlatBuffer();
      await ws.asyncRead(b);
      expect(buffersToString(b.data())).to.equal('fragmented 𝄞');
      // A binary message auto-fragmented into 16-byte frames.
      ws.writeBufferBytes(16);
      expect((await echo(ws, pattern('binary', 1000, 1), true)).equals(pattern('binary', 1000, 1))).to.equal(true);
      await ws.asyncClose(closeReason(1000, 'done'));
      expect(await beastEnd(id)).to.deep.equal(['read', 'boost.beast.websocket', '1', '1000', 'done']);
    });

    it('echoes 16 MiB text and binary messages', async () => {
      const { ws, id } = await connect();
      for (const kind of ['binary', 'text'] as const) {
        const big = pattern(kind, 16 * MiB, 7);
        const got = await echo(ws, big, kind === 'binary');
        expect(got.length).to.equal(big.length);
        expect(fnv1a(got)).to.equal(fnv1a(big));
      }
      await ws.asyncClose(1000);
      expect((await beastEnd(id))[3]).to.equal('1000');
    });

    it('pings Beast and sees its pong; answers Beast\'s ping', async () => {
      const { ws, id } = await connect();
      const controls: string[] = [];
      ws.controlCallback((kind, payload) => controls.push(`${kind}:${payload}`));
      await ws.asyncPing('from tsbeast');
      // Beast pings first when it gets "!ping <data>", then echoes the message.
      const got = await echo(ws, buffer('!ping from Beast'), false);
      expect(got.toString()).to.equal('!ping from Beast');
      expect(controls).to.deep.equal(['pong:from tsbeast', 'ping:from Beast']);
      await ws.asyncPong('unsolicited');
      await ws.asyncClose(1000);
      expect(await beast.find(new RegExp(`^control ${id} ping from tsbeast$`))).to.have.length(1);
      expect(await beast.find(new RegExp(`^control ${id} pong from Beast$`))).to.have.length(1);
      expect(await beast.find(new RegExp(`^control ${id} pong unsolicited$`))).to.have.length(1);
      await beastEnd(id);
    });

    for (const code of closeCodes) {
      it(`closes with code ${code} and Beast sees it`, async () => {
        const { ws, id } = await connect();
        const reason = code === 0 ? '' : `tsbeast says ${code}`;
        await ws.asyncClose(closeReason(code, reason));
        // Beast's reply repeats the code without the reason; to a close without a code, 1000.
        expect(ws.reason()).to.deep.equal({ code: code || 1000, reason: '' });
        expect(await beastEnd(id)).to.deep.equal(['read', 'boost.beast.websocket', '1', String(code), reason]);
      });

      it(`sees Beast close with code ${code}`, async () => {
        const { ws, id } = await connect();
        const reason = code === 0 ? '' : `Beast says ${code}`;
        ws.text(true);
        await ws.asyncWrite(buffer(`!close ${code} ${reason}`));
        const err = await ws.asyncRead(new FlatBuffer()).then(() => null, (e: unknown) => codeOf(e));
        expect(err).to.equal(wsError.closed);
        expect(ws.reason()).to.deep.equal({ code, reason });
        // Beast's close completes with tsbeast's reply: the code alone, as Beast replies (1000 to no code).
        expect(await beastEnd(id)).to.deep.equal(['close', '-', '0', String(code || 1000), '']);
      });
    }
  });

  describe('a Beast client, a tsbeast server', () => {
    let server: TsEchoServer;

    before(async () => {
      server = await TsEchoServer.start();
    });
    after(async () => {
      await server.close();
    });

    /** The line the Beast client prints for a message it read. */
    const line = (kind: 'text' | 'binary', data: Uint8Array): string =>
      `message ${kind} ${data.length} ${fnv1a(data)} ${kind === 'text' && data.length <= 64 ? Buffer.from(data).toString() : ''}`;

    /** Runs the Beast client with `commands`; resolves with its output once it printed "end". */
    async function beastClient(commands: string[]): Promise<{ out: string[]; end: SessionEnd }> {
      const client = Peer.spawn(clientProgram, [String(server.port)]);
      const session = server.nextSession(50_000);
      try {
        await client.next(/^open$/);
        for (const c of commands) client.send(c);
        await client.find(/^end /, 50_000);
        return { out: client.lines, end: await session };
      } finally {
        await client.stop();
        await session.catch(() => {});
      }
    }

    it('sends text, binary, empty and fragmented messages and gets them back', async () => {
      const { out, end } = await beastClient([
        'text hello, tsbeast', 'read',
        'gen binary 1000 3', 'read',
        'gen text 0 0', 'read',
        'gen binary 0 0', 'read',
        'frag frag men ted', 'read',
        'close 1000 done',
      ]);
      expect(out.filter((l) => l.startsWith('message '))).to.deep.equal([
        line('text', Buffer.from('hello, tsbeast')),
        line('binary', pattern('binary', 1000, 3)),
        line('text', Buffer.alloc(0)),
        line('binary', Buffer.alloc(0)),
        line('text', Buffer.from('fragmented')),
      ]);
      expect(out.at(-1)).to.equal('end close - 0 1000 '); // tsbeast replies with the code alone, as Beast does
      expect(end).to.deep.include({ stage: 'read', error: 'websocket.closed', code: 1000, reason: 'done', messages: 5 });
    });

    it('sends 16 MiB text and binary messages and gets them back', async () => {
      const { out, end } = await beastClient(['gen binary 16777216 5', 'read', 'gen text 16777216 9', 'read', 'close 1000']);
      expect(out.filter((l) => l.startsWith('message '))).to.deep.equal([
        line('binary', pattern('binary', 16 * MiB, 5)),
        line('text', pattern('text', 16 * MiB, 9)),
      ]);
      expect(out.at(-1)).to.equal('end close - 0 1000 ');
      expect(end).to.deep.include({ error: 'websocket.closed', code: 1000, messages: 2 });
    });

    it('pings tsbeast and sees its pong; answers tsbeast\'s ping', async () => {
      const { out, end } = await beastClient(['ping from Beast', 'text !ping from tsbeast', 'read', 'close 1000']);
      expect(out.filter((l) => l.startsWith('control '))).to.deep.equal(['control pong from Beast', 'control ping from tsbeast']);
      expect(out).to.include(line('text', Buffer.from('!ping from tsbeast')));
      expect(end.controls).to.deep.equal(['ping:from Beast', 'pong:from tsbeast', 'close:']);
    });

    for (const code of closeCodes) {
      it(`sees Beast close with code ${code}`, async () => {
        const reason = code === 0 ? '' : `Beast says ${code}`;
        const { out, end } = await beastClient([`close ${code} ${reason}`]);
        expect(out.at(-1)).to.equal(`end close - 0 ${code || 1000} `);
        expect(end).to.deep.include({ stage: 'read', error: 'websocket.closed', code, reason });
      });

      it(`closes with code ${code} and Beast sees it`, async () => {
        const reason = code === 0 ? '' : `tsbeast says ${code}`;
        const { out, end } = await beastClient([`text !close ${code} ${reason}`, 'readend']);
        expect(out.at(-1)).to.equal(`end read boost.beast.websocket 1 ${code} ${reason}`);
        expect(end).to.deep.include({ stage: 'close', error: 'ok', code: code || 1000, reason: '' });
      });
    }
  });
});
