// BlockPool (lib/net/block-pool.ts): bounded reuse, and the rule for when Node lets go of a block
// written to a socket once (at once when nothing stayed queued in Node, else at the callback).

import { expect } from 'chai';
import { once } from 'node:events';
import * as net from 'node:net';

import { BlockPool, ownBlock } from '../../lib/net/block-pool.js';

describe('net/BlockPool', () => {
  it('hands out kept blocks first, makes new ones otherwise, and keeps at most max', () => {
    let made = 0;
    const pool = new BlockPool(2, () => ({ n: made++ }));
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    expect(made).to.equal(3);
    pool.give(a);
    pool.give(b);
    pool.give(c);
    expect(pool.kept).to.equal(2);
    expect(pool.take()).to.equal(b);
    expect(pool.take()).to.equal(a);
    expect(pool.take().n).to.equal(3);
  });

  it('ownBlock is a plain Uint8Array over an ArrayBuffer of its own', () => {
    const b = ownBlock(100);
    expect(b.constructor).to.equal(Uint8Array);
    expect([b.length, b.byteOffset, b.buffer.byteLength]).to.deep.equal([100, 0, 100]);
  });

  describe('giveAfterWrite over a socket', () => {
    let server: net.Server;
    let client: net.Socket;
    let peer: net.Socket;

    beforeEach(async () => {
      server = net.createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      [peer] = (await once(server, 'connection')) as [net.Socket];
      await once(client, 'connect');
    });

    afterEach(async () => {
      client.destroy();
      peer.destroy();
      server.close();
      await once(server, 'close');
    });

    it('a write the kernel took whole inside the call: the block is back at once, once', async () => {
      const pool = new BlockPool(4, () => ownBlock(16));
      const block = pool.take();
      pool.giveAfterWrite(client, block, block.subarray(0, 8));
      expect(pool.kept).to.equal(1);
      await new Promise((r) => setImmediate(r));
      expect(pool.kept, 'not given twice by the callback').to.equal(1);
    });

    it('a write left queued in Node (the peer does not read): the block comes back only from the callback', async () => {
      peer.pause();
      const big = 64 * 1024 * 1024;
      const pool = new BlockPool(4, () => ownBlock(big));
      const block = pool.take();
      pool.giveAfterWrite(client, block, block);
      expect(client.writableLength).to.be.greaterThan(0);
      expect(pool.kept, 'Node still holds the bytes').to.equal(0);
      peer.resume();
      peer.on('data', () => {});
      await once(client, 'drain');
      await new Promise((r) => setImmediate(r));
      expect(pool.kept).to.equal(1);
    });
  });
});
