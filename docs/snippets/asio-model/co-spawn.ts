import { coSpawn, IoContext, makeStrand, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();
const strand = makeStrand(ioc);

// coSpawn starts the async function from a handler of the strand and holds work until it settles.
// Only its first segment, up to the first await, runs on the strand: the rest are promise
// continuations, which no executor runs.
const result = coSpawn(strand, async () => {
  const first = strand.runningInThisThread();
  await new SteadyTimer(strand, 2).asyncWait();
  return `first segment on the strand: ${first}; after an await: ${strand.runningInThisThread()}`;
});
await ioc.run();
console.log(await result);
