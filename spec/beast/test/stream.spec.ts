// Specs for lib/beast/test/stream.ts: Beast's test::stream semantics (pairs, read/write sizes,
// input helpers, close / closeRemote, counters, posted completions, cancellation, fail counts,
// teardown). The exhaustive fault loop over a TestStream exchange is in fail-count.spec.ts.

import { expect } from 'chai';

import { bindCancellationSlot, bindImmediateExecutor } from '../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../lib/net/cancellation.js';
import { error, type ErrorCode } from '../../../lib/net/error.js';
import { inlineExecutor } from '../../../lib/net/executor.js';
import { IoContext } from '../../../lib/net/io-context.js';
import type { IoSignature } from '../../../lib/net/stream.js';
import { asTuple } from '../../../lib/net/token.js';
import { connect, FailCount, TestStream, testFailure } from '../../../lib/beast/test/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array, n = b.length): string => new TextDecoder().decode(b.subarray(0, n));

/** A handler that records each call; `once()` asserts it ran exactly once and returns its args. */
function recorder<A extends readonly unknown[] = IoSignature>() {
  const calls: A[] = [];
  const h = (...args: A): void => void calls.push(args);
  return {
    h,
    calls,
    once(): A {
      expect(calls.length, 'handler calls').to.equal(1);
      return calls[0];
    },
  };
}

