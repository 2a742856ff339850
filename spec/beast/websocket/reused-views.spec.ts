/**
 * The views a stream keeps from message to message instead of making one per message (a frame
 * header's, a client's masked payload's, a FlatBuffer's prepared and readable ranges) and the
 * copy of a whole small message straight from the read buffer into a FlatBuffer: whatever the
 * sizes that follow one another, in either direction, every message arrives whole, and a read
 * into a FlatBuffer gets what a read into another dynamic buffer gets.
 */

import { expect } from 'chai';
import { buffersToBytes } from '../../../lib/net/buffer.js';
import { FlatBuffer, MultiBuffer, type DynamicBuffer } from '../../../lib/net/dynamic-buffer.js';
import { finish, openPair, pattern, pump, recorder, type Ec, type Pair } from './ops/fixture.js';

/**
 * Sizes that change the header's length (7-bit, 16-bit and 64-bit lengths), cross the bytewise
 * copy's limit (64 bytes) and come back to a size seen before, so a kept view is reused after
 * others were made.
 */
const sizes = [0, 5, 63, 64, 65, 5, 125, 126, 200, 65_535, 65_536, 70_000, 5, 63, 0, 64, 1000, 5];

/** Writes `messages` from `from` in order while `to` reads each into a fresh `make()` buffer. */
function send(p: Pair, from: 'client' | 'server', messages: Uint8Array[], make: () => DynamicBuffer, asText: boolean): Uint8Array[] {
  const writer = from === 'client' ? p.client : p.server;
  const reader = from === 'client' ? p.server : p.client;
  writer.text(asText);
  const got: Uint8Array[] = [];
  for (const m of messages) {
    const w = recorder<[Ec, number]>();
    const r = recorder<[Ec, number]>();
    const buffer = make();
    writer.asyncWrite(m, w.h);
    reader.asyncRead(buffer, r.h);
    pump(p.ioc);
    expect(w.ec('write')).to.equal(null);
    expect(r.ec('read')).to.equal(null);
    got.push(Uint8Array.from(buffersToBytes(buffer.data()))); // a copy: the shared buffer is reused
  }
  return got;
}

describe('websocket: views kept from message to message', () => {
  for (const from of ['client', 'server'] as const) {
    for (const asText of [false, true]) {
      it(`${from} to ${from === 'client' ? 'server' : 'client'}, ${asText ? 'text' : 'binary'}: every size after every other arrives whole, into a FlatBuffer as into a MultiBuffer`, () => {
        // ASCII for text, so that every prefix is valid UTF-8.
        const messages = sizes.map((n, i) => (asText ? pattern(n, i + 1).map((b) => 0x41 + (b % 26)) : pattern(n, i + 1)));
        const p = openPair();
        const flat = send(p, from, messages, () => new FlatBuffer(), asText);
        const multi = send(p, from, messages, () => new MultiBuffer(), asText);
        // One FlatBuffer for every message, consumed between them: its kept views are reused.
        const shared = new FlatBuffer();
        const reused = send(p, from, messages, () => (shared.consume(shared.size()), shared), asText);
        for (const [i, m] of messages.entries()) {
          expect(flat[i], `message ${i} (${m.length} bytes) into a FlatBuffer`).to.deep.equal(m);
          expect(multi[i], `message ${i} (${m.length} bytes) into a MultiBuffer`).to.deep.equal(m);
          expect(reused[i], `message ${i} (${m.length} bytes) into one FlatBuffer`).to.deep.equal(m);
        }
        finish(p.ioc, p.a, p.b);
      });
    }
  }
});
