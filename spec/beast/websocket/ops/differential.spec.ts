// The shortcuts changed nothing (ops/shortcut.ts): every read and write scenario below runs twice,
// with the shortcuts on and off, and the two runs must agree on every byte each side wrote
// (frames decoded and unmasked, masking keys being random), every completion (which handler,
// its error and byte count, in order), every message read, and the stream's observers after.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { bindCancellationSlot, bindExecutor } from '../../../../lib/net/binders.js';
import { CancellationSignal, CancellationType } from '../../../../lib/net/cancellation.js';
import { FlatBuffer, StaticBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { makeStrand } from '../../../../lib/net/strand.js';
import { setShortcuts } from '../../../../lib/beast/websocket/ops/shortcut.js';
import { PreparedMessage } from '../../../../lib/beast/websocket/prepared.js';
import type { PermessageDeflateInit } from '../../../../lib/beast/websocket/deflate.js';
import { pmdPair } from '../deflate/support.js';
import {
  asciiPattern,
  clientFrame,
  closePayload,
  concat,
  Opcode,
  openPair,
  openServerAgainstRaw,
  parseFrames,
  pattern,
  peek,
  pump,
  take,
  type Ec,
  type Pair,
  type WsStream,
} from './fixture.js';
import { doTest } from './do-test.js';

/** An error's message, or ok. */
const said = (ec: Ec): string => (ec === null ? 'ok' : ec.message());

/** What one run produced. */
type Transcript = string[];

interface Ctx {
  p: Pair;
  log: Transcript;
  /** Records the frames waiting in `endpoint`'s input; `consume`: and takes them (nobody reads them). */
  wire(what: string, endpoint: Pair['a'], consume?: boolean): void;
  /** Starts a whole-message read on `ws`, logging its completion and the message. */
  read(what: string, ws: WsStream, buf?: FlatBuffer | StaticBuffer, bound?: boolean): void;
  /** Starts a write on `ws`, logging its completion. */
  write(what: string, ws: WsStream, msg: Uint8Array, bound?: boolean): void;
  /** Starts a prepared write on `ws`, logging its completion. */
  writePrepared(what: string, ws: WsStream, msg: PreparedMessage, bound?: boolean): void;
  step(): void;
  wrap: Wrap;
}

function describeFrames(bytes: Uint8Array): string {
  return parseFrames(bytes)
    .map((f) => `${f.fin ? 'F' : '-'}${f.rsv}:${f.opcode}:${f.masked ? 'm' : 'u'}:${f.len7}:${Buffer.from(f.payload).toString('base64')}`)
    .join(' ');
}

type Wrap = <A extends readonly unknown[]>(name: string, h: (...args: A) => void) => (...args: A) => void;

function makeCtx(p: Pair, wrap: Wrap = (_name, h) => h): Ctx {
  const log: Transcript = [];
  const strand = makeStrand(p.ioc.getExecutor());
  const ctx: Ctx = {
    p,
    log,
    wire(what, endpoint, consume = true) {
      log.push(`${what} wire ${describeFrames(consume ? take(endpoint) : peek(endpoint))} writes=${p.a.nwrite()}/${p.b.nwrite()}`);
    },
    read(what, ws, buf = new FlatBuffer(), bound = false) {
      const h = (ec: Ec, n: number): void => {
        log.push(`${what} read ${said(ec)} ${n} ${Buffer.concat(buf.data()).toString('base64')} text=${ws.gotText()} done=${ws.isMessageDone()} open=${ws.isOpen()}`);
        buf.consume(buf.size());
      };
      const w = wrap(`${what} read`, h);
      ws.asyncRead(buf, bound ? bindExecutor(strand, w) : w);
    },
    write(what, ws, msg, bound = false) {
      const h = (ec: Ec, n: number): void => void log.push(`${what} write ${said(ec)} ${n}`);
      const w = wrap(`${what} write`, h);
      ws.asyncWrite(msg, bound ? bindExecutor(strand, w) : w);
    },
    writePrepared(what, ws, msg, bound = false) {
      const h = (ec: Ec, n: number): void => void log.push(`${what} prepared ${said(ec)} ${n}`);
      const w = wrap(`${what} prepared`, h);
      ws.asyncWritePrepared(msg, bound ? bindExecutor(strand, w) : w);
    },
    step() {
      log.push(`step ${pump(p.ioc)}`);
    },
    wrap,
  };
  return ctx;
}

interface Scenario {
  name: string;
  /** A server Stream whose peer is raw bytes (crafted frames), rather than a pair of Streams. */
  raw: boolean;
  /** A pair that negotiated permessage-deflate with these server options (not with `raw`). */
  pmd?: PermessageDeflateInit;
  run(ctx: Ctx): void;
}

const sizes = [0, 1, 20, 125, 126, 1024, 4096, 4097, 65535, 65536, 70000];
const scenarios: Scenario[] = [];

for (const size of sizes) {
  for (const text of [false, true]) {
    const kind = text ? 'text' : 'binary';
    scenarios.push({
      name: `a ${size}-byte ${kind} message each way, read after it arrived`,
      raw: false,
      run(c) {
        const { a, b, client, server } = c.p;
        client.text(text);
        server.text(text);
        const msg = text ? asciiPattern(size, size) : pattern(size, size);
        c.write('client', client, msg);
        c.step();
        c.wire('client', b, false);
        c.read('server', server);
        c.step();
        c.write('server', server, msg);
        c.step();
        c.wire('server', a, false);
        c.read('client', client);
        c.step();
      },
    });
    scenarios.push({
      name: `a ${size}-byte ${kind} echo, read started before the bytes`,
      raw: false,
      run(c) {
        const { client, server } = c.p;
        client.text(text);
        server.text(text);
        client.autoFragment(size % 2 === 0);
        const msg = text ? asciiPattern(size, size + 1) : pattern(size, size + 1);
        c.read('server', server);
        c.read('client', client);
        c.step();
        c.write('client', client, msg);
        c.step();
        c.write('server', server, msg);
        c.step();
      },
    });
  }
}

scenarios.push({
  name: 'three messages arriving in one read, then a ping and a close',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    b.append(concat(clientFrame({ opcode: Opcode.text, payload: 'one' }), clientFrame({ opcode: Opcode.binary, payload: pattern(300) }), clientFrame({ opcode: Opcode.text, payload: 'three' })));
    for (let i = 0; i < 3; i++) {
      c.read(`server ${i}`, server);
      c.step();
    }
    b.append(concat(clientFrame({ opcode: Opcode.ping, payload: 'p' }), clientFrame({ opcode: Opcode.text, payload: 'after ping' })));
    c.read('server after ping', server);
    c.step();
    c.wire('server', c.p.a);
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    c.read('server at close', server);
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: 'invalid UTF-8 in a whole buffered text message',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    b.append(clientFrame({ opcode: Opcode.text, payload: Uint8Array.of(0x61, 0xff, 0x62) }));
    c.read('server', server);
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: 'a message over readMessageMax',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    server.readMessageMax(10);
    b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(11) }));
    c.read('server', server);
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: 'a message larger than the buffer can hold',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(100) }));
    c.read('server', server, new StaticBuffer(50));
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: 'handlers bound to a strand (no shortcut may apply) beside plain ones',
  raw: false,
  run(c) {
    const { b, client, server } = c.p;
    c.write('client first', client, pattern(3));
    c.write('client second', client, pattern(4));
    c.step();
    c.read('server bound', server, new FlatBuffer(), true);
    c.step();
    c.read('server plain', server);
    c.step();
    c.write('client bound', client, pattern(10), true);
    c.step();
    c.write('client plain', client, pattern(10));
    c.step();
    c.wire('client', b);
  },
});
scenarios.push({
  name: 'a write while another is parked behind a ping',
  raw: false,
  run(c) {
    const { client, server } = c.p;
    client.asyncPing('hi', c.wrap('ping', (ec: Ec) => void c.log.push(`ping ${said(ec)}`)));
    c.write('client 1', client, pattern(5000));
    c.step();
    c.read('server 1', server);
    c.step();
    c.write('client 2', client, pattern(20));
    c.read('server 2', server);
    c.step();
  },
});

