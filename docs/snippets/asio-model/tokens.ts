import { asTuple, deferred, IoContext, redirectError, SteadyTimer, type ErrorOut } from 'tsbeast/net';

const ioc = new IoContext();
const timer = new SteadyTimer(ioc, 50); // long enough that every wait below starts before it expires

// A callback: the initiating function returns nothing.
timer.asyncWait((ec) => console.log('callback, error:', ec));

// The default token is the Promise token; it rejects with a SystemError on failure.
const waiting = timer.asyncWait();

// asTuple: the promise resolves with the whole signature and never rejects.
const tupled = timer.asyncWait(asTuple());

// redirectError: the error goes to `out`, the promise gets the rest.
const out: ErrorOut = { ec: null };
const redirected = timer.asyncWait(redirectError(out));

// deferred: nothing starts until the operation is launched, with any token.
const later = timer.asyncWait(deferred);

const running = ioc.run();
await waiting;
console.log('promise resolved');
console.log('asTuple gave', await tupled);
await redirected;
console.log('redirected error:', out.ec);
await later(asTuple());
console.log('deferred operation launched and done');
await running;
