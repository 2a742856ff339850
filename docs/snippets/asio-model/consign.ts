import { consign, IoContext, SteadyTimer } from 'tsbeast/net';

const ioc = new IoContext();

// consign: the signature is unchanged; the values are held until the handler has run, then
// released with it. Here the operation owns a resource that nothing else refers to.
const resource = { name: 'per-operation state' };
new SteadyTimer(ioc, 1).asyncWait(
  consign((ec) => console.log('handler ran, ec', ec), resource),
);
await ioc.run();
