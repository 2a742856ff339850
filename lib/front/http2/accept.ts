/**
 * The server's opening handshake over HTTP/2 (RFC 8441 sections 4 and 5): check the extended
 * CONNECT, negotiate permessage-deflate and let the decorator choose a subprotocol as over
 * HTTP/1.1, answer 200 on the stream (or refuse with a status and end it), and open the WebSocket
 * stream over the HTTP/2 stream.
 */

import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';

import {
  type Handler,
  asyncCompose,
  type ComposedSelf,
  error as netError,
  type ErrorCode,
} from '../../net/index.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/index.js';
import { Response } from '../../beast/http/index.js';
import {
  negotiate,
  permessageDeflateAvailable,
  PermessageDeflate,
  error as wsError,
  Decorator,
  type HandshakeSignature,
  type Stream,
} from '../../beast/websocket/index.js';
import { error } from './error.js';
import { checkConnectRequest, http2Version, responseHeaders } from './headers.js';
import { Http2Layer } from './layer.js';

/** The Server field a response gets unless the decorator sets one (as over HTTP/1.1). */
const serverName = 'tsbeast';

/**
 * Answers the extended CONNECT whose request `headers` the session's `'stream'` event gave, on
 * the HTTP/2 stream of `ws`'s {@link Http2Layer}. The checks, in order: `:method` CONNECT,
 * `:protocol` websocket, `:scheme`, `:path`, `:authority`, no `Sec-WebSocket-Key` nor
 * `Sec-WebSocket-Accept`, `Sec-WebSocket-Version` 13. A request that fails one is answered with
 * its status (400, or 405 for another method; a wrong version with `sec-websocket-version: 13`)
 * and the error text, the stream is ended (RST_STREAM NO_ERROR once the answer is out, RFC 9113
 * section 8.1), and the operation completes with the error. Otherwise the answer is 200 with the
 * negotiated `sec-websocket-extensions` and what `ws`'s decorator added (a subprotocol, say), and
 * `ws` is open in the server role.
 *
 * Completes with `[ec]`: `null` when `ws` is open; the check's error
 * (`websocket.error.badSecVersion`, `http2.error.noAuthority`, …); `http2.error.streamReset`
 * when the client reset the stream before the answer (the layer is then closed);
 * `net.error.alreadyOpen` when the stream was answered already; `net.error.notConnected` when
 * the layer has no stream. Throws a `TypeError` when `ws`'s next layer is not an
 * {@link Http2Layer}.
 *
 * @param ws The WebSocket stream to open, whose next layer holds the HTTP/2 stream of the
 *   request.
 * @param headers The request's headers, as the session's `'stream'` event gave them.
 * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
 *   through its associated executor.
 *
 * #### Per-operation cancellation
 * None: the answer is sent inside this call and only the completion is posted, so there is
 * nothing to cancel. (Beast's `async_accept` supports `terminal` because it reads and writes
 * the handshake; here the HTTP/2 session has done both.)
 */
export function asyncAccept(ws: Stream<Http2Layer>, headers: IncomingHttpHeaders, handler: Handler<HandshakeSignature>): void;
/**
 * {@inheritDoc asyncAccept:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(ec)`.
 */
export function asyncAccept<T extends CompletionToken = UsePromise>(
  ws: Stream<Http2Layer>,
  headers: IncomingHttpHeaders,
  token?: T & TokenCheck<T, HandshakeSignature>,
): AsyncResult<T, HandshakeSignature>;
export function asyncAccept(ws: Stream<Http2Layer>, headers: IncomingHttpHeaders, token?: TokenFor<HandshakeSignature>): unknown {
  const layer = ws.nextLayer();
  if (!(layer instanceof Http2Layer)) throw new TypeError('http2.asyncAccept: the stream\'s next layer must be an Http2Layer');
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>((self) => http2AcceptSteps(self, ws, layer, headers), token, ws.getExecutor());
}

/** The steps of the HTTP/2 {@link asyncAccept} (a generator of the module: see `asyncCompose`). */
function* http2AcceptSteps(self: ComposedSelf<HandshakeSignature>, ws: Stream<Http2Layer>, layer: Http2Layer, headers: IncomingHttpHeaders) {
  const stream = layer.stream() as ServerHttp2Stream | null;
  if (stream === null) return self.complete(netError.notConnected);
  if (stream.headersSent) return self.complete(netError.alreadyOpen);
  if (stream.closed || stream.destroyed) return fail(self.complete.bind(self), layer, error.streamReset);
  const bad = checkConnectRequest(headers);
  if (bad !== null) {
    refuse(stream, bad[1], bad[0]);
    return self.complete(bad[0]);
  }
  const res = new Response({ status: 200, version: http2Version });
  // As a Stream's own accept: the extension is declined where this Node cannot run it.
  const negotiated = permessageDeflateAvailable() ? negotiate(headers['sec-websocket-extensions'], ws.getOption(PermessageDeflate)) : null;
  if (negotiated !== null) res.fields.set('Sec-WebSocket-Extensions', negotiated.response);
  ws.getOption(Decorator)?.decorators.response?.(res);
  if (!res.fields.has('Server')) res.fields.set('Server', serverName);
  res.status = 200; // a decorator decorates; it does not refuse (refuse before accepting)
  try {
    stream.respond(responseHeaders(res), { endStream: false });
  } catch {
    return fail(self.complete.bind(self), layer, error.streamReset);
  }
  ws.adoptHandshake('server', negotiated?.config ?? null);
  self.complete(null);
}

function fail(complete: (ec: ErrorCode | null) => void, layer: Http2Layer, ec: ErrorCode): void {
  layer.close();
  complete(ec);
}

/**
 * Refuses an extended CONNECT (or any request) on `stream`: `status`, a plain-text body saying
 * why, then RST_STREAM NO_ERROR once the answer is out, so that the client stops sending (RFC
 * 9113 section 8.1). What a routing or authentication hook calls instead of accepting. Does
 * nothing on a stream that was answered or closed already.
 */
export function refuse(stream: ServerHttp2Stream, status: number, reason?: ErrorCode | string): void {
  if (stream.headersSent || stream.closed || stream.destroyed) return;
  const text = reason === undefined ? '' : typeof reason === 'string' ? reason : reason.message();
  const headers: Record<string, string | number> = { ':status': status, 'content-type': 'text/plain; charset=utf-8', server: serverName };
  if (reason === wsError.badSecVersion) headers['sec-websocket-version'] = '13';
  try {
    // The client has not ended its side: once the whole answer has left, RST_STREAM NO_ERROR asks
    // it to stop sending (RFC 9113 section 8.1). Reset at once instead, and Node may put the reset
    // on the wire ahead of the answer (seen on Node 22), so the client sees a reset, not a status.
    stream.respond(headers);
    stream.end(text, () => {
      if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
    });
  } catch {
    // The client reset the stream meanwhile: nothing left to answer.
  }
}
