/**
 * The completion guarantees of DESIGN section 4, for every WebSocket operation: each handler runs
 * exactly once, never inside its initiating call (unless an immediate executor is bound), and
 * through its associated executor, here a strand: the control callback, which a read invokes
 * between its steps, runs there too.
 */

import { expect } from 'chai';
import { TestStream } from '../../../lib/beast/test/index.js';
import { CloseCode, Stream } from '../../../lib/beast/websocket/index.js';
import {
  bindExecutor,
  bindImmediateExecutor,
  buffer,
  error as netError,
  FlatBuffer,
  inlineExecutor,
  IoContext,
  makeStrand,
  type ErrorCode,
} from '../../../lib/net/index.js';

interface Call {
  args: unknown[];
  inside: boolean;
  onStrand: boolean;
}

describe('websocket/Stream completion guarantees', () => {
  let ioc: IoContext;
  beforeEach(() => {
    ioc = new IoContext();
  });

  it('every operation: exactly once, never inside the call, on the bound strand', async () => {
    const [a, b] = TestStream.pair(ioc);
    const client = new Stream(a);
    const server = new Stream(b);
    const strand = makeStrand(ioc);
    const calls = new Map<string, Call[]>();
    let initiating = false;
    // Starts `op` with a callback bound to the strand; records how the callback was called.
    const start = (name: string, op: (cb: (...args: unknown[]) => void) => void): Promise<unknown[]> =>
      new Promise((resolve) => {
        initiating = true;
        op(
          bindExecutor(strand, (...args: unknown[]) => {
            const list = calls.get(name) ?? [];
            list.push({ args, inside: initiating, onStrand: strand.runningInThisThread() });
            calls.set(name, list);
            resolve(args);
          }),
        );
        initiating = false;
      });
    const controls: boolean[] = [];
    server.controlCallback(() => controls.push(strand.runningInThisThread()));

    const running = ioc.run();
    await Promise.all([
      start('accept', (cb) => server.asyncAccept(cb)),
      start('handshake', (cb) => client.asyncHandshake('localhost', '/', cb)),
    ]);
    const sb = new FlatBuffer();
    const serverRead = start('read', (cb) => server.asyncRead(sb, cb));
    await start('write', (cb) => client.asyncWrite(buffer('hello'), cb));
    await serverRead;
    const serverRead2 = start('read2', (cb) => server.asyncRead(sb, cb));
    await start('ping', (cb) => client.asyncPing('p', cb));
    await start('pong', (cb) => client.asyncPong('q', cb));
    await start('writeSome', (cb) => client.asyncWriteSome(true, buffer('again'), cb));
    await serverRead2;
    const serverRead3 = start('read3', (cb) => server.asyncRead(sb, cb));
    await start('close', (cb) => client.asyncClose(CloseCode.normal, cb));
    const [ec3] = await serverRead3;
    // After the stream closed, an operation completes at once: posted, still on the strand.
    await start('late', (cb) => client.asyncWrite(buffer('late'), cb));
    await running;

    expect(ec3).to.not.equal(null);
    for (const [name, list] of calls) {
      expect(list, name).to.have.length(1);
      expect(list[0]!.inside, `${name} ran inside its initiating call`).to.equal(false);
      expect(list[0]!.onStrand, `${name} ran off the strand`).to.equal(true);
    }
    expect(calls.get('late')![0]!.args[0]).to.equal(netError.operationAborted);
    expect(controls).to.deep.equal([true, true, true]); // the ping, the pong and the close the server read
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('the shortcuts (buffered read, waiting read, whole-message write): exactly once, never inside the call', async () => {
    // Plain callbacks: the handlers for which reads and writes skip the composed operation.
    const [a, b] = TestStream.pair(ioc);
    const client = new Stream(a);
    const server = new Stream(b);
    const calls = new Map<string, { args: unknown[]; inside: boolean }[]>();
    let initiating = false;
    const start = (name: string, op: (cb: (...args: unknown[]) => void) => void): Promise<unknown[]> =>
      new Promise((resolve) => {
        initiating = true;
        op((...args: unknown[]) => {
          const list = calls.get(name) ?? [];
          list.push({ args, inside: initiating });
          calls.set(name, list);
          resolve(args);
        });
        initiating = false;
      });
    const running = ioc.run();
    await Promise.all([start('accept', (cb) => server.asyncAccept(cb)), start('handshake', (cb) => client.asyncHandshake('localhost', '/', cb))]);
    const sb = new FlatBuffer();
    // Waiting: nothing is buffered yet.
    const waiting = start('waiting read', (cb) => server.asyncRead(sb, cb));
    await start('write 1', (cb) => client.asyncWrite(buffer('one'), cb));
    expect(await waiting).to.deep.equal([null, 3]);
    // Both messages wait in the next layer: the first read brings both in, the second finds its
    // message already in the read buffer.
    await start('write 2', (cb) => client.asyncWrite(buffer('two'), cb));
    await start('write 3', (cb) => client.asyncWrite(buffer('three'), cb));
    await new Promise((r) => setImmediate(r));
    sb.consume(sb.size());
    expect(await start('buffered read 1', (cb) => server.asyncRead(sb, cb))).to.deep.equal([null, 3]);
    expect(await start('buffered read 2', (cb) => server.asyncRead(sb, cb))).to.deep.equal([null, 5]);
    expect(Buffer.from(sb.dataView()).toString()).to.equal('twothree');
    // A server's whole-message write, read back by the client.
    const cb2 = new FlatBuffer();
    const clientRead = start('client read', (cb) => client.asyncRead(cb2, cb));
    expect(await start('server write', (cb) => server.asyncWrite(buffer('back'), cb))).to.deep.equal([null, 4]);
    expect(await clientRead).to.deep.equal([null, 4]);
    // A ping reaches a waiting read: handed to the full operation, answered, the read goes on.
    const waiting2 = start('waiting read 2', (cb) => server.asyncRead(sb, cb));
    await start('ping', (cb) => client.asyncPing('p', cb));
    await start('write 4', (cb) => client.asyncWrite(buffer('four'), cb));
    expect(await waiting2).to.deep.equal([null, 4]);
    const closing = start('read of the close', (cb) => server.asyncRead(sb, cb));
    await start('close', (cb) => client.asyncClose(CloseCode.normal, cb));
    expect((await closing)[0]).to.not.equal(null);
    await running;
    for (const [name, list] of calls) {
      expect(list, name).to.have.length(1);
      expect(list[0]!.inside, `${name} ran inside its initiating call`).to.equal(false);
    }
    expect(ioc.outstandingWork()).to.equal(0);
  });

  it('an immediate executor opts in to completion inside the call', async () => {
    const [a] = TestStream.pair(ioc);
    const ws = new Stream(a); // never opened: a write completes at once with operationAborted
    const seen: Array<[ErrorCode | null, boolean]> = [];
    let initiating = true;
    ws.asyncWrite(buffer('x'), bindImmediateExecutor(inlineExecutor, (ec: ErrorCode | null) => seen.push([ec, initiating])));
    initiating = false;
    expect(seen).to.deep.equal([[netError.operationAborted, true]]);
    initiating = true;
    ws.asyncWrite(buffer('x'), (ec) => seen.push([ec, initiating]));
    initiating = false;
    expect(seen).to.have.length(1);
    await ioc.run();
    expect(seen).to.deep.equal([
      [netError.operationAborted, true],
      [netError.operationAborted, false],
    ]);
  });
});
