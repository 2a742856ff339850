// Property tests (fast-check) for lib/beast/http/parser.ts: (1) valid messages — serialized by
// the serializer, or chunked by hand with extensions and trailers — parse to the original in one
// chunk and under any split, consuming exactly the message; (2) arbitrary bytes under any split
// never make the parser throw, over-consume or hold more than its limits, and every split agrees
// with the one-chunk outcome; (3) a header past the limit always gives headerLimit.

import { expect } from 'chai';
import fc from 'fast-check';

import { error } from '../../../lib/beast/http/error.js';
import { Fields } from '../../../lib/beast/http/fields.js';
import { obsoleteReason, Request, Response, type Message } from '../../../lib/beast/http/message.js';
import { RequestParser, ResponseParser, type BasicParser } from '../../../lib/beast/http/parser.js';
import { serialize } from '../../../lib/beast/http/serializer.js';
import { bytes, feed, split, text } from './support.js';

const RUNS = { numRuns: 200 };

const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = (max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...tchar), { minLength: 1, maxLength: max }).map((a) => a.join(''));
const latin1Char = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
const valueChar = fc.oneof(
  { weight: 8, arbitrary: latin1Char(0x20, 0x7e) },
  { weight: 1, arbitrary: fc.constant('\t') },
  { weight: 1, arbitrary: latin1Char(0x80, 0xff) },
);
const value = fc.array(valueChar, { maxLength: 40 }).map((a) => a.join(''));
const framing = new Set(['content-length', 'transfer-encoding', 'connection', 'proxy-connection']);
const fieldName = token(20)
  .filter((n) => !framing.has(n.toLowerCase()))
  .chain((n) => fc.array(fc.boolean(), { minLength: n.length, maxLength: n.length }).map((up) => [...n].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join('')));
const fieldList = fc.array(fc.tuple(fieldName, value), { maxLength: 12 });
const target = fc
  .array(fc.oneof({ weight: 9, arbitrary: latin1Char(0x21, 0x7e) }, { weight: 1, arbitrary: latin1Char(0x80, 0xff) }), { maxLength: 40 })
  .map((a) => `/${a.join('')}`);
const body = fc.uint8Array({ maxLength: 300 });
const cuts = fc.array(fc.nat({ max: 2000 }), { maxLength: 12 });

/** A message reduced to comparable data. */
function view(m: Message): unknown {
  const start = m instanceof Request ? [m.method, m.target] : [(m as Response).status, (m as Response).reason];
  return { start, version: m.version, fields: [...m.fields], body: text(m.body) };
}

function concat(bufs: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(bufs));
}

function eager<P extends BasicParser<Message>>(p: P): P {
  p.eager(true);
  return p;
}

