import { bindExecutor, IoContext, makeStrand, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();
const strand = makeStrand(ioc);

// Two connections' handlers share one strand: they never nest and keep the order they were queued in.
for (const name of ['a', 'b']) {
  new SteadyTimer(ioc, 2).asyncWait(
    bindExecutor(strand, () => console.log(name, 'on strand:', strand.runningInThisThread())),
  );
}
await ioc.run();
console.log('outside a handler:', strand.runningInThisThread());
