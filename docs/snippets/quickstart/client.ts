import { connect, messages, send } from 'tsbeast';

const ws = await connect(`ws://localhost:${process.env.PORT ?? 8080}/`);
await send(ws, 'hello');
for await (const message of messages(ws)) {
  console.log(message.data);
  await ws.asyncClose(1000);
}
