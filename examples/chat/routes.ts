// What the chat's HTTP server answers: the page at `/` (404 elsewhere, 405 for other methods),
// and which WebSocket upgrades may become members (the path, the page's Origin), with the name
// and token they asked for.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpgradeInfo, Verdict } from 'tsbeast/front';
import { page } from './page.js';
import { validName } from './protocol.js';
import type { Identity } from './websocket-session.js';

/** Answers a plain HTTP request. */
export function servePage(req: IncomingMessage, res: ServerResponse): void {
  const target = req.url ?? '/';
  const text = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (target.split('?')[0] !== '/') return void res.writeHead(404, text).end(`The resource '${target}' was not found.\n`);
  if (req.method !== 'GET') return void res.writeHead(405, { ...text, Allow: 'GET' }).end('Only GET here.\n');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(page);
}

/**
 * Which pages may open the chat's WebSocket. A browser sends the page's origin with every
 * upgrade and lets any page connect anywhere, so without this check any site a member visits
 * could post in the room as that member (cross-site WebSocket hijacking). The default is the
 * page's own origin, `http://` or `https://` and the Host the request came to; `ORIGINS` (a
 * comma-separated list) replaces it, e.g. for a site whose page is served elsewhere. Programs
 * that are not browsers send no Origin and are let in: they could send any Origin they liked.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string> | null;

  constructor(list: string | undefined) {
    const origins = (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    this.#allowed = origins.length > 0 ? new Set(origins) : null;
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.#allowed !== null) return this.#allowed.has(origin);
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  }
}

/**
 * The front door's verify hook: the chat is at `/chat` (and `/`, for clients given the page's
 * URL), and only pages the policy allows may open it; the refusal says why.
 */
export function verifier(origins: OriginPolicy): (info: UpgradeInfo) => Verdict {
  return ({ path, origin, request }) => {
    if (path !== '/chat' && path !== '/') return { status: 404, body: `The resource '${request.target}' was not found.\n` };
    if (origins.allows(origin, request.fields.get('Host'))) return true;
    return { status: 403, body: `The origin '${origin ?? ''}' may not open this chat.\n` };
  };
}

/** The name and token the page asked for in the query string, made valid. */
export function identityOf(info: UpgradeInfo): Identity {
  const query = new URLSearchParams(info.query);
  const token = query.get('token');
  return {
    name: validName(query.get('name')),
    // The token lets a browser take its name back after a reconnect; without one, a fresh one.
    token: token !== null && /^[A-Za-z0-9_-]{8,64}$/.test(token) ? token : crypto.randomUUID(),
  };
}
