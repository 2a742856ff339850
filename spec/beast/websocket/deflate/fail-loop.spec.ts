// Beast's fail-count loop over compressed echo: a client and an echo server that negotiated
// permessage-deflate share one FailCount, so every read, write and teardown of the handshake
// (with the offer and the answer), of several compressed messages (whole, in parts, spanning
// several frames), of a ping and of the closing handshake is made to fail once. Each run asserts
// that every handler ran exactly once and that no work is left; the run that never hits the
// failure checks the echoed bytes. Read/write sizes of 1, 7 and unlimited.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { SystemError } from '../../../../lib/net/error.js';
import { testFailure } from '../../../../lib/beast/test/error.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import { PermessageDeflate, type PermessageDeflateInit } from '../../../../lib/beast/websocket/deflate.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { makePair, pattern, pump, type Ec, type PairOptions } from '../ops/fixture.js';
import { jsonText } from './support.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';

interface Scenario {
  /** The messages echoed, in order: compressible text, or incompressible binary when `binary`. */
  sizes: number[];
  /** Write each message in three parts with asyncWriteSome (else one asyncWrite). */
  parts: boolean;
  /** Caps on both endpoints (undefined: unlimited). */
  io?: number;
  /** writeBufferBytes of both ends: smaller than a message's compressed size gives several frames. */
  frame?: number;
  /** Send incompressible bytes (several frames per message) instead of text. */
  binary?: boolean;
  /** Extra options of both ends (context takeover, window bits). */
  pmd?: PermessageDeflateInit;
}

interface RunResult {
  errors: Ec[];
  echoed: Uint8Array[];
  serverReads: Ec[];
  active: boolean;
}

const message = (s: Scenario, i: number): Uint8Array => (s.binary === true ? pattern(s.sizes[i]!, i + 1) : jsonText(s.sizes[i]!, i + 1));

function runOnce(fc: FailCount, s: Scenario): RunResult {
  const opts: PairOptions = { fcA: fc, fcB: fc };
  if (s.io !== undefined) {
    opts.readSize = s.io;
    opts.writeSize = s.io;
  }
  const { ioc, a, b, client, server } = makePair(opts);
  client.setOption(new PermessageDeflate({ clientEnable: true, ...s.pmd }));
  server.setOption(new PermessageDeflate({ serverEnable: true, ...s.pmd }));
  client.binary(s.binary === true);
  server.binary(s.binary === true);
  if (s.frame !== undefined) {
    client.writeBufferBytes(s.frame);
    server.writeBufferBytes(s.frame);
  }
  const errors: Ec[] = [];
  const echoed: Uint8Array[] = [];
  const serverReads: Ec[] = [];
  let started = 0;
  let completed = 0;
  let active = false;

  const fail = (ec: Ec): void => {
    errors.push(ec);
    a.close();
    b.close();
  };

  /** A handler that must run exactly once; an error ends the run by closing both endpoints. */
  function once<A extends [Ec, ...unknown[]]>(then: (...args: A) => void): (...args: A) => void {
    started++;
    let calls = 0;
    return (...args: A) => {
      calls++;
      if (calls > 1) throw new Error('a handler ran twice');
      completed++;
      if (args[0] !== null) return fail(args[0]);
      then(...args);
    };
  }

  // The echo server: read a message, write it back, read again; ends at the peer's close.
  const sbuf = new FlatBuffer();
  const serve = (): void => {
    active = server.getStatus().active;
    started++;
    let calls = 0;
    server.asyncRead(sbuf, (ec) => {
      calls++;
      if (calls > 1) throw new Error('a handler ran twice');
      completed++;
      serverReads.push(ec);
      if (ec !== null) {
        if (ec !== error.closed) fail(ec);
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
    const msg = message(s, i);
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
      once(() => client.asyncWriteSome(false, msg.subarray(cut1, cut2), once(() => client.asyncWriteSome(true, msg.subarray(cut2), once(readEcho))))),
    );
  };

  server.asyncAccept(once(serve));
  client.asyncHandshake('localhost', '/', once(() => sendMessage(0)));
  pump(ioc);
  expect(completed, 'handlers run').to.equal(started);
  expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
  a.close();
  b.close();
  pump(ioc);
  expect(ioc.outstandingWork(), 'outstanding work after closing').to.equal(0);
  return { errors, echoed, serverReads, active };
}

function loop(s: Scenario): () => Promise<void> {
  return async () => {
    let success: RunResult | null = null;
    const runs = await failLoop(
      (fc) => {
        const r = runOnce(fc, s);
        if (r.errors.includes(testFailure)) throw new SystemError(testFailure);
        expect(r.errors, 'errors of a run without injected failures').to.deep.equal([]);
        success = r;
      },
      { limit: 20_000 },
    );
    const r = success as RunResult | null;
    expect(r, 'a successful run').to.not.equal(null);
    expect(r!.active, 'permessage-deflate negotiated').to.equal(true);
    expect(r!.serverReads[r!.serverReads.length - 1]).to.equal(error.closed);
    expect(r!.echoed.length).to.equal(s.sizes.length);
    s.sizes.forEach((n, i) => {
      expect(Buffer.from(r!.echoed[i]!).equals(Buffer.from(message(s, i))), `message ${i} (${n} bytes)`).to.equal(true);
    });
    expect(runs).to.be.greaterThan(10);
  };
}

describe('websocket/deflate fail-count loop over compressed echo', function () {
  // Compression needs Node's synchronous zlib (net/node-internals.ts, 4); without it, see negotiation.spec.
  before(function () {
    if (!hasSyncZlib()) this.skip();
  });
  this.timeout(60_000);

  const cases: Array<[string, Scenario]> = [
    ['unlimited: text of 0, 16, 1000 and 20000 bytes', { sizes: [0, 16, 1000, 20_000], parts: false }],
    ['unlimited: the same in three parts', { sizes: [0, 16, 1000, 20_000], parts: true }],
    ['unlimited: 6000 incompressible bytes in 1024-byte frames', { sizes: [6000], parts: false, binary: true, frame: 1024 }],
    ['unlimited: the same in three parts', { sizes: [6000], parts: true, binary: true, frame: 1024 }],
    ['unlimited: no context takeover, window bits 9', { sizes: [1000, 1000], parts: false, pmd: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 } }],
    ['7 bytes: text of 16 and 1000 bytes', { sizes: [16, 1000], parts: false, io: 7 }],
    ['7 bytes: the same in three parts', { sizes: [16, 1000], parts: true, io: 7 }],
    ['7 bytes: 600 incompressible bytes in 256-byte frames', { sizes: [600], parts: false, binary: true, frame: 256, io: 7 }],
    ['1 byte: text of 16 and 300 bytes', { sizes: [16, 300], parts: false, io: 1 }],
    ['1 byte: 300 incompressible bytes in three parts, 128-byte frames', { sizes: [300], parts: true, binary: true, frame: 128, io: 1 }],
  ];
  for (const [name, s] of cases) {
    it(`read/write size ${name}, ping, close`, loop(s));
  }
});
