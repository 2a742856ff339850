import { IoContext, post, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();
post(ioc, () => console.log('first'));
post(ioc, () => console.log('second'));
new SteadyTimer(ioc, 5).asyncWait((ec) => console.log('timer expired, error:', ec));
console.log('nothing has run yet');

const handlersRun = await ioc.run(); // resolves when no work is left
console.log('run() ran', handlersRun, 'handlers; stopped:', ioc.stopped());
