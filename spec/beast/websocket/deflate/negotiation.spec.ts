// permessage-deflate negotiation (RFC 7692 section 7.1; Beast's pmd_read / pmd_negotiate): the
// option validation, the client's offer, the server's answer to every kind of offer (each
// parameter, valueless client_max_window_bits, duplicates, out-of-range values, unknown
// parameters, no-context-takeover in each direction, window bits 9 to 15), the client's check of
// the answer against its offer, and the same end to end over TestStream handshakes.

import { Buffer } from 'node:buffer';

import { expect } from 'chai';

import {
  acceptResponse,
  makeOffer,
  negotiate,
  parseExtensions,
  PermessageDeflate,
  type PermessageDeflateInit,
  type PmdConfig,
} from '../../../../lib/beast/websocket/deflate.js';
import { condition, error } from '../../../../lib/beast/websocket/error.js';
import { ErrorCode } from '../../../../lib/net/error.js';
import { clientFrame, finish, onlyCloseCode, Opcode, pump, recorder, take, type Ec } from '../ops/fixture.js';
import { FlatBuffer } from '../../../../lib/net/dynamic-buffer.js';
import { hasSyncZlib, setPrivateApis } from '../../../../lib/net/node-internals.js';
import { deflateMessage, extensionsOf, pmdClientAgainstRaw, pmdPair, pmdServerAgainstRaw } from './support.js';

const server = (init: PermessageDeflateInit = {}): PermessageDeflate => new PermessageDeflate({ serverEnable: true, ...init });
const client = (init: PermessageDeflateInit = {}): PermessageDeflate => new PermessageDeflate({ clientEnable: true, ...init });
const cfg = (s: number, c: number, snct = false, cnct = false): PmdConfig => ({
  serverMaxWindowBits: s,
  clientMaxWindowBits: c,
  serverNoContextTakeover: snct,
  clientNoContextTakeover: cnct,
});
const BITS = [9, 10, 11, 12, 13, 14, 15];

