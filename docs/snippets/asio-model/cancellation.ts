import {
  bindAbortSignal,
  bindCancellationSlot,
  cancelAfter,
  CancellationSignal,
  CancellationType,
  IoContext,
  SteadyTimer,
  SystemError,
} from 'tsbeast/net';

const ioc = new IoContext();
const running = ioc.run.bind(ioc);

// 1. Asio's own mechanism: a signal, and a slot bound to the operation.
const signal = new CancellationSignal();
new SteadyTimer(ioc, 60_000).asyncWait(
  bindCancellationSlot(signal.slot(), (ec) => console.log('slot: completed with', ec?.message())),
);
setTimeout(() => signal.emit(CancellationType.terminal), 1);
await running();

// 2. A DOM AbortSignal, for code that already has one.
ioc.restart();
const controller = new AbortController();
const aborted = new SteadyTimer(ioc, 60_000).asyncWait(bindAbortSignal(controller.signal));
setTimeout(() => controller.abort(new Error('user pressed stop')), 1);
const run2 = running();
try {
  await aborted;
} catch (err) {
  const e = err as SystemError;
  console.log('abort: rejected with', e.code.message(), '- cause:', (e.cause as Error).message);
}
await run2;

// 3. A timeout for one operation.
ioc.restart();
const timedOut = new SteadyTimer(ioc, 60_000).asyncWait(cancelAfter(5));
const run3 = running();
await timedOut.catch((e: SystemError) => console.log('cancelAfter: rejected with', e.code.message()));
await run3;
