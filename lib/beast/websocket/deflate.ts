/**
 * permessage-deflate negotiation (RFC 7692 section 7; Beast's `pmd_extension`): the options, the
 * client's offer, the server's answer to an offer, and the client's check of the answer. No I/O
 * and no compression here (see zlib-codec.ts).
 */

import type { ErrorCode } from '../../net/error.js';
import { error } from './error.js';

/** The permessage-deflate settings of a stream (Beast's `permessage_deflate` option). */
export interface PermessageDeflateInit {
  /** Offer the extension as a client (default false). */
  clientEnable?: boolean;
  /** Accept the extension as a server (default false). */
  serverEnable?: boolean;
  /** The server's LZ77 window, 9 to 15 bits (default 15). */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window, 9 to 15 bits (default 15). */
  clientMaxWindowBits?: number;
  /** Ask (or agree) that the server resets its compression context after each message. */
  serverNoContextTakeover?: boolean;
  /** Ask (or agree) that the client resets its compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** zlib compression level, 0 to 9 (default 8). */
  compLevel?: number;
  /** zlib memory level, 1 to 9 (default 4). */
  memLevel?: number;
  /** Messages shorter than this are sent uncompressed (default 0: compress all). */
  msgSizeThreshold?: number;
}

/** Validated permessage-deflate settings; set with `Stream.setOption`. */
export class PermessageDeflate {
  readonly clientEnable: boolean;
  readonly serverEnable: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly compLevel: number;
  readonly memLevel: number;
  readonly msgSizeThreshold: number;

  /** @throws RangeError for window bits outside 9–15, levels outside their ranges, a negative threshold. */
  constructor(init: PermessageDeflateInit = {}) {
    this.clientEnable = init.clientEnable ?? false;
    this.serverEnable = init.serverEnable ?? false;
    this.serverMaxWindowBits = checkInt('serverMaxWindowBits', init.serverMaxWindowBits ?? 15, 9, 15);
    this.clientMaxWindowBits = checkInt('clientMaxWindowBits', init.clientMaxWindowBits ?? 15, 9, 15);
    this.serverNoContextTakeover = init.serverNoContextTakeover ?? false;
    this.clientNoContextTakeover = init.clientNoContextTakeover ?? false;
    this.compLevel = checkInt('compLevel', init.compLevel ?? 8, 0, 9);
    this.memLevel = checkInt('memLevel', init.memLevel ?? 4, 1, 9);
    this.msgSizeThreshold = checkInt('msgSizeThreshold', init.msgSizeThreshold ?? 0, 0, Number.MAX_SAFE_INTEGER);
    Object.freeze(this);
  }
}

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`PermessageDeflate.${name}: an integer from ${lo} to ${hi}, not ${v}`);
  return v;
}

/** What both ends agreed on: the parameters of an active extension. */
export interface PmdConfig {
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
}

/** What `getStatus()` reports (Beast's `permessage_deflate_status`). */
export interface PermessageDeflateStatus {
  readonly active: boolean;
  readonly clientWindowBits: number;
  readonly serverWindowBits: number;
}

/** The parameters of one permessage-deflate entry; `true` for a parameter without a value. */
interface Offer {
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number | true;
  serverNoContextTakeover?: true;
  clientNoContextTakeover?: true;
}

/**
 * Splits a Sec-WebSocket-Extensions value into extensions, each a name and its parameters
 * (RFC 6455 section 9.1; quoted values unquoted). `null` when the syntax is broken.
 */
export function parseExtensions(value: string): Array<{ name: string; params: Array<[string, string | null]> }> | null {
  const out: Array<{ name: string; params: Array<[string, string | null]> }> = [];
  const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  for (const ext of splitOutsideQuotes(value, ',')) {
    const parts = splitOutsideQuotes(ext, ';').map((p) => p.trim());
    const name = parts.shift();
    if (name === undefined || !token.test(name)) return null;
    const params: Array<[string, string | null]> = [];
    for (const p of parts) {
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).trim();
      if (!token.test(key)) return null;
      if (eq < 0) {
        params.push([key.toLowerCase(), null]);
        continue;
      }
      let v = p.slice(eq + 1).trim();
      if (v.startsWith('"')) {
        if (v.length < 2 || !v.endsWith('"')) return null;
        v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      }
      if (!token.test(v)) return null;
      params.push([key.toLowerCase(), v]);
    }
    out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.filter((p) => p.trim() !== '');
}

// Parses the parameters of one permessage-deflate entry; null when they are invalid (RFC 7692
// section 7.1: a duplicate, a value out of range or where none belongs, an unknown parameter).
function parseOffer(params: Array<[string, string | null]>): Offer | null {
  const o: Offer = {};
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (seen.has(key)) return null;
    seen.add(key);
    switch (key) {
      case 'server_max_window_bits': {
        const bits = windowBits(value);
        if (bits === null) return null;
        o.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === null) {
          o.clientMaxWindowBits = true;
          break;
        }
        const bits = windowBits(value);
        if (bits === null) return null;
        o.clientMaxWindowBits = bits;
        break;
      }
      case 'server_no_context_takeover':
        if (value !== null) return null;
        o.serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== null) return null;
        o.clientNoContextTakeover = true;
        break;
      default:
        return null;
    }
  }
  return o;
}

