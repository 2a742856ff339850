import { IoContext, makeStrand, post } from 'tsbeast/net';

const ioc = new IoContext();
const strand = makeStrand(ioc);

// Code runs on a strand inside a handler the strand runs.
post(strand, () => console.log('in the posted handler:', strand.runningInThisThread()));

// Awaiting a post waits until the strand ran it; the code after `await` is a promise
// continuation, which runs after that handler returned: outside the strand.
const after = (async () => {
  await post(strand);
  console.log('after await post(strand):', strand.runningInThisThread());
})();
await ioc.run();
await after;
