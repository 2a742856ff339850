import { coSpawn, IoContext, makeStrand, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();
const strand = makeStrand(ioc);

// An async function as a "thread" of the strand: work is held until it settles.
const result = coSpawn(strand, async () => {
  const timer = new SteadyTimer(strand, 2);
  await timer.asyncWait();
  return 'slept on the strand';
});
await ioc.run();
console.log(await result);