describe('beast/http/parser properties', () => {
  it('(1) serialized requests parse back to the original, whole or split, consuming exactly the message', () => {
    const request = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'), token(12)),
      target,
      version: fc.constantFrom(10, 11),
      fields: fieldList,
      body,
      chunked: fc.boolean(),
    });
    fc.assert(
      fc.property(request, cuts, fc.uint8Array({ maxLength: 20 }), (r, at, after) => {
        const fields = new Fields(r.fields);
        const chunked = r.chunked && r.version === 11;
        if (chunked) fields.insert('Transfer-Encoding', 'chunked');
        const msg = new Request({ method: r.method, target: r.target, version: r.version, fields, body: r.body });
        const wire = concat(serialize(msg));
        const input = concat([wire, after]);
        const whole = eager(new RequestParser({ bodyLimit: null }));
        const parts = eager(new RequestParser({ bodyLimit: null }));
        expect(feed(whole, [input])).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(feed(parts, split(input, at))).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(view(parts.get())).to.deep.equal(view(whole.get()));
        const got = whole.get();
        expect([got.method, got.target, got.version]).to.deep.equal([r.method, r.target, r.version]);
        const original = [...fields];
        expect([...got.fields].slice(0, original.length)).to.deep.equal(original);
        for (const extra of [...got.fields].slice(original.length)) expect(extra).to.deep.equal(['Content-Length', String(r.body.length)]);
        expect(text(got.body)).to.equal(text(r.body));
      }),
      RUNS,
    );
  });

  it('(1) serialized responses parse back to the original, whole or split', () => {
    const response = fc.record({
      status: fc.integer({ min: 100, max: 599 }),
      reason: value,
      version: fc.constantFrom(10, 11),
      fields: fieldList,
      body,
      chunked: fc.boolean(),
    });
    fc.assert(
      fc.property(response, cuts, (r, at) => {
        const bodiless = r.status < 200 || r.status === 204 || r.status === 304;
        const fields = new Fields(r.fields);
        if (r.chunked && !bodiless) fields.insert('Transfer-Encoding', 'chunked');
        const msg = new Response({ ...r, fields, body: bodiless ? new Uint8Array(0) : r.body });
        const wire = concat(serialize(msg));
        const whole = eager(new ResponseParser());
        const parts = eager(new ResponseParser());
        expect(feed(whole, [wire])).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(feed(parts, split(wire, at))).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(view(parts.get())).to.deep.equal(view(whole.get()));
        const got = whole.get();
        const reason = msg.reason.replace(/^[ \t]+|[ \t]+$/g, '');
        expect([got.status, got.version]).to.deep.equal([r.status, r.version]);
        // The reason is sent as given (the serializer only replaces an empty one); the parser
        // keeps its inner spaces, and trailing ones too.
        expect(got.reason.replace(/^[ \t]+|[ \t]+$/g, '')).to.equal(msg.reason === '' ? obsoleteReason(r.status) : reason);
        expect(text(got.body)).to.equal(text(msg.body));
      }),
      RUNS,
    );
  });

  it('(1) hand-made chunked bodies with extensions and trailers parse the same under any split', () => {
    const ext = fc.oneof(
      fc.constant(''),
      token(8).map((n) => `;${n}`),
      fc.tuple(token(8), token(8)).map(([n, v]) => ` ; ${n}=${v}`),
      fc.tuple(token(8), fc.array(latin1Char(0x23, 0x5b), { maxLength: 10 })).map(([n, v]) => `;${n}="${v.join('')}\\""`),
    );
    const chunk = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 60 }), ext, fc.boolean());
    const trailer = fc.array(fc.tuple(fieldName, value), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), trailer, cuts, (chunks, trailers, at) => {
        let wire = 'POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
        for (const [data, e, upper] of chunks) {
          const size = data.length.toString(16);
          wire += `${upper ? size.toUpperCase() : size}${e}\r\n${text(data)}\r\n`;
        }
        wire += `0\r\n${trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
        const input = bytes(`${wire}LEFT`);
        const whole = eager(new RequestParser());
        const parts = eager(new RequestParser());
        expect(feed(whole, [input])).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(feed(parts, split(input, at))).to.deep.equal({ ec: null, consumed: wire.length, done: true });
        expect(text(whole.get().body)).to.equal(chunks.map(([d]) => text(d)).join(''));
        expect(text(parts.get().body)).to.equal(text(whole.get().body));
        const expected = trailers.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, '')]);
        expect([...whole.trailers()]).to.deep.equal(expected);
        expect([...parts.trailers()]).to.deep.equal(expected);
      }),
      RUNS,
    );
  });

  it('(2) arbitrary bytes: never throws, never over-consumes, stays within its limits, every split agrees', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'GET ', 'POST ', '/ ', 'HTTP/1.1', 'HTTP/1.0 ', ' 200 OK', '\r\n', '\r', '\n', ' ', '\t', ':', ';', '"', '=',
        'Content-Length: ', 'Transfer-Encoding: chunked', 'Connection: close', '5', '0', 'ff', 'x'.repeat(40),
      ),
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    // Valid messages with a few bytes replaced, inserted or deleted reach every state.
    const special = fc.constantFrom('\r', '\n', ' ', '\t', ':', ';', '"', '\\', '=', ',', '0', 'f', '\x00', '\x7f', '\xff');
    const mutation = fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), special);
    const message = fc
      .record({
        request: fc.boolean(),
        fields: fieldList,
        framing: fc.constantFrom('none', 'length', 'chunked', 'list', 'fold'),
        body: fc.uint8Array({ maxLength: 40 }),
      })
      .map(({ request, fields, framing, body: b }) => {
        let head = request ? 'POST /x?y HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n';
        head += fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
        const data = text(b);
        if (framing === 'length') return `${head}Content-Length: ${b.length}\r\n\r\n${data}`;
        if (framing === 'list') return `${head}Content-Length: ${b.length}, ${b.length}\r\n\r\n${data}`;
        if (framing === 'fold') return `${head}X-Fold: a\r\n b\r\n\r\n${data}`;
        if (framing === 'chunked') {
          const size = b.length.toString(16);
          return `${head}Transfer-Encoding: chunked\r\n\r\n${size};e="v"\r\n${data}\r\n0\r\nT: 1\r\n\r\n`;
        }
        return `${head}\r\n${data}`;
      });
    const mutated = fc.tuple(message, fc.array(mutation, { maxLength: 4 })).map(([m, muts]) => {
      let out = m;
      for (const [at, kind, c] of muts) {
        const i = at % (out.length + 1);
        if (kind === 'insert') out = out.slice(0, i) + c + out.slice(i);
        else if (kind === 'replace') out = out.slice(0, i) + c + out.slice(i + 1);
        else out = out.slice(0, i) + out.slice(i + 1);
      }
      return [out];
    });
    const options = fc.record({
      headerLimit: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(8192)),
      bodyLimit: fc.oneof(fc.constant(null), fc.nat({ max: 100 })),
      skip: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 40 }), mutated), cuts, options, fc.boolean(), fc.boolean(), (ps, at, opts, isRequest, eof) => {
        const input = bytes(ps.join(''));
        const make = (): BasicParser<Message> => (isRequest ? new RequestParser({ ...opts, eager: true }) : new ResponseParser({ ...opts, eager: true }));
        // Header lines never hold more than the header limit; a chunk-size line at most 8 KiB.
        const bound = (p: BasicParser<Message>): number => (p.isHeaderDone() ? Math.max(opts.headerLimit, 8192) : opts.headerLimit);
        const whole = feed(make(), [input], eof, bound);
        const parts = feed(make(), split(input, at), eof, bound);
        expect(parts).to.deep.equal(whole);
        expect(whole.consumed).to.be.at.most(input.length);
        if (whole.ec === null) expect(whole.done).to.equal(true);
      }),
      RUNS,
    );
  });

  it('(3) a header longer than the limit always gives headerLimit, under any split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 2048 }), fieldList, cuts, fc.boolean(), (limit, fields, at, isRequest) => {
        const start = isRequest ? 'GET / HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n';
        let head = start + fields.map(([n, v]) => `${n}:${v === '' ? '' : ' '}${v.replace(/^[ \t]+|[ \t]+$/g, '')}\r\n`).join('');
        while (head.length + 2 <= limit) head += 'X-Pad: 0123456789\r\n';
        head += '\r\n';
        const make = (l: number): BasicParser<Message> => (isRequest ? new RequestParser({ headerLimit: l, eager: true }) : new ResponseParser({ headerLimit: l, eager: true }));
        const input = bytes(`${head}BODY`);
        const r = feed(make(limit), split(input, at), false, limit);
        expect(r.ec).to.equal(error.headerLimit);
        expect(feed(make(limit), [input]).ec).to.equal(error.headerLimit);
        // And with the limit at the header's size, it parses.
        expect(feed(make(head.length), split(input, at)).ec).to.equal(isRequest ? null : error.needMore);
      }),
      RUNS,
    );
  });
});
