/**
 * The client's opening handshake over HTTP/2 (RFC 8441 sections 4 and 5): wait until the
 * server's SETTINGS enable the extended CONNECT, open a stream with `:method` CONNECT and
 * `:protocol` websocket, wait for its response, check it as RFC 6455 checks a 101 (subprotocol,
 * extensions), and open the WebSocket stream on the HTTP/2 stream.
 */

import type { ClientHttp2Session } from 'node:http2';

import {
  type Handler,
  asyncCompose,
  type ComposedSelf,
  type Executor,
  CancellationType,
  ErrorCode,
  fromNodeError,
  error as netError,
} from '../../net/index.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/index.js';
import { Request, Response } from '../../beast/http/index.js';
import {
  acceptResponse,
  makeOffer,
  permessageDeflateAvailable,
  PermessageDeflate,
  Decorator,
  Timeout,
  type HandshakeSignature,
  type Stream,
} from '../../beast/websocket/index.js';
import { error } from './error.js';
import { checkConnectResponse, connectHeaders, http2Version, responseFromHttp2Headers } from './headers.js';
import { Http2Layer } from './layer.js';
import { waitForSettings, type SettingsSignature } from './settings.js';
import { asyncWaitFor, type WaitSignature } from './wait.js';

/**
 * Performs the client's opening handshake of `ws` on `session`, for `host` (the `:authority`)
 * and `target` (the `:path`). `ws`'s next layer must be an empty {@link Http2Layer}; the stream
 * opened on the session is attached to it. The decorator set on `ws` sees the request (as an
 * `http.Request` with method CONNECT, version 20) and may add fields such as
 * `Sec-WebSocket-Protocol`; permessage-deflate is offered as `ws`'s options say. With `resOut`,
 * the response is stored there (status 500 until one arrived).
 *
 * Completes with `[ec]`: `http2.error.notOffered` when the server's SETTINGS do not enable the
 * extended CONNECT (nothing was sent: fall back to HTTP/1.1), `http2.error.sessionClosed`,
 * `websocket.error.upgradeDeclined` for a status other than 2xx, `badSubprotocol` and
 * `badExtensionResponse` as over HTTP/1.1, `http2.error.streamReset` when the server reset the
 * stream, `beast.error.timeout` after `ws`'s handshake timeout. A failed handshake resets the
 * stream it opened; the session is never closed here. `net.error.alreadyOpen` when the layer
 * has a stream already. Throws, before anything is sent, a `TypeError` when `ws`'s next layer is
 * not an {@link Http2Layer} and a `RangeError` for an empty target.
 *
 * Several WebSockets may be opened on one session, concurrently.
 *
 * @param ws The WebSocket stream to open; its next layer must be an empty {@link Http2Layer}.
 * @param session The client session to open the stream on; it stays open whatever happens.
 * @param host The `:authority` of the request (with the port when it is not the default).
 * @param target The `:path` of the request: the path and query of the URL.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
 *   through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, forwarded to the wait in progress: while waiting
 * for the server's SETTINGS, the handshake completes with `operationAborted` and nothing was
 * sent; while waiting for the response, the stream it opened is reset (RST_STREAM CANCEL) and
 * the handshake completes with `operationAborted`. A request that arrives while a wait's
 * completion is on its way is honoured at the next step: before the CONNECT is sent (nothing
 * sent, unless the server does not offer WebSockets: then `notOffered`), or once the response
 * came (the stream is reset, whatever the response said). The session is not touched either way.
 * `partial` and `total` alone are ignored.
 */
export function asyncHandshake(ws: Stream<Http2Layer>, session: ClientHttp2Session, host: string, target: string, handler: Handler<HandshakeSignature>): void;
/**
 * {@inheritDoc asyncHandshake:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec)`.
 */
export function asyncHandshake<T extends CompletionToken = UsePromise>(
  ws: Stream<Http2Layer>, session: ClientHttp2Session, host: string, target: string, token?: T & TokenCheck<T, HandshakeSignature>,
): AsyncResult<T, HandshakeSignature>;
/**
 * {@inheritDoc asyncHandshake:0}
 * @param resOut Receives the server's response, even when the handshake fails (status 500 until
 *   one arrived).
 */
export function asyncHandshake(
  ws: Stream<Http2Layer>, resOut: Response, session: ClientHttp2Session, host: string, target: string, handler: Handler<HandshakeSignature>,
): void;
/**
 * {@inheritDoc asyncHandshake:0}
 * @param resOut Receives the server's response, even when the handshake fails (status 500 until
 *   one arrived).
 * @param token Any completion token; the Promise token when omitted.
 */
