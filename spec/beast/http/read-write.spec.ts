// Specs for lib/beast/http/read.ts and write.ts: asyncRead / asyncReadHeader / asyncWrite over an
// in-spec fake stream that moves 1 or 7 bytes per call, can park a read until fed, fails writes
// on request, and honours cancellation. Checks that only the message's bytes leave the buffer,
// every end-of-stream case, and that each handler runs exactly once and never inside the call.

import { expect } from 'chai';

import { getAssociatedCancellationSlot } from '../../../lib/net/associators.js';
import { bindCancellationSlot } from '../../../lib/net/binders.js';
import { bufferCopy, bufferSequence, bufferSize, buffersToString, type ConstBufferSequence, type MutableBufferSequence } from '../../../lib/net/buffer.js';
import { CancellationSignal, CancellationType, type CancellationHandler } from '../../../lib/net/cancellation.js';
import { FlatBuffer, MultiBuffer, type DynamicBuffer } from '../../../lib/net/dynamic-buffer.js';
import { error as netError, type ErrorCode } from '../../../lib/net/error.js';
import type { Executor } from '../../../lib/net/executor.js';
import { HandlerWork } from '../../../lib/net/handler-work.js';
import { IoContext } from '../../../lib/net/io-context.js';
import type { AsyncStream, IoSignature } from '../../../lib/net/stream.js';
import { asyncInitiate, asTuple, type AsyncResult, type CompletionToken, type Handler, type UsePromise } from '../../../lib/net/token.js';
import { makeWorkGuard, type WorkGuard } from '../../../lib/net/work-guard.js';
import { error } from '../../../lib/beast/http/error.js';
import { Request, Response } from '../../../lib/beast/http/message.js';
import { RequestParser, ResponseParser } from '../../../lib/beast/http/parser.js';
import { asyncRead, asyncReadHeader } from '../../../lib/beast/http/read.js';
import { serialize } from '../../../lib/beast/http/serializer.js';
import { asyncWrite } from '../../../lib/beast/http/write.js';
import { text } from './support.js';

/**
 * A stream over in-memory bytes: reads take at most `chunk` bytes; with no input a read completes
 * with eof once ended, else parks (cancellable) until `feed`. Writes take at most `chunk` bytes,
 * park while `blockWrites`, and fail with `failWrites` once set. Completions are always posted.
 */
class FakeStream implements AsyncStream {
  readonly written: number[] = [];
  reads = 0;
  blockWrites = false;
  failWrites: ErrorCode | null = null;
  failReads: ErrorCode | null = null;
  #input: number[];
  #ended: boolean;
  #parked: { buffers: MutableBufferSequence; work: HandlerWork<IoSignature>; release: () => void } | null = null;

  constructor(
    readonly executor: Executor,
    input: string,
    readonly chunk: number,
    ended = true,
  ) {
    this.#input = [...Buffer.from(input, 'latin1')];
    this.#ended = ended;
  }

  getExecutor(): Executor {
    return this.executor;
  }

