/**
 * The WebSocket frame header (RFC 6455 section 5.2): encoding with the minimal length form, and
 * an incremental decoder that applies Beast's header checks in Beast's order and tracks the one
 * piece of framing state they need (whether a fragmented message is open). No I/O here.
 */

import type { ErrorCode } from '../../net/error.js';
import { error } from './error.js';
import { withBit } from './bits.js';

/** Frame opcodes. */
export const Opcode = Object.freeze({
  cont: 0,
  text: 1,
  binary: 2,
  close: 8,
  ping: 9,
  pong: 10,
} as const);
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Whether an opcode is a control opcode (close, ping, pong and the reserved 11–15). */
export function isControl(op: number): boolean {
  return (op & 0x8) !== 0;
}

/** The largest header: 2 bytes, 8 of extended length, 4 of masking key. */
export const maxHeaderSize = 14;

/** The size of a header for a payload of `length` bytes. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** What {@link encodeFrameHeader} writes. */
export interface FrameHeaderFields {
  fin: boolean;
  rsv1?: boolean;
  opcode: number;
  length: number;
  /** The masking key, or `undefined` for an unmasked (server) frame. */
  key?: number | undefined;
}

/**
 * Writes a frame header into `out` at `offset` with the minimal length encoding; returns the
 * number of bytes written.
 */
export function encodeFrameHeader(out: Uint8Array, offset: number, h: FrameHeaderFields): number {
  const len = h.length;
  const masked = h.key !== undefined;
  out[offset] = (h.fin ? 0x80 : 0) | (h.rsv1 === true ? 0x40 : 0) | (h.opcode & 0x0f);
  let i = offset + 2;
  if (len < 126) {
    out[offset + 1] = (masked ? 0x80 : 0) | len;
  } else if (len < 0x10000) {
    out[offset + 1] = (masked ? 0x80 : 0) | 126;
    out[i++] = len >>> 8;
    out[i++] = len & 0xff;
  } else {
    out[offset + 1] = (masked ? 0x80 : 0) | 127;
    const hi = Math.floor(len / 0x100000000);
    const lo = len >>> 0;
    out[i++] = hi >>> 24;
    out[i++] = (hi >>> 16) & 0xff;
    out[i++] = (hi >>> 8) & 0xff;
    out[i++] = hi & 0xff;
    out[i++] = lo >>> 24;
    out[i++] = (lo >>> 16) & 0xff;
    out[i++] = (lo >>> 8) & 0xff;
    out[i++] = lo & 0xff;
  }
  if (masked) {
    const k = h.key!;
    out[i++] = k >>> 24;
    out[i++] = (k >>> 16) & 0xff;
    out[i++] = (k >>> 8) & 0xff;
    out[i++] = k & 0xff;
  }
  return i - offset;
}

/** Which side of the connection decodes: a server requires masked frames, a client unmasked. */
/**
 * The payload length of a whole message at `bytes[at..at+avail)`: one unfragmented text or binary
 * frame, no reserved bit, a length below 64 KiB, header and payload all there; -1 for anything
 * else. Looks at the bytes only (the frame reader's whole-message shortcut).
 */
export function peekWholeMessage(bytes: Uint8Array, at: number, avail: number): number {
  if (avail < 2) return -1;
  const b0 = bytes[at]!;
  const b1 = bytes[at + 1]!;
  if (b0 !== 0x81 && b0 !== 0x82) return -1;
  const len7 = b1 & 0x7f;
  if (len7 === 127) return -1;
  const header = (len7 === 126 ? 4 : 2) + ((b1 & 0x80) !== 0 ? 4 : 0);
  if (avail < header) return -1;
  const length = len7 === 126 ? (bytes[at + 2]! << 8) | bytes[at + 3]! : len7;
  return avail >= header + length ? length : -1;
}

