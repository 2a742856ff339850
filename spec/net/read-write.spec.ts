/**
 * Specs for lib/net/read-write.ts: asyncRead, asyncWrite and asyncReadUntil with each completion
 * condition, over an in-spec fake stream that moves at most `chunk` bytes per call (1 by default,
 * so every transfer is split), can stall until fed, and supports per-operation cancellation;
 * plus one pass over a real loopback TcpSocket pair.
 */

import { expect } from 'chai';
import { HandlerWork } from '../../lib/net/handler-work.js';
import {
  asTuple,
  asyncInitiate,
  asyncRead,
  asyncReadUntil,
  asyncWrite,
  bindCancellationSlot,
  buffer,
  bufferCopy,
  bufferSequence,
  bufferSize,
  buffersToString,
  CancellationSignal,
  CancellationType,
  completionCondition,
  Endpoint,
  error,
  FlatBuffer,
  getAssociatedCancellationSlot,
  IoContext,
  makeWorkGuard,
  MultiBuffer,
  TcpAcceptor,
  TcpSocket,
  transferAll,
  transferAtLeast,
  transferExactly,
  type AsyncStream,
  type AsyncResult,
  type CancellationSlot,
  type CompletionToken,
  type ConstBufferSequence,
  type DynamicBuffer,
  type ErrorCode,
  type Executor,
  type Handler,
  type IoSignature,
  type MutableBufferSequence,
  type UsePromise,
  type WorkGuard,
} from '../../lib/net/index.js';

interface Parked {
  readonly buffers: MutableBufferSequence;
  readonly work: HandlerWork<IoSignature>;
  readonly slot: CancellationSlot;
  readonly onCancel: (type: CancellationType) => void;
}

/**
 * A stream over in-memory bytes. Reads take at most `chunk` bytes per call; with no input left,
 * a read completes with eof once `end()` was called and otherwise parks until `feed()`. Writes
 * take at most `chunk` bytes per call, or park while `blockWrites` is set. Parked operations
 * honour every cancellation type. Immediate completions are posted, as the rules require.
 */
class FakeStream implements AsyncStream {
  readonly readSizes: number[] = [];
  readonly written: number[] = [];
  blockWrites = false;
  /** Writes park once this many bytes were written (a deterministic point to cancel at). */
  blockAfterBytes = Infinity;
  #input: number[];
  #ended: boolean;
  #read: Parked | null = null;

  constructor(
    readonly executor: Executor,
    input: string,
    readonly chunk = 1,
    ended = true,
  ) {
    this.#input = [...Buffer.from(input)];
    this.#ended = ended;
  }

  getExecutor(): Executor {
    return this.executor;
  }

  feed(text: string): void {
    this.#input.push(...Buffer.from(text));
    const p = this.#read;
    if (p === null) return;
    this.#read = null;
    p.slot.release(p.onCancel);
    p.work.complete(true, null, this.#take(p.buffers));
  }

  writtenText(): string {
    return Buffer.from(this.written).toString();
  }

  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => {
      const work = new HandlerWork(h, this.executor);
      this.readSizes.push(bufferSize(buffers));
      if (bufferSize(buffers) === 0) return work.complete(false, null, 0);
      if (this.#input.length > 0) return work.complete(false, null, this.#take(buffers));
      if (this.#ended) return work.complete(false, error.eof, 0);
      this.#read = this.#park(buffers, work, h, () => (this.#read = null));
    }, token, this.executor);
  }

  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => {
      const work = new HandlerWork(h, this.executor);
      if (this.blockWrites || this.written.length >= this.blockAfterBytes) return void this.#park(buffers, work, h, () => {});
      const bytes = Buffer.concat(bufferSequence(buffers)).subarray(0, this.chunk);
      this.written.push(...bytes);
      work.complete(false, null, bytes.length);
    }, token, this.executor);
  }

  #take(buffers: MutableBufferSequence): number {
    const n = bufferCopy(buffers, Uint8Array.from(this.#input.slice(0, this.chunk)));
    this.#input.splice(0, n);
    return n;
  }

  #park(buffers: MutableBufferSequence, work: HandlerWork<IoSignature>, h: Handler<IoSignature>, clear: () => void): Parked {
    const slot = getAssociatedCancellationSlot(h);
    const parked: Parked = {
      buffers,
      work,
      slot,
      onCancel: (type) => {
        if ((type & CancellationType.all) === 0) return;
        clear();
        slot.release(parked.onCancel);
        work.post(error.operationAborted, 0);
      },
    };
    slot.assign(parked.onCancel);
    return parked;
  }
}

