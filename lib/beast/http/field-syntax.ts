/**
 * The character classes and small grammars of HTTP/1.1 (RFC 9110 section 5, RFC 9112): token,
 * request-target, field value, chunk extension, comma-separated lists. Shared by the fields
 * container, the parser and the serializer. Pure functions over bytes or strings; no I/O here,
 * and nothing that allocates per byte: the parser runs these on every WebSocket handshake.
 */

// Byte classes, as bit flags in one 256-entry table (one lookup per byte).
/** Class flag: tchar (RFC 9110 section 5.6.2). */
export const TOKEN = 1;
/** Class flag: a request-target byte, any visible byte or obs-text (Beast's `is_pathchar`: no SP, CTL or DEL). */
export const TARGET = 2;
/** Class flag: field-vchar / SP / HTAB / obs-text (RFC 9110 section 5.5). */
export const VALUE = 4;
/** Class flag: quoted-string text (RFC 9110 section 5.6.4). */
export const QDTEXT = 8;
/** Class flag: a hex digit. */
export const HEX = 16;

/** The class flags of each byte value. */
export const charClass: Uint8Array = (() => {
  const t = new Uint8Array(256);
  const tchars = "!#$%&'*+-.^_`|~";
  for (let c = 0; c < 256; c++) {
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    const visible = (c > 0x20 && c < 0x7f) || c >= 0x80;
    let f = 0;
    if (alnum || tchars.includes(String.fromCharCode(c))) f |= TOKEN;
    if (visible) f |= TARGET | VALUE;
    if (c === 0x20 || c === 0x09) f |= VALUE | QDTEXT;
    if (visible && c !== 0x22 && c !== 0x5c) f |= QDTEXT;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) f |= HEX;
    t[c] = f;
  }
  return t;
})();

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values as this library accepts them from callers: field-vchar, SP, HTAB, obs-text.
const VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Whether `s` is a non-empty token (RFC 9110 section 5.6.2): field names and methods. */
export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/**
 * Whether `s` may be sent as a field value: no CR, LF, NUL or other control character (which
 * would let a value inject fields or end the header, RFC 9110 section 5.5), and no character
 * above U+00FF (field values are octets; this library writes them as latin1).
 */
export function isFieldValue(s: string): boolean {
  return VALUE_RE.test(s);
}

/** Whether `s` may be sent as a request-target: non-empty, visible characters or obs-text only. */
export function isTarget(s: string): boolean {
  return s.length > 0 && /^[\x21-\x7e\x80-\xff]+$/.test(s);
}

const isOws = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * The elements of a comma-separated list (RFC 9110 section 5.6.1), trimmed of optional
 * whitespace; empty elements are kept as `""` so callers can decide whether to allow them.
 */
export function listElements(value: string): string[] {
  const out = value.split(',');
  for (let i = 0; i < out.length; i++) out[i] = trimOws(out[i]);
  return out;
}

/** `s` without leading and trailing SP / HTAB (not other whitespace: RFC 9110 OWS only). */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isOws(s.charCodeAt(a))) a++;
  while (b > a && isOws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Whether the comma-separated list `value` holds `token`, compared case-insensitively
 * (Beast's `token_list::exists`): `tokenListContains('keep-alive, Upgrade', 'upgrade')` is true.
 * Whitespace around elements and empty elements are ignored. `undefined` holds nothing.
 */
export function tokenListContains(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const want = token.toLowerCase();
  // Fast path for the common single-element value ("Upgrade", "websocket").
  if (value.length === want.length && value.toLowerCase() === want) return true;
  for (const el of listElements(value)) if (el.length === want.length && el.toLowerCase() === want) return true;
  return false;
}

/**
 * Parses a Content-Length value (RFC 9110 section 8.6): a decimal number, or a list of equal
 * decimal numbers (which a recipient may accept as one). Returns the length, `-1` when the value
 * is malformed, or `-2` when the list holds different numbers. Numbers of more than 20 digits
 * (beyond 64 bits, Beast's bound) are malformed; numbers past 2^53 come back imprecise but larger
 * than any body limit.
 */
export function parseContentLength(value: string): number {
  let result = -1;
  for (const el of value.includes(',') ? listElements(value) : [trimOws(value)]) {
    if (!/^[0-9]{1,20}$/.test(el)) return -1;
    if (el.length === 20 && el > '18446744073709551615') return -1;
    const n = Number(el);
    if (result >= 0 && n !== result) return -2;
    result = n;
  }
  return result;
}

/**
 * Validates a chunk extension (RFC 9112 section 7.1.1) in `b[i, end)`:
 * `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`, ext-val a token or a quoted-string.
 * Returns whether the whole range matches.
 */
export function isChunkExtension(b: Uint8Array, i: number, end: number): boolean {
  const skipWs = (): void => {
    while (i < end && isOws(b[i])) i++;
  };
  const skipToken = (): boolean => {
    const start = i;
    while (i < end && (charClass[b[i]] & TOKEN) !== 0) i++;
    return i > start;
  };
  for (;;) {
    if (i === end) return true;
    skipWs(); // BWS is allowed only before a ";", never at the end (Beast agrees)
    if (i === end || b[i] !== 0x3b /* ; */) return false;
    i++;
    skipWs();
    if (!skipToken()) return false;
    const beforeWs = i;
    skipWs();
    if (i === end) return i === beforeWs; // no BWS at the end of the line
    if (b[i] === 0x3b) continue;
    if (b[i] !== 0x3d /* = */) return false;
    i++;
    skipWs();
    if (i < end && b[i] === 0x22 /* " */) {
      i++;
      for (;;) {
        if (i === end) return false;
        const c = b[i++];
        if (c === 0x22) break;
        if (c === 0x5c /* \ */) {
          // quoted-pair: HTAB / SP / VCHAR / obs-text
          if (i === end || (charClass[b[i]] & VALUE) === 0) return false;
          i++;
        } else if ((charClass[c] & QDTEXT) === 0) return false;
      }
    } else if (!skipToken()) return false;
  }
}
