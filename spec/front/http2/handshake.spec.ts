/**
 * RFC 8441 handshakes over real sockets on 127.0.0.1, cleartext (h2c) and TLS: several
 * WebSockets as streams of one session, subprotocol and permessage-deflate negotiation, the
 * refusals of sections 4 and 5, a server that does not offer the extended CONNECT (the client's
 * cue to fall back), a handshake timeout that resets only its stream, and the HTTP/1.1 upgrade on
 * the same TLS port.
 */

import { expect } from 'chai';
import * as http2 from 'node:http2';
import WebSocket from 'ws';

import { asTuple, buffer, buffersToString, FlatBuffer } from '../../../lib/net/index.js';
import { error as beastError } from '../../../lib/beast/core/index.js';
import { Response } from '../../../lib/beast/http/index.js';
import { CloseCode, Decorator, PermessageDeflate, permessageDeflateAvailable, error as wsError, Stream, Timeout } from '../../../lib/beast/websocket/index.js';
import { setPrivateApis } from '../../../lib/net/node-internals.js';
import * as h2 from '../../../lib/front/http2/index.js';
import { cert, Harness, type Mode } from './support.js';

async function echoOnce(ws: Stream<h2.Http2Layer>, text: string): Promise<string> {
  await ws.asyncWrite(buffer(text));
  const b = new FlatBuffer();
  await ws.asyncRead(b);
  return buffersToString(b.data());
}

