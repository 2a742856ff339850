/**
 * The server's opening handshake (Beast's `accept_op` and `response_op`): read the upgrade
 * request (unless the application already did), check it in Beast's order, and answer: 101 on
 * success, otherwise 400 (or 426 with `Sec-WebSocket-Version: 13`) before the error is delivered.
 */

import { Buffer } from 'node:buffer';

import { bufferCopy, bufferSize, type ConstBufferSequence } from '../../../net/buffer.js';
import { asyncCompose, type ComposedSelf } from '../../../net/compose.js';
import { LengthError } from '../../../net/dynamic-buffer.js';
import type { ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { CancellationType } from '../../../net/cancellation.js';
import { error as httpError, httpCategory } from '../../http/error.js';
import { tokenListContains } from '../../http/fields.js';
import { Request, Response } from '../../http/message.js';
import { RequestParser } from '../../http/parser.js';
import { readMessageSteps } from '../../http/read.js';
import { serialize } from '../../http/serializer.js';
import { error } from '../error.js';
import { isValidSecKey, makeSecAccept } from '../hybi13.js';
import type { Decorator } from '../options.js';
import { negotiate, PermessageDeflate, type PmdConfig } from '../deflate.js';
import type { StreamImpl } from '../stream-impl.js';
import { stopAfterStep, writeAll } from './common.js';
import { lingerSteps } from './linger.js';
import type { HandshakeSignature } from './handshake.js';

/** The Server field a response gets unless the decorator sets one. */
export const serverName = 'tsbeast';

/**
 * The server's opening handshake: reads the upgrade request, after `bytes` that arrived before the
 * stream got the connection, and answers it; or, given `req` (Beast's `async_accept(req)`),
 * answers a request the application already read, `bytes` then being what followed it (Node's
 * `'upgrade'` event's `head`). End of stream before a request gives `websocket.error.closed`.
 * Per-operation cancellation: terminal.
 *
 * One composed operation for the whole accept: the request is read and the response written as
 * steps of it (`readMessageSteps`, `writeAll`), not as three nested HTTP and response operations.
 * With the 101 built as one string when no decorator can change it, server CPU per handshake fell
 * from 141 to 111 µs (medians of 5 interleaved runs, bench/echo's handshake load, busy machine).
 */
export function asyncAcceptOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  req: Request | null,
  bytes: ConstBufferSequence | null,
  decorator: Decorator | null,
  token: TokenFor<HandshakeSignature> | undefined,
  onDone?: () => void,
): unknown {
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>(
    (self) => acceptSteps(self, impl, req, bytes, decorator, onDone), token, impl.executor);
}

/** The steps of {@link asyncAcceptOp}, top to bottom (a generator of the module: see `asyncCompose`). */
function* acceptSteps<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, req: Request | null,
  bytes: ConstBufferSequence | null, decorator: Decorator | null, onDone: (() => void) | undefined) {
  if (onDone !== undefined) self.onComplete(onDone);
  impl.reset('server');
  const ec = bytes !== null ? preload(impl, bytes) : null;
  impl.updateTimer();
  if (ec !== null) return self.complete(impl.checkStopNow(ec) ?? ec);
  const request = req ?? (yield* readRequestSteps(self, impl, decorator));
  if (request instanceof Request) self.complete(yield* respondSteps(self, impl, request, decorator));
  else self.complete(request);
}

type Self = ComposedSelf<HandshakeSignature>;

/**
 * Copies bytes that arrived before the handshake (`preRead`, or `head` after a request the
 * application read) into the empty read buffer. `bufferOverflow` when they do not fit.
 */
function preload<N extends AsyncStream>(impl: StreamImpl<N>, bytes: ConstBufferSequence): ErrorCode | null {
  try {
    impl.reader.buf.commit(bufferCopy(impl.reader.buf.prepareView(bufferSize(bytes)), bytes));
    return null;
  } catch (err) {
    if (!(err instanceof LengthError)) throw err;
    return error.bufferOverflow;
  }
}

/**
 * Reads the upgrade request (Beast's `accept_op`); a request that does not parse is answered too
 * (Beast sends nothing), then the connection closed. Returns the request, or what the operation
 * completes with.
 */
