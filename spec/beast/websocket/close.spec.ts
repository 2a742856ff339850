import { expect } from 'chai';
import { closeReason, encodeClosePayload, isValidCloseCode, parseClosePayload } from '../../../lib/beast/websocket/close.js';
import { condition, error } from '../../../lib/beast/websocket/error.js';

describe('websocket/close', () => {
  it('close code validity (RFC 6455 section 7.4)', () => {
    const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
    const invalid = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
    for (const c of valid) expect(isValidCloseCode(c), String(c)).to.equal(true);
    for (const c of invalid) expect(isValidCloseCode(c), String(c)).to.equal(false);
  });

  it('parses payloads and rejects them in Beast order', () => {
    expect(parseClosePayload(new Uint8Array(0))).to.deep.equal({ ec: null, reason: { code: 0, reason: '' } });
    expect(parseClosePayload(Uint8Array.of(3)).ec).to.equal(error.badCloseSize);
    expect(parseClosePayload(Uint8Array.of(0x03, 0xed, 0xff)).ec).to.equal(error.badCloseCode); // 1005 + bad utf8
    expect(parseClosePayload(Uint8Array.of(0x03, 0xe8, 0xff)).ec).to.equal(error.badClosePayload);
    const ok = parseClosePayload(encodeClosePayload(closeReason(4001, 'bye ✓')));
    expect(ok).to.deep.equal({ ec: null, reason: { code: 4001, reason: 'bye ✓' } });
  });

  it('encodes at most 125 bytes without cutting a character', () => {
    const long = '€'.repeat(60); // 180 bytes
    const p = encodeClosePayload(closeReason(1000, long));
    expect(p.length).to.be.at.most(125);
    expect(parseClosePayload(p).ec).to.equal(null);
    expect(encodeClosePayload(closeReason(0, 'ignored'))).to.have.length(0);
  });

  it('conditions group the errors', () => {
    expect(error.badOpcode.matches(condition.protocolViolation)).to.equal(true);
    expect(error.badSecAccept.matches(condition.handshakeFailed)).to.equal(true);
    expect(error.closed.matches(condition.protocolViolation)).to.equal(false);
  });
});