for (const mode of ['h2c', 'tls'] as Mode[]) {
  describe(`http2 (${mode}): opening handshakes`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await new Harness(mode).start();
    });
    afterEach(async () => {
      await h.stop();
    });

    // Without synchronous zlib (net/node-internals.ts, 4) the WebSockets open uncompressed.
    const pmd = permessageDeflateAvailable();
    it(`opens 16 WebSockets as 16 streams of one session on one connection${pmd ? '' : ' (uncompressed: no synchronous zlib on this Node)'}`, async () => {
      const session = await h.connect();
      const n = 16;
      const all = await Promise.all(Array.from({ length: n }, () => h.open(session)));
      const replies = await Promise.all(all.map((ws, i) => echoOnce(ws, `message ${i}`)));
      expect(replies).to.deep.equal(all.map((_, i) => `message ${i}`));
      expect(h.seen.connections).to.equal(1);
      expect(h.seen.sessions).to.equal(1);
      expect(h.seen.streams).to.have.length(n);
      expect(new Set(h.seen.streams.map((s) => s.session)).size).to.equal(1);
      expect(new Set(all.map((ws) => ws.nextLayer().stream()!.id)).size).to.equal(n);
      expect(all.map((ws) => ws.getStatus().active)).to.deep.equal(all.map(() => pmd));
      expect(h.serverStreams.map((ws) => ws.getStatus().active)).to.deep.equal(all.map(() => pmd));
      await Promise.all(all.map((ws) => ws.asyncClose(CloseCode.normal)));
      // Closing the WebSockets ended their streams, not the session.
      expect(all.every((ws) => ws.nextLayer().stream()!.closed)).to.equal(true);
      expect(session.closed || session.destroyed).to.equal(false);
      expect(await echoOnce(await h.open(session), 'after')).to.equal('after');
    });

    it('reports support only once the SETTINGS came, and waits for them', async () => {
      const session = await h.connect();
      expect(h2.supportsWebSockets(session)).to.equal(false);
      expect(await h2.asyncWaitForSettings(h.ioc, session)).to.equal(true);
      expect(h2.supportsWebSockets(session)).to.equal(true);
      // Asked again on a session that has them: at once, and still through the token.
      expect(await h2.asyncWaitForSettings(h.ioc, session, asTuple())).to.deep.equal([null, true]);
    });

    it('negotiates a subprotocol through the decorators, as over HTTP/1.1', async () => {
      await h.stop();
      h = await new Harness(mode).start({
        prepare: (ws, req) => {
          const offered = (req.fields.get('Sec-WebSocket-Protocol') ?? '').split(',').map((s) => s.trim());
          if (offered.includes('chat.v2')) ws.setOption(new Decorator({ response: (res) => void res.fields.set('Sec-WebSocket-Protocol', 'chat.v2') }));
        },
      });
      const session = await h.connect();
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      ws.setOption(new Decorator({ request: (req) => void req.fields.set('Sec-WebSocket-Protocol', 'chat.v1, chat.v2') }));
      const res = new Response();
      await h2.asyncHandshake(ws, res, session, 'localhost', '/echo');
      expect(res.status).to.equal(200);
      expect(res.version).to.equal(20);
      expect(res.fields.get('Sec-WebSocket-Protocol')).to.equal('chat.v2');
      expect(res.fields.get('Server')).to.equal('tsbeast');
      expect(ws.getStatus().active).to.equal(false); // this client did not offer deflate
      expect(await echoOnce(ws, 'v2')).to.equal('v2');
    });

    it('without synchronous zlib (private paths off): the client offers no permessage-deflate, the server declines an offer, both talk uncompressed', async () => {
      const offers: Array<string | undefined> = [];
      await h.stop();
      h = await new Harness(mode).start({
        prepare: (ws, req) => {
          offers.push(req.fields.get('Sec-WebSocket-Extensions'));
          ws.setOption(new PermessageDeflate({ serverEnable: true }));
        },
      });
      const was = setPrivateApis(false);
      try {
        const session = await h.connect();
        // A client whose options enable the extension: as a Stream's own handshake, no offer.
        const quiet = await h.open(session);
        expect(quiet.getStatus().active).to.equal(false);
        expect(await echoOnce(quiet, 'plain')).to.equal('plain');
        // An offer made by a decorator all the same: the server answers without the extension.
        const offering = new Stream(new h2.Http2Layer(h.ioc));
        offering.setOption(new Decorator({ request: (req) => void req.fields.set('Sec-WebSocket-Extensions', 'permessage-deflate') }));
        const res = new Response();
        await h2.asyncHandshake(offering, res, session, 'localhost', '/echo');
        expect(res.fields.get('Sec-WebSocket-Extensions')).to.equal(undefined);
        expect(offering.getStatus().active).to.equal(false);
        expect(await echoOnce(offering, 'x'.repeat(5000))).to.equal('x'.repeat(5000));
        expect(offers).to.deep.equal([undefined, 'permessage-deflate']);
        expect(h.serverStreams.map((ws) => ws.getStatus().active)).to.deep.equal([false, false]);
      } finally {
        setPrivateApis(was);
      }
    });

    it('fails with badSubprotocol and resets the stream when the server picks one not offered', async () => {
      await h.stop();
      h = await new Harness(mode).start({
        prepare: (ws) => ws.setOption(new Decorator({ response: (res) => void res.fields.set('Sec-WebSocket-Protocol', 'other') })),
      });
      const session = await h.connect();
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      const [ec] = await h2.asyncHandshake(ws, session, 'localhost', '/echo', asTuple());
      expect(ec).to.equal(wsError.badSubprotocol);
      expect(ws.nextLayer().stream()!.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
      expect(ws.isOpen()).to.equal(false);
      const offering = new Stream(new h2.Http2Layer(h.ioc));
      offering.setOption(new Decorator({ request: (req) => void req.fields.set('Sec-WebSocket-Protocol', 'other') }));
      await h2.asyncHandshake(offering, session, 'localhost', '/echo');
      expect(await echoOnce(offering, 'session lives')).to.equal('session lives');
    });

    it('answers a refusal of the prepare hook with its status, and a wrong path with 404', async () => {
      await h.stop();
      h = await new Harness(mode).start({ prepare: (_ws, req) => (req.fields.get('Authorization') === 'Bearer ok' ? undefined : 403) });
      const session = await h.connect();
      const res = new Response();
      const [ec] = await h2.asyncHandshake(new Stream(new h2.Http2Layer(h.ioc)), res, session, 'localhost', '/echo', asTuple());
      expect(ec).to.equal(wsError.upgradeDeclined);
      expect(res.status).to.equal(403);
      const res404 = new Response();
      const [ec404] = await h2.asyncHandshake(new Stream(new h2.Http2Layer(h.ioc)), res404, session, 'localhost', '/elsewhere', asTuple());
      expect(ec404).to.equal(wsError.upgradeDeclined);
      expect(res404.status).to.equal(404);
      const ok = new Stream(new h2.Http2Layer(h.ioc));
      ok.setOption(new Decorator({ request: (req) => void req.fields.set('Authorization', 'Bearer ok') }));
      await h2.asyncHandshake(ok, session, 'localhost', '/echo');
      expect(await echoOnce(ok, 'allowed')).to.equal('allowed');
    });

    it('refuses requests that break sections 4 and 5, each with its status and error', async () => {
      const session = await h.connect();
      await h2.asyncWaitForSettings(h.ioc, session);
      const base = { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/echo', 'sec-websocket-version': '13' };
      const ask = (headers: http2.OutgoingHttpHeaders): Promise<http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader> =>
        new Promise((resolve, reject) => {
          const s = session.request(headers, { endStream: false });
          s.on('response', (r) => {
            resolve(r);
            s.close(http2.constants.NGHTTP2_CANCEL);
          });
          s.on('error', reject);
        });
      const version = await ask({ ...base, 'sec-websocket-version': '8' });
      expect(version[':status']).to.equal(400);
      expect(version['sec-websocket-version']).to.equal('13');
      expect((await ask({ ...base, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }))[':status']).to.equal(400);
      expect((await ask({ ...base, 'sec-websocket-version': undefined }))[':status']).to.equal(400);
      expect(h.seen.errors).to.deep.equal([
        wsError.badSecVersion.message(),
        h2.error.secKeyPresent.message(),
        wsError.noSecVersion.message(),
      ]);
      expect(h.seen.streams).to.have.length(0);
    });

    it('the checks, alone: :scheme, :path, :authority, :protocol', () => {
      const ok = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': 'a', 'sec-websocket-version': '13' };
      expect(h2.checkConnectRequest(ok)).to.equal(null);
      expect(h2.checkConnectRequest({ ...ok, ':scheme': undefined })).to.deep.equal([h2.error.noScheme, 400]);
      expect(h2.checkConnectRequest({ ...ok, ':path': undefined })).to.deep.equal([h2.error.noPath, 400]);
      expect(h2.checkConnectRequest({ ...ok, ':authority': undefined })).to.deep.equal([h2.error.noAuthority, 400]);
      expect(h2.checkConnectRequest({ ...ok, ':protocol': 'webtransport' })).to.deep.equal([h2.error.badProtocol, 400]);
      expect(h2.checkConnectRequest({ ...ok, ':method': 'GET' })).to.deep.equal([wsError.badMethod, 405]);
      expect(h2.checkConnectRequest({ ...ok, 'sec-websocket-accept': 'x' })).to.deep.equal([h2.error.secKeyPresent, 400]);
      expect(h2.error.noPath.matches(h2.condition.handshakeFailed)).to.equal(true);
      expect(wsError.badSecVersion.matches(h2.condition.handshakeFailed)).to.equal(true);
      expect(h2.error.notOffered.matches(h2.condition.handshakeFailed)).to.equal(false);
    });

    it('a handshake that times out resets its stream only', async () => {
      await h.stop();
      h = await new Harness(mode).start({ prepare: () => undefined, onStream: () => {} });
      // A server that never answers this path.
      h.attachment!.detach();
      h.server.on('stream', (stream, headers) => {
        if (headers[':path'] === '/echo') return void h.runEcho(new Stream(new h2.Http2Layer(h.ioc, stream)));
      });
      const session = await h.connect();
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      ws.setOption(new Timeout(150));
      const started = Date.now();
      const [ec] = await h2.asyncHandshake(ws, session, 'localhost', '/silent', asTuple());
      expect(ec).to.equal(beastError.timeout);
      expect(Date.now() - started).to.be.at.least(140);
      expect(ws.nextLayer().stream()!.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
      expect(session.closed).to.equal(false);
    });
  });
}