// A read that waits with nothing buffered at a message boundary parks as one object
// (ops/read-message.ts, WaitingRead) until bytes arrive: every way its wait can end.
scenarios.push({
  name: 'a waiting read, then two messages in one read from the socket',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server 1', server);
    c.step();
    b.append(concat(clientFrame({ opcode: Opcode.binary, payload: pattern(40) }), clientFrame({ opcode: Opcode.text, payload: 'second' })));
    c.step();
    c.read('server 2', server);
    c.step();
  },
});
scenarios.push({
  name: 'a waiting read, then half a header, then the rest of the message',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    const frame = clientFrame({ opcode: Opcode.binary, payload: pattern(300) });
    c.read('server', server);
    c.step();
    b.append(frame.subarray(0, 1));
    c.step();
    b.append(frame.subarray(1, 100));
    c.step();
    b.append(frame.subarray(100));
    c.step();
  },
});
scenarios.push({
  name: 'a waiting read, then a ping and a message',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server', server);
    c.step();
    b.append(concat(clientFrame({ opcode: Opcode.ping, payload: 'p' }), clientFrame({ opcode: Opcode.binary, payload: pattern(7) })));
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: 'a waiting read, then a fragmented message',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server', server);
    c.step();
    b.append(concat(clientFrame({ opcode: Opcode.text, fin: false, payload: 'frag' }), clientFrame({ opcode: Opcode.cont, payload: 'ment' })));
    c.step();
  },
});
scenarios.push({
  name: 'a waiting read, then a frame with a bad header',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    server.readMessageMax(5);
    c.read('server', server);
    c.step();
    b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(6) }));
    c.step();
    c.wire('server', c.p.a);
  },
});
scenarios.push({
  name: "a waiting read, a close started, then the peer's close",
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server', server);
    c.step();
    server.asyncClose(1000, c.wrap('close', (ec: Ec) => void c.log.push(`close ${said(ec)}`)));
    c.step();
    c.wire('server', c.p.a);
    b.append(clientFrame({ opcode: Opcode.close, payload: closePayload(1000) }));
    c.step();
    c.step();
  },
});
scenarios.push({
  name: "a waiting read, a close started, then a message and the peer's close",
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server', server);
    c.step();
    server.asyncClose(1000, c.wrap('close', (ec: Ec) => void c.log.push(`close ${said(ec)}`)));
    c.step();
    c.wire('server', c.p.a);
    b.append(concat(clientFrame({ opcode: Opcode.binary, payload: pattern(9) }), clientFrame({ opcode: Opcode.close, payload: closePayload(1000) })));
    c.step();
    c.step();
  },
});
scenarios.push({
  name: 'a waiting read, then the peer ends the stream',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    c.read('server', server);
    c.step();
    b.close();
    c.step();
  },
});
scenarios.push({
  name: 'a waiting read cancelled (terminal), then a message',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    const signal = new CancellationSignal();
    const buf = new FlatBuffer();
    const h = c.wrap('server read', (ec: Ec, n: number) => void c.log.push(`server read ${said(ec)} ${n} open=${server.isOpen()}`));
    server.asyncRead(buf, bindCancellationSlot(signal.slot(), h));
    c.step();
    signal.emit(CancellationType.total);
    c.step();
    signal.emit(CancellationType.terminal);
    c.step();
    b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(3) }));
    c.read('server after', server);
    c.step();
  },
});
scenarios.push({
  name: 'a read into a full buffer with nothing buffered',
  raw: true,
  run(c) {
    const { b, server } = c.p;
    const full = new StaticBuffer(4);
    for (const piece of full.prepare(4)) piece.fill(0x2a);
    full.commit(4);
    c.read('server', server, full);
    c.step();
    b.append(clientFrame({ opcode: Opcode.binary, payload: pattern(3) }));
    c.read('server after', server);
    c.step();
  },
});

