import { asyncImmediate, bindImmediateExecutor, inlineExecutor, IoContext } from 'tsbeast/net';

const ioc = new IoContext();
const log: string[] = [];

// An operation that completes at once still never calls its handler inside the initiating call…
asyncImmediate(ioc, () => log.push('posted handler'));
log.push('after the first call');
// …unless the handler opts in with an immediate executor.
asyncImmediate(ioc, bindImmediateExecutor(inlineExecutor, () => log.push('inline handler')));
log.push('after the second call');
await ioc.run();
console.log(log.join('\n'));