describe('http2: fallback and HTTP/1.1 on the same port', () => {
  it('a server without the setting: notOffered, and nothing was sent', async () => {
    const h = await new Harness('h2c', { enableConnectProtocol: false }).start();
    try {
      const session = await h.connect();
      expect(await h2.asyncWaitForSettings(h.ioc, session)).to.equal(false);
      const ws = new Stream(new h2.Http2Layer(h.ioc));
      const [ec] = await h2.asyncHandshake(ws, session, 'localhost', '/echo', asTuple());
      expect(ec).to.equal(h2.error.notOffered);
      expect(ws.nextLayer().stream()).to.equal(null);
      expect(h.seen.streams).to.have.length(0);
    } finally {
      await h.stop();
    }
  });

  it('a closed session: sessionClosed', async () => {
    const h = await new Harness('h2c').start();
    try {
      const session = await h.connect();
      session.destroy();
      const [ec] = await h2.asyncHandshake(new Stream(new h2.Http2Layer(h.ioc)), session, 'localhost', '/echo', asTuple());
      expect(ec).to.equal(h2.error.sessionClosed);
    } finally {
      await h.stop();
    }
  });

  it('the TLS server also takes HTTP/1.1 upgrades (ALPN http/1.1) on the same port', async () => {
    const h = await new Harness('tls').start();
    try {
      const client = new WebSocket(`wss://127.0.0.1:${h.port}/echo`, { ca: cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] } as WebSocket.ClientOptions);
      await new Promise((resolve, reject) => {
        client.once('open', resolve);
        client.once('error', reject);
      });
      const got = new Promise<string>((resolve) => client.once('message', (d: Buffer) => resolve(d.toString())));
      client.send('over HTTP/1.1');
      expect(await got).to.equal('over HTTP/1.1');
      const closed = new Promise<number>((resolve) => client.once('close', resolve));
      client.close(1000);
      expect(await closed).to.equal(1000);
      // And an HTTP/2 WebSocket next to it.
      const session = await h.connect();
      expect(await echoOnce(await h.open(session), 'over HTTP/2')).to.equal('over HTTP/2');
      expect(h.seen.streams.map((s) => s.via)).to.deep.equal(['http/1.1', 'http2']);
    } finally {
      await h.stop();
    }
  });
});
