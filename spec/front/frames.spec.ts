/**
 * The front door's streams send each message as one frame (`autoFragment(false)`), as ws does,
 * where a stream made directly keeps Beast's 4 KiB frames. Seen on the wire by a raw peer: the
 * first frame of a 20,000-byte message carries FIN and the whole length.
 */

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { acceptWebSockets, connect, send } from '../../lib/front/index.js';
import { startHttp } from './support.js';

const size = 20_000;
const guid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The first frame header in `bytes`: FIN, opcode, mask bit and payload length (16-bit lengths only). */
function firstFrame(bytes: Buffer): { fin: boolean; opcode: number; masked: boolean; length: number } {
  const len7 = bytes[1]! & 0x7f;
  expect(len7).to.equal(126, 'a 16-bit length');
  return { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, masked: (bytes[1]! & 0x80) !== 0, length: bytes.readUInt16BE(2) };
}

/** Collects what `socket` receives after the end of the HTTP head, until `n` bytes are there. */
function afterHead(socket: Socket, n: number): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      seen = Buffer.concat([seen, d]);
      const end = seen.indexOf('\r\n\r\n');
      if (end >= 0 && seen.length - end - 4 >= n) resolve({ head: seen.subarray(0, end).toString('latin1'), rest: seen.subarray(end + 4) });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${seen.length} bytes`)));
  });
}

describe('front: one frame per message', () => {
  it("a stream acceptWebSockets accepted sends a 20,000-byte message as one unmasked frame", async () => {
    const http = await startHttp();
    const wss = acceptWebSockets(http.server, async (ws) => void (await send(ws, Buffer.alloc(size, 7))));
    const socket = netConnect(http.port, '127.0.0.1');
    try {
      socket.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const { head, rest } = await afterHead(socket, 4);
      expect(head).to.match(/^HTTP\/1\.1 101 /);
      expect(firstFrame(rest)).to.deep.equal({ fin: true, opcode: 2, masked: false, length: size });
    } finally {
      socket.destroy();
      await wss.close();
      await http.stop();
    }
  });

  it('a stream from connect sends a 20,000-byte message as one masked frame', async () => {
    // A raw server: answers the upgrade by hand, then keeps what follows the request.
    const sockets = new Set<Socket>();
    let frames: Promise<Buffer> | null = null;
    const server = createNetServer((s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      frames = new Promise((resolve) => {
        let seen = Buffer.alloc(0);
        let answered = -1;
        s.on('data', (d: Buffer) => {
          seen = Buffer.concat([seen, d]);
          if (answered < 0) {
            const end = seen.indexOf('\r\n\r\n');
            if (end < 0) return;
            answered = end + 4;
            const key = /Sec-WebSocket-Key: (\S+)\r\n/i.exec(seen.subarray(0, end).toString('latin1'))![1]!;
            const accept = createHash('sha1').update(key + guid).digest('base64');
            s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          }
          if (seen.length - answered >= 4) resolve(seen.subarray(answered));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    try {
      void send(ws, Buffer.alloc(size, 7)).catch(() => {});
      expect(firstFrame(await frames!)).to.deep.equal({ fin: true, opcode: 2, masked: true, length: size });
    } finally {
      ws.nextLayer().close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
