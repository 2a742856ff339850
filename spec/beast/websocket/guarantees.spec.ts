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
