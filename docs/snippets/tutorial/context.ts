import { IoContext, SteadyTimer, type ErrorCode } from 'tsbeast/net';

// Every handler runs inside run(): the context is the event loop of your program's operations.
const ioc = new IoContext();

// The same kind of operation, with two completion tokens: a callback, then a promise.
const first = new SteadyTimer(ioc, 10);
first.asyncWait((ec: ErrorCode | null) => console.log('callback: timer expired, error:', ec));

const running = ioc.run(); // resolves once no work is left
await new SteadyTimer(ioc, 20).asyncWait();
console.log('promise: timer expired');
await running;
console.log('run() returned');
