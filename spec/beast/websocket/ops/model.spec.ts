// Specs for the operation model of websocket.Stream as an Asio and Beast user relies on it, for
// every operation alike (issue 17): buffer sequences copied at initiation, `deferred` operations
// that count only once launched, argument errors thrown before anything changes, misuse (a second
// operation of a kind, any operation after the close, a handshake while others run) refused with
// a clear error and never inside the initiating call, the Timeout option's defaults, and Beast's
// fail-count loop over an echo session (handshake, messages written whole or in parts, a ping and
// the closing handshake, every I/O step failed once in turn).

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { buffersToBytes } from '../../../../lib/net/buffer.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError, SystemError } from '../../../../lib/net/error.js';
import { deferred } from '../../../../lib/net/token.js';
import { testFailure } from '../../../../lib/beast/test/error.js';
import type { FailCount } from '../../../../lib/beast/test/fail-count.js';
import { failLoop } from '../../../../lib/beast/test/fail-loop.js';
import { error } from '../../../../lib/beast/websocket/error.js';
import { none, Timeout } from '../../../../lib/beast/websocket/options.js';
import {
  bytesOf,
  echo,
  finish,
  makePair,
  Opcode,
  openPair,
  parseFrames,
  pattern,
  peek,
  pump,
  recorder,
  serverFrame,
  take,
  text,
  useFakeClock,
  type Ec,
  type PairOptions,
} from './fixture.js';
import { scenario } from './do-test.js';

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