function* readRequestSteps<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, decorator: Decorator | null) {
  const parser = new RequestParser();
  parser.eager(true); // as http.asyncRead: the whole message, body included
  let [re] = yield* readMessageSteps(self, impl.next, impl.reader.buf, parser, false);
  if (re === httpError.endOfStream) re = error.closed;
  const status = re === null || self.cancelled() !== CancellationType.none || impl.timedOut ? 0 : parseFailureStatus(re, parser.get());
  if (status !== 0) {
    const res = refusal(status, re!, 11, decorator);
    const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, serialize(res), h));
    if (we === null) yield* lingerSteps(self, impl);
  }
  return stopAfterStep(self, impl, re) ?? parser.get();
}

/**
 * Answers `req` (Beast's `response_op`): `100 Continue` first when the request expects it, then
 * the response; the stream opens when the request was acceptable. Returns what the operation
 * completes with.
 */
function* respondSteps<N extends AsyncStream>(self: Self, impl: StreamImpl<N>, req: Request, decorator: Decorator | null) {
  const { res, result, pmd } = plainResponse(req, decorator, impl.pmdOffer) ?? serializedResponse(req, decorator, impl.pmdOffer);
  impl.status = 'handshake';
  impl.updateTimer();
  if (tokenListContains(req.fields.get('Expect'), '100-continue')) {
    const cont = new Response({ status: 100, reason: 'Continue', version: req.version });
    cont.fields.set('Server', res.server);
    const [ce] = yield* self.call<IoSignature>((h) => writeAll(impl.next, serialize(cont), h));
    const stop = stopAfterStep(self, impl, ce);
    if (stop !== undefined) return stop;
  }
  const [we] = yield* self.call<IoSignature>((h) => writeAll(impl.next, res.bytes, h));
  let stop = stopAfterStep(self, impl, we);
  if (stop === undefined && result !== null) {
    // Refused: the answer says `Connection: close`; the peer gets the time to read it.
    yield* lingerSteps(self, impl);
    stop = impl.checkStopNow(result);
  }
  if (stop !== undefined) return stop;
  impl.setPmd(pmd);
  impl.open();
  return null;
}

/** A response ready to write: its bytes, and the Server field it carries (for a 100 Continue). */
interface ResponseBytes {
  bytes: readonly Uint8Array[];
  server: string;
}

interface Answer {
  res: ResponseBytes;
  result: ErrorCode | null;
  pmd: PmdConfig | null;
}

/** Any response, through {@link buildResponse} and the HTTP serializer. */
function serializedResponse(req: Request, decorator: Decorator | null, pmdOpts: PermessageDeflate): Answer {
  const { res, result, pmd } = buildResponse(req, decorator, pmdOpts);
  return { res: { bytes: serialize(res), server: res.fields.get('Server') ?? serverName }, result, pmd };
}

/**
 * The 101 for an acceptable request when no decorator can change it, written as one string: the
 * same bytes as {@link buildResponse} and the serializer give (Upgrade, Connection,
 * Sec-WebSocket-Accept, Sec-WebSocket-Extensions, Server; no Content-Length on a 1xx), without a
 * Response, a Fields and a Serializer per connection. `undefined` for anything else.
 */
