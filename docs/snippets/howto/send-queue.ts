import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptWebSockets, connect, messages, SendQueue, net } from 'tsbeast';

const server = createServer().listen(0, '127.0.0.1');
const wss = acceptWebSockets(server, async (ws) => {
  // Many writers, one stream: the queue writes one message at a time, in order.
  const queue = new SendQueue(ws, { maxMessages: 3, whenFull: 'fail' });
  const sends = ['one', 'two', 'three', 'four'].map((text) =>
    queue.send(text).then(
      () => `${text}: written`,
      (err: net.SystemError) => `${text}: ${err.code === net.error.noBufferSpace ? 'refused, queue full' : err.message}`,
    ),
  );
  for (const line of await Promise.all(sends)) console.log(line);
  for await (const message of messages(ws)) void message; // reading answers the client's close
});
await new Promise((resolve) => server.once('listening', resolve));

const ws = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
let received = 0;
for await (const message of messages(ws)) {
  if (++received === 3) {
    console.log('client received', received, 'messages, the last:', message.data);
    await ws.asyncClose(1000);
  }
}
await wss.close();
server.close();
