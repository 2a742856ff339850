// Specs for the write operations (ops/write.ts, Beast's write_some_op and write_op, after
// test/beast/websocket/write.cpp) over TestStream against a raw peer: the frames that go out for
// a message, its parts and its options, and the errors a write completes with.

import { expect } from 'chai';

import { error } from '../../../../lib/beast/websocket/error.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { error as netError } from '../../../../lib/net/error.js';
import {
  closePayload,
  clientFrame,
  finish,
  Opcode,
  openClientAgainstRaw,
  openServerAgainstRaw,
  parseFrames,
  pattern,
  pump,
  recorder,
  serverFrame,
  take,
  type Ec,
} from './fixture.js';

describe('websocket/Stream write', () => {
  it("a server's message is one unmasked final frame; a client's is masked, with the same payload", () => {
    const s = openServerAgainstRaw();
    const w = recorder<[Ec, number]>();
    s.server.binary(true);
    s.server.asyncWrite(pattern(300), w.h);
    pump(s.ioc);
    expect(w.once()).to.deep.equal([null, 300]);
    const [f, ...rest] = parseFrames(take(s.a));
    expect(rest.length).to.equal(0);
    expect([f!.fin, f!.opcode, f!.masked, f!.len7]).to.deep.equal([true, Opcode.binary, false, 126]);
    expect(f!.payload).to.deep.equal(pattern(300));
    finish(s.ioc, s.a, s.b);

    const c = openClientAgainstRaw();
    const cw = recorder<[Ec, number]>();
    c.client.asyncWrite(new TextEncoder().encode('héllo'), cw.h);
    pump(c.ioc);
    expect(cw.once()).to.deep.equal([null, 6]);
    const [g] = parseFrames(take(c.b));
    expect([g!.fin, g!.opcode, g!.masked]).to.deep.equal([true, Opcode.text, true]);
    expect(new TextDecoder().decode(g!.payload)).to.equal('héllo');
    finish(c.ioc, c.a, c.b);
  });

  it('asyncWriteSome: a message in parts is its opcode, then continuations, FIN on the last only', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    const parts = [pattern(10, 1), pattern(0), pattern(20, 2)];
    const done: unknown[] = [];
    server.binary(true);
    for (const [i, p] of parts.entries()) server.asyncWriteSome(i === parts.length - 1, p, (ec: Ec, n: number) => void done.push([ec, n]));
    pump(ioc);
    // One write at a time: the second and third were refused while the first was outstanding.
    expect(done[0]).to.deep.equal([null, 10]);
    expect(done.slice(1)).to.deep.equal([[netError.alreadyStarted, 0], [netError.alreadyStarted, 0]]);
    for (let i = 1; i < parts.length; i++) {
      const r = recorder<[Ec, number]>();
      server.asyncWriteSome(i === parts.length - 1, parts[i]!, r.h);
      pump(ioc);
      expect(r.once()).to.deep.equal([null, parts[i]!.length]);
    }
    const frames = parseFrames(take(a));
    expect(frames.map((f) => [f.fin, f.opcode, f.payload.length])).to.deep.equal([
      [false, Opcode.binary, 10],
      [false, Opcode.cont, 0],
      [true, Opcode.cont, 20],
    ]);
    finish(ioc, a, b);
  });

  it('autoFragment with writeBufferBytes: a long message goes out in frames of at most that size', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    client.autoFragment(true);
    client.writeBufferBytes(1000);
    client.binary(true);
    const w = recorder<[Ec, number]>();
    client.asyncWrite(pattern(3500), w.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([null, 3500]);
    const frames = parseFrames(take(b));
    expect(frames.length).to.be.greaterThan(1);
    for (const f of frames) expect(f.payload.length).to.be.at.most(1000);
    expect(frames.map((f) => f.fin)).to.deep.equal(frames.map((_, i) => i === frames.length - 1));
    expect(frames.slice(1).every((f) => f.opcode === Opcode.cont)).to.equal(true);
    const whole = new Uint8Array(3500);
    let at = 0;
    for (const f of frames) whole.set(f.payload, (at += f.payload.length) - f.payload.length);
    expect(whole).to.deep.equal(pattern(3500));
    finish(ioc, a, b);
  });

  it('a write after the peer closed and the stream closed completes with operationAborted; nothing is sent', () => {
    const { ioc, a, b, server } = openServerAgainstRaw();
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    const r = recorder<[Ec, number]>();
    server.asyncRead(new FlatBuffer(), r.h);
    pump(ioc);
    expect(r.ec()).to.equal(error.closed);
    take(a); // the echoed close
    const w = recorder<[Ec, number]>();
    server.asyncWrite(pattern(5), w.h);
    pump(ioc);
    expect(w.once()).to.deep.equal([netError.operationAborted, 0]);
    expect(a.bufferedBytes()).to.equal(0);
    finish(ioc, a, b);
  });

  it('a write completes after the peer read it, never inside the initiating call', () => {
    const { ioc, a, b, client } = openClientAgainstRaw();
    const w = recorder<[Ec, number]>();
    client.asyncWrite(pattern(1), w.h);
    expect(w.called).to.equal(false);
    pump(ioc);
    expect(w.once()).to.deep.equal([null, 1]);
    a.append(serverFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    finish(ioc, a, b);
  });
});
