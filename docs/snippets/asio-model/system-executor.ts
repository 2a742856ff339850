import { IoContext, post, systemExecutor } from 'tsbeast/net';

// On Node's own loop: runs with no run(), never inside post().
post(systemExecutor, () => console.log('ran on Node\'s loop'));
console.log('posted');

// On an IoContext: nothing runs until run().
const ioc = new IoContext();
post(ioc, () => console.log('ran inside run()'));
await new Promise((resolve) => setTimeout(resolve, 10));
console.log('before run()');
await ioc.run();
