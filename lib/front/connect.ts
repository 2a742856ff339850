/**
 * `connect(url)`: a WebSocket client from a URL, as one composed operation over the public API
 * of net and beast: resolve the host, connect to its addresses in turn, run TLS for `wss:`, then
 * the WebSocket handshake. It yields the `Stream` with its next layer, for any completion token.
 * It must never leave a socket open when it fails, and never complete inside its call.
 */

import {
  asyncCompose,
  cancelAfter,
  CancellationType,
  Endpoint,
  error as netError,
  Resolver,
  ssl,
  type AsyncResult,
  type ComposedBody,
  type ComposedSelf,
  type ErrorCode,
  type ExecutorLike,
  type TokenFor,
  type UsePromise,
} from '../net/index.js';
import { error as beastError, TcpStream } from '../beast/core/index.js';
import { Response } from '../beast/http/index.js';
import {
  Decorator,
  error as wsError,
  none,
  PermessageDeflate,
  Stream,
  Timeout,
  type PermessageDeflateInit,
} from '../beast/websocket/index.js';
import { frontExecutor, watchContext } from './context.js';
import { initiateDescribed, setPlace } from './errors.js';
import { interleaveFamilies, parseWebSocketUrl, type WebSocketUrl } from './url.js';
import { http2Steps, wantsHttp2 } from './connect-http2.js';
import type { Http2Layer } from './http2/layer.js';

/**
 * The stream `connect` yields: a WebSocket over TCP (`ws:`), over TLS over TCP (`wss:`), or over
 * one stream of an HTTP/2 session (`http2` option; `streamInfo(ws).via` says which was used).
 */
export type ClientStream = Stream<TcpStream | ssl.SslStream<TcpStream> | Http2Layer>;

/** The completion signature of {@link connect}: the error and the stream (closed on failure). */
export type ConnectSignature = [ec: ErrorCode | null, stream: ClientStream];

/** A PEM certificate (or several), as text or bytes. */
export type Pem = string | Uint8Array;

/** The options of {@link connect}; every one may be left out. */
export interface ConnectOptions {
  /**
   * Where handlers run: an `IoContext` (then someone must run it: the front door warns after
   * a second if nobody does), a strand, any executor. Default: `systemExecutor`, Node's own loop.
   */
  readonly executor?: ExecutorLike;
  /** Subprotocols to offer, in order of preference (`Sec-WebSocket-Protocol`). */
  readonly protocols?: readonly string[];
  /** Extra fields for the upgrade request (`Authorization`, `Origin`, `User-Agent`…). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Offer permessage-deflate (RFC 7692): `true` for the defaults, or the parameters
   * (`clientEnable` is implied). Default: off, as in Beast.
   */
  readonly deflate?: boolean | Omit<PermessageDeflateInit, 'clientEnable' | 'serverEnable'>;
  /**
   * The time the whole connect may take, in milliseconds: lookup, TCP, TLS and the WebSocket
   * handshake (and later each closing handshake). Default 30 000, Beast's suggested value;
   * `Infinity` disables it. When it passes, the connect fails with `beast.error.timeout`.
   */
  readonly handshakeTimeout?: number;
  /** Aborts the connect (terminal cancellation): it fails with `operationAborted`, `.cause` the reason. */
  readonly signal?: AbortSignal;
  /**
   * For `wss:`: the certificate authorities to trust instead of Node's bundled roots (a private
   * CA, a self-signed server certificate). The server's name is verified in every case.
   */
  readonly ca?: Pem | readonly Pem[];
  /** For `wss:`: a context of your own (client certificates, pinned versions); `ca` then is ignored. */
  readonly sslContext?: ssl.SslContext;
  /**
   * Open the WebSocket over HTTP/2 (RFC 8441's extended CONNECT) when the server offers it.
   * `true`: for `wss:` only, with ALPN `h2` (a `ws:` URL then goes over HTTP/1.1, as browsers
   * do); `'h2c'`: for `ws:` only, cleartext HTTP/2 with prior knowledge (the server must speak
   * it). WebSockets to one origin share one pooled session, closed when the last of them ends.
   * When the server picks HTTP/1.1 in ALPN, or its SETTINGS do not enable the extended CONNECT,
   * `connect` falls back to the HTTP/1.1 upgrade. Default: `false`, HTTP/1.1 only.
   */
  readonly http2?: boolean | 'h2c';
}

