/**
 * The client's opening handshake (Beast's `handshake_op`): send the upgrade request, read the
 * response, and check it in Beast's order (RFC 6455 section 4.1). Bytes that arrived after the
 * response stay in the read buffer as frame data.
 */

import { asyncCompose, type ComposedSelf } from '../../../net/compose.js';
import { ErrorCode } from '../../../net/error.js';
import { acceptResponse, makeOffer } from '../deflate.js';
import type { AsyncStream, IoSignature } from '../../../net/stream.js';
import type { TokenFor } from '../../../net/token.js';
import { tokenListContains } from '../../http/fields.js';
import { Request, Response } from '../../http/message.js';
import { ResponseParser } from '../../http/parser.js';
import { asyncRead as httpAsyncRead } from '../../http/read.js';
import { asyncWrite as httpAsyncWrite } from '../../http/write.js';
import { error } from '../error.js';
import { makeSecAccept, makeSecKey } from '../hybi13.js';
import type { Decorator } from '../options.js';
import type { StreamImpl } from '../stream-impl.js';
import { stopAfterStep } from './common.js';

/** The completion signature of the handshake and accept. */
export type HandshakeSignature = [ec: ErrorCode | null];

/**
 * Performs the client handshake for `host` and `target`; the response goes to `resOut` when
 * given (status 500 until a response was read). Per-operation cancellation: terminal, forwarded
 * to the HTTP write and read.
 */
export function asyncHandshakeOp<N extends AsyncStream>(
  impl: StreamImpl<N>,
  resOut: Response | null,
  host: string,
  target: string,
  decorator: Decorator | null,
  token: TokenFor<HandshakeSignature> | undefined,
  onDone?: () => void,
): unknown {
  if (target === '') throw new RangeError('asyncHandshake: the target must not be empty');
  if (resOut !== null) Object.assign(resOut, new Response({ status: 500 }));
  return asyncCompose<HandshakeSignature, TokenFor<HandshakeSignature> | undefined>((self) => handshakeSteps(self, impl, resOut, host, target, decorator, onDone), token, impl.executor);
}

/** The steps of {@link asyncHandshakeOp} (a generator of the module: see `asyncCompose`). */
function* handshakeSteps<N extends AsyncStream>(
  self: ComposedSelf<HandshakeSignature>,
  impl: StreamImpl<N>,
  resOut: Response | null,
  host: string,
  target: string,
  decorator: Decorator | null,
  onDone: (() => void) | undefined,
) {
  if (onDone !== undefined) self.onComplete(onDone);
  impl.reset('client');
  impl.updateTimer();
  const key = makeSecKey();
  const req = new Request({ method: 'GET', target, version: 11 });
  req.fields
    .set('Host', host)
    .set('Upgrade', 'websocket')
    .set('Connection', 'Upgrade')
    .set('Sec-WebSocket-Key', key)
    .set('Sec-WebSocket-Version', '13');
  if (impl.pmdOffer.clientEnable) req.fields.set('Sec-WebSocket-Extensions', makeOffer(impl.pmdOffer));
  decorator?.decorators.request?.(req);

  const [we] = yield* self.call<IoSignature>((h) => httpAsyncWrite(impl.next, req, h));
  let stop = stopAfterStep(self, impl, we);
  if (stop !== undefined) return self.complete(stop);

  const parser = new ResponseParser();
  const [re] = yield* self.call<IoSignature>((h) => httpAsyncRead(impl.next, impl.reader.buf, parser, h));
  if (resOut !== null && parser.isHeaderDone()) Object.assign(resOut, parser.get());
  stop = stopAfterStep(self, impl, re);
  if (stop !== undefined) return self.complete(stop);

  const res = parser.get();
  let ec = checkResponse(res, key, req);
  if (ec === null) {
    const pmd = acceptResponse(res.fields.get('Sec-WebSocket-Extensions'), impl.pmdOffer);
    if (pmd instanceof ErrorCode) ec = pmd;
    else impl.setPmd(pmd);
  }
  stop = impl.checkStopNow(ec);
  if (stop !== undefined) return self.complete(stop);
  impl.open();
  self.complete(null);
}

/** The client's checks of the server's response, in Beast's order, then RFC 6455's extra ones. */
export function checkResponse(res: Response, key: string, req: Request): ErrorCode | null {
  if (res.status !== 101) return error.upgradeDeclined;
  if (res.version !== 11) return error.badHttpVersion;
  const connection = res.fields.get('Connection');
  if (connection === undefined) return error.noConnection;
  if (!tokenListContains(connection, 'upgrade')) return error.noConnectionUpgrade;
  const upgrade = res.fields.get('Upgrade');
  if (upgrade === undefined) return error.noUpgrade;
  if (!tokenListContains(upgrade, 'websocket')) return error.noUpgradeWebsocket;
  const accept = res.fields.get('Sec-WebSocket-Accept');
  if (accept === undefined) return error.noSecAccept;
  if (accept !== makeSecAccept(key)) return error.badSecAccept;
  // RFC 6455 section 4.1, items 5 and 6, which Beast does not check.
  const chosen = res.fields.get('Sec-WebSocket-Protocol');
  if (chosen !== undefined && !tokenListContains(req.fields.get('Sec-WebSocket-Protocol'), chosen.trim())) {
    return error.badSubprotocol;
  }
  // Extensions the client offered are checked against its offer by the caller (RFC 7692 section 5.1).
  if (res.fields.has('Sec-WebSocket-Extensions') && !req.fields.has('Sec-WebSocket-Extensions')) {
    return error.badExtensionResponse;
  }
  return null;
}