function windowBits(value: string | null): number | null {
  // 8 to 15, "without leading zeroes" (RFC 7692 section 7.1.2.1).
  return value !== null && /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : null;
}

/** The client's offer for `options` (Beast writes both window sizes, always). */
export function makeOffer(options: PermessageDeflate): string {
  let s = `permessage-deflate; server_max_window_bits=${options.serverMaxWindowBits}; client_max_window_bits=${options.clientMaxWindowBits}`;
  if (options.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (options.clientNoContextTakeover) s += '; client_no_context_takeover';
  return s;
}

/**
 * The server's answer to the client's Sec-WebSocket-Extensions (Beast's `pmd_negotiate`): the
 * response field value and the agreed configuration, or `null` to decline (the handshake still
 * succeeds, without the extension). Only the first permessage-deflate entry is considered.
 */
export function negotiate(requestValue: string | undefined, options: PermessageDeflate): { response: string; config: PmdConfig } | null {
  if (!options.serverEnable || requestValue === undefined) return null;
  const exts = parseExtensions(requestValue);
  const entry = exts?.find((e) => e.name === 'permessage-deflate');
  if (entry === undefined) return null;
  const offer = parseOffer(entry.params);
  if (offer === null) return null;

  const serverNct = offer.serverNoContextTakeover === true || options.serverNoContextTakeover;
  const clientNct = options.clientNoContextTakeover || offer.clientNoContextTakeover === true;
  const serverBits = offer.serverMaxWindowBits !== undefined ? Math.min(offer.serverMaxWindowBits, options.serverMaxWindowBits) : options.serverMaxWindowBits;
  // zlib cannot deflate with an 8-bit window, and the answer must not exceed the offer: decline.
  if (serverBits < 9) return null;
  let clientBits: number;
  let writeClientBits: boolean;
  if (offer.clientMaxWindowBits === true) {
    clientBits = options.clientMaxWindowBits;
    writeClientBits = clientBits < 15;
  } else if (offer.clientMaxWindowBits === undefined) {
    // The client cannot be told to use a smaller window it did not say it supports.
    if (options.clientMaxWindowBits < 15) return null;
    clientBits = 15;
    writeClientBits = false;
  } else {
    // Never above the offer (RFC 7692 section 7.1.2.2); an 8 is fine, we inflate with 9 bits.
    clientBits = Math.min(options.clientMaxWindowBits, offer.clientMaxWindowBits);
    writeClientBits = true;
  }
  let response = 'permessage-deflate';
  if (serverBits < 15) response += `; server_max_window_bits=${serverBits}`;
  if (writeClientBits) response += `; client_max_window_bits=${clientBits}`;
  if (serverNct) response += '; server_no_context_takeover';
  if (clientNct) response += '; client_no_context_takeover';
  return {
    response,
    config: { serverMaxWindowBits: serverBits, clientMaxWindowBits: clientBits, serverNoContextTakeover: serverNct, clientNoContextTakeover: clientNct },
  };
}

/**
 * The client's check of the server's Sec-WebSocket-Extensions against its own offer. Unlike Beast,
 * which adopts whatever comes back, a response naming something not offered fails the handshake
 * (RFC 7692 section 5.1): an unknown extension, a malformed or repeated parameter, a
 * `client_max_window_bits` the client did not offer, a window larger than the client asked for.
 * Returns the agreed configuration, `null` when the server declined, or an error.
 */
export function acceptResponse(responseValue: string | undefined, options: PermessageDeflate): PmdConfig | null | ErrorCode {
  if (responseValue === undefined) return null;
  if (!options.clientEnable) return error.badExtensionResponse;
  const exts = parseExtensions(responseValue);
  if (exts === null || exts.length !== 1 || exts[0]!.name !== 'permessage-deflate') return error.badExtensionResponse;
  const got = parseOffer(exts[0]!.params);
  if (got === null || got.clientMaxWindowBits === true) return error.badExtensionResponse;
  const serverBits = got.serverMaxWindowBits ?? 15;
  if (serverBits > options.serverMaxWindowBits) return error.badExtensionResponse;
  // Without client_max_window_bits the client may use any window (RFC 7692 section 7.1.2.2): ours.
  const clientBits = got.clientMaxWindowBits ?? options.clientMaxWindowBits;
  // zlib cannot deflate with an 8-bit window (it uses 9), so that request cannot be honoured.
  if (clientBits > options.clientMaxWindowBits || clientBits < 9) return error.badExtensionResponse;
  if (options.serverNoContextTakeover && got.serverNoContextTakeover !== true) return error.badExtensionResponse;
  return {
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
    serverNoContextTakeover: got.serverNoContextTakeover === true,
    clientNoContextTakeover: got.clientNoContextTakeover === true || options.clientNoContextTakeover,
  };
}
