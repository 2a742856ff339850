/**
 * SignalSet (lib/net/signal-set.ts): waits complete with the signal's number, cancellation in all
 * its forms, add/remove/clear, and no process listener left when nothing waits. Signals are sent
 * to this process with SIGUSR2 / SIGWINCH, only while a wait is pending.
 */

import { expect } from 'chai';
import { constants } from 'node:os';
import {
  asTuple,
  bindCancellationSlot,
  CancellationSignal,
  CancellationType,
  error,
  IoContext,
  SignalSet,
  type ErrorCode,
} from '../../lib/net/index.js';

const usr2 = constants.signals.SIGUSR2;
const winch = constants.signals.SIGWINCH;

function listeners(): number {
  return process.listenerCount('SIGUSR2') + process.listenerCount('SIGWINCH');
}

describe('net/signal-set SignalSet', () => {
  let ioc: IoContext;
  let base: number;
  beforeEach(() => {
    ioc = new IoContext();
    base = listeners();
  });
  afterEach(() => {
    expect(listeners(), 'a listener was left behind').to.equal(base);
  });

  it('completes a wait with the number of the signal that arrived, then removes its listener', async () => {
    const running = ioc.run();
    const set = new SignalSet(ioc, 'SIGUSR2', winch);
    expect(listeners()).to.equal(base);
    const p = set.asyncWait(asTuple());
    expect(listeners()).to.equal(base + 2);
    process.kill(process.pid, 'SIGWINCH');
    expect(await p).to.deep.equal([null, winch]);
    expect(listeners()).to.equal(base);
    await running;
  });

  it('completes every pending wait with the same signal', async () => {
    const running = ioc.run();
    const set = new SignalSet(ioc, 'SIGUSR2');
    const both = Promise.all([set.asyncWait(), set.asyncWait()]);
    process.kill(process.pid, 'SIGUSR2');
    expect(await both).to.deep.equal([usr2, usr2]);
    await running;
  });

  it('never completes inside the signal listener\'s call stack before the context runs it', async () => {
    const set = new SignalSet(ioc, 'SIGUSR2');
    const got: number[] = [];
    set.asyncWait((_ec: ErrorCode | null, n: number) => got.push(n));
    const running = ioc.run();
    process.kill(process.pid, 'SIGUSR2');
    await running;
    expect(got).to.deep.equal([usr2]);
  });

  it('cancel() completes pending waits with operationAborted, posted', async () => {
    const set = new SignalSet(ioc, 'SIGUSR2');
    const got: Array<[ErrorCode | null, number]> = [];
    set.asyncWait((ec: ErrorCode | null, n: number) => got.push([ec, n]));
    set.cancel();
    expect(got).to.deep.equal([]);
    expect(listeners()).to.equal(base);
    await ioc.run();
    expect(got).to.deep.equal([[error.operationAborted, 0]]);
  });

  for (const type of [CancellationType.terminal, CancellationType.partial, CancellationType.total]) {
    it(`per-operation cancellation (type ${type}) completes that wait only`, async () => {
      const running = ioc.run();
      const set = new SignalSet(ioc, 'SIGUSR2');
      const signal = new CancellationSignal();
      const cancelled = set.asyncWait(bindCancellationSlot(signal.slot(), asTuple()));
      const other = set.asyncWait(asTuple());
      signal.emit(type);
      expect(await cancelled).to.deep.equal([error.operationAborted, 0]);
      expect(listeners()).to.equal(base + 1);
      process.kill(process.pid, 'SIGUSR2');
      expect(await other).to.deep.equal([null, usr2]);
      await running;
    });
  }

  it('add, remove and clear change the listeners of a pending wait', async () => {
    const running = ioc.run();
    const set = new SignalSet(ioc);
    const p = set.asyncWait(asTuple());
    expect(listeners()).to.equal(base);
    set.add('SIGUSR2');
    set.add(winch);
    set.add('SIGUSR2'); // twice: no effect
    expect(listeners()).to.equal(base + 2);
    set.remove('SIGUSR2');
    expect(listeners()).to.equal(base + 1);
    set.clear();
    expect(listeners()).to.equal(base);
    set.add('SIGWINCH');
    process.kill(process.pid, 'SIGWINCH');
    expect(await p).to.deep.equal([null, winch]);
    await running;
  });

  it('rejects an unknown signal with a clear error and leaves the set as it was', () => {
    const set = new SignalSet(ioc, 'SIGUSR2');
    expect(() => set.add('SIGNOPE' as NodeJS.Signals)).to.throw(TypeError, /unknown signal SIGNOPE/);
    expect(() => set.add(9999)).to.throw(TypeError, /unknown signal number 9999/);
    set.asyncWait(() => {});
    expect(listeners()).to.equal(base + 1);
    set.cancel();
    return ioc.run();
  });
});
