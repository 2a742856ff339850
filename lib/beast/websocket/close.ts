/**
 * Close codes and close-frame payloads (RFC 6455 sections 5.5.1 and 7.4). No I/O here.
 */

import { error } from './error.js';
import type { ErrorCode } from '../../net/error.js';
import { isValidUtf8 } from './utf8.js';

/** Named close codes (Beast's `close_code`). */
export const CloseCode = Object.freeze({
  /** No code was received (never sent on the wire). */
  none: 0,
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unknownData: 1003,
  /** Reserved: the close frame had no code (never sent on the wire). */
  noStatus: 1005,
  /** Reserved: the connection was lost without a close frame (never sent on the wire). */
  abnormal: 1006,
  badPayload: 1007,
  policyError: 1008,
  tooBig: 1009,
  needsExtension: 1010,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  badGateway: 1014,
} as const);

/** The code and reason of a close frame (Beast's `close_reason`). `code` 0 means none. */
export interface CloseReason {
  readonly code: number;
  readonly reason: string;
}

/** Builds a {@link CloseReason} from a code alone, or a code and reason text. */
export function closeReason(code: number, reason = ''): CloseReason {
  return Object.freeze({ code, reason });
}

/**
 * Whether a code may appear in a close frame: 1000–1003, 1007–1014 and 3000–4999. The range
 * 5000–65535 is not defined by RFC 6455 (section 7.4.2); Beast accepts it, tsbeast rejects it, as
 * Autobahn's suite expects (listed in docs/topics/differences.md).
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

/**
 * Checks a close reason the application wants to send (RFC 6455 section 7.4): the code is 0 (an
 * empty close frame, with no reason text) or one that {@link isValidCloseCode} accepts, so never
 * 1004, 1005, 1006, 1015 nor anything outside 1000–4999; the reason text is at most 123 bytes of
 * UTF-8, so that the payload fits a control frame. Beast sends whatever it is given (a code above
 * 65535 wraps, a long reason is cut); ws refuses, and so does tsbeast.
 *
 * @throws RangeError naming the rule broken.
 */
export function checkCloseReason(reason: CloseReason): void {
  const { code, reason: text } = reason;
  if (code === CloseCode.none) {
    if (text !== '') throw new RangeError('asyncClose: a reason text needs a close code');
    return;
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new RangeError(`asyncClose: ${code} is not a close code an endpoint may send (RFC 6455 section 7.4)`);
  }
  if (Buffer.byteLength(text, 'utf8') > 123) {
    throw new RangeError('asyncClose: the reason is longer than 123 bytes of UTF-8');
  }
}

/** The result of parsing a close frame's payload. */
export interface ParsedClose {
  readonly ec: ErrorCode | null;
  readonly reason: CloseReason;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const noReason = closeReason(CloseCode.none);

/**
 * Validates and parses a received close payload: empty is "no code"; one byte is
 * `badCloseSize`; an invalid code is `badCloseCode`; a reason that is not UTF-8 is
 * `badClosePayload` (checked in that order, as Beast does).
 */
export function parseClosePayload(payload: Uint8Array): ParsedClose {
  if (payload.length === 0) return { ec: null, reason: noReason };
  if (payload.length === 1) return { ec: error.badCloseSize, reason: noReason };
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) return { ec: error.badCloseCode, reason: noReason };
  const text = payload.subarray(2);
  if (!isValidUtf8(text)) return { ec: error.badClosePayload, reason: noReason };
  return { ec: null, reason: closeReason(code, utf8Decoder.decode(text)) };
}

/**
 * Encodes a close payload: empty for code 0, else the code and the reason's UTF-8 bytes, cut at a
 * character boundary so the payload fits a control frame (125 bytes).
 */
export function encodeClosePayload(reason: CloseReason): Uint8Array {
  if (reason.code === CloseCode.none) return new Uint8Array(0);
  const text = Buffer.from(reason.reason, 'utf8');
  let n = Math.min(text.length, 123);
  // Never cut a multi-byte character: back up over continuation bytes.
  if (n < text.length) while (n > 0 && (text[n]! & 0xc0) === 0x80) n--;
  const out = new Uint8Array(2 + n);
  out[0] = reason.code >> 8;
  out[1] = reason.code & 0xff;
  out.set(text.subarray(0, n), 2);
  return out;
}
