/**
 * A fixed in-process WebSocket echo workload for instruction counts (valgrind --tool=callgrind,
 * or perf stat -e instructions): a client and a server Stream over a TestStream pair, the client
 * writing N messages of each size and the server echoing each one, with no sockets and no clock,
 * so the count depends on the code alone, not on a loaded machine. Run it once with the counts
 * and once with 0 and take the difference (Node's start-up is the same in both).
 *
 *   node dist/bench/ws-instructions.js [scale]      (default 1: 2000 x 20 B, 500 x 1 KiB, 40 x 64 KiB)
 *
 * Benchmark code only: it must never be imported by the library.
 */

import { IoContext } from '../lib/net/io-context.js';
import { FlatBuffer } from '../lib/net/dynamic-buffer.js';
import type { ErrorCode } from '../lib/net/error.js';
import { TestStream } from '../lib/beast/test/stream.js';
import { Stream } from '../lib/beast/websocket/stream.js';

const scale = Number(process.argv[2] ?? 1);
const cases: ReadonlyArray<readonly [size: number, count: number]> = [
  [20, 2000 * scale],
  [1024, 500 * scale],
  [65536, 40 * scale],
];

function fail(what: string, ec: ErrorCode | null): never {
  throw new Error(`${what}: ${ec?.message ?? 'unexpected'}`);
}

async function main(): Promise<void> {
  const ioc = new IoContext();
  const [a, b] = TestStream.pair(ioc, null, null);
  const client = new Stream(a);
  const server = new Stream(b);
  client.binary(true);
  server.binary(true);
  server.asyncAccept((ec) => void (ec !== null && fail('accept', ec)));
  client.asyncHandshake('localhost', '/', (ec) => void (ec !== null && fail('handshake', ec)));
  await ioc.run();

  // The server echoes every message it reads, until its read fails (the end of the run).
  const sb = new FlatBuffer();
  const serve = (): void =>
    server.asyncRead(sb, (ec) => {
      if (ec !== null) return;
      server.asyncWrite(sb.data(), (we) => {
        if (we !== null) fail('server write', we);
        sb.consume(sb.size());
        serve();
      });
    });
  // The client sends each message once the last one's echo is back, case after case.
  const cb = new FlatBuffer();
  let echoed = 0;
  let index = 0;
  let left = cases[0]![1];
  const send = (): void => {
    while (left === 0) {
      if (++index === cases.length) {
        a.close();
        b.close();
        return;
      }
      left = cases[index]![1];
    }
    const size = cases[index]![0];
    client.asyncWrite(new Uint8Array(size).fill(0x61), (we) => void (we !== null && fail('client write', we)));
    client.asyncRead(cb, (ec, n) => {
      if (ec !== null) fail('client read', ec);
      if (n !== size) throw new Error(`echo of ${size} bytes came back with ${n}`);
      cb.consume(cb.size());
      echoed++;
      left--;
      send();
    });
  };
  serve();
  send();
  ioc.restart();
  await ioc.run();
  console.log(`echoed ${echoed} messages`);
}

void main();
