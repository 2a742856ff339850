/**
 * Node's built-in WebSocket client (undici's, behind `--experimental-websocket` on Node 20) as a
 * peer: it runs in a child process (spec/peers/node/ws_client.mjs) against tsbeast's echo server,
 * with text and binary messages, its close with a code and reason, and ours.
 */

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Peer, peersDir, TsEchoServer, within } from './support.js';

const script = join(peersDir, 'node', 'ws_client.mjs');

type Event = Record<string, unknown> & { event: string };

const described = (data: Uint8Array, type: 'text' | 'binary'): Event => ({
  event: 'message',
  type,
  size: data.length,
  sha256: createHash('sha256').update(data).digest('hex'),
});

async function nodeClient(port: number, scenario: string): Promise<Event[]> {
  const p = Peer.spawn(process.execPath, ['--experimental-websocket', '--no-warnings', script, `ws://127.0.0.1:${port}/`, scenario]);
  try {
    const { code } = await within(p.exited, 30_000, `node ${scenario}`);
    expect(code, `the Node client failed:\n${p.stderr}\n${p.lines.join('\n')}`).to.equal(0);
    return p.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
  } finally {
    await p.kill();
  }
}

describe('peers: Node\'s built-in WebSocket client', function () {
  this.timeout(60_000);
  let server: TsEchoServer;

  before(async () => {
    server = await TsEchoServer.start();
  });
  after(async () => {
    await server.close();
  });

  it('sends text and binary messages and gets them back; closes with a code and reason', async () => {
    const session = server.nextSession(30_000);
    const out = await nodeClient(server.port, 'echo');
    expect(out[0]).to.deep.equal({ event: 'open', protocol: '', extensions: '' });
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 5) & 255;
    expect(out.filter((e) => e.event === 'message')).to.deep.equal([
      described(Buffer.from('hello, tsbeast'), 'text'),
      described(Buffer.from('κόσμε 𝄞'), 'text'),
      described(Buffer.alloc(0), 'text'),
      described(Buffer.from([0, 1, 2, 255]), 'binary'),
      described(Buffer.alloc(0), 'binary'),
      described(big, 'binary'),
      described(Buffer.alloc(200_000, 'x'), 'text'),
    ]);
    // Our reply repeats the code (without the reason, as Beast's does).
    expect(out.at(-1)).to.deep.equal({ event: 'closed', code: 4000, reason: '', wasClean: true });
    expect(await session).to.deep.include({ stage: 'read', error: 'websocket.closed', code: 4000, reason: 'node says bye', messages: 7 });
  });

  it('sees our server close with a code and reason', async () => {
    const session = server.nextSession(30_000);
    const out = await nodeClient(server.port, 'serverclose');
    expect(out.at(-1)).to.deep.equal({ event: 'closed', code: 4005, reason: 'tsbeast says bye', wasClean: true });
    // Its reply repeats the code alone, as Beast's and ours do.
    expect(await session).to.deep.include({ stage: 'close', error: 'ok', code: 4005, reason: '' });
  });
});
