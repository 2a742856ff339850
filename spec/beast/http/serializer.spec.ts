// Specs for lib/beast/http/serializer.ts: the header as one buffer and the body as it is (no
// copy), the Content-Length the serializer adds (and when it does not), chunked output, the
// incremental next/consume interface, and the TypeErrors for messages that cannot be sent.

import { expect } from 'chai';

import { Fields } from '../../../lib/beast/http/fields.js';
import { Request, Response } from '../../../lib/beast/http/message.js';
import { bodyBytes, serialize, Serializer } from '../../../lib/beast/http/serializer.js';
import { text } from './support.js';

const wire = (bufs: readonly Uint8Array[]): string => bufs.map(text).join('');

describe('beast/http/serializer', () => {
  it('writes the header as one buffer and the body buffer itself, not a copy', () => {
    const body = new Uint8Array([104, 105]);
    const req = new Request({ method: 'POST', target: '/p', fields: [['Host', 'h']], body });
    const bufs = serialize(req);
    expect(bufs).to.have.length(2);
    expect(bufs[1]).to.equal(body);
    expect(text(bufs[0])).to.equal('POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n');
    expect(Buffer.isBuffer(bufs[0])).to.equal(false);
  });

  it('writes a WebSocket upgrade request with no Content-Length', () => {
    const req = new Request({
      target: '/chat',
      fields: [
        ['Host', 'example.com'],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
      ],
    });
    expect(wire(serialize(req))).to.equal('GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });

  it('gives Content-Length: 0 to empty POST / PUT / PATCH / OPTIONS requests (RFC 9110 8.6)', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'OPTIONS']) {
      expect(wire(serialize(new Request({ method })))).to.equal(`${method} / HTTP/1.1\r\nContent-Length: 0\r\n\r\n`);
    }
    expect(wire(serialize(new Request({ method: 'DELETE' })))).to.equal('DELETE / HTTP/1.1\r\n\r\n');
  });

  it('gives every response that may have a body a Content-Length, the 101, 204 and 304 none', () => {
    expect(wire(serialize(new Response({ status: 404 })))).to.equal('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    expect(wire(serialize(new Response({ status: 101, fields: { Upgrade: 'websocket' } })))).to.equal(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
    );
    expect(wire(serialize(new Response({ status: 204 })))).to.equal('HTTP/1.1 204 No Content\r\n\r\n');
    expect(wire(serialize(new Response({ status: 304, version: 10 })))).to.equal('HTTP/1.0 304 Not Modified\r\n\r\n');
  });

  it('encodes a string body as UTF-8 and counts its bytes', () => {
    const res = new Response({ status: 400, reason: 'Nope', body: 'h\u00e9' });
    expect(wire(serialize(res))).to.equal('HTTP/1.1 400 Nope\r\nContent-Length: 3\r\n\r\nh\u00c3\u00a9');
    expect(bodyBytes(res)).to.have.length(3);
  });

  it('keeps a Content-Length or Transfer-Encoding the caller set', () => {
    const res = new Response({ fields: { 'content-length': '2' }, body: 'ab' });
    expect(wire(serialize(res))).to.equal('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nab');
    const chunked = new Response({ fields: { 'Transfer-Encoding': 'gzip, chunked' }, body: new Uint8Array(20) });
    const bufs = serialize(chunked);
    expect(text(bufs[0])).to.equal('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
    expect(bufs.slice(1).map(text)).to.deep.equal(['14', '\r\n', '\0'.repeat(20), '\r\n0\r\n\r\n']);
    expect(bufs[3]).to.equal(chunked.body);
  });

  it('writes an empty chunked body as the last chunk alone', () => {
    const res = new Response({ fields: { 'Transfer-Encoding': 'chunked' } });
    expect(wire(serialize(res))).to.equal('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  });

  it('next / consume resume after partial writes; isHeaderDone and isDone follow', () => {
    const sr = new Serializer(new Request({ method: 'PUT', body: 'abc' }));
    const total = sr.size();
    expect(total).to.equal('PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc'.length);
    sr.consume(6);
    expect(wire(sr.next())).to.equal('HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc');
    expect(sr.isHeaderDone()).to.equal(false);
    sr.consume(total - 6 - 3);
    expect(sr.isHeaderDone()).to.equal(true);
    expect(sr.isDone()).to.equal(false);
    sr.consume(3);
    expect([sr.isDone(), sr.size(), sr.next().length]).to.deep.equal([true, 0, 0]);
  });

  it('throws TypeError for what cannot be sent, before producing anything', () => {
    expect(() => serialize(new Request({ method: 'GE T' }))).to.throw(TypeError);
    expect(() => serialize(new Request({ target: '/a b' }))).to.throw(TypeError);
    expect(() => serialize(new Request({ target: '/a\r\nX: y' }))).to.throw(TypeError);
    expect(() => serialize(new Request({ target: '' }))).to.throw(TypeError);
    expect(() => serialize(new Request({ version: 20 }))).to.throw(TypeError);
    expect(() => serialize(new Response({ status: 99 }))).to.throw(TypeError);
    expect(() => serialize(new Response({ reason: 'OK\r\nX: y' }))).to.throw(TypeError);
    expect(() => serialize(new Response({ status: 204, body: 'x' }))).to.throw(TypeError);
    expect(() => serialize(new Response({ status: 101, body: 'x' }))).to.throw(TypeError);
  });

  it('writes fields in order with their case', () => {
    const f = new Fields([
      ['b', '1'],
      ['A', '2'],
      ['b', '3'],
    ]);
    expect(wire(serialize(new Request({ fields: f })))).to.equal('GET / HTTP/1.1\r\nb: 1\r\nA: 2\r\nb: 3\r\n\r\n');
  });
});
