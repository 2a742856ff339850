/**
 * The differential spec: crafted byte sequences (protocol violations of every kind, bad UTF-8 at
 * many positions, bad close payloads, bad handshakes) fed to Beast and to tsbeast as servers. This
 * spec is the raw client: it sends the bytes, then reads what the server answers (the HTTP status
 * of the handshake, the frames sent back, above all the close frame) until the server ends the
 * connection. Each server also reports the error its accept or read completed with. Both must
 * answer as Beast does, except the differences listed (with their reason) in
 * docs/topics/beast-differential.md and docs/topics/differences.md, where the case says what tsbeast does.
 *
 * Both servers run with a read_message_max of 1000 bytes (`readMessageMax(1000)`). When a server
 * has not sent a close frame 500 ms after the case's bytes, the client closes with 1000 itself
 * (shown as "(we close)"), so a case that the server accepts ends cleanly too.
 *
 * With PEERS_DIFF_TABLE=1 the spec prints a Markdown table of what both servers answered.
 */

import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { buildBeastProgram, Peer, TsEchoServer, errorName } from './support.js';

const limit = 1000;

// ---- building client frames -----------------------------------------------------------------

const maskKey = [0x37, 0xfa, 0x21, 0x3d];

interface FrameOptions {
  fin?: boolean;
  rsv?: number; // the three RSV bits, 0..7 (4: RSV1, 2: RSV2, 1: RSV3)
  masked?: boolean;
  /** The length encoding: the shortest (default), or forced 16-bit / 64-bit. */
  length?: 'min' | '16' | '64';
  /** A length to announce instead of the payload's (only the header and the given payload are sent). */
  announce?: bigint;
}

type Bytes = Buffer | string | readonly number[];

const bytesOf = (p: Bytes): Buffer => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p as Uint8Array));

function frame(opcode: number, payload: Bytes = [], o: FrameOptions = {}): Buffer {
  const data = bytesOf(payload);
  const fin = o.fin ?? true;
  const masked = o.masked ?? true;
  const len = o.announce ?? BigInt(data.length);
  const form = o.length ?? 'min';
  const head: number[] = [(fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const m = masked ? 0x80 : 0;
  if (form === '64' || (form === 'min' && len > 0xffffn)) {
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(i * 8)) & 0xffn));
  } else if (form === '16' || (form === 'min' && len > 125n)) {
    head.push(m | 126, Number(len >> 8n), Number(len & 0xffn));
  } else {
    head.push(m | Number(len));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), data]);
  const body = Buffer.from(data.map((b, i) => b ^ maskKey[i % 4]!));
  return Buffer.concat([Buffer.from(head), Buffer.from(maskKey), body]);
}

const op = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
const text = (p: Bytes, o?: FrameOptions): Buffer => frame(op.text, p, o);
const cont = (p: Bytes, o?: FrameOptions): Buffer => frame(op.cont, p, o);
const binary = (p: Bytes, o?: FrameOptions): Buffer => frame(op.binary, p, o);
const closeFrame = (code: number, reason: Bytes = []): Buffer =>
  frame(op.close, Buffer.concat([Buffer.from([code >> 8, code & 0xff]), bytesOf(reason)]));
const frames = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

/** A text payload of n valid bytes ('a'…), with `bad` bytes written at `at`. */
function textWith(n: number, at: number, bad: readonly number[]): Buffer {
  const b = Buffer.alloc(n, 0x61);
  Buffer.from(bad).copy(b, at);
  return b;
}

// ---- building handshake requests --------------------------------------------------------------

interface RequestOptions {
  line?: string;
  host?: string | null;
  connection?: string | null;
  upgrade?: string | null;
  key?: string | null;
  version?: string | null;
  extra?: string[];
  eol?: string;
}

