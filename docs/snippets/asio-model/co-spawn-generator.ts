import { coSpawn, deferred, IoContext, makeStrand, post, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();
const strand = makeStrand(ioc);

// A generator function: every step runs through the strand, also after each wait.
const result = coSpawn(strand, function* (co) {
  const onStrand: boolean[] = [];
  yield* co.await(new SteadyTimer(ioc, 2).asyncWait(deferred)); // the value (void); throws on error
  onStrand.push(strand.runningInThisThread());
  const [ec] = yield* co.call(new SteadyTimer(ioc, 2).asyncWait(deferred)); // the whole signature
  onStrand.push(strand.runningInThisThread());
  yield* co.await(post(ioc, deferred)); // completes on the context, resumes on the strand
  onStrand.push(strand.runningInThisThread());
  const text = yield* co.promise(Promise.resolve('done')); // a promise, resumed on the strand too
  onStrand.push(strand.runningInThisThread());
  return `${text}: ec ${ec}, on the strand ${onStrand.join(' ')}`;
});
await ioc.run();
console.log(await result);
