// Specs for ping and pong (ops/ping.ts, Beast's ping_op, after test/beast/websocket/ping.cpp)
// over TestStream against a raw peer: what goes out, how a read answers the peer's ping, and the
// errors and argument checks.

import { expect } from 'chai';

import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import {
  clientFrame,
  closePayload,
  finish,
  Opcode,
  openClientAgainstRaw,
  openServerAgainstRaw,
  parseFrames,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
} from './fixture.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('websocket/Stream ping and pong', () => {
  it('asyncPing and asyncPong send one control frame each with the payload (a client masks it)', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    const p = recorder<[Ec]>();
    const q = recorder<[Ec]>();
    client.asyncPing('are you there', p.h);
    pump(ioc);
    client.asyncPong(new Uint8Array([1, 2, 3]), q.h);
    expect(q.called).to.equal(false);
    pump(ioc);
    expect([p.ec(), q.ec()]).to.deep.equal([null, null]);
    const frames = parseFrames(take(b));
    expect(frames.map((f) => [f.fin, f.opcode, f.masked])).to.deep.equal([
      [true, Opcode.ping, true],
      [true, Opcode.pong, true],
    ]);
    expect(text(frames[0]!.payload)).to.equal('are you there');
    expect([...frames[1]!.payload]).to.deep.equal([1, 2, 3]);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });

  it("a read answers the peer's ping with a pong of the same payload, reports it, and reads on", () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const seen: string[] = [];
    server.controlCallback((kind, payload) => seen.push(`${kind}:${payload}`));
    b.append(clientFrame({ opcode: Opcode.ping, payload: 'echo me' }));
    b.append(clientFrame({ opcode: Opcode.text, payload: 'data' }));
    const got = new FlatBuffer();
    const r = recorder<[Ec, number]>();
    server.asyncRead(got, r.h);
    pump(ioc);
    expect(r.once()).to.deep.equal([null, 4]);
    expect(seen).to.deep.equal(['ping:echo me']);
    const [pong, ...rest] = parseFrames(take(a));
    expect(rest.length).to.equal(0);
    expect([pong!.opcode, pong!.masked, text(pong!.payload)]).to.deep.equal([Opcode.pong, false, 'echo me']);
    finish(ioc, a, b);
  });

  it('a payload over 125 bytes throws RangeError and sends nothing; the stream stays usable', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    expect(() => client.asyncPing('x'.repeat(126), () => {})).to.throw(RangeError);
    expect(() => client.asyncPong(new Uint8Array(126), () => {})).to.throw(RangeError);
    pump(ioc);
    expect(b.bufferedBytes()).to.equal(0);
    const p = recorder<[Ec]>();
    client.asyncPing('x'.repeat(125), p.h);
    pump(ioc);
    expect(p.ec()).to.equal(null);
    expect(parseFrames(take(b))[0]!.payload.length).to.equal(125);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });

  it('a second ping while one is outstanding completes with alreadyStarted; after the stream closed, operationAborted', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const first = recorder<[Ec]>();
    const second = recorder<[Ec]>();
    server.asyncPing('1', first.h);
    server.asyncPing('2', second.h);
    pump(ioc);
    expect([first.ec(), second.ec()]).to.deep.equal([null, netError.alreadyStarted]);
    expect(parseFrames(take(a)).length).to.equal(1);
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    server.asyncRead(new FlatBuffer(), () => {});
    pump(ioc);
    take(a);
    const late = recorder<[Ec]>();
    server.asyncPing('late', late.h);
    pump(ioc);
    expect(late.ec()).to.equal(netError.operationAborted);
    expect(a.bufferedBytes()).to.equal(0);
    finish(ioc, a, b);
  });
});