export function asyncHandshake<T extends CompletionToken = UsePromise>(
  ws: Stream<Http2Layer>, resOut: Response, session: ClientHttp2Session, host: string, target: string, token?: T & TokenCheck<T, HandshakeSignature>,
): AsyncResult<T, HandshakeSignature>;
export function asyncHandshake(
  ws: Stream<Http2Layer>,
  a: Response | ClientHttp2Session,
  b: ClientHttp2Session | string,
  c: string,
  d?: string | TokenFor<HandshakeSignature>,
  e?: TokenFor<HandshakeSignature>,
): unknown {
  const [resOut, session, host, target, token] =
    a instanceof Response
      ? [a, b as ClientHttp2Session, c, d as string, e]
      : [null, a, b as string, c, d as TokenFor<HandshakeSignature> | undefined];
  const layer = ws.nextLayer();
  if (!(layer instanceof Http2Layer)) throw new TypeError('http2.asyncHandshake: the stream\'s next layer must be an Http2Layer');
  if (target === '') throw new RangeError('http2.asyncHandshake: the target must not be empty');
  if (resOut !== null) Object.assign(resOut, new Response({ status: 500, version: http2Version }));
  const executor = ws.getExecutor();
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>((self) => http2HandshakeSteps(self, ws, layer, session, resOut, host, target, executor), token, executor);
}

/** The steps of the HTTP/2 {@link asyncHandshake} (a generator of the module: see `asyncCompose`). */
function* http2HandshakeSteps(
  self: ComposedSelf<HandshakeSignature>,
  ws: Stream<Http2Layer>,
  layer: Http2Layer,
  session: ClientHttp2Session,
  resOut: Response | null,
  host: string,
  target: string,
  executor: Executor,
) {
  if (layer.stream() !== null) return self.complete(netError.alreadyOpen);
  const timeout = ws.getOption(Timeout).handshakeTimeout;
  const deadline = Date.now() + timeout;

  const [se, supported] = yield* self.call<SettingsSignature>((h) => waitForSettings(executor, session, timeout, h));
  if (se !== null) return self.complete(se);
  if (!supported) return self.complete(error.notOffered);
  // A request recorded while the wait's completion was queued (DESIGN section 4.5): nothing sent.
  if (self.cancelled() !== CancellationType.none) return self.complete(netError.operationAborted);

  // As a Stream's own handshake: no offer where this Node cannot run the extension.
  const pmdOpts = permessageDeflateAvailable() ? ws.getOption(PermessageDeflate) : new PermessageDeflate();
  const req = new Request({ method: 'CONNECT', target, version: http2Version });
  req.fields.set('Host', host).set('Sec-WebSocket-Version', '13');
  if (pmdOpts.clientEnable) req.fields.set('Sec-WebSocket-Extensions', makeOffer(pmdOpts));
  ws.getOption(Decorator)?.decorators.request?.(req);
  try {
    layer.attach(session.request(connectHeaders(req, session.encrypted === true ? 'https' : 'http'), { endStream: false }));
  } catch (err) {
    return self.complete(session.destroyed || session.closed ? error.sessionClosed : fromNodeError(err));
  }
  const stream = layer.stream()!;
  const fail = (ec: ErrorCode): void => {
    layer.close();
    self.complete(ec);
  };

  const [we, event, value] = yield* self.call<WaitSignature>((h) =>
    asyncWaitFor(executor, stream, ['response', 'close', 'error'], h, undefined, deadline - Date.now()),
  );
  if (we !== null) return fail(we);
  // Recorded while the response's completion was queued: the stream is reset, as over HTTP/1.1.
  if (self.cancelled() !== CancellationType.none) return fail(netError.operationAborted);
  if (event !== 'response') return fail(event === 'error' && !layer.wasReset() ? resetOrError(value) : error.streamReset);
  const res = responseFromHttp2Headers(value as Record<string, string>);
  if (resOut !== null) Object.assign(resOut, res);
  const bad = checkConnectResponse(res, req);
  if (bad !== null) return fail(bad);
  const pmd = acceptResponse(res.fields.get('Sec-WebSocket-Extensions'), pmdOpts);
  if (pmd instanceof ErrorCode) return fail(pmd);
  ws.adoptHandshake('client', pmd);
  self.complete(null);
}

/** A stream error from Node: the peer's RST_STREAM is `streamReset`, anything else as Node says. */
function resetOrError(err: unknown): ErrorCode {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'ERR_HTTP2_STREAM_ERROR' ? error.streamReset : fromNodeError(err);
}
