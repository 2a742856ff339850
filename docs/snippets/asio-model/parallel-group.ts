import { deferred, IoContext, makeParallelGroup, SteadyTimer, waitForOne } from 'tsbeast/net';

const ioc = new IoContext();
const fast = new SteadyTimer(ioc, 2);
const slow = new SteadyTimer(ioc, 60_000);

// The first to finish cancels the other; the group completes once both are done.
const running = ioc.run();
const [order, fastError, slowError] = await makeParallelGroup(
  fast.asyncWait(deferred),
  slow.asyncWait(deferred),
).asyncWait(waitForOne());
console.log('completion order:', order);
console.log('fast:', fastError, '- slow:', slowError?.message());
await running;
