/**
 * The front door's HTTP/2 sessions: one per origin (scheme, host, port and TLS context), shared
 * by every WebSocket `connect(url, { http2 })` opens there, and closed when the last of them ends,
 * so that no idle session holds the process. A session is in the pool from the moment its
 * connection starts, so WebSockets opened together share it too. Over TLS the client offers ALPN
 * `h2` and `http/1.1`; what the server picks tells whether HTTP/2 is to be used at all.
 */

import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';

import type { ssl } from '../net/index.js';
import type { WebSocketUrl } from './url.js';

/** One pooled session and the WebSockets (or connects under way) that hold it. */
export interface PooledSession {
  readonly session: http2.ClientHttp2Session;
  /** The transport under the session: TLS (ALPN tells `h2` from `http/1.1`) or TCP for h2c. */
  readonly socket: net.Socket;
  readonly key: string;
  users: number;
  /** The server sent GOAWAY: streams open go on, new ones go to a new session. */
  goingAway: boolean;
  /** The WebSockets that claimed one of the session's streams (opening or open). */
  active: number;
  /** Whether the server's SETTINGS are known (its stream limit then counts). */
  settled: boolean;
  /** The first error the session or its socket reported (why it closed: refused, reset…). */
  error: unknown;
}

const pool = new Map<string, PooledSession>();
const contextIds = new WeakMap<object, number>();
let nextContextId = 1;

function contextId(context: ssl.SslContext | null): number {
  if (context === null) return 0;
  let id = contextIds.get(context);
  if (id === undefined) contextIds.set(context, (id = nextContextId++));
  return id;
}

// A session takes one more WebSocket while it is open, not going away, and below the server's
// SETTINGS_MAX_CONCURRENT_STREAMS (a stream beyond it would be refused); else a new one is opened.
function usable(entry: PooledSession): boolean {
  const s = entry.session;
  if (s.closed || s.destroyed || entry.socket.destroyed || entry.goingAway) return false;
  return entry.active < maxStreams(entry);
}

/** The server's SETTINGS_MAX_CONCURRENT_STREAMS, once its SETTINGS came (unbounded before). */
export function maxStreams(entry: PooledSession): number {
  const s = entry.session;
  return s.connecting || !entry.settled ? Infinity : (s.remoteSettings?.maxConcurrentStreams ?? Infinity);
}

/**
 * Takes a session for `target` (a new one or the origin's pooled one) and counts one more user:
 * every take is matched by one {@link releaseSession}.
 *
 * @param target - the WebSocket URL (its host and port name the origin).
 * @param context - the TLS context (for `wss:`), `null` for h2c.
 */
export function takeSession(target: WebSocketUrl, context: ssl.SslContext | null): PooledSession {
  const key = `${context === null ? 'h2c' : 'h2'}|${target.host}|${target.port}|${contextId(context)}`;
  const found = pool.get(key);
  if (found !== undefined && usable(found)) {
    found.users++;
    return found;
  }
  const socket: net.Socket =
    context === null
      ? net.connect({ host: target.host, port: target.port })
      : tls.connect({
          host: target.host,
          port: target.port,
          servername: target.isAddress ? undefined : target.host,
          secureContext: context.nativeHandle(),
          ALPNProtocols: ['h2', 'http/1.1'],
        });
  const authority = `${context === null ? 'http' : 'https'}://${target.hostHeader}`;
  const session = http2.connect(authority, { createConnection: () => socket });
  const entry: PooledSession = { session, socket, key, users: 1, goingAway: false, active: 0, settled: false, error: undefined };
  // Failures reach the waiting operations through 'close'; an 'error' without a listener would throw.
  session.on('error', (err: unknown) => void (entry.error ??= err));
  socket.on('error', (err: unknown) => void (entry.error ??= err));
  pool.set(key, entry);
  session.once('goaway', () => {
    entry.goingAway = true;
    if (pool.get(key) === entry) pool.delete(key);
  });
  session.once('close', () => {
    if (pool.get(key) === entry) pool.delete(key);
  });
  return entry;
}

/**
 * Counts one user less (and, with `claimed`, one stream less); the last one closes the session (gracefully: streams still closing finish).
 * With `destroy`, the session goes at once whoever uses it (the server picked HTTP/1.1).
 */
export function releaseSession(entry: PooledSession, destroy = false, claimed = false): void {
  entry.users = Math.max(0, entry.users - 1);
  if (claimed) entry.active = Math.max(0, entry.active - 1);
  if (destroy) {
    if (pool.get(entry.key) === entry) pool.delete(entry.key);
    entry.session.destroy();
    entry.socket.destroy();
    return;
  }
  if (entry.users > 0) return;
  if (pool.get(entry.key) === entry) pool.delete(entry.key);
  if (entry.session.connecting) entry.session.destroy();
  else entry.session.close();
  // A session whose peer never answers its GOAWAY must not hold the socket: bounded.
  const timer = setTimeout(() => {
    entry.session.destroy();
    entry.socket.destroy();
  }, 1000);
  timer.unref();
  entry.socket.once('close', () => clearTimeout(timer));
  if (entry.socket.destroyed) clearTimeout(timer);
}

/** How many sessions the pool holds (for specs and diagnostics). */
export function pooledSessions(): number {
  return pool.size;
}
