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
  type ComposedSelf,
  type Executor,
  CancellationType,
  enableTotalCancellation,
  error as netError,
  toExecutor,
  type ExecutorLike,
  type ErrorCode,
} from '../../net/index.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/index.js';
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
 * the SETTINGS are in.
 *
 * Completes with `[ec, supported]`: `null` and whether the extended CONNECT is enabled
 * (without waiting when the session is connected and it is already); `http2.error.sessionClosed`
 * and `false` when the session closes or fails first; `operationAborted` and `false` after a
 * cancellation.
 *
 * @param executor The I/O executor (handlers without an executor of their own run there).
 * @param session The client session to ask.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, supported: boolean)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation types `terminal`, `partial` and `total`: the wait completes with
 * `operationAborted` and `false`, and the session is as it was (a PING sent meanwhile still gets
 * its answer, and changes nothing the caller can see), so the wait may simply be started again:
 * it has no side effect, as a timer's wait has none. A request that arrives while the wait for
 * the connection is completing is honoured before a PING asks for the SETTINGS (unless they are
 * in already: the wait has then nothing left to do, and completes with them).
 */
export function asyncWaitForSettings(executor: ExecutorLike, session: ClientHttp2Session, handler: Handler<SettingsSignature>): void;
/**
 * {@inheritDoc asyncWaitForSettings:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec, supported)`.
 */
export function asyncWaitForSettings<T extends CompletionToken = UsePromise>(
  executor: ExecutorLike,
  session: ClientHttp2Session,
  token?: T & TokenCheck<T, SettingsSignature>,
): AsyncResult<T, SettingsSignature>;
export function asyncWaitForSettings(executor: ExecutorLike, session: ClientHttp2Session, token?: TokenFor<SettingsSignature>): unknown {
  return asyncCompose<SettingsSignature, TokenFor<SettingsSignature> | undefined>((self) => settingsSteps(self, executor, session), token, executor);
}

/** The steps of {@link asyncWaitForSettings} (a generator of the module: see `asyncCompose`). */
function* settingsSteps(self: ComposedSelf<SettingsSignature>, executor: ExecutorLike, session: ClientHttp2Session) {
  // Nothing observable happens while waiting: every type is accepted and passed on.
  self.resetCancellationState(enableTotalCancellation, enableTotalCancellation);
  const [ec, supported] = yield* self.call<SettingsSignature>((h) => waitForSettings(executor, session, Infinity, h));
  self.complete(ec, supported);
}

/**
 * One relay per session for every waiter: the session's events are listened to once (so that
 * many WebSockets opened together do not pile listeners on the session), and at most one PING
 * is outstanding for them.
 */
interface Relay {
  readonly events: EventEmitter;
  pinging: boolean;
}

const relays = new WeakMap<ClientHttp2Session, Relay>();

function relayOf(session: ClientHttp2Session): Relay {
  let relay = relays.get(session);
  if (relay !== undefined) return relay;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  relay = { events, pinging: false };
  relays.set(session, relay);
  const forward = (event: string) => (): void => void events.emit(event);
  session.on('connect', forward('connect'));
  session.on('remoteSettings', forward('settings'));
  session.once('close', forward('close'));
  session.on('error', forward('close'));
  return relay;
}

/**
 * {@link asyncWaitForSettings} with a time limit (`beast.error.timeout`), for the handshake. Its
 * cancellation is {@link asyncWaitForSettings}'s: `terminal`, `partial` and `total`, whichever
 * the caller passes on (the handshake passes `terminal` only).
 */
export function waitForSettings(executor: ExecutorLike, session: ClientHttp2Session, timeoutMs: number, handler: Handler<SettingsSignature>): void {
  const ex = toExecutor(executor);
  asyncCompose<SettingsSignature, Handler<SettingsSignature>>((self) => waitForSettingsSteps(self, ex, session, timeoutMs), handler, ex);
}

/** The steps of {@link waitForSettings} (a generator of the module: see `asyncCompose`). */
function* waitForSettingsSteps(self: ComposedSelf<SettingsSignature>, ex: Executor, session: ClientHttp2Session, timeoutMs: number) {
  self.resetCancellationState(enableTotalCancellation, enableTotalCancellation);
  const deadline = Date.now() + timeoutMs;
  const closedNow = (): WaitSignature | null => (session.destroyed || session.closed ? [error.sessionClosed, 'close', undefined] : null);
  const closed = closedNow();
  if (closed !== null) return self.complete(closed[0], false);
  const relay = relayOf(session);
  if (session.connecting) {
    const [ec, event] = yield* self.call<WaitSignature>((h) => asyncWaitFor(ex, relay.events, ['connect', 'close'], h, closedNow, deadline - Date.now()));
    if (ec !== null) return self.complete(ec, false);
    if (event !== 'connect') return self.complete(error.sessionClosed, false);
  }
  if (supportsWebSockets(session)) return self.complete(null, true);
  // A request recorded while the connect wait's completion was queued (DESIGN section 4.5)
  // stops the wait before it asks for the SETTINGS.
  if (self.cancelled() !== CancellationType.none) return self.complete(netError.operationAborted, false);
  // Not (yet) offered: the SETTINGS or the PING's answer, whichever comes first, tells.
  if (!relay.pinging) {
    try {
      session.ping((err) => {
        relay.pinging = false;
        relay.events.emit(err === null ? 'pong' : 'close');
      });
      relay.pinging = true;
    } catch {
      // Too many PINGs outstanding: the SETTINGS alone will tell (or the time limit).
    }
  }
  const [ec, event] = yield* self.call<WaitSignature>((h) =>
    asyncWaitFor(ex, relay.events, ['settings', 'pong', 'close'], h, closedNow, deadline - Date.now()),
  );
  if (ec !== null) return self.complete(ec, false);
  if (event === 'close') return self.complete(error.sessionClosed, false);
  self.complete(null, supportsWebSockets(session));
}