function request(o: RequestOptions = {}): string {
  const eol = o.eol ?? '\r\n';
  const lines = [o.line ?? 'GET / HTTP/1.1'];
  const add = (name: string, value: string | null | undefined, fallback: string): void => {
    const v = value === undefined ? fallback : value;
    if (v !== null) lines.push(`${name}: ${v}`);
  };
  add('Host', o.host, '127.0.0.1');
  add('Connection', o.connection, 'Upgrade');
  add('Upgrade', o.upgrade, 'websocket');
  add('Sec-WebSocket-Key', o.key, 'dGhlIHNhbXBsZSBub25jZQ==');
  add('Sec-WebSocket-Version', o.version, '13');
  lines.push(...(o.extra ?? []));
  return lines.join(eol) + eol + eol;
}

// ---- the cases ----------------------------------------------------------------------------------

/** What a server answered: the HTTP status, the frames it sent back, and the error it reported. */
interface Outcome {
  readonly status: number | null;
  readonly reply: string;
  readonly error: string;
}

interface Case {
  readonly group: string;
  readonly name: string;
  /** The handshake request (a valid one by default); null: the client ends the connection at once. */
  readonly request?: string | null;
  /** The bytes sent after a 101 response. */
  readonly bytes?: Buffer;
  /** What Beast answers (asserted against Beast). */
  readonly beast: Outcome;
  /** What tsbeast answers where it deliberately differs, and why (else: as Beast). */
  readonly tsbeast?: Outcome & { readonly why: string };
}

const ws = (name: string): string => `websocket.${name}`;
/** A frame case: status 101, then `reply`, and the read's error. */
const f = (reply: string, error: string): Outcome => ({ status: 101, reply, error });
/** A failed handshake: `status` (null: no response), and the accept's error. */
const h = (status: number | null, error: string): Outcome => ({ status, reply: '', error });
const failed = (code: number, name: string): Outcome => f(`close ${code}`, ws(name));
const clean = (code = 1000): Outcome => f(`close ${code}`, ws('closed'));
const accepted = f('(we close) close 1000', ws('closed'));

const cases: Case[] = [];
const add = (group: string, name: string, c: Omit<Case, 'group' | 'name'>): void => void cases.push({ group, name, ...c });

// Baselines: valid traffic, the server keeps reading.
add('valid', 'a text and a binary message, then close 1000', { bytes: frames(text('hello'), binary([0, 255]), closeFrame(1000)), beast: clean() });
add('valid', 'a message of exactly the limit', { bytes: text(Buffer.alloc(limit, 0x61)), beast: accepted });
add('valid', 'a fragmented message with a ping between the fragments', {
  bytes: frames(text('frag', { fin: false }), frame(op.ping, 'p'), cont('ment')),
  beast: f('pong; (we close) close 1000', ws('closed')),
});
add('valid', 'empty non-final frames, then the final one', { bytes: frames(text('', { fin: false }), cont('', { fin: false }), cont('x')), beast: accepted });
add('valid', 'a ping of 125 bytes', { bytes: frame(op.ping, Buffer.alloc(125, 1)), beast: f('pong; (we close) close 1000', ws('closed')) });
add('valid', 'an unsolicited pong', { bytes: frame(op.pong, 'hb'), beast: accepted });
add('valid', 'a close without a code', { bytes: frame(op.close), beast: clean() });
add('valid', 'binary payload that is not UTF-8', { bytes: binary([0xff, 0xfe, 0xc0]), beast: accepted });
add('valid', 'a code point split across three frames', {
  bytes: frames(text([0xf0], { fin: false }), cont([0x9f, 0x98], { fin: false }), cont([0x80])),
  beast: accepted,
});

