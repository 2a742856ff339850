import { buffer, cancelAfter, CancellationSignal, CancellationType, bindCancellationSlot, FlatBuffer, IoContext, SystemError } from 'tsbeast/net';
import { TestStream } from 'tsbeast/test';
import { Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);
const running = ioc.run();
await Promise.all([server.asyncAccept(), client.asyncHandshake('localhost', '/')]);

// `total`: an operation parked for the write side can be withdrawn; nothing was sent, and the
// stream stays usable. A ping parked behind a write:
const signal = new CancellationSignal();
const first = client.asyncWriteSome(false, buffer('part one, '));
const parkedPing = client.asyncPing('parked', bindCancellationSlot(signal.slot()));
signal.emit(CancellationType.total);
await first;
await parkedPing.catch((e: SystemError) => console.log('parked ping:', e.message));
// and Beast's own case, a write suspended behind a control frame (a ping, a pong or a close):
const ping = client.asyncPing('heartbeat');
const parkedWrite = client.asyncWriteSome(true, buffer('withdrawn'), bindCancellationSlot(signal.slot()));
signal.emit(CancellationType.total);
await ping;
await parkedWrite.catch((e: SystemError) => console.log('parked write:', e.message));
await client.asyncWriteSome(true, buffer('part two'));
const got = new FlatBuffer();
await server.asyncRead(got);
console.log('server read', got.size(), 'bytes; client still open:', client.isOpen());

// `terminal`: a read that waits for the peer is cut off; the stream is then fit only for closing.
await server.asyncRead(new FlatBuffer(), cancelAfter(10)).catch((e: SystemError) => console.log('read:', e.message));
console.log('server open after a terminal cancel:', server.isOpen());
server.nextLayer().close(); // all that is left to do with it
await client.asyncRead(new FlatBuffer()).catch((e: SystemError) => console.log('client read:', e.message));
await running;