// Prepared messages ("prepare once, send many") are written by the write operation: the same
// shortcut where the server has frames built for its settings, the composed steps elsewhere.
for (const size of [0, 125, 126, 4096, 4097, 70000]) {
  for (const fragment of [true, false]) {
    scenarios.push({
      name: `a ${size}-byte prepared message written twice, autoFragment ${fragment}, then read`,
      raw: false,
      run(c) {
        const { a, client, server } = c.p;
        const message = new PreparedMessage(asciiPattern(size, size + 2));
        server.autoFragment(fragment);
        server.text(size % 2 === 0);
        c.writePrepared('server 1', server, message);
        c.step();
        c.writePrepared('server 2', server, message);
        c.step();
        c.wire('server', a, false);
        c.read('client 1', client);
        c.step();
        c.read('client 2', client);
        c.step();
        c.log.push(`encodings ${message.encodings()}`);
      },
    });
  }
  scenarios.push({
    name: `a ${size}-byte prepared message from a client (it frames and masks the payload itself)`,
    raw: false,
    run(c) {
      const { b, client, server } = c.p;
      const message = new PreparedMessage(pattern(size, size + 3));
      c.writePrepared('client', client, message);
      c.step();
      c.wire('client', b, false);
      c.read('server', server);
      c.step();
      c.log.push(`encodings ${message.encodings()}`);
    },
  });
}
// With permessage-deflate: frames built without this stream's deflate context (no context
// takeover) take the shortcut; with context takeover the stream deflates the payload itself.
for (const size of [10, 600, 5000, 70000]) {
  for (const [how, pmd] of [['no context takeover', { serverNoContextTakeover: true, msgSizeThreshold: 512 }], ['context takeover', { msgSizeThreshold: 512 }]] as const) {
    scenarios.push({
      name: `a ${size}-byte prepared message over permessage-deflate (${how}), twice, then read`,
      raw: false,
      pmd,
      run(c) {
        const { a, client, server } = c.p;
        const message = new PreparedMessage(asciiPattern(size, 3));
        c.writePrepared('server 1', server, message);
        c.step();
        c.writePrepared('server 2', server, message);
        c.step();
        c.wire('server', a, false);
        c.read('client 1', client);
        c.step();
        c.read('client 2', client);
        c.step();
        c.log.push(`encodings ${message.encodings()}`);
      },
    });
  }
}
scenarios.push({
  name: 'a prepared write parked behind a ping, then one with the write side free',
  raw: false,
  run(c) {
    const { a, client, server } = c.p;
    const message = new PreparedMessage('broadcast');
    server.asyncPing('hi', c.wrap('ping', (ec: Ec) => void c.log.push(`ping ${said(ec)}`)));
    c.writePrepared('server 1', server, message);
    c.step();
    c.writePrepared('server 2', server, message);
    c.wire('server', a, false);
    c.read('client 1', client);
    c.step();
    c.read('client 2', client);
    c.step();
  },
});
scenarios.push({
  name: 'prepared writes with handlers bound to a strand beside plain ones',
  raw: false,
  run(c) {
    const { a, client, server } = c.p;
    const message = new PreparedMessage(pattern(300));
    c.writePrepared('server bound', server, message, true);
    c.step();
    c.writePrepared('server plain', server, message);
    c.step();
    c.wire('server', a, false);
    c.read('client 1', client);
    c.step();
    c.read('client 2', client);
    c.step();
  },
});
scenarios.push({
  name: 'a prepared write continuing a message left open by a fragmented write',
  raw: false,
  run(c) {
    const { a, client, server } = c.p;
    server.asyncWriteSome(false, pattern(10), c.wrap('server some', (ec: Ec, n: number) => void c.log.push(`server some write ${said(ec)} ${n}`)));
    c.step();
    c.writePrepared('server', server, new PreparedMessage('the end'));
    c.step();
    c.wire('server', a, false);
    c.read('client', client);
    c.step();
  },
});
scenarios.push({
  name: 'a prepared write cancelled (terminal) while its frames are being written',
  raw: false,
  run(c) {
    const { a, client, server } = c.p;
    const signal = new CancellationSignal();
    const h = c.wrap('server prepared', (ec: Ec, n: number) => void c.log.push(`server prepared write ${said(ec)} ${n} open=${server.isOpen()}`));
    server.asyncWritePrepared(new PreparedMessage(pattern(70000)), bindCancellationSlot(signal.slot(), h));
    signal.emit(CancellationType.terminal);
    c.step();
    c.wire('server', a, false);
    c.read('client', client);
    c.step();
  },
});
scenarios.push({
  name: 'a prepared write on a closed stream',
  raw: false,
  run(c) {
    const { client, server } = c.p;
    server.asyncClose(1000, c.wrap('close', (ec: Ec) => void c.log.push(`close ${said(ec)}`)));
    c.read('client', client);
    c.step();
    c.writePrepared('server after close', server, new PreparedMessage('late'));
    c.step();
  },
});

