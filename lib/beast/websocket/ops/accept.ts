/**
 * The server's opening handshake (Beast's `accept_op` and `response_op`): read the upgrade
 * request (unless the application already did), check it in Beast's order, and answer: 101 on
 * success, otherwise 400 (or 426 with `Sec-WebSocket-Version: 13`) before the error is delivered.
 */

import { bufferCopy, bufferSize, type ConstBufferSequence } from '../../../net/buffer.js';
import { asyncCompose } from '../../../net/compose.js';
import { LengthError } from '../../../net/dynamic-buffer.js';
import type { ErrorCode } from '../../../net/error.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { error as httpError } from '../../http/error.js';
import { tokenListContains } from '../../http/fields.js';
import { Request, Response } from '../../http/message.js';
import { RequestParser } from '../../http/parser.js';
import { asyncRead as httpAsyncRead } from '../../http/read.js';
import { asyncWrite as httpAsyncWrite } from '../../http/write.js';
import { error } from '../error.js';
import { isValidSecKey, makeSecAccept } from '../hybi13.js';
import type { Decorator } from '../options.js';
import { negotiate, PermessageDeflate, type PmdConfig } from '../deflate.js';
import type { StreamImpl } from '../stream-impl.js';
import { stopAfterStep } from './common.js';
import type { HandshakeSignature } from './handshake.js';

/** The Server field a response gets unless the decorator sets one. */
export const serverName = 'tsbeast';

/**
 * Reads the upgrade request (after the `preRead` bytes, if any) and answers it. End of stream
 * before a request gives `websocket.error.closed`. Per-operation cancellation: terminal.
 */
export function asyncAcceptOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  preRead: ConstBufferSequence | null,
  decorator: Decorator | null,
  token: TokenFor<HandshakeSignature> | undefined,
  onDone?: () => void,
): unknown {
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>(function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    impl.reset('server');
    let ec: ErrorCode | null = null;
    if (preRead !== null) {
      try {
        const n = bufferSize(preRead);
        impl.rdBuf.commit(bufferCopy(impl.rdBuf.prepareView(n), preRead));
      } catch (err) {
        if (!(err instanceof LengthError)) throw err;
        ec = error.bufferOverflow;
      }
    }
    impl.updateTimer();
    if (ec !== null) return self.complete(impl.checkStopNow(ec) ?? ec);
    const parser = new RequestParser();
    let [re] = yield* self.call<IoSignature>((h) => httpAsyncRead(impl.next, impl.rdBuf, parser, h));
    if (re === httpError.endOfStream) re = error.closed;
    const stop = stopAfterStep(self, impl, re);
    if (stop !== undefined) return self.complete(stop);
    const [rec] = yield* self.call<HandshakeSignature>((h) => respond(impl, parser.get(), decorator, h));
    self.complete(rec);
  }, token, impl.executor);
}

/**
 * Answers an upgrade request the application already read (Beast's `async_accept(req)`); `head`
 * holds bytes that arrived after the request (e.g. Node's `'upgrade'` event's `head`).
 */
export function asyncAcceptRequestOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  req: Request,
  head: ConstBufferSequence | null,
  decorator: Decorator | null,
  token: TokenFor<HandshakeSignature> | undefined,
  onDone?: () => void,
): unknown {
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>(function* (self) {
    if (onDone !== undefined) self.onComplete(onDone);
    impl.reset('server');
    if (head !== null) {
      const n = bufferSize(head);
      if (n > impl.rdBuf.maxSize()) return self.complete(impl.checkStopNow(error.bufferOverflow) ?? error.bufferOverflow);
      impl.rdBuf.commit(bufferCopy(impl.rdBuf.prepareView(n), head));
    }
    const [rec] = yield* self.call<HandshakeSignature>((h) => respond(impl, req, decorator, h));
    self.complete(rec);
  }, token, impl.executor);
}

function respond<N extends AsyncStream>(
  impl: StreamImpl<N>,
  req: Request,
  decorator: Decorator | null,
  token: TokenFor<HandshakeSignature>,
): unknown {
  const { res, result, pmd } = buildResponse(req, decorator, impl.pmdOpts);
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature>>(function* (self) {
    impl.status = 'handshake';
    impl.updateTimer();
    if (tokenListContains(req.fields.get('Expect'), '100-continue')) {
      const cont = new Response({ status: 100, reason: 'Continue', version: res.version });
      cont.fields.set('Server', res.fields.get('Server') ?? serverName);
      const [ce] = yield* self.call<IoSignature>((h) => httpAsyncWrite(impl.next, cont, h));
      const stop = stopAfterStep(self, impl, ce);
      if (stop !== undefined) return self.complete(stop);
    }
    const [we] = yield* self.call<IoSignature>((h) => httpAsyncWrite(impl.next, res, h));
    const stop = stopAfterStep(self, impl, we) ?? (result !== null ? impl.checkStopNow(result) : undefined);
    if (stop !== undefined) return self.complete(stop);
    impl.setPmd(pmd);
    impl.open();
    self.complete(null);
  }, token, impl.executor);
}

/**
 * The response to an upgrade request and the error it stands for (Beast's `build_response`):
 * the request checks in Beast's order, with RFC 6455's rule that the key decodes to 16 bytes.
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
  const fail = (ec: ErrorCode, status = 400): { res: Response; result: ErrorCode; pmd: null } => {
    const res = new Response({ status, reason: status === 400 ? 'Bad Request' : 'Upgrade Required', version: req.version, body: ec.message() });
    if (status === 426) res.fields.set('Sec-WebSocket-Version', '13');
    return { res: decorate(res), result: ec, pmd: null };
  };
  if (req.version !== 11) return fail(error.badHttpVersion);
  if (req.method !== 'GET') return fail(error.badMethod);
  if (!req.fields.has('Host')) return fail(error.noHost);
  const connection = req.fields.get('Connection');
  if (connection === undefined) return fail(error.noConnection);
  if (!tokenListContains(connection, 'upgrade')) return fail(error.noConnectionUpgrade);
  const upgrade = req.fields.get('Upgrade');
  if (upgrade === undefined) return fail(error.noUpgrade);
  if (!tokenListContains(upgrade, 'websocket')) return fail(error.noUpgradeWebsocket);
  const key = req.fields.get('Sec-WebSocket-Key');
  if (key === undefined) return fail(error.noSecKey);
  if (!isValidSecKey(key)) return fail(error.badSecKey);
  const version = req.fields.get('Sec-WebSocket-Version');
  if (version === undefined) return fail(error.noSecVersion);
  if (version !== '13') return fail(error.badSecVersion, 426);
  const res = new Response({ status: 101, reason: 'Switching Protocols', version: req.version });
  res.fields.set('Upgrade', 'websocket').set('Connection', 'Upgrade').set('Sec-WebSocket-Accept', makeSecAccept(key));
  // A malformed or unacceptable offer declines the extension; the handshake still succeeds.
  const negotiated = negotiate(req.fields.get('Sec-WebSocket-Extensions'), pmdOpts);
  if (negotiated !== null) res.fields.set('Sec-WebSocket-Extensions', negotiated.response);
  return { res: decorate(res), result: null, pmd: negotiated?.config ?? null };
}
