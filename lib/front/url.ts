/**
 * WebSocket URLs (RFC 6455 section 3) and the order in which a client tries a host's addresses.
 * Plain values; no I/O, no lookups.
 */

import { isIP } from 'node:net';
import type { Endpoint } from '../net/index.js';

/** A parsed `ws:` / `wss:` URL, with what the handshake needs. */
export interface WebSocketUrl {
  /** The URL as given, normalised (`ws://example.com/chat?room=1`), without a fragment. */
  readonly href: string;
  readonly secure: boolean;
  /** The host name or address, IPv6 without brackets. */
  readonly host: string;
  /** Whether `host` is an IP address (then no SNI is sent, and the certificate must name the address). */
  readonly isAddress: boolean;
  readonly port: number;
  /** The `Host` field: the host (IPv6 in brackets), and `:port` when it is not the scheme's default. */
  readonly hostHeader: string;
  /** The request-target: path and query (`/chat?room=1`). */
  readonly target: string;
}

/**
 * Parses `url` for a client. `http:` and `https:` are not accepted: a WebSocket URL says what it
 * is (RFC 6455 section 3).
 *
 * @throws TypeError when `url` does not parse, its scheme is not `ws:` or `wss:`, or it has a
 *   fragment or credentials.
 */
export function parseWebSocketUrl(url: string | URL): WebSocketUrl {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    throw new TypeError(`connect: not a URL: ${String(url)}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new TypeError(`connect: the scheme must be ws: or wss:, not ${u.protocol} (${u.href})`);
  }
  if (u.hash !== '') throw new TypeError(`connect: a WebSocket URL has no fragment (${u.href})`);
  if (u.username !== '' || u.password !== '') {
    throw new TypeError(`connect: credentials in the URL are not sent; use options.headers (${u.origin})`);
  }
  const secure = u.protocol === 'wss:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  // URL drops a port equal to the scheme's default, so an empty port is the default.
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  return {
    href: u.href,
    secure,
    host,
    isAddress: isIP(host) !== 0,
    port,
    hostHeader: u.host,
    target: `${u.pathname === '' ? '/' : u.pathname}${u.search}`,
  };
}

/**
 * The addresses in the order a client tries them: the resolver's first address first, then
 * alternating between the two families (RFC 8305 section 4), so that a host whose IPv6 addresses
 * all fail is reached over IPv4 after one attempt, not after all of them.
 */
export function interleaveFamilies(endpoints: readonly Endpoint[]): Endpoint[] {
  if (endpoints.length === 0) return [];
  const first = endpoints[0]!.family;
  const same = endpoints.filter((e) => e.family === first);
  const other = endpoints.filter((e) => e.family !== first);
  const out: Endpoint[] = [];
  for (let i = 0; i < Math.max(same.length, other.length); i++) {
    if (i < same.length) out.push(same[i]!);
    if (i < other.length) out.push(other[i]!);
  }
  return out;
}
