// Specs for the layers websocket.Stream is built of (stream-settings.ts, stream-handshake.ts,
// stream.ts; one object per connection): every initiating function, whichever layer declares it,
// is named by handler tracking as the stream's own, and the settings a handshake reads (the
// decorator) are those set on the stream.

import { expect } from 'chai';

import { disableHandlerTracking, enableHandlerTracking } from '../../../../lib/net/handler-tracking.js';
import { Request, Response } from '../../../../lib/beast/http/message.js';
import { Decorator } from '../../../../lib/beast/websocket/options.js';
import { finish, makePair, pump, recorder, type Ec } from './fixture.js';

describe('websocket/Stream layers', () => {
  afterEach(() => disableHandlerTracking());

  it('handler tracking names the accept, handshake and ping of a stream as websocket operations', () => {
    const names: string[] = [];
    enableHandlerTracking((line) => {
      const m = /\|websocket@\d+\.(\w+)$/.exec(line);
      if (m !== null) names.push(m[1]!);
    });
    const p = makePair();
    const acc = recorder<[Ec]>();
    const hs = recorder<[Ec]>();
    p.server.asyncAccept(acc.h);
    p.client.asyncHandshake('localhost', '/', hs.h);
    pump(p.ioc);
    expect([acc.ec('accept'), hs.ec('handshake')]).to.deep.equal([null, null]);
    const ping = recorder<[Ec]>();
    p.client.asyncPing('x', ping.h);
    pump(p.ioc);
    expect(ping.ec('ping')).to.equal(null);
    disableHandlerTracking();
    expect(names).to.deep.equal(['asyncAccept', 'asyncHandshake', 'asyncPing']);
    finish(p.ioc, p.a, p.b);
  });

  it('the handshake and the accept use the decorator set on the stream', () => {
    const p = makePair();
    const calls: string[] = [];
    const client = new Decorator({ request: (req: Request) => void (calls.push('request'), req.fields.set('X-Side', 'client')) });
    const server = new Decorator({ response: (res: Response) => void (calls.push('response'), res.fields.set('X-Side', 'server')) });
    p.client.setOption(client);
    p.server.setOption(server);
    expect([p.client.getOption(Decorator), p.server.getOption(Decorator)]).to.deep.equal([client, server]);
    const res = new Response();
    const acc = recorder<[Ec]>();
    const hs = recorder<[Ec]>();
    p.server.asyncAccept(acc.h);
    p.client.asyncHandshake(res, 'localhost', '/', hs.h);
    pump(p.ioc);
    expect([acc.ec('accept'), hs.ec('handshake')]).to.deep.equal([null, null]);
    expect(calls).to.deep.equal(['request', 'response']);
    expect(res.fields.get('X-Side')).to.equal('server');
    finish(p.ioc, p.a, p.b);
  });
});