const str = (b: DynamicBuffer): string => buffersToString(b.data());
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('net/read-write', () => {
  let ioc: IoContext;
  let guard: WorkGuard;
  let running: Promise<number>;
  beforeEach(() => {
    ioc = new IoContext();
    guard = makeWorkGuard(ioc);
    running = ioc.run();
  });
  afterEach(async () => {
    guard.reset();
    await running;
    expect(ioc.outstandingWork()).to.equal(0);
  });
  const stream = (input: string, chunk = 1, ended = true): FakeStream => new FakeStream(ioc.getExecutor(), input, chunk, ended);

  /** Starts `launch` with a recording callback; resolves with the calls after the first one. */
  async function once<A extends readonly unknown[]>(launch: (h: Handler<A>) => void): Promise<{ args: A; inside: boolean; calls: number }> {
    let initiating = true;
    let inside = false;
    let calls = 0;
    const args = await new Promise<A>((resolve) => {
      launch((...a: A) => {
        calls++;
        inside ||= initiating;
        resolve(a);
      });
      initiating = false;
    });
    for (let i = 0; i < 3; i++) await turn();
    return { args, inside, calls };
  }

  describe('asyncRead into fixed buffers', () => {
    it('transferAll (default) fills the buffers one byte per call, handler once and posted', async () => {
      const s = stream('abcdefgh');
      const buf = new Uint8Array(6);
      const r = await once<IoSignature>((h) => asyncRead(s, [buf.subarray(0, 2), buf.subarray(2)], h));
      expect(r).to.deep.equal({ args: [null, 6], inside: false, calls: 1 });
      expect(buffersToString(buf)).to.equal('abcdef');
      expect(s.readSizes).to.have.length(6);
    });

    it('completes with eof and the bytes so far when the stream ends first', async () => {
      const buf = new Uint8Array(10);
      expect(await asyncRead(stream('abc'), buf, asTuple())).to.deep.equal([error.eof, 3]);
      expect(buffersToString(buf.subarray(0, 3))).to.equal('abc');
    });

    it('transferAtLeast(n) stops once n bytes have arrived', async () => {
      const s = stream('abcdefgh', 2);
      expect(await asyncRead(s, new Uint8Array(8), transferAtLeast(3))).to.equal(4);
      expect(s.readSizes).to.deep.equal([8, 6]);
    });

    it('transferExactly(n) never asks for more than is missing', async () => {
      const s = stream('abcdefgh', 3);
      const buf = new Uint8Array(8);
      expect(await asyncRead(s, buf, transferExactly(5), asTuple())).to.deep.equal([null, 5]);
      expect(s.readSizes).to.deep.equal([5, 2]);
      expect(buffersToString(buf.subarray(0, 5))).to.equal('abcde');
    });

    it('a custom condition and empty buffers complete at once (posted) with 0', async () => {
      const s = stream('abc');
      expect((await once<IoSignature>((h) => asyncRead(s, new Uint8Array(0), h))).args).to.deep.equal([null, 0]);
      const never = completionCondition(() => 0);
      expect((await once<IoSignature>((h) => asyncRead(s, new Uint8Array(4), never, h))).inside).to.equal(false);
      expect(s.readSizes).to.deep.equal([]);
    });
  });

  describe('asyncRead into a dynamic buffer', () => {
    it('appends until eof', async () => {
      const b = new FlatBuffer();
      expect(await asyncRead(stream('hello world', 4), b, asTuple())).to.deep.equal([error.eof, 11]);
      expect(str(b)).to.equal('hello world');
    });

    it('stops with success when the buffer reaches its maxSize', async () => {
      const b = new FlatBuffer(5);
      expect(await asyncRead(stream('hello world', 3), b, asTuple())).to.deep.equal([null, 5]);
      expect(str(b)).to.equal('hello');
    });

    it('honours transferExactly', async () => {
      const b = new MultiBuffer();
      expect(await asyncRead(stream('hello world'), b, transferExactly(7))).to.equal(7);
      expect(str(b)).to.equal('hello w');
    });
  });

  describe('asyncWrite', () => {
    it('transferAll (default) writes every byte of a list, one per call, handler once and posted', async () => {
      const s = stream('');
      const r = await once<IoSignature>((h) => asyncWrite(s, [buffer('ab'), buffer(''), buffer('cde')], h));
      expect(r).to.deep.equal({ args: [null, 5], inside: false, calls: 1 });
      expect(s.writtenText()).to.equal('abcde');
    });

    it('transferAtLeast and transferExactly bound the transfer', async () => {
      const s = stream('', 2);
      expect(await asyncWrite(s, buffer('abcdef'), transferAtLeast(3))).to.equal(4);
      const t = stream('', 4);
      expect(await asyncWrite(t, buffer('abcdef'), transferExactly(5), asTuple())).to.deep.equal([null, 5]);
      expect(t.writtenText()).to.equal('abcde');
    });

    it('terminal cancellation is forwarded to the write in progress; the count so far is reported', async () => {
      const s = stream('', 2);
      const signal = new CancellationSignal();
      s.blockAfterBytes = 4;
      const p = asyncWrite(s, buffer('abcdef'), bindCancellationSlot(signal.slot(), asTuple()));
      for (let i = 0; i < 5; i++) await turn();
      signal.emit(CancellationType.terminal);
      const [ec, n] = await p;
      expect(ec).to.equal(error.operationAborted);
      expect(n).to.equal(4);
      expect(s.written.length).to.equal(4);
    });
  });

  describe('partial cancellation of asyncRead', () => {
    it('is forwarded to the pending child read; the bytes so far are reported', async () => {
      const s = stream('abc', 1, false);
      const signal = new CancellationSignal();
      const buf = new Uint8Array(8);
      const p = asyncRead(s, buf, bindCancellationSlot(signal.slot(), asTuple()));
      for (let i = 0; i < 10; i++) await turn();
      signal.emit(CancellationType.partial);
      expect(await p).to.deep.equal([error.operationAborted, 3]);
      expect(signal.hasHandler()).to.equal(false);
    });

    it('a request arriving while a child completion is queued is honoured at the next step', async () => {
      const s = stream('abcdef');
      const signal = new CancellationSignal();
      const p = asyncRead(s, new Uint8Array(6), bindCancellationSlot(signal.slot(), asTuple()));
      signal.emit(CancellationType.partial); // the first child already completed (posted)
      expect(await p).to.deep.equal([error.operationAborted, 1]);
    });

    it('a total request is ignored (asyncRead cannot promise no side effect)', async () => {
      const s = stream('ab', 1, false);
      const signal = new CancellationSignal();
      const p = asyncRead(s, new Uint8Array(4), bindCancellationSlot(signal.slot(), asTuple()));
      for (let i = 0; i < 5; i++) await turn();
      signal.emit(CancellationType.total);
      s.feed('cd');
      expect(await p).to.deep.equal([null, 4]);
    });
  });

  describe('asyncReadUntil', () => {
    it('finds a delimiter split across one-byte reads and counts up to and including it', async () => {
      const b = new FlatBuffer();
      const r = await once<IoSignature>((h) => asyncReadUntil(stream('GET / HTTP/1.1\r\n\r\nbody'), b, '\r\n\r\n', h));
      expect(r).to.deep.equal({ args: [null, 18], inside: false, calls: 1 });
      expect(str(b)).to.equal('GET / HTTP/1.1\r\n\r\n');
    });

    it('keeps the bytes after the delimiter for the next call, which finds its line without reading', async () => {
      const s = stream('one\ntwo\nthree', 6);
      const b = new MultiBuffer();
      const n = await asyncReadUntil(s, b, buffer('\n'));
      expect(str(b).slice(0, n)).to.equal('one\n');
      b.consume(n);
      expect(str(b)).to.equal('tw');
      const before = s.readSizes.length;
      expect(await asyncReadUntil(s, b, '\n')).to.equal(4);
      expect(s.readSizes.length).to.equal(before + 1);
      b.consume(4);
      const again = await once<IoSignature>((h) => asyncReadUntil(s, b, 'thr', h));
      expect(again.args).to.deep.equal([null, 3]);
      expect(again.inside).to.equal(false);
    });

    it('returns notFound when the buffer fills without the delimiter', async () => {
      const b = new FlatBuffer(8);
      expect(await asyncReadUntil(stream('0123456789\n', 3), b, '\n', asTuple())).to.deep.equal([error.notFound, 0]);
      expect(str(b)).to.equal('01234567');
    });

    it('returns the read error with 0, keeping the bytes read', async () => {
      const b = new FlatBuffer();
      expect(await asyncReadUntil(stream('no newline'), b, '\n', asTuple())).to.deep.equal([error.eof, 0]);
      expect(str(b)).to.equal('no newline');
    });

    it('partial cancellation completes with operationAborted and 0; bytes stay in the buffer', async () => {
      const s = stream('abc', 1, false);
      const b = new FlatBuffer();
      const signal = new CancellationSignal();
      const p = asyncReadUntil(s, b, '\n', bindCancellationSlot(signal.slot(), asTuple()));
      for (let i = 0; i < 10; i++) await turn();
      signal.emit(CancellationType.partial);
      expect(await p).to.deep.equal([error.operationAborted, 0]);
      expect(str(b)).to.equal('abc');
    });

    it('rejects with a SystemError under the promise token', async () => {
      const err = await asyncReadUntil(stream('x'), new FlatBuffer(), '\n').then(
        () => null,
        (e: { code?: ErrorCode }) => e,
      );
      expect(err?.code).to.equal(error.eof);
    });
  });

  describe('over a real TcpSocket pair', () => {
    it('reads lines with asyncReadUntil and exact frames with asyncRead', async () => {
      const acceptor = new TcpAcceptor(ioc, new Endpoint('127.0.0.1', 0));
      const client = new TcpSocket(ioc);
      try {
        await acceptor.asyncListen();
        const accepted = acceptor.asyncAccept();
        await client.asyncConnect(acceptor.localEndpoint());
        const server = await accepted;
        try {
          await asyncWrite(client, [buffer('line one\r\nline two\r\n'), new Uint8Array(70_000).fill(7)]);
          const b = new FlatBuffer();
          const n1 = await asyncReadUntil(server, b, '\r\n');
          expect(str(b).slice(0, n1)).to.equal('line one\r\n');
          b.consume(n1);
          const n2 = await asyncReadUntil(server, b, '\r\n');
          expect(str(b).slice(0, n2)).to.equal('line two\r\n');
          b.consume(n2);
          const frame = new Uint8Array(70_000);
          const have = bufferCopy(frame, b.data());
          b.consume(have);
          expect(have + (await asyncRead(server, frame.subarray(have)))).to.equal(70_000);
          expect(frame.every((x) => x === 7)).to.equal(true);
          client.shutdown(1);
          expect(await asyncRead(server, new Uint8Array(1), transferAll(), asTuple())).to.deep.equal([error.eof, 0]);
        } finally {
          server.close();
        }
      } finally {
        client.close();
        acceptor.close();
      }
    });
  });
});
