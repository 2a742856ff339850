/**
 * The line grammars of HTTP/1.1 (RFC 9112 sections 3, 4, 5 and 7.1): request-line, status-line,
 * field line, obs-fold continuation and chunk-size line, each parsed from one complete line
 * `b[s, e)` (without its CRLF) into strings or an `http.error` value. Which error a malformed line
 * gets follows Beast's left-to-right checks. Pure functions; no I/O and no state here.
 */

import type { Buffer } from 'node:buffer';

import type { ErrorCode } from '../../net/error.js';
import { error } from './error.js';
import { charClass, isChunkExtension, isToken, trimOws, HEX, TARGET, TOKEN } from './field-syntax.js';

const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;

/** A parsed request-line. */
export interface RequestLine {
  method: string;
  target: string;
  version: number;
}

/** A parsed status-line. */
export interface StatusLine {
  version: number;
  status: number;
  reason: string;
}

/** A parsed field line (name as received, value trimmed of OWS). */
export interface FieldLine {
  name: string;
  value: string;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * `HTTP/d.d` at `b[i, i + 8)` as Beast's number (1.1 is 11), or -1 when malformed. Only the
 * syntax is checked here; callers reject versions other than 10 and 11.
 */
function parseVersion(b: Buffer, i: number, e: number): number {
  if (e - i < 8) return -1;
  if (b[i] !== 0x48 || b[i + 1] !== 0x54 || b[i + 2] !== 0x54 || b[i + 3] !== 0x50 || b[i + 4] !== 0x2f) return -1;
  if (!isDigit(b[i + 5]) || b[i + 6] !== 0x2e || !isDigit(b[i + 7])) return -1;
  return (b[i + 5] - 0x30) * 10 + (b[i + 7] - 0x30);
}

/**
 * The HTTP-version that ends a request-line, when it is well formed (`HTTP/2.0` is 20), or -1: what
 * a server answers a request of a version it does not speak with (505, RFC 9110 section 15.6.6).
 */
export function trailingVersion(b: Buffer, s: number, e: number): number {
  return e - s < 8 || b[e - 9] !== SP ? -1 : parseVersion(b, e - 8, e);
}

/**
 * request-line = method SP request-target SP HTTP-version (RFC 9112 section 3). Exactly one SP
 * between the parts; the target may hold any visible byte or obs-text (Beast's rule; RFC 9112
 * section 3.2 forms are not told apart here).
 */
export function parseRequestLine(b: Buffer, s: number, e: number): RequestLine | ErrorCode {
  let i = s;
  while (i < e && (charClass[b[i]] & TOKEN) !== 0) i++;
  if (i === s || i === e || b[i] !== SP) return error.badMethod;
  const methodEnd = i++;
  const targetStart = i;
  while (i < e && (charClass[b[i]] & TARGET) !== 0) i++;
  if (i === targetStart || i === e || b[i] !== SP) return error.badTarget;
  const targetEnd = i++;
  const version = parseVersion(b, i, e);
  if (version < 0 || i + 8 !== e || version < 10 || version > 11) return error.badVersion;
  const line = b.toString('latin1', s, targetEnd);
  return { method: line.slice(0, methodEnd - s), target: line.slice(targetStart - s), version };
}

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4). The SP
 * after the status code is required, as in Beast; the reason may be empty.
 */
export function parseStatusLine(b: Buffer, s: number, e: number): StatusLine | ErrorCode {
  const version = parseVersion(b, s, e);
  if (version < 10 || version > 11) return error.badVersion;
  let i = s + 8;
  if (i === e || b[i] !== SP) return error.badVersion;
  i++;
  if (e - i < 4 || !isDigit(b[i]) || !isDigit(b[i + 1]) || !isDigit(b[i + 2]) || b[i + 3] !== SP) return error.badStatus;
  const status = (b[i] - 0x30) * 100 + (b[i + 1] - 0x30) * 10 + (b[i + 2] - 0x30);
  const reason = b.toString('latin1', i + 4, e);
  const bad = NOT_VALUE.exec(reason);
  if (bad !== null) return bad[0] === '\r' ? error.badLineEnding : error.badReason;
  return { version, status, reason };
}

// The first byte that may not appear in a field value or reason phrase (RFC 9110 section 5.5).
const NOT_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * `value` (decoded) checked and trimmed of OWS: a bare CR is a broken line ending (RFC 9112
 * section 2.2), as in Beast; any other control character is `badValue`.
 */
function checkedValue(value: string): string | ErrorCode {
  const bad = NOT_VALUE.exec(value);
  if (bad !== null) return bad[0] === '\r' ? error.badLineEnding : error.badValue;
  return trimOws(value);
}

/**
 * field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5). No whitespace is allowed
 * between the name and the colon (section 5.1: MUST reject), nor before the name. The line is
 * decoded once and checked with native regular expressions: the parser's hot path.
 */
export function parseFieldLine(b: Buffer, s: number, e: number): FieldLine | ErrorCode {
  const line = b.toString('latin1', s, e);
  const colon = line.indexOf(':');
  if (colon <= 0) return error.badField;
  const name = line.slice(0, colon);
  if (!isToken(name)) return error.badField;
  const value = checkedValue(line.slice(colon + 1));
  return typeof value === 'string' ? { name, value } : value;
}

/**
 * The content of an obs-fold continuation line (RFC 9112 section 5.2: a line that starts with
 * SP or HTAB), trimmed; the caller joins it to the field value with one SP.
 */
export function parseFoldLine(b: Buffer, s: number, e: number): string | ErrorCode {
  return checkedValue(b.toString('latin1', s, e));
}

/** Whether the byte starts an obs-fold continuation line. */
export function isFoldStart(c: number): boolean {
  return c === SP || c === HTAB;
}

/** The number of hex digits at the start of `b[s, e)`. */
function hexDigits(b: Buffer, s: number, e: number): number {
  let i = s;
  while (i < e && (charClass[b[i]] & HEX) !== 0) i++;
  return i - s;
}

/**
 * The chunk-size at `b[s, s + digits)`, or -1 when it needs more than 64 bits (Beast's bound).
 * Leading zeros are allowed. Sizes past 2^53 come back imprecise but larger than any limit.
 */
function chunkSize(b: Buffer, s: number, digits: number): number {
  let i = s;
  const end = s + digits;
  while (i < end && b[i] === 0x30) i++;
  if (end - i > 16) return -1;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i] | 0x20; // lower case
    v = v * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return v;
}

/**
 * chunk-size [ chunk-ext ] (RFC 9112 section 7.1): the size, or the error, checked in Beast's
 * order: a bare CR (`badLineEnding`), the size (`badChunk`), the body limit — `allowed` is how
 * many more body bytes it permits (`bodyLimit`) — then the extensions (`badChunkExtension`).
 */
export function parseChunkLine(b: Buffer, s: number, e: number, allowed: number): number | ErrorCode {
  const cr = b.indexOf(CR, s);
  if (cr >= 0 && cr < e) return error.badLineEnding;
  const digits = hexDigits(b, s, e);
  const size = digits === 0 ? -1 : chunkSize(b, s, digits);
  if (size < 0) return error.badChunk;
  if (size > Number.MAX_SAFE_INTEGER || size > allowed) return error.bodyLimit;
  if (!isChunkExtension(b, s + digits, e)) return error.badChunkExtension;
  return size;
}
