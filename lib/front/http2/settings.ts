/**
 * Whether an HTTP/2 session offers WebSockets: RFC 8441 section 3 lets a client send an extended
 * CONNECT only after the server's SETTINGS carried SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. What the
 * front door's client asks before it chooses HTTP/2, or falls back to HTTP/1.1.
 */

import { EventEmitter } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';

import {
  type Handler,
  asyncCompose,
  toExecutor,
  type ExecutorLike,
  type ErrorCode,
  type AsyncResult,
  type CompletionToken,
  type TokenFor,
  type UsePromise,
} from '../../net/index.js';
import { error } from './error.js';
import { asyncWaitFor, type WaitSignature } from './wait.js';

/** The completion signature of {@link asyncWaitForSettings}: whether the peer offers WebSockets. */
export type SettingsSignature = [ec: ErrorCode | null, supported: boolean];

/**
 * Whether the peer's SETTINGS, as received so far, enable the extended CONNECT. `false` also
 * before they arrived: {@link asyncWaitForSettings} waits for them.
 */
export function supportsWebSockets(session: ClientHttp2Session): boolean {
  if (session.destroyed || session.closed || session.connecting) return false;
  return session.remoteSettings?.enableConnectProtocol === true;
}

/**
 * Waits until the session is connected and the peer's SETTINGS are known, and completes with
 * whether they enable the extended CONNECT. When they do not yet, a PING settles it: the server's
 * SETTINGS are the first frame it sends (RFC 9113 section 3.4), so once the PING's answer came,
 * the SETTINGS are in. Completes with `http2.error.sessionClosed` when the session closes or fails
 * first. Per-operation cancellation: terminal, partial and total (nothing is consumed).
 */
export function asyncWaitForSettings(executor: ExecutorLike, session: ClientHttp2Session, handler: Handler<SettingsSignature>): void;
export function asyncWaitForSettings<T extends CompletionToken = UsePromise>(
  executor: ExecutorLike,
  session: ClientHttp2Session,
  token?: T,
): AsyncResult<T, SettingsSignature>;
export function asyncWaitForSettings(executor: ExecutorLike, session: ClientHttp2Session, token?: TokenFor<SettingsSignature>): unknown {
  return asyncCompose<SettingsSignature, TokenFor<SettingsSignature> | undefined>(function* (self) {
    const [ec, supported] = yield* self.call<SettingsSignature>((h) => waitForSettings(executor, session, Infinity, h));
    self.complete(ec, supported);
  }, token, executor);
}

/** {@link asyncWaitForSettings} with a time limit (`beast.error.timeout`), for the handshake. */
export function waitForSettings(executor: ExecutorLike, session: ClientHttp2Session, timeoutMs: number, handler: Handler<SettingsSignature>): void {
  const ex = toExecutor(executor);
  asyncCompose<SettingsSignature, Handler<SettingsSignature>>(function* (self) {
    const deadline = Date.now() + timeoutMs;
    const closedNow = (): WaitSignature | null => (session.destroyed || session.closed ? [error.sessionClosed, 'close', undefined] : null);
    if (session.connecting) {
      const [ec, event] = yield* self.call<WaitSignature>((h) =>
        asyncWaitFor(ex, session, ['connect', 'close', 'error'], h, closedNow, deadline - Date.now()),
      );
      if (ec !== null) return self.complete(ec, false);
      if (event !== 'connect') return self.complete(error.sessionClosed, false);
    }
    const closed = closedNow();
    if (closed !== null) return self.complete(closed[0], false);
    if (supportsWebSockets(session)) return self.complete(null, true);
    // Not (yet) offered: the SETTINGS or the PING's answer, whichever comes first, tells.
    const relay = new EventEmitter();
    const onSettings = (): void => void relay.emit('settings');
    const onClose = (): void => void relay.emit('close');
    session.on('remoteSettings', onSettings);
    session.on('close', onClose);
    session.on('error', onClose);
    self.onComplete(() => {
      session.removeListener('remoteSettings', onSettings);
      session.removeListener('close', onClose);
      session.removeListener('error', onClose);
    });
    try {
      session.ping((err) => void relay.emit(err === null ? 'pong' : 'close'));
    } catch {
      // Too many PINGs outstanding: the SETTINGS alone will tell (or the time limit).
    }
    const [ec, event] = yield* self.call<WaitSignature>((h) => asyncWaitFor(ex, relay, ['settings', 'pong', 'close'], h, undefined, deadline - Date.now()));
    if (ec !== null) return self.complete(ec, false);
    if (event === 'close') return self.complete(error.sessionClosed, false);
    self.complete(null, supportsWebSockets(session));
  }, handler, ex);
}