/**
 * Connects to a WebSocket server at `url` (`ws://` or `wss://`) and performs the opening
 * handshake.
 *
 * The host is looked up with the system resolver; its addresses (IPv6 and IPv4, alternated as
 * RFC 8305 orders them) are tried one after the other until one accepts. Default ports are 80
 * and 443; `Host` carries the port when it is not the default. For `wss:` the server's name goes
 * out as SNI and its certificate is verified against Node's bundled roots (or `options.ca`), and
 * the name is checked. The stream gets `Timeout.suggested('client')` (handshake bound as
 * `options.handshakeTimeout`), and `autoFragment(false)`: each message goes out as one frame, as
 * ws sends it (Beast's default of 4 KiB frames stays on streams made directly).
 *
 * Signature `[ec, stream]`: the open stream; on failure the error (`connectionRefused` from
 * the last address tried, `hostNotFound`, `beast.error.timeout`, an `ssl.error` value such as
 * `hostnameMismatch`, `websocket.error.upgradeDeclined` when the server answered with a status
 * other than 101…) and the stream, closed. With the default token the promise rejects with a
 * `SystemError` whose message names the URL and the addresses tried.
 *
 * With `options.http2` the WebSocket is opened over HTTP/2 (RFC 8441) when the server offers it:
 * on the origin's pooled session (one per scheme, host, port and TLS context, shared by every
 * WebSocket `connect` opens there, closed when the last of them ends), after the server's
 * SETTINGS, with an extended CONNECT carrying the same fields, subprotocols and extension offer
 * as the upgrade request. When ALPN picks `http/1.1`, or the SETTINGS do not enable the extended
 * CONNECT, `connect` falls back to the HTTP/1.1 upgrade; `streamInfo(ws).via` says which was used
 * (`'h2'`: the stream's next layer is an `Http2Layer`). The handshake timeout covers the session's
 * connection, the SETTINGS and the CONNECT's answer.
 *
 * @param url The `ws://` or `wss://` URL to connect to.
 * @param options What to offer and how long to wait; see {@link ConnectOptions}.
 *
 * @throws TypeError at once for a URL that does not parse or whose scheme is not `ws:` / `wss:`.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, through a cancellation slot bound to the token or
 * `options.signal`: the step in progress (lookup, TCP connect, TLS, the wait for an HTTP/2
 * session or its SETTINGS, the handshake) is cancelled, the connection closed (over HTTP/2 the
 * stream is reset and the session released, closed when no other WebSocket holds it), and
 * `connect` completes with `operationAborted` and the closed stream. `partial` and `total` alone
 * are ignored.
 *
 * ```ts
 * const ws = await connect('wss://example.com/chat', { protocols: ['chat'], http2: true });
 * ```
 */
export function connect(url: string | URL, options?: ConnectOptions): Promise<ClientStream>;
/**
 * {@inheritDoc connect:0}
 * @param token Any completion token. The result is what the token makes of the completion
 *   `(ec, stream)`.
 */
export function connect<T extends TokenFor<ConnectSignature>>(
  url: string | URL,
  options: ConnectOptions | undefined,
  token: T,
): AsyncResult<T, ConnectSignature>;
export function connect(url: string | URL, options: ConnectOptions = {}, token?: TokenFor<ConnectSignature>): unknown {
  const target = parseWebSocketUrl(url);
  const executor = frontExecutor(options.executor);
  const timeoutMs = options.handshakeTimeout ?? 30_000;
  if (!(timeoutMs > 0)) throw new RangeError(`connect: handshakeTimeout must be positive, not ${timeoutMs}`);
  const tried: string[] = [];
  let status = 0;
  watchContext(options.executor, `connect ${target.href}`);
  return initiateDescribed<ConnectSignature, TokenFor<ConnectSignature> | undefined>(
    (t) => asyncCompose<ConnectSignature, TokenFor<ConnectSignature>>(
      (self) => connectSteps(self, target, options, timeoutMs, tried, (s) => (status = s)),
      t,
      executor,
    ),
    token as TokenFor<ConnectSignature> | undefined,
    (ec) => {
      const where = tried.length === 0 ? '' : ` (${tried.length === 1 ? 'peer' : 'tried'} ${tried.join(', ')})`;
      const declined = ec === wsError.upgradeDeclined && status !== 0 ? `, HTTP ${status}` : '';
      return `connect ${target.href}${where}${declined}`;
    },
    options.signal,
  ) as AsyncResult<UsePromise, ConnectSignature>;
}