describe('websocket/Stream operation model', () => {
  describe('buffer sequences are copied at initiation (17.1)', () => {
    scenario('a write whose caller empties its list at once completes, and the message arrives whole', () => {
      const p = openPair({ writeSize: 65536 });
      const a = pattern(600_000, 1);
      const b = pattern(600_000, 2);
      const seq = [a, b];
      const w = recorder();
      p.client.binary(true);
      p.client.asyncWriteSome(true, seq, w.h);
      seq.length = 0; // the bytes stay untouched; only the list changes
      const got = new FlatBuffer();
      const r = recorder();
      p.server.asyncRead(got, r.h);
      for (let i = 0; i < 1000 && !(w.called && r.called); i++) pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 1_200_000]);
      expect(r.once()).to.deep.equal([null, 1_200_000]);
      expect(Buffer.compare(buffersToBytes(got.data()), Buffer.concat([a, b]))).to.equal(0);
      finish(p.ioc, p.a, p.b);
    });

    scenario('a write of a list of one buffer (a FlatBuffer\'s data()) whose caller then replaces it sends the first buffer', () => {
      const p = openPair();
      const seq = [bytesOf('hello, world')];
      const w = recorder();
      p.server.asyncWriteSome(true, seq, w.h);
      seq[0] = bytesOf('goodbye');
      for (let i = 0; i < 100 && !w.called; i++) pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 12]);
      const frames = parseFrames(take(p.a));
      expect(Buffer.from(frames[0]!.payload).toString()).to.equal('hello, world');
      finish(p.ioc, p.a, p.b);
    });

    scenario('a deferred write created with a list the caller then empties sends the whole list', () => {
      const p = openPair();
      const seq = [bytesOf('hello, '), bytesOf('world')];
      const op = p.server.asyncWriteSome(true, seq, deferred);
      seq.length = 0;
      const w = recorder();
      op(w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 12]);
      const frames = parseFrames(take(p.a));
      expect(Buffer.from(frames[0]!.payload).toString()).to.equal('hello, world');
      finish(p.ioc, p.a, p.b);
    });

    scenario('a read into a list of buffers that the caller empties fills the buffers it was given', () => {
      const p = openPair();
      const x = new Uint8Array(3);
      const y = new Uint8Array(5);
      const seq = [x, y];
      const r = recorder();
      p.client.asyncReadSome(seq, r.h);
      seq.length = 0;
      p.b.asyncWriteSome(serverFrame({ opcode: Opcode.text, payload: bytesOf('abcdefgh') }), () => {});
      pump(p.ioc);
      expect(r.once()).to.deep.equal([null, 8]);
      expect(Buffer.from(x).toString() + Buffer.from(y).toString()).to.equal('abcdefgh');
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('deferred operations count only once launched (17.2)', () => {
    scenario('creating a deferred write has no effect: a direct write still succeeds, and nothing goes out', () => {
      const p = openPair();
      const unlaunched = p.client.asyncWrite(bytesOf('never'), deferred);
      expect(unlaunched).to.be.a('function');
      const w = recorder();
      p.client.asyncWrite(bytesOf('direct'), w.h);
      pump(p.ioc);
      expect(w.once()).to.deep.equal([null, 6]);
      expect(parseFrames(take(p.b)).map((f) => Buffer.from(f.payload).toString())).to.deep.equal(['direct']);
      finish(p.ioc, p.a, p.b);
    });

    scenario('two deferred writes created together, launched in turn, both succeed', () => {
      const p = openPair();
      const first = p.server.asyncWrite(bytesOf('one'), deferred);
      const second = p.server.asyncWrite(bytesOf('two'), deferred);
      const w1 = recorder();
      const w2 = recorder();
      first(w1.h);
      pump(p.ioc);
      second(w2.h);
      pump(p.ioc);
      expect([w1.once(), w2.once()]).to.deep.equal([[null, 3], [null, 3]]);
      expect(parseFrames(take(p.a)).map((f) => Buffer.from(f.payload).toString())).to.deep.equal(['one', 'two']);
      finish(p.ioc, p.a, p.b);
    });

    scenario('one deferred write launched twice is two initiations: at once, the second gets alreadyStarted; in turn, both send', () => {
      const p = openPair();
      const op = p.server.asyncWrite(bytesOf('x'), deferred);
      const w1 = recorder();
      const w2 = recorder();
      op(w1.h);
      op(w2.h);
      pump(p.ioc);
      expect(w1.once()).to.deep.equal([null, 1]);
      expect(w2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      const w3 = recorder();
      op(w3.h);
      pump(p.ioc);
      expect(w3.once()).to.deep.equal([null, 1]);
      expect(parseFrames(take(p.a))).to.have.length(2);
      finish(p.ioc, p.a, p.b);
    });

    scenario('one deferred ping launched twice: the handler of each launch runs exactly once', () => {
      const p = openPair();
      const op = p.client.asyncPing('hb', deferred);
      const c1 = recorder<[Ec]>();
      const c2 = recorder<[Ec]>();
      op(c1.h);
      op(c2.h);
      pump(p.ioc);
      expect([c1.ec(), c2.ec()]).to.deep.equal([null, netError.alreadyStarted]);
      const c3 = recorder<[Ec]>();
      op(c3.h);
      pump(p.ioc);
      expect(c3.ec()).to.equal(null);
      expect(parseFrames(take(p.b)).map((f) => f.opcode)).to.deep.equal([Opcode.ping, Opcode.ping]);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('argument errors are thrown before anything changes (17.3)', () => {
    scenario('asyncHandshake with an empty target throws, and leaves no handshake busy', () => {
      const p = makePair();
      expect(() => p.client.asyncHandshake('localhost', '', () => {})).to.throw(RangeError);
      expect(() => p.client.asyncHandshake('localhost', '', deferred)).to.throw(RangeError);
      expect(peek(p.b)).to.have.length(0);
      const acc = recorder<[Ec]>();
      const hs = recorder<[Ec]>();
      p.server.asyncAccept(acc.h);
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect([hs.ec(), acc.ec()]).to.deep.equal([null, null]);
      finish(p.ioc, p.a, p.b);
    });

    scenario('a bad ping payload or close reason throws, sends nothing, and the next ping or close works', () => {
      const p = openPair();
      expect(() => p.client.asyncPing(new Uint8Array(126), () => {})).to.throw(RangeError);
      expect(() => p.client.asyncClose(1005, () => {})).to.throw(RangeError);
      pump(p.ioc);
      expect(peek(p.b)).to.have.length(0);
      const c = recorder<[Ec]>();
      p.client.asyncPing('ok', c.h);
      pump(p.ioc);
      expect(c.ec()).to.equal(null);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });
  });

  describe('misuse: a second operation of a kind, operations after the close, a handshake while others run', () => {
    scenario('operations on a closed stream, and refused ones, never complete inside the initiating call', () => {
      const { ioc, a, b, client, server } = openPair();
      echo(server);
      const c = recorder<[Ec]>();
      client.asyncClose(1000, c.h);
      const c2 = recorder<[Ec]>();
      client.asyncClose(1000, c2.h);
      expect(c2.called).to.equal(false);
      pump(ioc);
      expect(c2.ec()).to.equal(netError.alreadyStarted);
      const w = recorder();
      const r = recorder();
      const p = recorder<[Ec]>();
      client.asyncWrite(bytesOf('x'), w.h);
      client.asyncRead(new FlatBuffer(), r.h);
      client.asyncPing('', p.h);
      expect([w.called, r.called, p.called]).to.deep.equal([false, false, false]);
      pump(ioc);
      expect([w.ec(), r.ec(), p.ec()]).to.deep.equal([netError.operationAborted, netError.operationAborted, netError.operationAborted]);
      finish(ioc, a, b);
    });

    scenario('a second operation of a kind already outstanding: alreadyStarted, the first is undisturbed', () => {
      const { ioc, a, b, client, server } = openPair();
      const r1 = recorder();
      const r2 = recorder();
      const buf = new FlatBuffer();
      server.asyncRead(buf, r1.h);
      server.asyncReadSome(new Uint8Array(4), r2.h);
      const w1 = recorder();
      const w2 = recorder();
      client.asyncWrite(bytesOf('one'), w1.h);
      client.asyncWriteSome(true, bytesOf('two'), w2.h);
      const p1 = recorder<[Ec]>();
      const p2 = recorder<[Ec]>();
      client.asyncPing('1', p1.h);
      client.asyncPong('2', p2.h);
      const c1 = recorder<[Ec]>();
      const c2 = recorder<[Ec]>();
      pump(ioc);
      expect(r2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      expect(w2.once()).to.deep.equal([netError.alreadyStarted, 0]);
      expect(p2.ec()).to.equal(netError.alreadyStarted);
      expect(r1.once()).to.deep.equal([null, 3]);
      expect(w1.once()).to.deep.equal([null, 3]);
      expect(p1.ec()).to.equal(null);
      expect(text(buf.dataView())).to.equal('one');

      // Once complete, the kind is free again.
      const r3 = recorder();
      server.asyncRead(buf, r3.h);
      client.asyncClose(1000, c1.h);
      client.asyncClose(1000, c2.h);
      pump(ioc);
      expect(c2.ec()).to.equal(netError.alreadyStarted);
      expect(c1.ec()).to.equal(null);
      expect(r3.once()).to.deep.equal([error.closed, 0]);
      finish(ioc, a, b);
    });

    scenario('a handshake is refused while another operation is outstanding', () => {
      const p = openPair();
      const r = recorder();
      p.client.asyncRead(new FlatBuffer(), r.h);
      const hs = recorder<[Ec]>();
      p.client.asyncHandshake('localhost', '/', hs.h);
      pump(p.ioc);
      expect(hs.ec()).to.equal(netError.alreadyStarted);
      expect(r.called).to.equal(false);
      expect(p.client.isOpen()).to.equal(true);
      finish(p.ioc, p.a, p.b);
    });
  });
});

describe('websocket/Stream options: Timeout', () => {
  const fake = useFakeClock();

  it('a new stream has every timeout disabled; suggested values for client and server', () => {
    const { ioc, a, b, client } = makePair();
    const t = client.getOption(Timeout);
    expect([t.handshakeTimeout, t.idleTimeout, t.keepAlivePings]).to.deep.equal([none, none, false]);
    const server = Timeout.suggested('server');
    expect([server.handshakeTimeout, server.idleTimeout, server.keepAlivePings]).to.deep.equal([30_000, 300_000, true]);
    const cl = Timeout.suggested('client');
    expect([cl.handshakeTimeout, cl.idleTimeout, cl.keepAlivePings]).to.deep.equal([30_000, none, false]);
    client.setOption(server);
    expect(client.getOption(Timeout)).to.equal(server);
    expect(fake.clock.countTimers(), 'no timer before the handshake').to.equal(0);
    finish(ioc, a, b);
  });
});

describe("websocket/Stream: Beast's fail-count loop over an echo session", function () {
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