// Reserved bits and opcodes.
for (const [rsv, name] of [[4, 'RSV1'], [2, 'RSV2'], [1, 'RSV3']] as const) {
  add('framing', `${name} set on a text frame`, { bytes: text('x', { rsv }), beast: failed(1002, 'badReservedBits') });
}
add('framing', 'RSV1 set on a ping', { bytes: frame(op.ping, 'x', { rsv: 4 }), beast: failed(1002, 'badReservedBits') });
add('framing', 'RSV2 set on a continuation', { bytes: frames(text('a', { fin: false }), cont('b', { rsv: 2 })), beast: failed(1002, 'badReservedBits') });
for (const code of [3, 7, 0xb, 0xf]) {
  add('framing', `reserved opcode 0x${code.toString(16)}`, { bytes: frame(code, 'x'), beast: failed(1002, 'badOpcode') });
}

// Control frames.
add('framing', 'a fragmented ping', { bytes: frame(op.ping, 'x', { fin: false }), beast: failed(1002, 'badControlFragment') });
add('framing', 'a fragmented close', { bytes: frame(op.close, [3, 232], { fin: false }), beast: failed(1002, 'badControlFragment') });
add('framing', 'a ping of 126 bytes', { bytes: frame(op.ping, Buffer.alloc(126, 1)), beast: failed(1002, 'badControlSize') });
add('framing', 'a pong of 126 bytes', { bytes: frame(op.pong, Buffer.alloc(126, 1)), beast: failed(1002, 'badControlSize') });
add('framing', 'a close of 126 bytes', { bytes: closeFrame(1000, Buffer.alloc(124, 0x61)), beast: failed(1002, 'badControlSize') });

// Masking and lengths.
add('framing', 'an unmasked text frame', { bytes: text('hi', { masked: false }), beast: failed(1002, 'badUnmaskedFrame') });
add('framing', 'an unmasked close frame', { bytes: frame(op.close, [3, 232], { masked: false }), beast: failed(1002, 'badUnmaskedFrame') });
add('framing', 'a 16-bit length for 5 bytes', { bytes: text('hello', { length: '16' }), beast: failed(1002, 'badSize') });
add('framing', 'a 16-bit length for 125 bytes', { bytes: text(Buffer.alloc(125, 0x61), { length: '16' }), beast: failed(1002, 'badSize') });
add('framing', 'a 64-bit length for 200 bytes', { bytes: text(Buffer.alloc(200, 0x61), { length: '64' }), beast: failed(1002, 'badSize') });
add('framing', 'a 64-bit length for 65535 bytes (header only)', { bytes: text([], { length: '64', announce: 0xffffn }), beast: failed(1002, 'badSize') });
add('framing', 'a 64-bit length with the top bit set (header only)', {
  bytes: binary([], { announce: 1n << 63n }),
  beast: failed(1009, 'messageTooBig'),
  tsbeast: {
    ...failed(1002, 'badSize'),
    why: 'RFC 6455 section 5.2: the most significant bit of a 64-bit length MUST be 0; Beast does not check it and only its message limit refuses the frame',
  },
});
add('framing', 'a 64-bit length of 2^62 (header only)', { bytes: binary([], { announce: 1n << 62n }), beast: failed(1009, 'messageTooBig') });

// Fragmentation.
add('framing', 'a continuation without a message', { bytes: cont('x'), beast: failed(1002, 'badContinuation') });
add('framing', 'a continuation after a finished message', { bytes: frames(text('a'), cont('b')), beast: failed(1002, 'badContinuation') });
add('framing', 'a text frame inside a fragmented text message', { bytes: frames(text('a', { fin: false }), text('b')), beast: failed(1002, 'badDataFrame') });
add('framing', 'a binary frame inside a fragmented text message', { bytes: frames(text('a', { fin: false }), binary('b')), beast: failed(1002, 'badDataFrame') });
add('framing', 'a binary frame inside a fragmented binary message', { bytes: frames(binary('a', { fin: false }), binary('b')), beast: failed(1002, 'badDataFrame') });

