/**
 * The opening handshake of RFC 8441 as header blocks: the checks of an extended CONNECT (sections
 * 4 and 5), and the conversions between HTTP/2 header objects and the `http.Request` /
 * `http.Response` that a decorator, a routing hook or a caller's `resOut` work on, so that the
 * same code serves HTTP/1.1 and HTTP/2. No I/O here.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

import { type ErrorCode } from '../../net/index.js';
import { Fields, tokenListContains, Request, Response } from '../../beast/http/index.js';
import { error as wsError } from '../../beast/websocket/index.js';
import { error } from './error.js';

/** `version` of a message that came over HTTP/2 (Beast's encoding: 10 × major + minor). */
export const http2Version = 20;

/**
 * Fields that are about one HTTP/1.1 connection and must not appear in HTTP/2 (RFC 9113 section
 * 8.2.2): Node refuses to send them. A decorator written for HTTP/1.1 may set them; they are left
 * out here rather than failing the handshake. `Sec-WebSocket-Accept` has no meaning here either.
 */
const notForHttp2 = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'host', 'sec-websocket-accept', 'sec-websocket-key']);

/** A header's value as one string (Node gives repeated fields other than cookie as arrays). */
function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Whether a stream's request headers are an extended CONNECT for a WebSocket (RFC 8441 section
 * 4): `:method` CONNECT and `:protocol` websocket. Other streams (pages, plain CONNECT) are not.
 */
export function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  const protocol = one(headers[':protocol']);
  return one(headers[':method']) === 'CONNECT' && protocol !== undefined && protocol.toLowerCase() === 'websocket';
}

/**
 * The checks of an extended CONNECT that asks for a WebSocket, in the order of RFC 8441 sections
 * 4 and 5 and then RFC 6455's version rule: the error and the status to refuse with, or `null`.
 * A wrong version is refused with 400 and `sec-websocket-version: 13`, not 426, which needs an
 * Upgrade field that HTTP/2 does not have.
 */
export function checkConnectRequest(headers: IncomingHttpHeaders): readonly [ErrorCode, number] | null {
  if (one(headers[':method']) !== 'CONNECT') return [wsError.badMethod, 405];
  if (!isWebSocketConnect(headers)) return [error.badProtocol, 400];
  if (!one(headers[':scheme'])) return [error.noScheme, 400];
  if (!one(headers[':path'])) return [error.noPath, 400];
  if (!one(headers[':authority'])) return [error.noAuthority, 400];
  if (headers['sec-websocket-key'] !== undefined || headers['sec-websocket-accept'] !== undefined) return [error.secKeyPresent, 400];
  const version = one(headers['sec-websocket-version']);
  if (version === undefined) return [wsError.noSecVersion, 400];
  if (version.trim() !== '13') return [wsError.badSecVersion, 400];
  return null;
}

/**
 * The request as an `http.Request`: method `CONNECT`, target `:path`, version 20, `Host` from
 * `:authority`, then the regular fields in the order Node gives them. Pseudo-headers other than
 * those stay out; `headers[':protocol']` tells what was asked for.
 */
export function requestFromHttp2Headers(headers: IncomingHttpHeaders): Request {
  const fields = new Fields();
  const authority = one(headers[':authority']);
  if (authority !== undefined) fields.set('Host', authority);
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) fields.insert(name, v);
  }
  return new Request({ method: one(headers[':method']) ?? 'GET', target: one(headers[':path']) ?? '/', version: http2Version, fields });
}

/** The fields of `fields` as HTTP/2 header entries (lower-case names; repeats as arrays). */
function regularHeaders(fields: Fields, out: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    if (notForHttp2.has(key)) continue;
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

/**
 * The header block of the client's extended CONNECT for `req` (as the decorator left it):
 * `:method` CONNECT, `:protocol` websocket, `:scheme`, `:path` from the target, `:authority`
 * from `Host`, and the regular fields.
 */
export function connectHeaders(req: Request, scheme: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': req.target };
  const host = req.fields.get('Host');
  if (host !== undefined) out[':authority'] = host;
  return regularHeaders(req.fields, out);
}

/** The header block of a response: `:status` and the regular fields. */
export function responseHeaders(res: Response): OutgoingHttpHeaders {
  return regularHeaders(res.fields, { ':status': res.status });
}

/** A response header block as an `http.Response` (version 20). */
export function responseFromHttp2Headers(headers: IncomingHttpHeaders & { ':status'?: number }): Response {
  const fields = new Fields();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) fields.insert(name, String(v));
  }
  return new Response({ status: Number(headers[':status'] ?? 500), version: http2Version, fields });
}

/**
 * The client's checks of the response, before the extension (which `acceptResponse` checks
 * against the offer): any 2xx accepts (RFC 8441 section 5), anything else is
 * `upgradeDeclined`; a subprotocol the request did not offer is `badSubprotocol`, and an
 * extension answer to a request that offered none `badExtensionResponse` (RFC 6455 section 4.1).
 */
export function checkConnectResponse(res: Response, req: Request): ErrorCode | null {
  if (res.status < 200 || res.status > 299) return wsError.upgradeDeclined;
  const chosen = res.fields.get('Sec-WebSocket-Protocol');
  if (chosen !== undefined && !tokenListContains(req.fields.get('Sec-WebSocket-Protocol'), chosen.trim())) return wsError.badSubprotocol;
  if (res.fields.has('Sec-WebSocket-Extensions') && !req.fields.has('Sec-WebSocket-Extensions')) return wsError.badExtensionResponse;
  return null;
}
