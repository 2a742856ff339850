import { asTuple, IoContext, SignalSet } from 'tsbeast/net';

const ioc = new IoContext();
const running = ioc.run();

// Wait for SIGINT or SIGTERM, as a server's graceful shutdown does.
const signals = new SignalSet(ioc, 'SIGINT', 'SIGTERM');
const waiting = signals.asyncWait(asTuple());
console.log('listening for SIGINT:', process.listenerCount('SIGINT'));
process.kill(process.pid, 'SIGTERM'); // what `kill <pid>` or a container stop sends
const [ec, signalNumber] = await waiting;
console.log('got signal', signalNumber, 'ec', ec);

// Nothing waits now: no listener is left, and a signal would have Node's default action.
console.log('listening for SIGINT:', process.listenerCount('SIGINT'));
await running;
