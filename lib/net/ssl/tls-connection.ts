/**
 * TlsConnection: the state of one Node `TLSSocket` under an `SslStream`: it listens to the
 * socket's events and keeps what they said (handshake done, error, end of stream and how it came,
 * close_notify flushed, destroyed), and takes decrypted bytes out for reads. Internal: no
 * handlers, executors or completions here; the stream decides those in one place when told that
 * something changed. It must never hand out more bytes than fit (the rest stays buffered in the
 * TLS socket), never call an end clean that it saw was truncated, and never let an error event go
 * unheard.
 */

import type * as tls from 'node:tls';
import { bufferCopy, bufferSize, type MutableBufferSequence } from '../buffer.js';
import type { ErrorCode } from '../error.js';
import type { ReadTargetSource } from '../stream.js';
import type { VerifyMode } from './context.js';
import { fromTlsError } from './error.js';
import type { StartedTls } from './tls-socket.js';
import { verifyClient } from './tls-socket.js';

/**
 * Watches a TLS socket (its readable side in paused mode, through 'readable' events) and calls
 * `onChange` after every event that may let a pending operation move on.
 *
 * End of stream: Node emits 'readable' synchronously when TLS ends, and a 'readable' with nothing
 * buffered happens only then. Over an adapted next layer, an end that comes while the adapter is
 * delivering the transport's own end was caused by it: no close_notify preceded it.
 */
export class TlsConnection {
  readonly socket: tls.TLSSocket;
  /** The handshake completed and the peer passed verification. */
  secured = false;
  /** The first error the TLS socket reported (or the verification that refused the peer). */
  error: ErrorCode | null = null;
  /** The TLS stream ended (the peer's close_notify, or the transport's end). */
  ended = false;
  /** That end came from the transport without a close_notify (seen over adapted layers only). */
  truncated = false;
  /** Our side was ended and everything, close_notify included, was flushed. */
  finished = false;
  /** The TLS socket was destroyed. */
  destroyed = false;
  readonly #started: StartedTls;
  readonly #serverVerifyMode: VerifyMode | null;
  readonly #onChange: () => void;

  /** @param serverVerifyMode - for a server, the mode client certificates are checked by. */
  constructor(started: StartedTls, serverVerifyMode: VerifyMode | null, onChange: () => void) {
    this.socket = started.socket;
    this.#started = started;
    this.#serverVerifyMode = serverVerifyMode;
    this.#onChange = onChange;
    started.socket.on('error', this.#onError);
    for (const [event, listener] of this.#listeners()) started.socket.on(event, listener);
    started.duplex?.watchEof();
  }

  /** Stops listening, except for errors (one after this must not become an uncaught exception). */
  detach(): void {
    for (const [event, listener] of this.#listeners()) this.socket.off(event, listener);
  }

  /**
   * The listeners {@link TlsConnection.detach} removes, by event. The secure event comes once per
   * socket, so a plain listener does what `once` would.
   */
  #listeners(): [event: string, listener: (arg: unknown) => void][] {
    return [
      ['readable', this.#onReadable],
      ['end', this.#onEnd],
      ['finish', this.#onFinish],
      // Before a server socket of our own releases control, Node reports its errors only here.
      ['_tlsError', this.#onError],
      ['close', this.#onClose],
      [this.#started.secureEvent, this.#onSecure],
    ];
  }

  /** Destroys the TLS socket (and, through it, the transport). */
  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /**
   * Copies buffered bytes into `buffers` (at most what fits; from a source, into what it gives
   * once bytes are there); 0 when nothing is buffered.
   */
  take(into: MutableBufferSequence | ReadTargetSource): number {
    const t = this.socket;
    const avail = t.readableLength;
    if (avail === 0) return 0;
    const buffers = isReadTargetSource(into) ? into.readTarget() : into;
    // Asking for no more than is buffered returns at once, and a slice when one chunk holds it.
    const chunk = t.read(Math.min(avail, bufferSize(buffers))) as Uint8Array | null;
    return chunk === null ? 0 : bufferCopy(buffers, chunk);
  }

  /** Drops everything buffered (a shutdown waiting for the peer's close_notify reads no data). */
  discard(): void {
    const t = this.socket;
    while (t.readableLength > 0 && t.read() !== null);
  }

  /** Lets Node announce an end it has not announced yet: it does so only when read again. */
  poll(): void {
    if (!this.ended && !this.destroyed) this.socket.read(0);
  }

  readonly #onSecure = (): void => {
    const refused = this.#serverVerifyMode === null ? null : verifyClient(this.socket, this.#serverVerifyMode);
    if (refused === null) this.secured = true;
    else {
      this.error ??= refused;
      this.destroy();
    }
    this.#onChange();
  };

  readonly #onReadable = (): void => {
    if (this.#started.duplex?.deliveringEof === true) this.truncated = true;
    if (this.socket.readableLength === 0) this.ended = true;
    this.#onChange();
  };

  readonly #onEnd = (): void => {
    this.ended = true;
    this.#onChange();
  };

  readonly #onFinish = (): void => {
    this.finished = true;
    this.#onChange();
  };

  readonly #onError = (err: unknown): void => {
    this.error ??= fromTlsError(err);
    this.destroy();
    this.#onChange();
  };

  readonly #onClose = (): void => {
    this.destroyed = true;
    this.#onChange();
  };
}

/** Whether a read's target is a {@link ReadTargetSource} (a lazy read) rather than buffers. */
export function isReadTargetSource(x: MutableBufferSequence | ReadTargetSource): x is ReadTargetSource {
  return typeof (x as Partial<ReadTargetSource>).readTarget === 'function';
}