function runScenario(s: Scenario, shortcuts: boolean): Transcript {
  const was = setShortcuts(shortcuts);
  try {
    const p: Pair = s.raw ? rawPair() : s.pmd !== undefined ? pmdPair({}, s.pmd) : openPair();
    const c = makeCtx(p);
    s.run(c);
    p.a.close();
    p.b.close();
    c.step();
    c.log.push(`outstanding ${p.ioc.outstandingWork()}`);
    return c.log;
  } finally {
    setShortcuts(was);
  }
}

// A server whose peer is raw bytes; the client Stream is never used.
function rawPair(): Pair {
  const r = openServerAgainstRaw();
  return { ...r, client: null as unknown as WsStream };
}

describe('websocket ops: shortcuts on and off give the same bytes and completions', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const on = runScenario(s, true);
      const off = runScenario(s, false);
      expect(on.filter((e) => / (read|write) /.test(e)).length, 'completions').to.be.greaterThan(0);
      expect(off).to.deep.equal(on);
    });
  }
});

describe("websocket ops: shortcuts on and off agree under Beast's doTest (every I/O step failed once)", function () {
  this.timeout(120_000);
  const chosen = scenarios.filter((s) => !s.raw && /^a (0|20|4097|70000)-byte binary|strand|parked|^a (126|4097)-byte prepared/.test(s.name));
  for (const s of chosen) {
    it(s.name, async () => {
      const runs: Transcript[][] = [];
      for (const on of [true, false]) {
        const was = setShortcuts(on);
        const list: Transcript[] = [];
        try {
          await doTest((run) => {
            const c = makeCtx(run.p, run.handler);
            s.run(c);
            list.push(c.log);
          });
        } finally {
          setShortcuts(was);
        }
        runs.push(list);
      }
      expect(runs[0]!.length, 'runs reaching the scenario').to.be.greaterThan(2);
      expect(runs[1]).to.deep.equal(runs[0]);
    });
  }
});