describe('websocket/deflate negotiation', () => {
  describe('PermessageDeflate options', () => {
    it('defaults to Beast’s values, frozen', () => {
      const o = new PermessageDeflate();
      expect({ ...o }).to.deep.equal({
        clientEnable: false,
        serverEnable: false,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
        serverNoContextTakeover: false,
        clientNoContextTakeover: false,
        compLevel: 8,
        memLevel: 4,
        msgSizeThreshold: 0,
      });
      expect(Object.isFrozen(o)).to.equal(true);
    });

    it('accepts window bits 9 to 15 and every level in range', () => {
      for (const b of BITS) {
        const o = new PermessageDeflate({ serverMaxWindowBits: b, clientMaxWindowBits: b });
        expect([o.serverMaxWindowBits, o.clientMaxWindowBits]).to.deep.equal([b, b]);
      }
      for (let l = 0; l <= 9; l++) expect(new PermessageDeflate({ compLevel: l }).compLevel).to.equal(l);
      for (let m = 1; m <= 9; m++) expect(new PermessageDeflate({ memLevel: m }).memLevel).to.equal(m);
      expect(new PermessageDeflate({ msgSizeThreshold: 1 << 20 }).msgSizeThreshold).to.equal(1 << 20);
    });

    const bad: Array<[string, PermessageDeflateInit]> = [
      ['serverMaxWindowBits 8', { serverMaxWindowBits: 8 }],
      ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }],
      ['clientMaxWindowBits 8', { clientMaxWindowBits: 8 }],
      ['clientMaxWindowBits 16', { clientMaxWindowBits: 16 }],
      ['clientMaxWindowBits 12.5', { clientMaxWindowBits: 12.5 }],
      ['serverMaxWindowBits NaN', { serverMaxWindowBits: NaN }],
      ['compLevel -1', { compLevel: -1 }],
      ['compLevel 10', { compLevel: 10 }],
      ['memLevel 0', { memLevel: 0 }],
      ['memLevel 10', { memLevel: 10 }],
      ['msgSizeThreshold -1', { msgSizeThreshold: -1 }],
      ['msgSizeThreshold 1.5', { msgSizeThreshold: 1.5 }],
    ];
    for (const [what, init] of bad) {
      it(`throws RangeError for ${what}`, () => {
        expect(() => new PermessageDeflate(init)).to.throw(RangeError);
      });
    }
  });

  describe('makeOffer (the client’s offer)', () => {
    it('always writes both window sizes, as Beast', () => {
      expect(makeOffer(client())).to.equal('permessage-deflate; server_max_window_bits=15; client_max_window_bits=15');
      for (const b of BITS) {
        expect(makeOffer(client({ serverMaxWindowBits: b, clientMaxWindowBits: 24 - b }))).to.equal(
          `permessage-deflate; server_max_window_bits=${b}; client_max_window_bits=${24 - b}`,
        );
      }
    });

    it('adds the no-context-takeover flags asked for, in each direction', () => {
      expect(makeOffer(client({ serverNoContextTakeover: true }))).to.equal(
        'permessage-deflate; server_max_window_bits=15; client_max_window_bits=15; server_no_context_takeover',
      );
      expect(makeOffer(client({ clientNoContextTakeover: true }))).to.equal(
        'permessage-deflate; server_max_window_bits=15; client_max_window_bits=15; client_no_context_takeover',
      );
      expect(makeOffer(client({ serverNoContextTakeover: true, clientNoContextTakeover: true }))).to.equal(
        'permessage-deflate; server_max_window_bits=15; client_max_window_bits=15; server_no_context_takeover; client_no_context_takeover',
      );
    });

    it('is accepted by our own server, and the answer by our own client', () => {
      for (const b of BITS) {
        const c = client({ serverMaxWindowBits: b, clientMaxWindowBits: b, serverNoContextTakeover: b % 2 === 0 });
        const answer = negotiate(makeOffer(c), server());
        expect(answer).to.not.equal(null);
        expect(acceptResponse(answer!.response, c)).to.deep.equal(answer!.config);
      }
    });
  });

  describe('parseExtensions', () => {
    it('splits extensions and parameters, lower-cases names, unquotes values', () => {
      expect(parseExtensions('Permessage-Deflate; Client_Max_Window_Bits; server_max_window_bits="10", x-foo')).to.deep.equal([
        { name: 'permessage-deflate', params: [['client_max_window_bits', null], ['server_max_window_bits', '10']] },
        { name: 'x-foo', params: [] },
      ]);
      expect(parseExtensions('a ; b = 1 ;c')).to.deep.equal([{ name: 'a', params: [['b', '1'], ['c', null]] }]);
      expect(parseExtensions('a; b="x,y"')).to.equal(null); // a quoted value must still be a token (RFC 6455 9.1)
    });

    for (const broken of ['a; =1', 'a; b=', 'a; b="1', 'a b', '"a"', 'a; b c=1', 'a; b=1 2', 'a; b=@']) {
      it(`returns null for broken syntax: ${broken}`, () => {
        expect(parseExtensions(broken)).to.equal(null);
      });
    }
  });

  describe('negotiate (the server’s answer)', () => {
    it('declines when the server does not enable it or the client does not offer it', () => {
      expect(negotiate('permessage-deflate', new PermessageDeflate())).to.equal(null);
      expect(negotiate('permessage-deflate', new PermessageDeflate({ clientEnable: true }))).to.equal(null);
      expect(negotiate(undefined, server())).to.equal(null);
      expect(negotiate('x-webkit-deflate-frame', server())).to.equal(null);
      expect(negotiate('', server())).to.equal(null);
    });

    it('accepts a bare offer with the defaults and writes nothing it need not', () => {
      expect(negotiate('permessage-deflate', server())).to.deep.equal({ response: 'permessage-deflate', config: cfg(15, 15) });
      expect(negotiate('PerMessage-Deflate', server())).to.deep.equal({ response: 'permessage-deflate', config: cfg(15, 15) });
    });

    it('finds permessage-deflate after other extensions, and considers only its first entry (Beast)', () => {
      expect(negotiate('x-foo; bar=1, permessage-deflate; client_max_window_bits', server())?.config).to.deep.equal(cfg(15, 15));
      expect(negotiate('permessage-deflate; server_max_window_bits=10, permessage-deflate', server())).to.deep.equal({
        response: 'permessage-deflate; server_max_window_bits=10',
        config: cfg(10, 15),
      });
      expect(negotiate('permessage-deflate; foo, permessage-deflate', server())).to.equal(null);
    });

    describe('server_max_window_bits', () => {
      for (const b of BITS) {
        it(`offered ${b}: min(offer, option) is used and written below 15`, () => {
          const r = negotiate(`permessage-deflate; server_max_window_bits=${b}`, server());
          expect(r).to.deep.equal({ response: b < 15 ? `permessage-deflate; server_max_window_bits=${b}` : 'permessage-deflate', config: cfg(b, 15) });
          for (const opt of BITS) {
            const m = Math.min(b, opt);
            const ro = negotiate(`permessage-deflate; server_max_window_bits=${b}`, server({ serverMaxWindowBits: opt }));
            expect(ro?.config.serverMaxWindowBits, `offer ${b}, option ${opt}`).to.equal(m);
            expect(extensionParams(ro!.response).get('server_max_window_bits'), `offer ${b}, option ${opt}`).to.equal(m < 15 ? String(m) : undefined);
          }
        });
      }

      it('not offered: the option is used, and written when below 15', () => {
        for (const opt of BITS) {
          const r = negotiate('permessage-deflate', server({ serverMaxWindowBits: opt }));
          expect(r?.config.serverMaxWindowBits).to.equal(opt);
          expect(r?.response).to.equal(opt < 15 ? `permessage-deflate; server_max_window_bits=${opt}` : 'permessage-deflate');
        }
      });

      it('accepts a quoted value', () => {
        expect(negotiate('permessage-deflate; server_max_window_bits="11"', server())?.config).to.deep.equal(cfg(11, 15));
      });

      it('offered 8: declines, since zlib cannot deflate with a window below 9 bits and the answer must not exceed the offer (RFC 7692 7.1.2.1)', () => {
        // Answering server_max_window_bits=9 to an offer of 8 breaks the MUST of section 7.1.2.1
        // ("the same or smaller value as the offer"); the only answer zlib can honour is a decline.
        const r = negotiate('permessage-deflate; server_max_window_bits=8', server());
        expect(r, r === null ? '' : `answered ${r.response}`).to.equal(null);
      });

      for (const v of ['7', '16', '0', '-1', '99', 'abc', '1a', '100']) {
        it(`declines the out-of-range or malformed value ${v}`, () => {
          expect(negotiate(`permessage-deflate; server_max_window_bits=${v}`, server())).to.equal(null);
        });
      }

      it('declines a value with a leading zero (RFC 7692 7.1.2.1: "without leading zeroes"; Beast too)', () => {
        expect(negotiate('permessage-deflate; server_max_window_bits=09', server())).to.equal(null);
        expect(negotiate('permessage-deflate; client_max_window_bits=010', server())).to.equal(null);
        expect(negotiate('permessage-deflate; client_max_window_bits=09', server())).to.equal(null);
      });

      it('declines it without a value', () => {
        expect(negotiate('permessage-deflate; server_max_window_bits', server())).to.equal(null);
      });
    });

    describe('client_max_window_bits', () => {
      it('valueless: the option is used, written only below 15', () => {
        expect(negotiate('permessage-deflate; client_max_window_bits', server())).to.deep.equal({ response: 'permessage-deflate', config: cfg(15, 15) });
        for (const opt of BITS.slice(0, -1)) {
          expect(negotiate('permessage-deflate; client_max_window_bits', server({ clientMaxWindowBits: opt }))).to.deep.equal({
            response: `permessage-deflate; client_max_window_bits=${opt}`,
            config: cfg(15, opt),
          });
        }
      });

      for (const b of BITS) {
        it(`offered ${b}: min(option, offer), always written`, () => {
          for (const opt of BITS) {
            const m = Math.min(b, opt);
            expect(negotiate(`permessage-deflate; client_max_window_bits=${b}`, server({ clientMaxWindowBits: opt })), `offer ${b}, option ${opt}`).to.deep.equal({
              response: `permessage-deflate; client_max_window_bits=${m}`,
              config: cfg(15, m),
            });
          }
        });
      }

      it('absent: accepted only when the server’s option is 15 (the client cannot be limited)', () => {
        expect(negotiate('permessage-deflate', server({ clientMaxWindowBits: 15 }))?.config).to.deep.equal(cfg(15, 15));
        for (const opt of BITS.slice(0, -1)) expect(negotiate('permessage-deflate', server({ clientMaxWindowBits: opt })), `option ${opt}`).to.equal(null);
      });

      it('offered 8: the answer does not ask for more than the client offered (a ws client with 8 rejects 9)', () => {
        // RFC 7692 7.1.2.2: the server either ignores the client's value or answers with "a value
        // equal to or smaller than the received value". Beast raises it to 9, which a client that
        // offered 8 must reject (ws does: 'Unexpected or invalid parameter "client_max_window_bits"').
        const r = negotiate('permessage-deflate; client_max_window_bits=8', server());
        if (r !== null) {
          const answered = extensionParams(r.response).get('client_max_window_bits');
          if (answered !== undefined) expect(Number(answered), `answered ${r.response}`).to.be.at.most(8);
          // The negotiated value is reported as it is; the inflater itself uses zlib's 9-bit minimum
          // (a larger window inflates a smaller one's output; roundtrip-ws proves it with ws).
          expect(r.config.clientMaxWindowBits).to.equal(8);
        }
      });

      for (const v of ['7', '16', '0', 'x', '']) {
        it(`declines the out-of-range or malformed value "${v}"`, () => {
          expect(negotiate(`permessage-deflate; client_max_window_bits=${v}`, server())).to.equal(null);
        });
      }
    });

    describe('no context takeover', () => {
      it('server_no_context_takeover offered: agreed and written', () => {
        expect(negotiate('permessage-deflate; server_no_context_takeover', server())).to.deep.equal({
          response: 'permessage-deflate; server_no_context_takeover',
          config: cfg(15, 15, true, false),
        });
      });

      it('client_no_context_takeover offered: agreed and written', () => {
        expect(negotiate('permessage-deflate; client_no_context_takeover', server())).to.deep.equal({
          response: 'permessage-deflate; client_no_context_takeover',
          config: cfg(15, 15, false, true),
        });
      });

      it('asked by the server’s options alone: still agreed and written (RFC 7692 7.1.1)', () => {
        expect(negotiate('permessage-deflate', server({ serverNoContextTakeover: true }))).to.deep.equal({
          response: 'permessage-deflate; server_no_context_takeover',
          config: cfg(15, 15, true, false),
        });
        expect(negotiate('permessage-deflate', server({ clientNoContextTakeover: true }))).to.deep.equal({
          response: 'permessage-deflate; client_no_context_takeover',
          config: cfg(15, 15, false, true),
        });
      });

      it('both directions with every parameter', () => {
        expect(
          negotiate(
            'permessage-deflate; server_max_window_bits=10; client_max_window_bits=11; server_no_context_takeover; client_no_context_takeover',
            server({ serverMaxWindowBits: 12, clientMaxWindowBits: 9 }),
          ),
        ).to.deep.equal({
          response: 'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9; server_no_context_takeover; client_no_context_takeover',
          config: cfg(10, 9, true, true),
        });
      });

      for (const p of ['server_no_context_takeover=1', 'client_no_context_takeover=true', 'server_no_context_takeover=""']) {
        it(`declines a value on a flag: ${p}`, () => {
          expect(negotiate(`permessage-deflate; ${p}`, server())).to.equal(null);
        });
      }
    });

    const declined: Array<[string, string]> = [
      ['a duplicate server_max_window_bits', 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
      ['a duplicate client_max_window_bits', 'permessage-deflate; client_max_window_bits; client_max_window_bits=10'],
      ['a duplicate server_no_context_takeover', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
      ['a duplicate client_no_context_takeover', 'permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover'],
      ['an unknown parameter', 'permessage-deflate; foo'],
      ['an unknown parameter with a value', 'permessage-deflate; foo=1; client_max_window_bits'],
      ['a misspelt parameter', 'permessage-deflate; server_max_window_bit=10'],
      ['broken syntax', 'permessage-deflate; server_max_window_bits="10'],
    ];
    for (const [what, offer] of declined) {
      it(`declines ${what}`, () => {
        expect(negotiate(offer, server())).to.equal(null);
      });
    }
  });

  describe('acceptResponse (the client’s check of the answer)', () => {
    it('no answer: declined, the connection goes on without the extension', () => {
      expect(acceptResponse(undefined, client())).to.equal(null);
    });

    it('a bare answer: the defaults', () => {
      expect(acceptResponse('permessage-deflate', client())).to.deep.equal(cfg(15, 15));
    });

    for (const b of BITS) {
      it(`window bits ${b} in each direction`, () => {
        expect(acceptResponse(`permessage-deflate; server_max_window_bits=${b}`, client())).to.deep.equal(cfg(b, 15));
        expect(acceptResponse(`permessage-deflate; client_max_window_bits=${b}`, client())).to.deep.equal(cfg(15, b));
        expect(acceptResponse(`permessage-deflate; server_max_window_bits=${b}; client_max_window_bits=${b}`, client({ serverMaxWindowBits: b, clientMaxWindowBits: b }))).to.deep.equal(cfg(b, b));
      });
    }

    it('a server window of 8 is accepted (inflating with a larger window is safe)', () => {
      expect(acceptResponse('permessage-deflate; server_max_window_bits=8', client())).to.deep.equal(cfg(8, 15));
    });

    it('a missing client_max_window_bits is accepted: the server can take any window (RFC 7692 7.1.2.2)', () => {
      // The offer's client_max_window_bits=10 is a hint the server may ignore; without the parameter
      // in the answer the client may use up to 15 bits, so its own 10 is fine too.
      for (const b of BITS) {
        const got = acceptResponse('permessage-deflate', client({ clientMaxWindowBits: b }));
        expect(got, `clientMaxWindowBits ${b}`).to.not.be.instanceOf(ErrorCode);
        expect((got as PmdConfig).serverMaxWindowBits).to.equal(15);
        expect((got as PmdConfig).clientMaxWindowBits).to.be.within(b, 15);
      }
    });

    it('no-context-takeover in each direction', () => {
      expect(acceptResponse('permessage-deflate; server_no_context_takeover', client())).to.deep.equal(cfg(15, 15, true, false));
      expect(acceptResponse('permessage-deflate; client_no_context_takeover', client())).to.deep.equal(cfg(15, 15, false, true));
      // A client that asked not to keep its own context does so whatever the answer says.
      expect(acceptResponse('permessage-deflate', client({ clientNoContextTakeover: true }))).to.deep.equal(cfg(15, 15, false, true));
      expect(acceptResponse('permessage-deflate; server_no_context_takeover', client({ serverNoContextTakeover: true }))).to.deep.equal(cfg(15, 15, true, false));
    });

    const rejected: Array<[string, string, PermessageDeflateInit?]> = [
      ['server_no_context_takeover asked for but not granted', 'permessage-deflate', { serverNoContextTakeover: true }],
      ['a server window larger than offered', 'permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 12 }],
      ['no server window when a smaller one was offered (15 > 12)', 'permessage-deflate', { serverMaxWindowBits: 12 }],
      ['a client window larger than offered', 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 10 }],
      ['a client window of 8 (zlib cannot deflate with it)', 'permessage-deflate; client_max_window_bits=8'],
      ['a valueless client_max_window_bits', 'permessage-deflate; client_max_window_bits'],
      ['a valueless server_max_window_bits', 'permessage-deflate; server_max_window_bits'],
      ['an out-of-range server window', 'permessage-deflate; server_max_window_bits=16'],
      ['an out-of-range client window', 'permessage-deflate; client_max_window_bits=7'],
      ['a leading zero', 'permessage-deflate; server_max_window_bits=010'],
      ['a duplicate parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
      ['an unknown parameter', 'permessage-deflate; foo'],
      ['a value on a flag', 'permessage-deflate; client_no_context_takeover=1'],
      ['another extension', 'x-webkit-deflate-frame'],
      ['two extensions', 'permessage-deflate, permessage-deflate'],
      ['broken syntax', 'permessage-deflate; ='],
    ];
    for (const [what, answer, init] of rejected) {
      it(`fails with badExtensionResponse on ${what}`, () => {
        expect(acceptResponse(answer, client(init))).to.equal(error.badExtensionResponse);
      });
    }

    it('fails when the client did not offer the extension at all', () => {
      expect(acceptResponse('permessage-deflate', new PermessageDeflate())).to.equal(error.badExtensionResponse);
    });
  });

  describe("without Node's synchronous zlib (net/node-internals.ts, 4)", () => {
    it('neither end offers or accepts the extension, and messages cross uncompressed', () => {
      const was = setPrivateApis(false);
      try {
        const p = pmdPair({}, {});
        expect(p.client.getStatus().active, 'client').to.equal(false);
        expect(p.server.getStatus().active, 'server').to.equal(false);
        const got = new FlatBuffer();
        const r = recorder();
        p.server.asyncRead(got, r.h);
        p.client.asyncWrite(new TextEncoder().encode('plain'), () => {});
        pump(p.ioc);
        expect(r.calls).to.deep.equal([[null, 5]]);
        expect(Buffer.from(got.data()[0]!).toString()).to.equal('plain');
        finish(p.ioc, p.a, p.b);
      } finally {
        setPrivateApis(was);
      }
    });
  });

  describe('end to end over TestStream', () => {
    // Compression needs Node's synchronous zlib; without it, see the describe above.
    before(function () {
      if (!hasSyncZlib()) this.skip();
    });

    it('both ends enabled: active on both, with the agreed window sizes', () => {
      const { ioc, a, b, client: c, server: s } = pmdPair({ serverMaxWindowBits: 12, clientMaxWindowBits: 10 }, { serverMaxWindowBits: 11 });
      expect(c.getStatus()).to.deep.equal({ active: true, clientWindowBits: 10, serverWindowBits: 11 });
      expect(s.getStatus()).to.deep.equal({ active: true, clientWindowBits: 10, serverWindowBits: 11 });
      finish(ioc, a, b);
    });

    for (const b of BITS) {
      it(`window bits ${b} both ways: negotiated, and a message crosses each way`, () => {
        const p = pmdPair({ serverMaxWindowBits: b, clientMaxWindowBits: b }, { serverMaxWindowBits: b, clientMaxWindowBits: b });
        expect(p.client.getStatus()).to.deep.equal({ active: true, clientWindowBits: b, serverWindowBits: b });
        const msg = new TextEncoder().encode('abcdefgh'.repeat(300));
        for (const [from, to] of [[p.client, p.server], [p.server, p.client]] as const) {
          const w = recorder();
          const r = recorder();
          const buf = new FlatBuffer();
          from.asyncWrite(msg, w.h);
          to.asyncRead(buf, r.h);
          pump(p.ioc);
          expect(w.once()).to.deep.equal([null, msg.length]);
          expect(r.once()).to.deep.equal([null, msg.length]);
          expect(Buffer.from(buf.dataView()).equals(Buffer.from(msg))).to.equal(true);
        }
        finish(p.ioc, p.a, p.b);
      });
    }

    it('server not enabled: the client goes on without the extension', () => {
      const { ioc, a, b, client: c, ec } = pmdClientAgainstRaw(undefined);
      expect(ec).to.equal(null);
      expect(c.getStatus()).to.deep.equal({ active: false, clientWindowBits: 0, serverWindowBits: 0 });
      finish(ioc, a, b);
    });

    it('client not enabled: no offer, no answer', () => {
      const { ioc, a, b, response, server: s, ec } = pmdServerAgainstRaw(undefined);
      expect(ec).to.equal(null);
      expect(extensionsOf(response)).to.equal(undefined);
      expect(s.getStatus().active).to.equal(false);
      finish(ioc, a, b);
    });

    it('a client that offered a small window accepts an answer without client_max_window_bits (RFC 7692 7.1.2.2)', () => {
      const { ioc, a, b, client: c, ec } = pmdClientAgainstRaw('permessage-deflate', { clientEnable: true, clientMaxWindowBits: 10 });
      expect(ec).to.equal(null);
      expect(c.getStatus().active).to.equal(true);
      finish(ioc, a, b);
    });

    it('the client’s request carries its offer', () => {
      const { ioc, a, b, request } = pmdClientAgainstRaw(undefined, { clientEnable: true, serverMaxWindowBits: 10, clientNoContextTakeover: true });
      expect(extensionsOf(request)).to.equal('permessage-deflate; server_max_window_bits=10; client_max_window_bits=15; client_no_context_takeover');
      finish(ioc, a, b);
    });

    it('the server’s 101 carries its answer', () => {
      const { ioc, a, b, response, server: s, ec } = pmdServerAgainstRaw('permessage-deflate; client_max_window_bits; server_max_window_bits=10');
      expect(ec).to.equal(null);
      expect(extensionsOf(response)).to.equal('permessage-deflate; server_max_window_bits=10');
      expect(s.getStatus()).to.deep.equal({ active: true, clientWindowBits: 15, serverWindowBits: 10 });
      finish(ioc, a, b);
    });

    const malformed = [
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; server_max_window_bits',
      'permessage-deflate; client_max_window_bits=7',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; foo',
      'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; server_max_window_bits="10',
    ];
    for (const offer of malformed) {
      it(`a malformed offer declines the extension without failing the handshake: ${offer}`, () => {
        const { ioc, a, b, response, server: s, ec } = pmdServerAgainstRaw(offer);
        expect(ec).to.equal(null);
        expect(response.startsWith('HTTP/1.1 101 ')).to.equal(true);
        expect(extensionsOf(response)).to.equal(undefined);
        expect(s.getStatus().active).to.equal(false);
        // Not active: a frame with RSV1 is a protocol error.
        const r = recorder();
        s.asyncRead(new FlatBuffer(), r.h);
        b.append(clientFrame({ opcode: Opcode.text, rsv: 0x40, payload: deflateMessage(new TextEncoder().encode('hi')) }));
        pump(ioc);
        expect(r.once()).to.deep.equal([error.badReservedBits, 0]);
        expect(onlyCloseCode(take(a), false)).to.equal(1002);
        finish(ioc, a, b);
      });
    }

    const unoffered: Array<[string, string, PermessageDeflateInit?]> = [
      ['an unknown parameter', 'permessage-deflate; foo'],
      ['a valueless client_max_window_bits', 'permessage-deflate; client_max_window_bits'],
      ['a server window above the offer', 'permessage-deflate; server_max_window_bits=14', { clientEnable: true, serverMaxWindowBits: 12 }],
      ['a client window above the offer', 'permessage-deflate; client_max_window_bits=12', { clientEnable: true, clientMaxWindowBits: 11 }],
      ['server_no_context_takeover missing', 'permessage-deflate', { clientEnable: true, serverNoContextTakeover: true }],
      ['another extension', 'x-foo'],
      ['two entries', 'permessage-deflate, permessage-deflate'],
      ['an extension answered to a client that offered none', 'permessage-deflate', {}],
    ];
    for (const [what, answer, init] of unoffered) {
      it(`the client fails the handshake with badExtensionResponse on ${what}`, () => {
        const { ioc, a, b, client: c, ec } = pmdClientAgainstRaw(answer, init);
        expect(ec).to.equal(error.badExtensionResponse);
        expect(ec instanceof ErrorCode && ec.matches(condition.handshakeFailed)).to.equal(true);
        expect(c.isOpen()).to.equal(false);
        expect(c.getStatus().active).to.equal(false);
        finish(ioc, a, b);
      });
    }

    it('a client with a failed handshake stays failed: later operations are aborted', () => {
      const { ioc, a, b, client: c } = pmdClientAgainstRaw('permessage-deflate; foo');
      const w = recorder();
      c.asyncWrite(new Uint8Array(3), w.h);
      pump(ioc);
      expect((w.once() as [Ec, number])[0]).to.not.equal(null);
      finish(ioc, a, b);
    });
  });
});

/** The parameters of the single extension in a response value. */
function extensionParams(value: string): Map<string, string | null> {
  const exts = parseExtensions(value);
  expect(exts).to.have.length(1);
  return new Map(exts![0]!.params);
}