function* connectSteps(
  self: ComposedSelf<ConnectSignature>,
  target: WebSocketUrl,
  options: ConnectOptions,
  timeoutMs: number,
  tried: string[],
  setStatus: (status: number) => void,
): ComposedBody {
  const executor = self.getIoExecutor();
  const deadline = performance.now() + timeoutMs;
  const remaining = (): number => Math.max(1, deadline - performance.now());
  if (wantsHttp2(target, options)) {
    const outcome = yield* http2Steps(self, target, options, () => (timeoutMs === Infinity ? Infinity : remaining()), tried, setStatus);
    if (outcome === 'completed') return;
    if (self.cancelled() !== CancellationType.none) return self.complete(netError.operationAborted, new Stream<TcpStream>(new TcpStream(executor)) as ClientStream);
  }
  const tcp = new TcpStream(executor);
  const tls = target.secure ? new ssl.SslStream(tcp, options.sslContext ?? clientContext(options.ca)) : null;
  const ws: ClientStream = new Stream<TcpStream | ssl.SslStream<TcpStream>>(tls ?? tcp);
  const cancelled = (): boolean => self.cancelled() !== CancellationType.none;
  const fail = (ec: ErrorCode): void => {
    tls?.close();
    tcp.close();
    self.complete(cancelled() ? netError.operationAborted : ec, ws);
  };

  // Look the host up (an address literal comes back as it is), bounded by the deadline.
  const [rec, found] = yield* self.call<[ErrorCode | null, Endpoint[]]>((h) =>
    timeoutMs === Infinity
      ? new Resolver(executor).asyncResolve(target.host, target.port, h)
      : new Resolver(executor).asyncResolve(target.host, target.port, cancelAfter(remaining(), h)),
  );
  if (cancelled()) return fail(netError.operationAborted);
  if (rec !== null) return fail(rec === netError.operationAborted ? beastError.timeout : rec);

  // Ordered fallback: each address in turn, all within the one deadline.
  let last: ErrorCode = netError.notFound;
  let connected = false;
  for (const endpoint of interleaveFamilies(found)) {
    tried.push(endpoint.toString());
    tcp.close();
    if (timeoutMs !== Infinity) tcp.expiresAfter(remaining());
    const [ec] = yield* self.call<[ErrorCode | null]>((h) => tcp.asyncConnect(endpoint, h));
    if (ec === null) {
      connected = true;
      break;
    }
    last = ec;
    if (cancelled() || ec === beastError.timeout) break;
  }
  if (!connected) return fail(last);
  tried.splice(0, tried.length - 1); // the peer: only the address that answered is named from here

  if (tls !== null) {
    if (!target.isAddress) tls.setHostname(target.host);
    if (timeoutMs !== Infinity) tcp.expiresAfter(remaining());
    const [ec] = yield* self.call<[ErrorCode | null]>((h) => tls.asyncHandshake('client', h));
    if (ec !== null || cancelled()) return fail(ec ?? netError.operationAborted);
  }
  // From here the WebSocket stream's own timeouts apply, as Beast advises for a tcp_stream.
  tcp.expiresNever();

  ws.setOption(new Timeout(timeoutMs === Infinity ? none : remaining(), none, false));
  ws.setOption(new Decorator({ request: (req) => decorateRequest(req.fields, options) }));
  if (options.deflate !== undefined && options.deflate !== false) {
    const init = options.deflate === true ? {} : options.deflate;
    ws.setOption(new PermessageDeflate({ ...init, clientEnable: true }));
  }
  const res = new Response();
  const [hec] = yield* self.call<[ErrorCode | null]>((h) => ws.asyncHandshake(res, target.hostHeader, target.target, h));
  setStatus(res.status);
  if (hec !== null || cancelled()) return fail(hec ?? netError.operationAborted);

  const suggested = Timeout.suggested('client');
  ws.setOption(new Timeout(timeoutMs === Infinity ? none : timeoutMs, suggested.idleTimeout, suggested.keepAlivePings));
  // One frame per message, as ws sends: the front door writes whole messages, and 4 KiB frames
  // (Beast's auto-fragment default) cost both ends a header and the peer a frame to parse per 4 KiB
  // (bench/native: the client at 0.5-0.7x ws's rate at 64 KiB and 1 MiB with them, 1.0-1.2x without).
  ws.autoFragment(false);
  setPlace(ws, { url: target.href, peer: tried[0] ?? '', protocol: res.fields.get('Sec-WebSocket-Protocol') ?? '', via: 'http/1.1' });
  self.complete(null, ws);
}

/** Adds the subprotocols and extra fields of `options` to an opening request. */
export function decorateRequest(fields: { set(name: string, value: string): unknown }, options: ConnectOptions): void {
  if (options.protocols !== undefined && options.protocols.length > 0) {
    fields.set('Sec-WebSocket-Protocol', options.protocols.join(', '));
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) fields.set(name, value);
}

// One context per set of authorities: a SecureContext is costly to build and safe to share.
const defaultContexts = new WeakMap<object, ssl.SslContext>();
let rootsContext: ssl.SslContext | null = null;
// A PEM given as text: a few, kept by value (bounded: a program has few sets of authorities).
const textContexts = new Map<string, ssl.SslContext>();

/** The TLS context for `ca` (Node's roots when absent), built once per set of authorities. */
export function clientContext(ca: Pem | readonly Pem[] | undefined): ssl.SslContext {
  if (ca === undefined) {
    if (rootsContext === null) {
      rootsContext = new ssl.SslContext('tlsClient');
      rootsContext.setDefaultVerifyPaths();
    }
    return rootsContext;
  }
  const key = typeof ca === 'object' ? ca : null;
  const cached = key === null ? textContexts.get(ca as string) : defaultContexts.get(key);
  if (cached !== undefined) return cached;
  const ctx = new ssl.SslContext('tlsClient');
  for (const pem of Array.isArray(ca) ? (ca as readonly Pem[]) : [ca as Pem]) ctx.addCertificateAuthority(pem);
  // The same context for the same authorities, so that HTTP/2 connects share a pooled session.
  if (key !== null) defaultContexts.set(key, ctx);
  else if (textContexts.size < 16) textContexts.set(ca as string, ctx);
  return ctx;
}
