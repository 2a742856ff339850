// Beast's fail-count loop over echo scenarios of the websocket Stream on TestStream: a client
// and an echo server share one FailCount, so every read, write and teardown of the handshake,
// the messages (whole or written in parts), a ping and the closing handshake is made to fail
// once. Each run asserts that every handler ran exactly once and no work is left; the run that
// never hits the failure checks the echoed bytes. Read/write sizes of 1, 7 and unlimited.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { SystemError } from '../../../../lib/net/error.js';
import { testFailure } from '../../../../lib/beast/test/error.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { makePair, pattern, pump, type Ec, type PairOptions } from '../ops/fixture.js';

const MiB = 1024 * 1024;

interface Scenario {
  /** The message sizes echoed, in order. */
  sizes: number[];
  /** Write each message in three parts with asyncWriteSome (else one asyncWrite). */
  parts: boolean;
  /** Caps on both endpoints (undefined: unlimited). */
  io?: number;
}

/** What one run observed. */
interface RunResult {
  errors: Ec[];
  echoed: Uint8Array[];
  serverReads: Ec[];
}

/**
 * One run: handshake; for each size, write the message and read its echo; ping; close. Every
 * failure closes both endpoints, so nothing waits forever. Asserts that each handler ran once.
 */
function runOnce(fc: FailCount, s: Scenario): RunResult {
  const opts: PairOptions = { fcA: fc, fcB: fc };
  if (s.io !== undefined) {
    opts.readSize = s.io;
    opts.writeSize = s.io;
  }
  const { ioc, a, b, client, server } = makePair(opts);
  client.binary(true);
  server.binary(true);
  if (s.sizes.some((n) => n >= MiB)) {
    // One big frame each way keeps the number of I/O steps (and so of runs) small.
    client.autoFragment(false);
    client.writeBufferBytes(MiB);
    server.autoFragment(false);
  }
  const errors: Ec[] = [];
  const echoed: Uint8Array[] = [];
  const serverReads: Ec[] = [];
  let started = 0;
  let completed = 0;

  /** A handler that must run exactly once; an error ends the run by closing both endpoints. */
  function once<A extends [Ec, ...unknown[]]>(then: (...args: A) => void): (...args: A) => void {
    started++;
    let calls = 0;
    return (...args: A) => {
      calls++;
      if (calls > 1) throw new Error('a handler ran twice');
      completed++;
      const ec = args[0];
      if (ec !== null) {
        errors.push(ec);
        a.close();
        b.close();
        return;
      }
      then(...args);
    };
  }

  // The echo server: read a message, write it back, read again; ends at the peer's close.
  const sbuf = new FlatBuffer();
  const serve = (): void => {
    started++;
    let calls = 0;
    server.asyncRead(sbuf, (ec) => {
      calls++;
      if (calls > 1) throw new Error('a handler ran twice');
      completed++;
      serverReads.push(ec);
      if (ec !== null) {
        if (ec !== error.closed) {
          errors.push(ec);
          a.close();
          b.close();
        }
        return;
      }
      const data = Uint8Array.from(sbuf.dataView());
      sbuf.consume(data.length);
      server.asyncWrite(data, once(() => {}));
      serve();
    });
  };

  const cbuf = new FlatBuffer();
  const sendMessage = (i: number): void => {
    if (i === s.sizes.length) {
      client.asyncPing('ping', once(() => client.asyncClose(1000, once(() => {}))));
      return;
    }
    const msg = pattern(s.sizes[i]!, i + 1);
    const readEcho = (): void =>
      client.asyncRead(
        cbuf,
        once(() => {
          echoed.push(Uint8Array.from(cbuf.dataView()));
          cbuf.consume(cbuf.size());
          sendMessage(i + 1);
        }),
      );
    if (!s.parts) {
      client.asyncWrite(msg, once(readEcho));
      return;
    }
    const cut1 = Math.floor(msg.length / 3);
    const cut2 = Math.floor((2 * msg.length) / 3);
    client.asyncWriteSome(
      false,
      msg.subarray(0, cut1),
      once(() =>
        client.asyncWriteSome(
          false,
          msg.subarray(cut1, cut2),
          once(() => client.asyncWriteSome(true, msg.subarray(cut2), once(readEcho))),
        ),
      ),
    );
  };

  server.asyncAccept(once(serve));
  client.asyncHandshake('localhost', '/', once(() => sendMessage(0)));
  pump(ioc);
  expect(completed, 'handlers run').to.equal(started);
  expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
  // Close what is left open by a run that failed early, so the next run starts clean.
  a.close();
  b.close();
  pump(ioc);
  return { errors, echoed, serverReads };
}

function loop(s: Scenario): () => Promise<void> {
  return async () => {
    let success: RunResult | null = null;
    const runs = await failLoop((fc) => {
      const r = runOnce(fc, s);
      if (r.errors.includes(testFailure)) throw new SystemError(testFailure);
      expect(r.errors, 'errors of a run without injected failures').to.deep.equal([]);
      success = r;
    }, { limit: 20_000 });
    const r = success as RunResult | null;
    expect(r, 'a successful run').to.not.equal(null);
    expect(r!.serverReads[r!.serverReads.length - 1]).to.equal(error.closed);
    expect(r!.echoed.length).to.equal(s.sizes.length);
    s.sizes.forEach((n, i) => {
      expect(Buffer.from(r!.echoed[i]!).equals(pattern(n, i + 1)), `message ${i} (${n} bytes)`).to.equal(true);
    });
    expect(runs).to.be.greaterThan(10);
  };
}

describe('websocket/Stream fail-count loop', function () {
  this.timeout(60_000);

  const configs: Array<[string, number | undefined, number[][]]> = [
    ['unlimited', undefined, [[0], [125], [126], [65535], [65536], [200_000], [MiB]]],
    ['7 bytes', 7, [[0], [125], [126], [1000]]],
    ['1 byte', 1, [[0, 125], [126]]],
  ];
  for (const [name, io, groups] of configs) {
    for (const sizes of groups) {
      for (const parts of [false, true]) {
        it(`read/write size ${name}: messages of ${sizes.join(', ')} bytes${parts ? ' in three parts' : ''}, ping, close`, loop({ sizes, parts, io }));
      }
    }
  }
});
