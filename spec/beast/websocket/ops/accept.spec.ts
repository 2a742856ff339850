// Specs for the server's 101 response: the accept writes it as one string when no response
// decorator is set (the fast path of ops/accept.ts). Its bytes must be exactly those of the general
// path, buildResponse and the HTTP serializer, with and without a permessage-deflate offer.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import { RequestParser } from '../../../../lib/beast/http/parser.js';
import { serialize } from '../../../../lib/beast/http/serializer.js';
import { PermessageDeflate } from '../../../../lib/beast/websocket/deflate.js';
import { buildResponse } from '../../../../lib/beast/websocket/ops/accept.js';
import { Decorator } from '../../../../lib/beast/websocket/options.js';
import { finish, makePair, pump, recorder, take, upgradeRequest, type Ec } from './fixture.js';
import { hasSyncZlib } from '../../../../lib/net/node-internals.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function parse(request: string) {
  const p = new RequestParser();
  p.eager(true);
  p.put(Buffer.from(request, 'latin1'));
  expect(p.isDone()).to.equal(true);
  return p.get();
}

/** What the general path writes for `request`. */
function serialized(request: string, pmd: PermessageDeflate): string {
  const { res } = buildResponse(parse(request), null, pmd);
  return serialize(res).map(latin1).join('');
}

describe('websocket/Stream accept: the 101 response', () => {
  const offers: [string, string | null][] = [
    ['no extension offered', null],
    ['a deflate offer', 'permessage-deflate; client_max_window_bits'],
    ['a deflate offer with parameters', 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10'],
    ['an offer that is declined', 'x-unknown-extension'],
  ];
  for (const [name, offer] of offers) {
    for (const enabled of [false, true]) {
      it(`is byte for byte the general path's (${name}, deflate ${enabled ? 'enabled' : 'disabled'})`, function () {
        // Without Node's synchronous zlib the extension is never accepted (net/node-internals.ts, 4).
        if (enabled && !hasSyncZlib()) this.skip();
        const request = upgradeRequest(offer === null ? {} : { extra: [['Sec-WebSocket-Extensions', offer]] });
        const pmd = new PermessageDeflate({ serverEnable: enabled });
        const { ioc, a, b, server } = makePair();
        server.setOption(pmd);
        // A decorator of requests only cannot change the response: the fast path still applies.
        server.setOption(new Decorator({ request: () => {} }));
        b.append(request);
        const acc = recorder<[Ec]>();
        server.asyncAccept(acc.h);
        pump(ioc);
        expect(acc.ec()).to.equal(null);
        expect(latin1(take(a))).to.equal(serialized(request, pmd));
        expect(server.getStatus().active).to.equal(enabled && offer !== null && offer.startsWith('permessage-deflate'));
        finish(ioc, a, b);
      });
    }
  }
});
