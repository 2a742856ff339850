/**
 * The opening handshakes of `websocket.Stream` (Beast's stream.hpp, section "Handshaking"): the
 * client's handshake, the server's accept, and a handshake carried by another protocol. Each is a
 * composed operation of its own in ops/handshake.ts and ops/accept.ts; this file holds only the
 * initiating functions. A base class of `Stream`.
 */

import type { Handler } from '../../net/associators.js';
import { copyBufferSequence, type ConstBufferSequence } from '../../net/buffer.js';
import type { AsyncStream } from '../../net/stream.js';
import type { AsyncResult, CompletionToken, TokenCheck, TokenFor, UsePromise } from '../../net/token.js';
import { Request, Response } from '../http/message.js';
import type { PmdConfig } from './deflate.js';
import type { Role } from './frame.js';
import { asyncAcceptOp } from './ops/accept.js';
import { asyncHandshakeOp, type HandshakeSignature } from './ops/handshake.js';
import { Decorator } from './options.js';
import { StreamSettings } from './stream-settings.js';

/** The opening handshakes of {@link Stream}, whose reference lists them. */
export abstract class StreamHandshake<NextLayer extends AsyncStream> extends StreamSettings<NextLayer> {
  /**
   * Performs the client's opening handshake: sends the upgrade request for `host` and `target`
   * (a random 16-byte key; the decorator may add fields), reads the response, and checks it in
   * Beast's order (`upgradeDeclined`, `badHttpVersion`, `noConnection`, …, `badSecAccept`), then
   * RFC 6455's rules on subprotocols and extensions. With `resOut`, the response is stored there
   * even when the handshake fails (status 500 when none could be read). Completes with `[ec]`.
   *
   * @param host The `Host` field of the request (with the port when it is not the default).
   * @param target The request target: the path and query of the URL.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`: the handshake stops, completes with
   * `operationAborted`, and the next layer is closed; the stream can only be discarded.
   */
  asyncHandshake(host: string, target: string, handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncHandshake:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncHandshake<T extends CompletionToken = UsePromise>(host: string, target: string, token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  /**
   * {@inheritDoc Stream.asyncHandshake:0}
   * @param resOut Receives the server's response, even when the handshake fails.
   */
  asyncHandshake(resOut: Response, host: string, target: string, handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncHandshake:0}
   * @param resOut Receives the server's response, even when the handshake fails.
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncHandshake<T extends CompletionToken = UsePromise>(resOut: Response, host: string, target: string, token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  asyncHandshake(a: Response | string, b: string, c?: string | TokenFor<HandshakeSignature>, d?: TokenFor<HandshakeSignature>): unknown {
    const [resOut, host, target, token] =
      a instanceof Response ? [a, b, c as string, d] : [null, a, b, c as TokenFor<HandshakeSignature> | undefined];
    // Argument errors are thrown here, before anything changed (docs/topics/asio-model.md).
    if (target === '') throw new RangeError('asyncHandshake: the target must not be empty');
    const decorator = this.getOption(Decorator);
    return this.start('handshake', token, false, (h, done) =>
      asyncHandshakeOp(this.impl, resOut, host, target, decorator, h, done),
    );
  }

  /**
   * Performs the server's opening handshake: reads the upgrade request (after `preRead`, bytes
   * the application already received), or takes a `request` the application already read
   * (with `head`, bytes that followed it); checks it in Beast's order and answers 101, or 400 /
   * 426 before completing with the error. `100 Continue` goes first when the request expects it.
   * End of stream before a request gives `websocket.error.closed`. Completes with `[ec]`.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation type `terminal`: the handshake stops, completes with
   * `operationAborted`, and the next layer is closed; the stream can only be discarded.
   */
  asyncAccept(handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncAccept<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param preRead Bytes of the request the application already received, read before the stream.
   */
  asyncAccept(preRead: ConstBufferSequence, handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param preRead Bytes of the request the application already received, read before the stream.
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncAccept<T extends CompletionToken = UsePromise>(preRead: ConstBufferSequence, token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param request The upgrade request, already read by the application.
   */
  asyncAccept(request: Request, handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param request The upgrade request, already read by the application.
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncAccept<T extends CompletionToken = UsePromise>(request: Request, token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param request The upgrade request, already read by the application.
   * @param head The bytes that arrived after `request` (Node's `'upgrade'` event's `head`).
   */
  asyncAccept(request: Request, head: ConstBufferSequence, handler: Handler<HandshakeSignature>): void;
  /**
   * {@inheritDoc Stream.asyncAccept:0}
   * @param request The upgrade request, already read by the application.
   * @param head The bytes that arrived after `request` (Node's `'upgrade'` event's `head`).
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncAccept<T extends CompletionToken = UsePromise>(request: Request, head: ConstBufferSequence, token?: T & TokenCheck<T, HandshakeSignature>): AsyncResult<T, HandshakeSignature>;
  asyncAccept(
    a?: Request | ConstBufferSequence | TokenFor<HandshakeSignature>,
    b?: ConstBufferSequence | TokenFor<HandshakeSignature>,
    c?: TokenFor<HandshakeSignature>,
  ): unknown {
    const decorator = this.getOption(Decorator);
    if (a instanceof Request) {
      const isHead = b instanceof Uint8Array || Array.isArray(b);
      const head = isHead ? copyBufferSequence(b as ConstBufferSequence) : null;
      const token = isHead ? c : (b as TokenFor<HandshakeSignature> | undefined);
      return this.start('handshake', token, false, (h, done) =>
        asyncAcceptOp(this.impl, a, head, decorator, h, done),
      );
    }
    if (a instanceof Uint8Array || Array.isArray(a)) {
      const preRead = copyBufferSequence(a as ConstBufferSequence);
      return this.start('handshake', b as TokenFor<HandshakeSignature> | undefined, false, (h, done) =>
        asyncAcceptOp(this.impl, null, preRead, decorator, h, done),
      );
    }
    return this.start('handshake', a as TokenFor<HandshakeSignature> | undefined, false, (h, done) =>
      asyncAcceptOp(this.impl, null, null, decorator, h, done),
    );
  }

  /**
   * Opens the stream on an opening handshake that was carried outside it, by the layer that owns
   * the next layer: RFC 8441's extended CONNECT over HTTP/2, where the request and the response
   * are HEADERS frames of the HTTP/2 stream and no bytes of the handshake pass through the next
   * layer. `role` is the side this stream takes (a server does not mask, a client does);
   * `pmd` is the permessage-deflate configuration both sides agreed on (from
   * `negotiate` on a server, `acceptResponse` on a client), or `null`. The stream's
   * state is reset as by a handshake, and the idle timeout, if any, starts. No Beast counterpart.
   *
   * @throws Error - while any operation is outstanding (the stream is left as it was).
   * @throws RangeError - for a configuration with a window size outside 8 to 15 bits.
   */
  adoptHandshake(role: Role, pmd: PmdConfig | null): void {
    if (this.anyOutstanding()) throw new Error('websocket.Stream.adoptHandshake: an operation is outstanding');
    if (pmd !== null) {
      for (const bits of [pmd.serverMaxWindowBits, pmd.clientMaxWindowBits]) {
        if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new RangeError(`websocket.Stream.adoptHandshake: window bits ${bits}`);
      }
    }
    const impl = this.impl;
    impl.reset(role);
    impl.setPmd(pmd);
    impl.open();
  }
}
