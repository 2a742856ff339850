import { buffer, buffersToString, FlatBuffer, IoContext } from 'tsbeast/net';
import { TestStream } from 'tsbeast/test';
import { Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);
const running = ioc.run();
await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);

// One message written in three parts: each part is a whole frame; `fin` ends the message.
client.binary(true);
await client.asyncWriteSome(false, buffer('one '));
await client.asyncWriteSome(false, buffer('two '));
await client.asyncWriteSome(true, buffer('three'));

// Read it in pieces of at most 5 bytes; isMessageDone() tells when the message ended.
const b5 = new FlatBuffer();
do {
  const n = await server.asyncReadSome(b5, 5);
  console.log(`read ${n} bytes, done: ${server.isMessageDone()}, binary: ${server.gotBinary()}`);
} while (!server.isMessageDone());
console.log(buffersToString(b5.data()));

client.asyncClose(1000, () => {});
await server.asyncRead(b5).catch((e: Error) => console.log(e.message));
await running;
