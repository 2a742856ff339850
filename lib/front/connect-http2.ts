/**
 * The HTTP/2 branch of `connect(url, { http2 })` (RFC 8441): take the origin's pooled session (or
 * start one), wait until it is connected, open the extended CONNECT on it with the same options
 * as the HTTP/1.1 upgrade, and yield the same `Stream`, over an `Http2Layer`. When the server does
 * not offer it (ALPN picked `http/1.1`, or its SETTINGS do not enable the extended CONNECT) the
 * branch says so and `connect` goes on over HTTP/1.1. It never leaves its session's user count
 * raised when it fails: the last user's end closes the session.
 */

import type { TLSSocket } from 'node:tls';

import {
  CancellationType,
  fromNodeError,
  error as netError,
  type ChildOp,
  type ComposedSelf,
  type ErrorCode,
} from '../net/index.js';
import { Response } from '../beast/http/index.js';
import { Decorator, none, PermessageDeflate, Stream, Timeout } from '../beast/websocket/index.js';
import { clientContext, decorateRequest, type ClientStream, type ConnectOptions, type ConnectSignature } from './connect.js';
import { setPlace } from './errors.js';
import { asyncHandshake } from './http2/handshake.js';
import { error as h2Error } from './http2/error.js';
import { Http2Layer } from './http2/layer.js';
import { waitForSettings, type SettingsSignature } from './http2/settings.js';
import { maxStreams, releaseSession, takeSession, type PooledSession } from './http2-pool.js';
import type { WebSocketUrl } from './url.js';

/** Whether `connect` tries HTTP/2 for `target`: `wss:` with `http2: true`, or either with `'h2c'`. */
export function wantsHttp2(target: WebSocketUrl, options: ConnectOptions): boolean {
  return options.http2 === 'h2c' ? !target.secure : options.http2 === true && target.secure;
}

/** What the branch tells `connect`: the operation completed, or go on over HTTP/1.1. */
export type Http2Outcome = 'completed' | 'fallback';

/**
 * The branch's steps, run inside `connect`'s composed operation (its cancellation, its deadline).
 *
 * @param remaining - milliseconds left of the handshake timeout (`Infinity` when disabled).
 * @param tried - receives the peer's address once the connection is up.
 */
export function* http2Steps(
  self: ComposedSelf<ConnectSignature>,
  target: WebSocketUrl,
  options: ConnectOptions,
  remaining: () => number,
  tried: string[],
  setStatus: (status: number) => void,
): Generator<ChildOp, Http2Outcome, readonly unknown[]> {
  const executor = self.getIoExecutor();
  const context = target.secure ? (options.sslContext ?? clientContext(options.ca)) : null;
  const layer = new Http2Layer(executor);
  const ws = new Stream<Http2Layer>(layer);
  const cancelled = (): boolean => self.cancelled() !== CancellationType.none;
  let entry: PooledSession;
  let claimed = false;
  let released = false;
  const release = (destroy = false): void => {
    if (released) return;
    released = true;
    releaseSession(entry, destroy, claimed);
  };
  const fail = (ec: ErrorCode): Http2Outcome => {
    layer.close();
    release();
    self.complete(cancelled() ? netError.operationAborted : ec, ws as ClientStream);
    return 'completed';
  };

  // A session with a free stream: the origin's pooled one, or a new one when it is full.
  for (;;) {
    entry = takeSession(target, context);
    released = false;
    const { session, socket } = entry;
    const [se, supported] = yield* self.call<SettingsSignature>((h) => waitForSettings(executor, session, remaining(), h));
    if (cancelled()) return fail(netError.operationAborted);
    // ALPN is known once TLS is up, and stays known after the socket closed.
    const picked = target.secure ? (socket as TLSSocket).alpnProtocol : 'h2c';
    if (typeof picked === 'string' && picked !== 'h2' && picked !== 'h2c') {
      // The server chose HTTP/1.1: this session is of no use to anyone.
      release(true);
      return 'fallback';
    }
    if (se !== null) return fail(se === h2Error.sessionClosed && entry.error !== undefined ? fromNodeError(entry.error) : se);
    entry.settled = true;
    if (!supported) {
      release();
      return 'fallback';
    }
    if (entry.active < maxStreams(entry)) break;
    release(); // full (SETTINGS_MAX_CONCURRENT_STREAMS): the next take opens another session
  }
  entry.active++;
  claimed = true;
  const { session, socket } = entry;
  const peerAddress = socket.remoteAddress ?? '';
  tried.splice(0, tried.length, peerAddress.includes(':') ? `[${peerAddress}]:${socket.remotePort}` : `${peerAddress}:${socket.remotePort}`);

  // The extended CONNECT, with the options an HTTP/1.1 upgrade would carry.
  ws.setOption(new Timeout(remaining() === Infinity ? none : remaining(), none, false));
  ws.setOption(new Decorator({ request: (req) => decorateRequest(req.fields, options) }));
  if (options.deflate !== undefined && options.deflate !== false) {
    const init = options.deflate === true ? {} : options.deflate;
    ws.setOption(new PermessageDeflate({ ...init, clientEnable: true }));
  }
  const res = new Response();
  const [hec] = yield* self.call<[ErrorCode | null]>((h) => asyncHandshake(ws, res, session, target.hostHeader, target.target, h));
  if (hec === h2Error.notOffered && !cancelled()) {
    release();
    tried.length = 0;
    return 'fallback';
  }
  setStatus(res.status);
  if (hec !== null || cancelled()) return fail(hec ?? netError.operationAborted);

  // The session is held as long as the WebSocket's HTTP/2 stream lives.
  const stream = layer.stream()!;
  if (stream.closed) release();
  else stream.once('close', () => release());
  const suggested = Timeout.suggested('client');
  const bound = options.handshakeTimeout ?? 30_000;
  ws.setOption(new Timeout(bound === Infinity ? none : bound, suggested.idleTimeout, suggested.keepAlivePings));
  ws.autoFragment(false); // one frame per message, as over HTTP/1.1 (connect.ts)
  setPlace(ws, { url: target.href, peer: tried[0] ?? '', protocol: res.fields.get('Sec-WebSocket-Protocol') ?? '', via: 'h2' });
  self.complete(null, ws as ClientStream);
  return 'completed';
}
