import { IoContext, SteadyTimer, steadyNow } from 'tsbeast/net';

const ioc = new IoContext();
const ex = ioc.getExecutor();
const slow = new SteadyTimer(ioc, 60_000);
slow.asyncWait((ec) => console.log('slow timer:', ec?.message()));
ex.post(() => console.log('a ready handler'));

// runFor: run handlers for at most 20 ms; pending work stays pending and the context is not stopped.
console.log('runFor ran', await ioc.runFor(20), 'handler(s); stopped:', ioc.stopped());

// runUntil: the same with an absolute time on the steady clock.
slow.cancel();
console.log('runUntil ran', await ioc.runUntil(steadyNow() + 1_000), 'handler(s); stopped:', ioc.stopped());