  feed(input: string): void {
    this.#input.push(...Buffer.from(input, 'latin1'));
    const p = this.#parked;
    if (p === null) return;
    this.#parked = null;
    p.release();
    p.work.complete(true, null, this.#take(p.buffers));
  }

  asyncReadSome(buffers: MutableBufferSequence, handler: Handler<IoSignature>): void;
  asyncReadSome<T extends CompletionToken = UsePromise>(buffers: MutableBufferSequence, token?: T): AsyncResult<T, IoSignature>;
  asyncReadSome(buffers: MutableBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => {
      const work = new HandlerWork(h, this.executor);
      this.reads++;
      if (bufferSize(buffers) === 0) return work.complete(false, null, 0);
      if (this.failReads !== null) return work.complete(false, this.failReads, 0);
      if (this.#input.length > 0) return work.complete(false, null, this.#take(buffers));
      if (this.#ended) return work.complete(false, netError.eof, 0);
      this.#parked = { buffers, work, release: this.#cancellable(h, work, () => (this.#parked = null)) };
    }, token, this.executor);
  }

  asyncWriteSome(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void;
  asyncWriteSome<T extends CompletionToken = UsePromise>(buffers: ConstBufferSequence, token?: T): AsyncResult<T, IoSignature>;
  asyncWriteSome(buffers: ConstBufferSequence, token?: CompletionToken | Handler<IoSignature>): unknown {
    return asyncInitiate<IoSignature>((h) => {
      const work = new HandlerWork(h, this.executor);
      if (this.failWrites !== null) return work.complete(false, this.failWrites, 0);
      if (this.blockWrites) return void this.#cancellable(h, work, () => {});
      const bytes = Buffer.concat(bufferSequence(buffers)).subarray(0, this.chunk);
      this.written.push(...bytes);
      work.complete(false, null, bytes.length);
    }, token, this.executor);
  }

  writtenText(): string {
    return Buffer.from(this.written).toString('latin1');
  }

  #take(buffers: MutableBufferSequence): number {
    const n = bufferCopy(buffers, Uint8Array.from(this.#input.slice(0, this.chunk)));
    this.#input.splice(0, n);
    return n;
  }

  #cancellable(h: Handler<IoSignature>, work: HandlerWork<IoSignature>, clear: () => void): () => void {
    const slot = getAssociatedCancellationSlot(h);
    const onCancel: CancellationHandler = (type) => {
      if ((type & CancellationType.all) === 0) return;
      clear();
      slot.release(onCancel);
      work.post(netError.operationAborted, 0);
    };
    if (slot.isConnected()) slot.assign(onCancel);
    return () => slot.release(onCancel);
  }
}

const WS_REQUEST =
  'GET /chat?x HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const FRAMES = '\x81\x05hello\x82\x00';
const str = (b: DynamicBuffer): string => buffersToString(b.data(), 'latin1');
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('beast/http/read-write', () => {
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
  const stream = (input: string, chunk: number, ended = true): FakeStream => new FakeStream(ioc.getExecutor(), input, chunk, ended);

  /** Starts `launch` with a recording handler; resolves once it ran, after a few more turns. */
  async function once(launch: (h: Handler<IoSignature>) => void): Promise<{ args: IoSignature; inside: boolean; calls: number }> {
    let initiating = true;
    let inside = false;
    let calls = 0;
    const args = await new Promise<IoSignature>((resolve) => {
      launch((...a: IoSignature) => {
        calls++;
        inside ||= initiating;
        resolve(a);
      });
      initiating = false;
    });
    for (let i = 0; i < 3; i++) await turn();
    return { args, inside, calls };
  }

  describe('asyncRead', () => {
    for (const chunk of [1, 7]) {
      it(`reads a request delivered ${chunk} byte(s) at a time; frame bytes after it stay in the buffer`, async () => {
        const s = stream(WS_REQUEST + FRAMES, chunk);
        const buf = new FlatBuffer();
        const p = new RequestParser();
        const r = await once((h) => asyncRead(s, buf, p, h));
        expect(r).to.deep.equal({ args: [null, WS_REQUEST.length], inside: false, calls: 1 });
        expect(p.get().fields.get('Sec-WebSocket-Key')).to.equal('dGhlIHNhbXBsZSBub25jZQ==');
        const reads = Math.ceil(WS_REQUEST.length / chunk);
        expect(s.reads).to.equal(reads);
        // The last read ran past the header by this much (none for 1-byte reads).
        expect(str(buf)).to.equal(FRAMES.slice(0, reads * chunk - WS_REQUEST.length));
        if (chunk === 7) expect(str(buf)).to.not.equal('');
      });
    }

    it('parses bytes already in the buffer first, without reading, and leaves the rest there', async () => {
      const s = stream('', 1, false);
      const buf = new MultiBuffer();
      for (const part of [WS_REQUEST.slice(0, 30), WS_REQUEST.slice(30) + FRAMES]) {
        const view = buf.prepare(part.length);
        bufferCopy(view, Buffer.from(part, 'latin1'));
        buf.commit(part.length);
      }
      const r = await once((h) => asyncRead(s, buf, new RequestParser(), h));
      expect(r.args).to.deep.equal([null, WS_REQUEST.length]);
      expect(r.inside).to.equal(false);
      expect(s.reads).to.equal(0);
      expect(str(buf)).to.equal(FRAMES);
    });

    it('fills a given Request, body included, 7 bytes at a time', async () => {
      const msg = 'POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world';
      const req = new Request();
      const buf = new FlatBuffer();
      const r = await once((h) => asyncRead(stream(`${msg}GET`, 7), buf, req, h));
      expect(r.args).to.deep.equal([null, msg.length]);
      expect([req.method, req.target, text(req.body), req.fields.get('content-length')]).to.deep.equal(['POST', '/form', 'hello world', '11']);
      expect(str(buf)).to.equal('GET'.slice(0, str(buf).length));
    });

    it('reads a response body that runs to end of stream', async () => {
      const res = new Response();
      const r = await once((h) => asyncRead(stream('HTTP/1.1 200 OK\r\n\r\nuntil the end', 7), new FlatBuffer(), res, h));
      expect(r.args).to.deep.equal([null, 32]);
      expect([res.status, text(res.body)]).to.deep.equal([200, 'until the end']);
    });

    it('end of stream before any byte gives endOfStream (empty lines included)', async () => {
      for (const input of ['', '\r\n']) {
        const r = await once((h) => asyncRead(stream(input, 1), new FlatBuffer(), new RequestParser(), h));
        expect(r.args).to.deep.equal([error.endOfStream, input.length]);
      }
    });

    it('end of stream inside a message gives partialMessage, and leaves a given message untouched', async () => {
      const req = new Request({ target: '/untouched' });
      const r = await once((h) => asyncRead(stream('GET /x HTTP/1.1\r\nHost:', 7), new FlatBuffer(), req, h));
      expect(r.args[0]).to.equal(error.partialMessage);
      expect(req.target).to.equal('/untouched');
    });

    it('completes with the parser error', async () => {
      const r = await once((h) => asyncRead(stream('G@T / HTTP/1.1\r\n\r\n', 7), new FlatBuffer(), new RequestParser(), h));
      expect(r.args[0]).to.equal(error.badMethod);
      const again = await once((h) => asyncRead(stream('', 1), new FlatBuffer(), (() => {
        const p = new RequestParser();
        p.put(Buffer.from('G@T / HTTP/1.1\r\n'));
        return p;
      })(), h));
      expect(again.args).to.deep.equal([error.badMethod, 0]);
    });

    it('completes with bufferOverflow when the buffer has no room', async () => {
      const r = await once((h) => asyncRead(stream(WS_REQUEST, 7), new FlatBuffer(0), new RequestParser(), h));
      expect(r.args).to.deep.equal([error.bufferOverflow, 0]);
    });

    it('passes a stream error through', async () => {
      const s = stream('GET / HTTP/1.1\r\n', 7);
      s.failReads = netError.connectionReset;
      const r = await once((h) => asyncRead(s, new FlatBuffer(), new RequestParser(), h));
      expect(r.args).to.deep.equal([netError.connectionReset, 0]);
    });

    it('terminal cancellation is forwarded to the read in progress', async () => {
      const s = stream('', 1, false);
      const sig = new CancellationSignal();
      const r = once((h) => asyncRead(s, new FlatBuffer(), new RequestParser(), bindCancellationSlot(sig.slot(), h)));
      await turn();
      sig.emit(CancellationType.terminal);
      expect((await r).args).to.deep.equal([netError.operationAborted, 0]);
    });

    it('works with promise tokens and asTuple', async () => {
      const n = await asyncRead(stream(WS_REQUEST, 7), new FlatBuffer(), new RequestParser());
      expect(n).to.equal(WS_REQUEST.length);
      const t = await asyncRead(stream('', 7), new FlatBuffer(), new RequestParser(), asTuple());
      expect(t).to.deep.equal([error.endOfStream, 0]);
    });

    it('a read parked for more bytes resumes when they arrive', async () => {
      const s = stream('GET / HTTP/1.1\r\n', 7, false);
      const p = new RequestParser();
      const r = once((h) => asyncRead(s, new FlatBuffer(), p, h));
      await turn();
      s.feed('Host: x\r\n\r\n');
      expect((await r).args).to.deep.equal([null, 27]);
    });
  });

  describe('asyncReadHeader', () => {
    it('stops after the header, leaving the body in the buffer for asyncRead', async () => {
      const msg = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
      const s = stream(msg, 7);
      const buf = new FlatBuffer();
      const p = new ResponseParser();
      const h1 = await once((h) => asyncReadHeader(s, buf, p, h));
      expect(h1.args).to.deep.equal([null, 38]);
      expect([p.isHeaderDone(), p.isDone()]).to.deep.equal([true, false]);
      expect(str(buf)).to.equal('hello'.slice(0, str(buf).length));
      const h2 = await once((h) => asyncRead(s, buf, p, h));
      expect(h2.args).to.deep.equal([null, 5]);
      expect(text(p.get().body)).to.equal('hello');
    });

    it('end of stream inside the header gives partialMessage', async () => {
      const r = await once((h) => asyncReadHeader(stream('HTTP/1.1 200 OK\r\n', 7), new FlatBuffer(), new ResponseParser(), h));
      expect(r.args[0]).to.equal(error.partialMessage);
    });
  });

  describe('asyncWrite', () => {
    for (const chunk of [1, 7]) {
      it(`writes the whole message ${chunk} byte(s) at a time, handler once and posted`, async () => {
        const s = stream('', chunk);
        const res = new Response({ status: 101, fields: { Upgrade: 'websocket', Connection: 'Upgrade' } });
        const expected = serialize(res).map(text).join('');
        const r = await once((h) => asyncWrite(s, res, h));
        expect(r).to.deep.equal({ args: [null, expected.length], inside: false, calls: 1 });
        expect(s.writtenText()).to.equal(expected);
      });
    }

    it('what asyncWrite sends, asyncRead reads back', async () => {
      const out = stream('', 7);
      const req = new Request({ method: 'PUT', target: '/x', fields: { 'Transfer-Encoding': 'chunked' }, body: 'data' });
      await asyncWrite(out, req);
      const back = new Request();
      await asyncRead(stream(out.writtenText(), 1), new FlatBuffer(), back);
      expect([back.method, back.target, text(back.body)]).to.deep.equal(['PUT', '/x', 'data']);
    });

    it('completes with a write error and the bytes written so far', async () => {
      const s = stream('', 1);
      s.failWrites = netError.brokenPipe;
      const r = await once((h) => asyncWrite(s, new Request(), h));
      expect(r.args).to.deep.equal([netError.brokenPipe, 0]);
    });

    it('terminal cancellation is forwarded to the write in progress', async () => {
      const s = stream('', 1);
      s.blockWrites = true;
      const sig = new CancellationSignal();
      const r = once((h) => asyncWrite(s, new Request(), bindCancellationSlot(sig.slot(), h)));
      await turn();
      sig.emit(CancellationType.terminal);
      expect((await r).args).to.deep.equal([netError.operationAborted, 0]);
    });

    it('a request arriving while the last write\'s completion is queued: the whole message was sent, success (Asio\'s order)', async () => {
      const s = stream('', 1 << 16);
      const req = new Request({ method: 'GET', target: '/x' });
      const expected = serialize(req).map(text).join('');
      const sig = new CancellationSignal();
      const r = once((h) => asyncWrite(s, req, bindCancellationSlot(sig.slot(), h)));
      sig.emit(CancellationType.terminal); // the one write already completed: its completion is posted
      expect((await r).args).to.deep.equal([null, expected.length]);
      expect(s.writtenText()).to.equal(expected);
      expect(sig.hasHandler()).to.equal(false);
    });

    it('a request arriving while an earlier write\'s completion is queued is honoured before the next write', async () => {
      const s = stream('', 1);
      const sig = new CancellationSignal();
      const r = once((h) => asyncWrite(s, new Request(), bindCancellationSlot(sig.slot(), h)));
      sig.emit(CancellationType.terminal); // the first one-byte write's completion is posted
      expect((await r).args).to.deep.equal([netError.operationAborted, 1]);
      expect(s.written).to.have.length(1);
    });

    it('throws TypeError at once for a message that cannot be sent', () => {
      expect(() => asyncWrite(stream('', 1), new Request({ target: 'bad target' }), () => {})).to.throw(TypeError);
    });
  });
});
