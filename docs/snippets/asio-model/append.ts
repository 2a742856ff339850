import { append, asTuple, IoContext, prepend, SteadyTimer, usePromise, type ErrorCode } from 'tsbeast/net';

const ioc = new IoContext();
const running = ioc.run();

// append: the handler gets the operation's values, then these (here, which timer it was).
const [ec, name] = await new SteadyTimer(ioc, 1).asyncWait(append(asTuple(), 'first'));
console.log('append:', ec, name);

// prepend: these come first; the signature no longer starts with an error, so the promise
// resolves with the whole tuple, error included.
const timer = new SteadyTimer(ioc, 60_000);
const waiting = timer.asyncWait(prepend(usePromise, 42));
timer.cancel();
const [id, error]: [number, ErrorCode | null] = await waiting;
console.log('prepend:', id, error?.message());
await running;
