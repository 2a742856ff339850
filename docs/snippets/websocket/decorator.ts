import { FlatBuffer, IoContext } from 'tsbeast/net';
import { Response } from 'tsbeast/http';
import { TestStream } from 'tsbeast/test';
import { CloseCode, Decorator, Stream } from 'tsbeast/websocket';

const ioc = new IoContext();
const [a, b] = TestStream.pair(ioc);
const client = new Stream(a);
const server = new Stream(b);

// The client offers subprotocols and authenticates; the server picks one and names itself.
client.setOption(new Decorator({
  request: (req) => {
    req.fields.set('Sec-WebSocket-Protocol', 'chat.v2, chat.v1');
    req.fields.set('Authorization', 'Bearer secret');
  },
}));
server.setOption(new Decorator({
  response: (res) => {
    res.fields.set('Sec-WebSocket-Protocol', 'chat.v2');
    res.fields.set('Server', 'example/1.0');
  },
}));

const running = ioc.run();
const response = new Response();
await Promise.all([server.asyncAccept(), client.asyncHandshake(response, 'example.com', '/chat')]);
console.log(response.status, response.fields.get('Sec-WebSocket-Protocol'), response.fields.get('Server'));
await Promise.all([client.asyncClose(CloseCode.normal), server.asyncRead(new FlatBuffer()).catch(() => {})]);
await running;
