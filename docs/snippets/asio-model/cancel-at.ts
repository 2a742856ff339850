import { asTuple, cancelAt, IoContext, SteadyTimer, steadyNow } from 'tsbeast/net';

const ioc = new IoContext();
const running = ioc.run();

// One deadline for a sequence of operations: whatever is pending at that time is cancelled.
const deadline = steadyNow() + 200;
const [first] = await new SteadyTimer(ioc, 1).asyncWait(cancelAt(deadline, asTuple()));
const [second] = await new SteadyTimer(ioc, 60_000).asyncWait(cancelAt(deadline, asTuple()));
console.log('first:', first, '- second:', second?.message());
await running;