// UTF-8 in text messages.
for (const at of [0, 1, 100, 199]) {
  add('utf8', `0xFF at byte ${at} of a 200-byte text frame`, { bytes: text(textWith(200, at, [0xff])), beast: failed(1007, 'badFramePayload') });
}
for (const [i, where] of [[0, 'first'], [1, 'second'], [2, 'third']] as const) {
  const parts = [Buffer.alloc(70, 0x61), Buffer.alloc(70, 0x62), Buffer.alloc(70, 0x63)];
  parts[i]![35] = 0xff;
  add('utf8', `0xFF in the ${where} of three fragments`, {
    bytes: frames(text(parts[0]!, { fin: false }), cont(parts[1]!, { fin: false }), cont(parts[2]!)),
    beast: failed(1007, 'badFramePayload'),
  });
}
// Every position of a short text: "κόσμε" with U+1F79 (Markus Kuhn's test string) and U+1D11E:
// 15 bytes, code points of 2, 3 and 4 bytes.
const kosme = Buffer.from('κ\u1f79σμε\u{1d11e}', 'utf8');
const isUtf8 = (b: Uint8Array): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};
for (let at = 0; at < kosme.length; at++) {
  const b = Buffer.from(kosme);
  b[at] = 0xff;
  add('utf8', `"κόσμε" with 0xFF at byte ${at}`, { bytes: text(b), beast: failed(1007, 'badFramePayload') });
}
for (let n = 1; n < kosme.length; n++) {
  const cut = kosme.subarray(0, n);
  add('utf8', `"κόσμε" cut to ${n} bytes`, {
    bytes: frames(text(cut), closeFrame(1000)),
    beast: isUtf8(cut) ? clean() : failed(1007, 'badFramePayload'),
  });
}
for (let n = 1; n < kosme.length; n++) {
  add('utf8', `"κόσμε" split into two frames at byte ${n}`, {
    bytes: frames(text(kosme.subarray(0, n), { fin: false }), cont(kosme.subarray(n)), closeFrame(1000)),
    beast: clean(),
  });
}
add('utf8', 'an overlong encoding (C0 AF)', { bytes: text([0x61, 0xc0, 0xaf]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a surrogate (ED A0 80)', { bytes: text([0x61, 0xed, 0xa0, 0x80, 0x61]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a code point above U+10FFFF (F4 90 80 80)', { bytes: text([0xf4, 0x90, 0x80, 0x80]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a 5-byte sequence (F8 88 80 80 80)', { bytes: text([0xf8, 0x88, 0x80, 0x80, 0x80]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a lone continuation byte (80)', { bytes: text([0x61, 0x80]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a sequence cut at the end of a final frame', { bytes: text([0x61, 0xe2, 0x82]), beast: failed(1007, 'badFramePayload') });
add('utf8', 'a bad continuation in a sequence split across frames', {
  bytes: frames(text([0x61, 0xe2], { fin: false }), cont([0x28, 0xa1])),
  beast: failed(1007, 'badFramePayload'),
});
add('utf8', 'a sequence cut at the end of a non-empty final continuation', {
  bytes: frames(text([0x61], { fin: false }), cont([0xe2, 0x82])),
  beast: failed(1007, 'badFramePayload'),
});
add('utf8', 'a sequence cut before an empty final continuation', {
  bytes: frames(text([0x61, 0xe2, 0x82], { fin: false }), cont([])),
  beast: accepted,
  tsbeast: {
    ...failed(1007, 'badFramePayload'),
    why: 'Beast skips the end-of-message check when the final frame is empty; the message ends inside a code point (RFC 6455 section 8.1)',
  },
});
add('utf8', 'a bad byte in a non-final first frame (fails before the message ends)', {
  bytes: text([0x61, 0xff], { fin: false }),
  beast: failed(1007, 'badFramePayload'),
});

// Close frames.
add('close', 'a close payload of 1 byte', { bytes: frame(op.close, [3]), beast: failed(1002, 'badCloseSize') });
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999]) {
  add('close', `close code ${code}`, { bytes: closeFrame(code), beast: failed(1002, 'badCloseCode') });
}
add('close', 'close code 1014', {
  bytes: closeFrame(1014),
  beast: failed(1002, 'badCloseCode'),
  tsbeast: { ...clean(1014), why: '1014 (Bad Gateway) is registered in IANA\'s WebSocket Close Code Number Registry; Beast 1.81 still lists it as reserved' },
});
for (const code of [5000, 65535]) {
  add('close', `close code ${code}`, {
    bytes: closeFrame(code),
    beast: clean(code),
    tsbeast: { ...failed(1002, 'badCloseCode'), why: 'RFC 6455 section 7.4.2 defines codes up to 4999 only' },
  });
}
for (const code of [1000, 1001, 1003, 1007, 1011, 1012, 1013, 3000, 4999]) {
  add('close', `close code ${code}`, { bytes: closeFrame(code, 'why'), beast: clean(code) });
}
add('close', 'a close reason of 123 bytes', { bytes: closeFrame(1000, Buffer.alloc(123, 0x7a)), beast: clean(1000) });
add('close', 'a close reason that is not UTF-8', { bytes: closeFrame(1000, [0x61, 0xff]), beast: failed(1002, 'badClosePayload') });
add('close', 'a close reason cut inside a code point', { bytes: closeFrame(1000, [0xe2, 0x82]), beast: failed(1002, 'badClosePayload') });
add('close', 'data after the close frame', { bytes: frames(closeFrame(1000), text('late')), beast: clean(1000) });

// Message size against read_message_max (1000 on both).
add('size', 'a 1001-byte text frame', { bytes: text(Buffer.alloc(limit + 1, 0x61)), beast: failed(1009, 'messageTooBig') });
add('size', 'a 1001-byte binary frame', { bytes: binary(Buffer.alloc(limit + 1, 1)), beast: failed(1009, 'messageTooBig') });
add('size', 'two 600-byte fragments', { bytes: frames(binary(Buffer.alloc(600, 1), { fin: false }), cont(Buffer.alloc(600, 1))), beast: failed(1009, 'messageTooBig') });
add('size', 'a 1 MiB frame header (payload not sent)', { bytes: binary([], { announce: 1n << 20n }), beast: failed(1009, 'messageTooBig') });

// Handshakes.
const closeNow = closeFrame(1000);
add('handshake', 'a valid request', { bytes: closeNow, beast: clean() });
add('handshake', 'the end of stream before a request', { request: null, beast: h(null, ws('closed')) });
add('handshake', 'POST', { request: request({ line: 'POST / HTTP/1.1', extra: ['Content-Length: 0'] }), beast: h(400, ws('badMethod')) });
add('handshake', 'HTTP/1.0', { request: request({ line: 'GET / HTTP/1.0' }), beast: h(400, ws('badHttpVersion')) });
add('handshake', 'no Host', { request: request({ host: null }), beast: h(400, ws('noHost')) });
add('handshake', 'no Connection', { request: request({ connection: null }), beast: h(400, ws('noConnection')) });
add('handshake', 'Connection: keep-alive', { request: request({ connection: 'keep-alive' }), beast: h(400, ws('noConnectionUpgrade')) });
add('handshake', 'Connection: keep-alive, Upgrade', { request: request({ connection: 'keep-alive, Upgrade' }), bytes: closeNow, beast: clean() });
add('handshake', 'no Upgrade', { request: request({ upgrade: null }), beast: h(400, ws('noUpgrade')) });
add('handshake', 'Upgrade: h2c', { request: request({ upgrade: 'h2c' }), beast: h(400, ws('noUpgradeWebsocket')) });
add('handshake', 'Upgrade: WebSocket', { request: request({ upgrade: 'WebSocket' }), bytes: closeNow, beast: clean() });
add('handshake', 'no Sec-WebSocket-Key', { request: request({ key: null }), beast: h(400, ws('noSecKey')) });
add('handshake', 'a 25-character key', { request: request({ key: 'dGhlIHNhbXBsZSBub25jZQ==A' }), beast: h(400, ws('badSecKey')) });
add('handshake', 'the key "abc"', {
  request: request({ key: 'abc' }),
  bytes: closeNow,
  beast: clean(),
  tsbeast: { ...h(400, ws('badSecKey')), why: 'RFC 6455 section 4.1: the key is base64 of 16 bytes, and section 4.2.1 requires refusing one that is not' },
});
add('handshake', 'a 24-character key that is not base64', {
  request: request({ key: '!!!!!!!!!!!!!!!!!!!!!!!!' }),
  bytes: closeNow,
  beast: clean(),
  tsbeast: { ...h(400, ws('badSecKey')), why: 'as above' },
});
add('handshake', 'no Sec-WebSocket-Version', { request: request({ version: null }), beast: h(400, ws('noSecVersion')) });
add('handshake', 'Sec-WebSocket-Version: 8', { request: request({ version: '8' }), beast: h(426, ws('badSecVersion')) });
add('handshake', 'a request line that is not HTTP', {
  request: 'HELLO\r\n\r\n',
  beast: h(null, 'http.badMethod'),
  tsbeast: { ...h(400, 'http.badMethod'), why: 'a request that does not parse is answered, then closed (docs/topics/differences.md, Resources)' },
});
add('handshake', 'bare LF line endings', {
  request: request({ eol: '\n' }),
  beast: h(null, 'http.badVersion'),
  tsbeast: { ...h(400, 'http.badLineEnding'), why: 'a bare LF is always `badLineEnding` (docs/topics/differences.md, HTTP), and answered' },
});
add('handshake', 'an empty line before the request line', {
  request: `\r\n${request()}`,
  bytes: closeNow,
  beast: h(null, 'http.badMethod'),
  tsbeast: { ...clean(), why: 'RFC 9112 section 2.2 allows ignoring empty lines before a request (docs/topics/differences.md, HTTP)' },
});
add('handshake', 'a 2000-byte Cookie field', {
  request: request({ extra: [`Cookie: c=${'x'.repeat(2000)}`] }),
  bytes: closeNow,
  beast: h(null, 'http.bufferOverflow'),
  tsbeast: { ...clean(), why: 'Beast reads the handshake into a 1536-byte buffer; tsbeast\'s header limit is 8 KiB (docs/topics/differences.md)' },
});

// ---- the raw client -----------------------------------------------------------------------------

/** Sends a case's bytes to 127.0.0.1:`port` and describes what came back. */
async function exchange(port: number, c: Case): Promise<{ status: number | null; reply: string }> {
  const sock: Socket = connect(port, '127.0.0.1');
  let input = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  sock.on('data', (d: Buffer) => {
    input = Buffer.concat([input, d]);
    notify();
  });
  sock.on('error', () => {}); // a reset shows as the end of the connection
  sock.on('close', () => {
    closed = true;
    notify();
  });
  /** Waits until `done()` or the connection closed, at most `ms`. */
  const until = async (done: () => boolean, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done() && !closed && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, deadline - Date.now());
      });
      clearTimeout(timer);
    }
  };
  const finish = async (): Promise<void> => {
    sock.end();
    await until(() => false, 3000);
    sock.destroy();
    await until(() => false, 1000);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    if (c.request === null) {
      await finish();
      return { status: null, reply: '' };
    }
    sock.write(c.request ?? request());
    await until(() => input.includes('\r\n\r\n'), 3000);
    const end = input.indexOf('\r\n\r\n');
    if (end < 0) {
      await finish();
      return { status: null, reply: '' };
    }
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(input.subarray(0, end).toString('latin1'))?.[1] ?? NaN);
    input = input.subarray(end + 4);
    if (status !== 101) {
      await finish();
      return { status, reply: '' };
    }
    // Read the server's frames; close first ourselves if it sends no close frame in 500 ms.
    const seen: string[] = [];
    let gotClose = false;
    const parse = (): void => {
      for (;;) {
        if (input.length < 2) return;
        const opcode = input[0]! & 0x0f;
        let len = input[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (input.length < 4) return;
          len = input.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (input.length < 10) return;
          len = Number(input.readBigUInt64BE(2));
          at = 10;
        }
        if (input.length < at + len) return;
        const payload = input.subarray(at, at + len);
        input = input.subarray(at + len);
        const name = ({ 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' } as Record<number, string>)[opcode] ?? `op${opcode}`;
        if (opcode === op.close) {
          gotClose = true;
          seen.push(payload.length >= 2 ? `close ${payload.readUInt16BE(0)}` : 'close (no code)');
        } else {
          seen.push(name);
        }
      }
    };
    const collect = async (ms: number): Promise<void> => {
      await until(() => {
        parse();
        return gotClose;
      }, ms);
      parse();
    };
    if (c.bytes !== undefined) sock.write(c.bytes);
    await collect(500);
    if (!gotClose && !closed) {
      seen.push('(we close)');
      sock.write(closeFrame(1000));
      await collect(3000);
    }
    if (!gotClose) seen.push(closed ? 'end of stream' : 'nothing');
    await finish();
    return { status, reply: seen.join('; ').replace('(we close);', '(we close)') };
  } finally {
    sock.destroy();
  }
}

// ---- the spec -----------------------------------------------------------------------------------

interface Row {
  readonly c: Case;
  readonly beast: Outcome;
  readonly tsbeast: Outcome;
}

const show = (o: Outcome): string => `${o.status ?? '-'} | ${o.reply || '-'} | ${o.error}`;

describe('peers: Beast and tsbeast, differential', function () {
  this.timeout(30_000);
  let beast: Peer;
  let beastPort: number;
  let ts: TsEchoServer;
  const rows: Row[] = [];

  before(async function () {
    this.timeout(600_000); // a first build compiles Beast, a minute or two
    const program = await buildBeastProgram('echo_server');
    beast = Peer.spawn(program, ['diff', String(limit)]);
    beastPort = Number((await beast.next(/^listening (\d+)$/))[1]);
    ts = await TsEchoServer.start({ readMessageMax: limit, echo: false });
  });
  after(async () => {
    await beast?.stop();
    await ts?.close();
    if (process.env['PEERS_DIFF_TABLE'] === '1') {
      console.log('| group | case | Beast: status, reply, error | tsbeast | |');
      console.log('|---|---|---|---|---|');
      for (const { c, beast: b, tsbeast: t } of rows) {
        const same = show(b) === show(t);
        console.log(`| ${c.group} | ${c.name} | ${show(b)} | ${same ? 'same' : show(t)} | ${same ? '' : (c.tsbeast?.why ?? 'UNEXPLAINED')} |`);
      }
    }
  });

  it('has at least 40 cases', () => {
    expect(cases.length).to.be.at.least(40);
  });

  for (const c of cases) {
    it(`${c.group}: ${c.name}`, async () => {
      const b = await exchange(beastPort, c);
      const be = await beast.next(/^end \d+ (\S+) (\S+) (\d+) /, 5000);
      const beastOutcome: Outcome = { ...b, error: errorName(be[2]!, Number(be[3])) };
      const t = await exchange(ts.port, c);
      const te = await ts.nextSession(5000);
      const tsOutcome: Outcome = { ...t, error: te.error };
      rows.push({ c, beast: beastOutcome, tsbeast: tsOutcome });
      expect(show(beastOutcome), 'Beast').to.equal(show(c.beast));
      const { why, ...expected } = c.tsbeast ?? { why: '', ...c.beast };
      expect(show(tsOutcome), `tsbeast (${why || 'as Beast'})`).to.equal(show(expected));
    });
  }
});