function plainResponse(req: Request, decorator: Decorator | null, pmdOpts: PermessageDeflate): Answer | undefined {
  if (decorator?.decorators.response !== undefined || checkRequest(req) !== null) return undefined;
  const negotiated = negotiate(req.fields.get('Sec-WebSocket-Extensions'), pmdOpts);
  const accept = makeSecAccept(req.fields.get('Sec-WebSocket-Key')!);
  const extensions = negotiated === null ? '' : `Sec-WebSocket-Extensions: ${negotiated.response}\r\n`;
  const head =
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Accept: ${accept}\r\n${extensions}Server: ${serverName}\r\n\r\n`;
  const b = Buffer.from(head, 'latin1');
  return { res: { bytes: [new Uint8Array(b.buffer, b.byteOffset, b.length)], server: serverName }, result: null, pmd: negotiated?.config ?? null };
}

/**
 * The checks of an upgrade request in Beast's order, with RFC 6455's rule that the key decodes
 * to 16 bytes: the error and the status to answer with, or `null` when the request is acceptable.
 */
function checkRequest(req: Request): readonly [ErrorCode, number] | null {
  if (req.version !== 11) return [error.badHttpVersion, 400];
  if (req.method !== 'GET') return [error.badMethod, 400];
  if (!req.fields.has('Host')) return [error.noHost, 400];
  // Fields that must appear once (RFC 9112 section 3.2, RFC 6455 section 4.2.1); Beast reads the first.
  for (const name of onceFields) if (req.fields.count(name) > 1) return [error.duplicateField, 400];
  const connection = req.fields.get('Connection');
  if (connection === undefined) return [error.noConnection, 400];
  if (!tokenListContains(connection, 'upgrade')) return [error.noConnectionUpgrade, 400];
  const upgrade = req.fields.get('Upgrade');
  if (upgrade === undefined) return [error.noUpgrade, 400];
  if (!tokenListContains(upgrade, 'websocket')) return [error.noUpgradeWebsocket, 400];
  const key = req.fields.get('Sec-WebSocket-Key');
  if (key === undefined) return [error.noSecKey, 400];
  if (!isValidSecKey(key)) return [error.badSecKey, 400];
  const version = req.fields.get('Sec-WebSocket-Version');
  if (version === undefined) return [error.noSecVersion, 400];
  if (version !== '13') return [error.badSecVersion, 426];
  return null;
}

const onceFields = ['Host', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version'] as const;

const reasons: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  426: 'Upgrade Required',
  431: 'Request Header Fields Too Large',
  505: 'HTTP Version Not Supported',
};

/**
 * The status that answers a request the parser refused, or 0 when there is no one to answer:
 * the peer ended the stream (or the read failed), so nothing was asked. 431 when the header
 * section passed its limit (RFC 6585 section 5), 505 for a well-formed version other than 1.x
 * (RFC 9110 section 15.6.6), 400 for any other malformed request (RFC 9112).
 */
function parseFailureStatus(ec: ErrorCode, req: Request): number {
  if (ec.category !== httpCategory) return 0;
  if (ec === httpError.endOfStream || ec === httpError.partialMessage || ec === httpError.shortRead) return 0;
  if (ec === httpError.headerLimit || ec === httpError.bufferOverflow) return 431;
  if (ec === httpError.badVersion && req.version >= 20) return 505;
  return 400;
}

/**
 * The answer to a refused request: `status`, the error's message as the body, and
 * `Connection: close`, since the server closes the connection after it (RFC 9112 section 9.6);
 * 426 also names the version the server speaks (RFC 6455 section 4.4).
 */
function refusal(status: number, ec: ErrorCode, version: number, decorator: Decorator | null): Response {
  const res = new Response({ status, reason: reasons[status] ?? 'Bad Request', version: version === 10 ? 10 : 11, body: ec.message() });
  if (status === 426) res.fields.set('Sec-WebSocket-Version', '13');
  res.fields.set('Connection', 'close');
  decorator?.decorators.response?.(res);
  if (!res.fields.has('Server')) res.fields.set('Server', serverName);
  return res;
}

/**
 * The response to an upgrade request and the error it stands for (Beast's `build_response`):
 * the request checks of {@link checkRequest}, then the 101 with the decorator applied.
 */
export function buildResponse(
  req: Request,
  decorator: Decorator | null,
  pmdOpts: PermessageDeflate = new PermessageDeflate(),
): { res: Response; result: ErrorCode | null; pmd: PmdConfig | null } {
  const decorate = (res: Response): Response => {
    decorator?.decorators.response?.(res);
    if (!res.fields.has('Server')) res.fields.set('Server', serverName);
    return res;
  };
  const bad = checkRequest(req);
  if (bad !== null) return { res: refusal(bad[1], bad[0], req.version, decorator), result: bad[0], pmd: null };
  const key = req.fields.get('Sec-WebSocket-Key')!;
  const res = new Response({ status: 101, reason: 'Switching Protocols', version: req.version });
  res.fields.set('Upgrade', 'websocket').set('Connection', 'Upgrade').set('Sec-WebSocket-Accept', makeSecAccept(key));
  // A malformed or unacceptable offer declines the extension; the handshake still succeeds.
  const negotiated = negotiate(req.fields.get('Sec-WebSocket-Extensions'), pmdOpts);
  if (negotiated !== null) res.fields.set('Sec-WebSocket-Extensions', negotiated.response);
  return { res: decorate(res), result: null, pmd: negotiated?.config ?? null };
}