/**
 * The payload length announced by the data frame header at `bytes[at..at+avail)`: a text or
 * binary frame at a message boundary (`boundary`), a continuation within a message, with no
 * reserved bit; 0 for anything else or a header not all there. Looks at the bytes only.
 */
export function peekDataFrameSize(b: Uint8Array, at: number, avail: number, boundary: boolean): number {
  if (avail < 2) return 0;
  const op = b[at]! & 0x7f;
  if (boundary ? op !== Opcode.text && op !== Opcode.binary : op !== Opcode.cont) return 0;
  const len7 = b[at + 1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return avail < 4 ? 0 : (b[at + 2]! << 8) | b[at + 3]!;
  if (avail < 10) return 0;
  // A 64-bit length: the high half is 0 for any size a buffer may take (2^32 and over gives 0).
  const high = ((b[at + 2]! << 24) | (b[at + 3]! << 16) | (b[at + 4]! << 8) | b[at + 5]!) >>> 0;
  return high !== 0 ? 0 : ((b[at + 6]! << 24) | (b[at + 7]! << 16) | (b[at + 8]! << 8) | b[at + 9]!) >>> 0;
}

export type Role = 'client' | 'server';

/** Settings of a {@link FrameHeaderDecoder}. */
export interface FrameDecoderOptions {
  role: Role;
  /** permessage-deflate was negotiated, so RSV1 may mark a compressed message. */
  deflate?: boolean;
  /** The largest message accepted (0: no limit); checked on headers of uncompressed messages. */
  readMessageMax?: number;
}

/**
 * Decodes frame headers one at a time, checking them in Beast's order (reference section 5):
 * opcode and reserved bits against the open-message state, the masking rule for the role, the
 * minimal length encoding, then the message size limit, before any payload byte is read.
 *
 * After a successful {@link decode}, the fields describe the frame; the decoder has already
 * updated the message state (a data frame without FIN opens a message, with FIN closes it).
 * Fields are reused between frames so that decoding allocates nothing. Every connection holds
 * one, so the frame's first byte and mask bit, and the settings and message state, are kept as
 * bits behind accessors: seven fields rather than thirteen, 48 bytes less (bench/idle-memory).
 */
export class FrameHeaderDecoder {
  readMessageMax: number;
  /** The payload length of the decoded frame. */
  length = 0;
  key = 0;
  /** The error of the last failed {@link decode}. */
  error: ErrorCode | null = null;
  /** The payload bytes announced so far for the open message. */
  messageSize = 0;
  /** The decoded frame's first byte (FIN, RSV1-3, opcode), and its mask bit as bit 8. */
  #head = 0;
  /** The role, `deflate`, `messageOpen` and `messageCompressed` (see the bits below the class). */
  #state = 0;

  constructor(options: FrameDecoderOptions) {
    this.role = options.role;
    this.deflate = options.deflate ?? false;
    this.readMessageMax = options.readMessageMax ?? 0;
  }

  get role(): Role {
    return (this.#state & serverBit) !== 0 ? 'server' : 'client';
  }
  set role(role: Role) {
    this.#state = withBit(this.#state, serverBit, role === 'server');
  }

  /** permessage-deflate was negotiated, so RSV1 may mark a compressed message. */
  get deflate(): boolean {
    return (this.#state & deflateBit) !== 0;
  }
  set deflate(on: boolean) {
    this.#state = withBit(this.#state, deflateBit, on);
  }

  /** A fragmented message is open: the next data frame must be a continuation. */
  get messageOpen(): boolean {
    return (this.#state & messageOpenBit) !== 0;
  }
  set messageOpen(open: boolean) {
    this.#state = withBit(this.#state, messageOpenBit, open);
  }

  /** The open (or last) message was marked compressed by RSV1 on its first frame. */
  get messageCompressed(): boolean {
    return (this.#state & messageCompressedBit) !== 0;
  }
  set messageCompressed(compressed: boolean) {
    this.#state = withBit(this.#state, messageCompressedBit, compressed);
  }

  /** The decoded frame's FIN bit. */
  get fin(): boolean {
    return (this.#head & 0x80) !== 0;
  }
  /** The decoded frame's RSV1 bit. */
  get rsv1(): boolean {
    return (this.#head & 0x40) !== 0;
  }
  /** The decoded frame's opcode. */
  get opcode(): number {
    return this.#head & 0x0f;
  }
  /** Whether the decoded frame was masked (its key is {@link key}). */
  get masked(): boolean {
    return (this.#head & 0x100) !== 0;
  }

  /**
   * Decodes the header at `bytes[offset..end)`. Returns the header's size (> 0) on success, 0 when
   * more bytes are needed (nothing is consumed), or -1 on a protocol violation ({@link error}).
   */
  decode(bytes: Uint8Array, offset: number, end: number): number {
    const avail = end - offset;
    if (avail < 2) return 0;
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const size = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (avail < size) return 0;

    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const rsv23 = (b0 & 0x30) !== 0;
    const op = b0 & 0x0f;
    switch (op) {
      case Opcode.text:
      case Opcode.binary:
        if (this.messageOpen) return this.#fail(error.badDataFrame);
        if (rsv23 || (rsv1 && !this.deflate)) return this.#fail(error.badReservedBits);
        break;
      case Opcode.cont:
        if (!this.messageOpen) return this.#fail(error.badContinuation);
        if (rsv1 || rsv23) return this.#fail(error.badReservedBits);
        break;
      default:
        if (op !== Opcode.close && op !== Opcode.ping && op !== Opcode.pong) return this.#fail(error.badOpcode);
        if (!fin) return this.#fail(error.badControlFragment);
        if (len7 > 125) return this.#fail(error.badControlSize);
        if (rsv1 || rsv23) return this.#fail(error.badReservedBits);
    }
    const server = (this.#state & serverBit) !== 0;
    if (server && !masked) return this.#fail(error.badUnmaskedFrame);
    if (!server && masked) return this.#fail(error.badMaskedFrame);

    let i = offset + 2;
    let length = len7;
    if (len7 === 126) {
      length = (bytes[i]! << 8) | bytes[i + 1]!;
      i += 2;
      if (length < 126) return this.#fail(error.badSize);
    } else if (len7 === 127) {
      const hi = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
      const lo = ((bytes[i + 4]! << 24) | (bytes[i + 5]! << 16) | (bytes[i + 6]! << 8) | bytes[i + 7]!) >>> 0;
      i += 8;
      if (hi >= 0x80000000) return this.#fail(error.badSize);
      if (hi === 0 && lo < 0x10000) return this.#fail(error.badSize);
      // Beyond 2^53 a length cannot be counted exactly; no message that large can be accepted.
      if (hi >= 0x200000) return this.#fail(error.messageTooBig);
      length = hi * 0x100000000 + lo;
    }
    let key = 0;
    if (masked) {
      key = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    }

    if (!isControl(op)) {
      if (op !== Opcode.cont) {
        this.messageSize = 0;
        this.messageCompressed = rsv1;
      }
      const total = this.messageSize + length;
      if (total > Number.MAX_SAFE_INTEGER) return this.#fail(error.messageTooBig);
      // A compressed message is limited on its inflated size instead, while inflating.
      if (!this.messageCompressed && this.readMessageMax > 0 && total > this.readMessageMax) {
        return this.#fail(error.messageTooBig);
      }
      this.messageSize = total;
      this.messageOpen = !fin;
    }
    this.#head = (b0 & 0xff) | (masked ? 0x100 : 0);
    this.key = key;
    this.length = length;
    this.error = null;
    return size;
  }

  #fail(ec: ErrorCode): -1 {
    this.error = ec;
    return -1;
  }
}

// The bits of FrameHeaderDecoder's state field.
const serverBit = 1;
const deflateBit = 2;
const messageOpenBit = 4;
const messageCompressedBit = 8;
