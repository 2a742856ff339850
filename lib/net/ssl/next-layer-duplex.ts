/**
 * NextLayerDuplex: the opposite of `DuplexStream`: it presents any AsyncStream (a `TestStream`, a
 * stream of the user's) as a Node `Duplex`, so that `node:tls` can run over it when there is no
 * Node socket to hand over. It must never lose or reorder bytes, never have more than one read
 * and one write outstanding on the next layer, and never push into a destroyed stream. It reads
 * ahead (Node's TLS always does), so while it is open a read is outstanding on the next layer.
 */

import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import { error, SystemError, type ErrorCode } from '../error.js';
import { asyncWrite } from '../read-write.js';
import type { AsyncStream, IoSignature } from '../stream.js';

/** What the adapter uses of a next layer besides reading and writing, when it has them. */
export interface AdaptedLayer extends AsyncStream {
  /** Half-closes the sending side (`shutdown(1)` is Asio's `shutdown_send`). */
  shutdown?(what: 1): void;
  /** Closes the layer; its pending operations complete with `operationAborted`. */
  close?(): void;
}

/** The size of one read from the next layer: one TLS record at most. */
const READ_SIZE = 16 * 1024 + 256;

/**
 * A Node `Duplex` over an AsyncStream. Reading pulls from the next layer with `asyncReadSome`
 * (`eof` ends the readable side, other errors destroy the duplex with a `SystemError` carrying
 * the code); writing calls the free `asyncWrite`; ending the writable side calls the next layer's
 * `shutdown(1)` when it has one; destroying the duplex closes the next layer, as destroying a
 * TLS socket destroys the TCP socket under it.
 */
export class NextLayerDuplex extends Duplex {
  readonly #next: AdaptedLayer;
  #reading = false;
  #deliveringEof = false;

  constructor(next: AdaptedLayer) {
    super({ allowHalfOpen: true });
    this.#next = next;
  }

  /** The stream adapted. */
  nextLayer(): AdaptedLayer {
    return this.#next;
  }

  /**
   * True only while the next layer's end of stream is being handed to this duplex's consumers
   * (inside the `'end'` event): what lets the TLS stream tell a peer's close_notify, which TLS
   * reports while reading data, from a transport that simply ended.
   */
  get deliveringEof(): boolean {
    return this.#deliveringEof;
  }

  /**
   * Brackets the consumers' `'end'` listeners registered so far with the window reported by
   * {@link NextLayerDuplex.deliveringEof}. Call once, after the consumer (TLS) was attached.
   */
  watchEof(): void {
    this.prependOnceListener('end', () => (this.#deliveringEof = true));
    this.once('end', () => (this.#deliveringEof = false));
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    const buf = Buffer.allocUnsafe(READ_SIZE);
    this.#next.asyncReadSome(buf, (ec: ErrorCode | null, n: number): void => {
      this.#reading = false;
      if (this.destroyed) return;
      if (ec === null) {
        // A pushed chunk is kept by Node until consumed, so every read gets a buffer of its own.
        if (n > 0) this.push(buf.subarray(0, n));
        else this._read();
      } else if (ec === error.eof) {
        this.push(null);
      } else {
        this.destroy(new SystemError(ec, 'next layer read'));
      }
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#writeAll(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.#writeAll(chunks.map((c) => c.chunk), callback);
  }

  #writeAll(buffers: Uint8Array | Uint8Array[], callback: (err?: Error | null) => void): void {
    asyncWrite(this.#next, buffers, (ec: ErrorCode | null, _n: IoSignature[1]) =>
      callback(ec === null ? null : new SystemError(ec, 'next layer write')),
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    try {
      this.#next.shutdown?.(1);
    } catch {
      // Not connected any more: the close_notify was written, which is what ending promises.
    }
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#next.close?.();
    callback(err);
  }
}
