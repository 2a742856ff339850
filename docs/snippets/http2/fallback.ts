import * as http2 from 'node:http2';
import { asTuple, IoContext } from 'tsbeast/net';
import { Stream } from 'tsbeast/websocket';
import { asyncHandshake, asyncWaitForSettings, error, Http2Layer } from 'tsbeast/http2';

const ioc = new IoContext();
const running = ioc.run();

// A server that speaks HTTP/2 but does not offer WebSockets over it.
const server = http2.createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
const session = http2.connect(`http://127.0.0.1:${port}`);

// Ask first: the answer comes with the server's SETTINGS.
console.log('offers WebSockets:', await asyncWaitForSettings(ioc, session));

// Or just try: nothing is sent, and the error says to fall back to HTTP/1.1.
const ws = new Stream(new Http2Layer(ioc));
const [ec] = await asyncHandshake(ws, session, 'localhost', '/chat', asTuple());
console.log('fall back:', ec === error.notOffered);

session.close();
server.close();
await running;