describe('beast/test/TestStream', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });
  afterEach(() => {
    ioc.poll();
    expect(ioc.outstandingWork(), 'outstanding work').to.equal(0);
  });

  describe('pairs', () => {
    it('carry bytes both ways; nothing runs before poll()', () => {
      const [a, b] = TestStream.pair(ioc);
      const w = recorder();
      const r = recorder();
      const buf = new Uint8Array(16);
      b.asyncReadSome(buf, r.h);
      a.asyncWriteSome(text('hello'), w.h);
      expect(w.calls.length + r.calls.length).to.equal(0);
      ioc.poll();
      expect(w.once()).to.deep.equal([null, 5]);
      expect(r.once()).to.deep.equal([null, 5]);
      expect(decode(buf, 5)).to.equal('hello');

      const back = recorder();
      b.asyncWriteSome(text('world'), recorder().h);
      a.asyncReadSome(buf, back.h);
      ioc.poll();
      expect(back.once()).to.deep.equal([null, 5]);
      expect(decode(buf, 5)).to.equal('world');
    });

    it('connect(a, b), a.connect(b) and connect(to) all connect; reconnecting throws', () => {
      const a = new TestStream(ioc);
      const b = new TestStream(ioc);
      connect(a, b);
      expect(() => a.connect(new TestStream(ioc))).to.throw(/already connected/);
      const c = connect(new TestStream(ioc.getExecutor()));
      expect(c).to.be.instanceOf(TestStream);
      a.asyncWriteSome(text('x'), recorder().h);
      ioc.poll();
      expect(b.str()).to.equal('x');
    });

    it('work with the Promise token inside run()', async () => {
      const [a, b] = TestStream.pair(ioc);
      const buf = new Uint8Array(8);
      const done = Promise.all([a.asyncWriteSome(text('abc')), b.asyncReadSome(buf)]);
      await ioc.run();
      expect(await done).to.deep.equal([3, 3]);
      a.close();
      const eof = b.asyncReadSome(buf, asTuple());
      ioc.restart();
      await ioc.run();
      expect(await eof).to.deep.equal([error.eof, 0]);
    });
  });

  describe('readSize / writeSize', () => {
    it('cap the bytes moved by one call', () => {
      const [a, b] = TestStream.pair(ioc);
      a.writeSize(3);
      b.readSize(2);
      const w = recorder();
      a.asyncWriteSome([text('he'), text('llo')], w.h);
      ioc.poll();
      expect(w.once()).to.deep.equal([null, 3]);
      expect(b.str()).to.equal('hel');
      const buf = new Uint8Array(10);
      const r = recorder();
      b.asyncReadSome(buf, r.h);
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 2]);
      expect(decode(buf, 2)).to.equal('he');
      expect(b.str()).to.equal('l');
    });

    it('a read never returns more than fits, across several buffers', () => {
      const s = new TestStream(ioc, 'abcdef');
      const x = new Uint8Array(2);
      const y = new Uint8Array(1);
      const r = recorder();
      s.asyncReadSome([x, y], r.h);
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 3]);
      expect(decode(x) + decode(y)).to.equal('abc');
      expect(s.str()).to.equal('def');
    });
  });

  describe('input helpers', () => {
    it('the constructor input, append, str, clear and the byte counts', () => {
      const s = new TestStream(ioc, new FailCount(100), 'ab');
      expect(s.str()).to.equal('ab');
      s.append('cd');
      s.append(Uint8Array.of(0x81, 0x05));
      expect(s.bufferedBytes()).to.equal(6);
      expect(s.inputBytes()).to.equal(6);
      expect(s.str().slice(0, 4)).to.equal('abcd');
      expect(Array.from(s.buffer().dataView().subarray(4))).to.deep.equal([0x81, 0x05]);
      s.append('\x81', 'latin1');
      expect(s.bufferedBytes()).to.equal(7);
      s.append('é', 'utf8');
      expect(s.bufferedBytes()).to.equal(9);
      s.clear();
      expect(s.str()).to.equal('');
      expect(s.bufferedBytes()).to.equal(0);
    });

    it('append wakes a pending read; bytes appended before the completion runs are delivered too', () => {
      const s = new TestStream(ioc);
      const buf = new Uint8Array(8);
      const r = recorder();
      s.asyncReadSome(buf, r.h);
      ioc.poll();
      expect(r.calls).to.have.length(0);
      s.append('ab');
      s.append('cd');
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 4]);
      expect(decode(buf, 4)).to.equal('abcd');
    });

    it('an unconnected stream fails writes with connectionReset', () => {
      const s = new TestStream(ioc);
      const w = recorder();
      s.asyncWriteSome(text('x'), w.h);
      ioc.poll();
      expect(w.once()).to.deep.equal([error.connectionReset, 0]);
    });

    it('empty reads and writes complete at once with 0 bytes, posted', () => {
      const [a] = TestStream.pair(ioc);
      const r = recorder();
      const w = recorder();
      a.asyncReadSome(new Uint8Array(0), r.h);
      a.asyncWriteSome([], w.h);
      expect(r.calls.length + w.calls.length).to.equal(0);
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 0]);
      expect(w.once()).to.deep.equal([null, 0]);
    });
  });

  describe('close and closeRemote', () => {
    it('close aborts the pending read; later reads drain then eof; writes both ways reset', () => {
      const [a, b] = TestStream.pair(ioc);
      const pending = recorder();
      a.asyncReadSome(new Uint8Array(4), pending.h);
      b.asyncWriteSome(text('xy'), recorder().h);
      ioc.poll();
      expect(pending.once()).to.deep.equal([null, 2]);
      const late = recorder();
      a.asyncReadSome(new Uint8Array(4), late.h);
      ioc.poll();
      expect(late.calls).to.have.length(0);

      a.close();
      expect(late.calls).to.have.length(0); // never inside close()
      ioc.poll();
      expect(late.once()).to.deep.equal([error.operationAborted, 0]);

      const r2 = recorder();
      const w2 = recorder();
      const w3 = recorder();
      a.asyncReadSome(new Uint8Array(4), r2.h);
      a.asyncWriteSome(text('x'), w2.h);
      b.asyncWriteSome(text('x'), w3.h);
      ioc.poll();
      expect(r2.once()).to.deep.equal([error.eof, 0]);
      expect(w2.once()).to.deep.equal([error.connectionReset, 0]);
      expect(w3.once()).to.deep.equal([error.connectionReset, 0]);
    });

    it('the peer of a closed stream reads what is left, then eof', () => {
      const [a, b] = TestStream.pair(ioc);
      a.asyncWriteSome(text('bye'), recorder().h);
      a.close();
      const buf = new Uint8Array(8);
      const r1 = recorder();
      b.asyncReadSome(buf, r1.h);
      ioc.poll();
      expect(r1.once()).to.deep.equal([null, 3]);
      const r2 = recorder();
      b.asyncReadSome(buf, r2.h);
      ioc.poll();
      expect(r2.once()).to.deep.equal([error.eof, 0]);
    });

    it('close wakes the peer\'s pending read with eof', () => {
      const [a, b] = TestStream.pair(ioc);
      const r = recorder();
      b.asyncReadSome(new Uint8Array(4), r.h);
      ioc.poll();
      a.close();
      ioc.poll();
      expect(r.once()).to.deep.equal([error.eof, 0]);
    });

    it('closeRemote ends the input after what is buffered, and wakes a pending read', () => {
      const s = new TestStream(ioc, 'xy');
      s.closeRemote();
      const buf = new Uint8Array(8);
      const r1 = recorder();
      s.asyncReadSome(buf, r1.h);
      ioc.poll();
      expect(r1.once()).to.deep.equal([null, 2]);
      const r2 = recorder();
      s.asyncReadSome(buf, r2.h);
      ioc.poll();
      expect(r2.once()).to.deep.equal([error.eof, 0]);

      const t = new TestStream(ioc);
      const r3 = recorder();
      t.asyncReadSome(buf, r3.h);
      ioc.poll();
      t.closeRemote();
      ioc.poll();
      expect(r3.once()).to.deep.equal([error.eof, 0]);
    });
  });

  it('counts reads, writes and bytes as Beast does (nwriteBytes on the receiving end)', () => {
    const [a, b] = TestStream.pair(ioc);
    a.writeSize(2);
    a.asyncWriteSome(text('abc'), recorder().h);
    a.asyncWriteSome(text('c'), recorder().h);
    a.asyncWriteSome(new Uint8Array(0), recorder().h);
    b.asyncReadSome(new Uint8Array(8), recorder().h);
    ioc.poll();
    expect([a.nwrite(), a.nread(), b.nwrite(), b.nread()]).to.deep.equal([3, 0, 0, 1]);
    expect(b.nwriteBytes()).to.equal(3);
    expect(a.nwriteBytes()).to.equal(0);
    expect(b.nreadBytes()).to.equal(3);
  });

  describe('completions', () => {
    it('are never inside the initiating call, even from a running handler or with an immediate executor', async () => {
      const [a, b] = TestStream.pair(ioc, null, null);
      const order: string[] = [];
      b.append('ready');
      const outer = recorder();
      a.asyncWriteSome(text('x'), (...args) => {
        outer.h(...args);
        order.push('outer');
        b.asyncReadSome(new Uint8Array(16), () => order.push('read'));
        a.asyncWriteSome(new Uint8Array(0), bindImmediateExecutor(inlineExecutor, () => order.push('write')));
        order.push('outer returns');
      });
      await ioc.run();
      outer.once();
      expect(order).to.deep.equal(['outer', 'outer returns', 'read', 'write']);
    });

    it('keep their order per stream and run each handler exactly once', () => {
      const [a, b] = TestStream.pair(ioc);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) a.asyncWriteSome(Uint8Array.of(i), () => seen.push(i));
      expect(seen).to.deep.equal([]);
      expect(ioc.poll()).to.equal(5);
      expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
      expect(b.bufferedBytes()).to.equal(5);
    });

    it('a second read while one is pending completes with alreadyStarted', () => {
      const s = new TestStream(ioc);
      const first = recorder();
      const second = recorder();
      s.asyncReadSome(new Uint8Array(4), first.h);
      s.asyncReadSome(new Uint8Array(4), second.h);
      ioc.poll();
      expect(second.once()).to.deep.equal([error.alreadyStarted, 0]);
      s.append('z');
      ioc.poll();
      expect(first.once()).to.deep.equal([null, 1]);

      // Also while the first read's completion is queued: its bytes are taken when it runs.
      const t = new TestStream(ioc, 'ab');
      const r1 = recorder();
      const r2 = recorder();
      t.asyncReadSome(new Uint8Array(4), r1.h);
      t.asyncReadSome(new Uint8Array(4), r2.h);
      ioc.poll();
      expect(r1.once()).to.deep.equal([null, 2]);
      expect(r2.once()).to.deep.equal([error.alreadyStarted, 0]);
    });
  });

  describe('per-operation cancellation of a pending read', () => {
    for (const [name, type] of Object.entries({
      terminal: CancellationType.terminal,
      partial: CancellationType.partial,
      total: CancellationType.total,
    })) {
      it(`${name}: completes with operationAborted, consumes nothing, releases the slot`, () => {
        const [a, b] = TestStream.pair(ioc);
        const sig = new CancellationSignal();
        const r = recorder();
        const buf = new Uint8Array(4);
        a.asyncReadSome(buf, bindCancellationSlot(sig.slot(), r.h));
        ioc.poll();
        expect(sig.hasHandler()).to.equal(true);
        sig.emit(type);
        expect(r.calls).to.have.length(0); // posted, not inside emit()
        expect(sig.hasHandler()).to.equal(false);
        ioc.poll();
        expect(r.once()).to.deep.equal([error.operationAborted, 0]);
        expect(a.nreadBytes()).to.equal(0);
        // The stream is as before: the next read gets the peer's bytes.
        const r2 = recorder();
        b.asyncWriteSome(text('ok'), recorder().h);
        a.asyncReadSome(buf, bindCancellationSlot(sig.slot(), r2.h));
        ioc.poll();
        expect(r2.once()).to.deep.equal([null, 2]);
        expect(sig.hasHandler()).to.equal(false);
        sig.emit(type); // after completion: no effect
        ioc.poll();
        expect(r2.calls).to.have.length(1);
      });
    }

    it('a request after the read was woken has no effect', () => {
      const [a, b] = TestStream.pair(ioc);
      const sig = new CancellationSignal();
      const r = recorder();
      a.asyncReadSome(new Uint8Array(4), bindCancellationSlot(sig.slot(), r.h));
      b.asyncWriteSome(text('hi'), recorder().h);
      sig.emit(CancellationType.terminal);
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 2]);
    });
  });

  describe('FailCount', () => {
    it('fails reads, writes and teardown from the nth call on (sticky)', () => {
      const fc = new FailCount(2);
      const [a, b] = TestStream.pair(ioc, fc);
      const calls = [recorder(), recorder(), recorder(), recorder<[ErrorCode | null]>()] as const;
      a.asyncWriteSome(text('x'), calls[0].h);
      a.asyncWriteSome(text('y'), calls[1].h);
      a.asyncReadSome(new Uint8Array(0), calls[2].h);
      a.asyncTeardown('client', calls[3].h);
      ioc.poll();
      expect(calls[0].once()).to.deep.equal([null, 1]);
      expect(calls[1].once()).to.deep.equal([testFailure, 0]);
      expect(calls[2].once()).to.deep.equal([testFailure, 0]);
      expect(calls[3].once()).to.deep.equal([testFailure]);
      expect(b.str()).to.equal('x');
      expect(a.nwrite()).to.equal(2);
      expect(a.nread()).to.equal(1);
    });

    it('a peer without a FailCount is not affected', () => {
      const [a, b] = TestStream.pair(ioc, new FailCount(0));
      const r = recorder();
      b.asyncWriteSome(text('x'), r.h);
      ioc.poll();
      expect(r.once()).to.deep.equal([null, 1]);
      expect(a.str()).to.equal('x');
    });
  });

  describe('asyncTeardown', () => {
    it('closes the stream: the peer reads eof', () => {
      const [a, b] = TestStream.pair(ioc);
      const t = recorder<[ErrorCode | null]>();
      const r = recorder();
      b.asyncReadSome(new Uint8Array(4), r.h);
      a.asyncTeardown('server', t.h);
      expect(t.calls).to.have.length(0);
      ioc.poll();
      expect(t.once()).to.deep.equal([null]);
      expect(r.once()).to.deep.equal([error.eof, 0]);
    });

    it('a failure before closing leaves the stream open; after closing it reports eof', () => {
      const first = new FailCount(1);
      const [a, b] = TestStream.pair(ioc, first);
      const t1 = recorder<[ErrorCode | null]>();
      a.asyncTeardown('client', t1.h);
      ioc.poll();
      expect(t1.once()).to.deep.equal([testFailure]);
      const w = recorder();
      b.asyncWriteSome(text('still open'), w.h);
      ioc.poll();
      expect(w.once()).to.deep.equal([null, 10]);

      const [c, d] = TestStream.pair(ioc, new FailCount(2));
      const t2 = recorder<[ErrorCode | null]>();
      c.asyncTeardown('client', t2.h);
      ioc.poll();
      expect(t2.once()).to.deep.equal([error.eof]);
      const w2 = recorder();
      d.asyncWriteSome(text('x'), w2.h);
      ioc.poll();
      expect(w2.once()).to.deep.equal([error.connectionReset, 0]);
    });

    it('works with the Promise token', async () => {
      const [a] = TestStream.pair(ioc);
      const p = a.asyncTeardown('client');
      await ioc.run();
      expect(await p).to.equal(undefined);
    });
  });
});
