/**
 * Raw deflate and inflate contexts that work like Beast's `zlib::deflate_stream` /
 * `inflate_stream`: synchronous calls that read from an input span and write into an output span
 * the caller owns, reporting how much of each was used. Node's public zlib API is either one-shot
 * or asynchronous on the thread pool; this drives the native handle of a zlib object directly
 * (`writeSync` and `_writeState`, what Node's own sync functions use; net/node-internals.ts, 4), so a context can be kept
 * between messages (context takeover) and output lands straight in the reader's buffer. Sync
 * calls also mean no zlib jobs pile up on the thread pool, which is what fragmented memory with
 * thousands of compressing connections in other libraries.
 */

import zlib from 'node:zlib';
import { SystemError, ErrorCategory, type ErrorCode } from '../../net/error.js';
import { hasSyncZlib, zlibNative, type ZlibNative } from '../../net/node-internals.js';

/** zlib's errors as codes (Beast's `zlib::error`). */
export const zlibCategory = new ErrorCategory('beast.zlib', (v) => zlibMessages[v] ?? `zlib error ${v}`);
const zlibMessages: Readonly<Record<number, string>> = {
  1: 'invalid or corrupt deflate data',
  2: 'zlib stream error',
  3: 'zlib out of memory',
};
export const zlibError = Object.freeze({
  dataError: zlibCategory.code(1),
  streamError: zlibCategory.code(2),
  memError: zlibCategory.code(3),
});

type NativeHandle = ZlibNative['handle'];

/** The result of one call: bytes taken from the input and written to the output. */
export interface CodecResult {
  readonly consumed: number;
  readonly produced: number;
}

const { Z_NO_FLUSH, Z_SYNC_FLUSH, Z_BLOCK, Z_DATA_ERROR, Z_MEM_ERROR } = zlib.constants;

abstract class Codec {
  readonly #owner: zlib.DeflateRaw | zlib.InflateRaw;
  readonly #handle: NativeHandle;
  readonly #state: Uint32Array;
  #error: ErrorCode | null = null;

  protected constructor(owner: zlib.DeflateRaw | zlib.InflateRaw) {
    // Negotiation offers and accepts the extension only where these are there (hasSyncZlib).
    const native = zlibNative(owner);
    if (native === null) throw new SystemError(zlibError.streamError, 'synchronous zlib contexts are not available (net/node-internals.ts, 4)');
    this.#owner = owner;
    this.#handle = native.handle;
    this.#state = native.state;
    this.#handle.onerror = (_message, errno) => {
      this.#error = errno === Z_DATA_ERROR ? zlibError.dataError : errno === Z_MEM_ERROR ? zlibError.memError : zlibError.streamError;
    };
  }

  /** Runs zlib once with `flush`; throws a SystemError carrying a zlib code on corrupt data. */
  protected run(flush: number, input: Uint8Array, output: Uint8Array): CodecResult {
    this.#handle.writeSync(flush, input, 0, input.length, output, 0, output.length);
    if (this.#error !== null) throw new SystemError(this.#error);
    return { consumed: input.length - this.#state[1]!, produced: output.length - this.#state[0]! };
  }

  /** Starts a new context (no takeover of the previous message's window). */
  reset(): void {
    this.#handle.reset();
  }

  /** Frees the native context. */
  close(): void {
    this.#owner.close();
  }
}

/** A raw deflate context. */
export class Deflater extends Codec {
  constructor(windowBits: number, level: number, memLevel: number) {
    super(zlib.createDeflateRaw({ windowBits: Math.max(9, windowBits), level, memLevel }));
  }

  /** Compresses as much of `input` as fits into `output`, without flushing. */
  write(input: Uint8Array, output: Uint8Array): CodecResult {
    return this.run(Z_NO_FLUSH, input, output);
  }

  /** Emits pending compressed blocks into `output` (Z_BLOCK); output full means call again. */
  flushBlock(output: Uint8Array): CodecResult {
    return this.run(Z_BLOCK, new Uint8Array(0), output);
  }

  /** Ends the message with a sync flush; the output ends with `00 00 FF FF`. */
  flushSync(output: Uint8Array): CodecResult {
    return this.run(Z_SYNC_FLUSH, new Uint8Array(0), output);
  }
}

/** A raw inflate context. */
export class Inflater extends Codec {
  constructor(windowBits: number) {
    super(zlib.createInflateRaw({ windowBits: Math.max(9, windowBits) }));
  }

  /** Inflates as much of `input` as fits into `output` (sync flush: all available output). */
  write(input: Uint8Array, output: Uint8Array): CodecResult {
    return this.run(Z_SYNC_FLUSH, input, output);
  }
}

/**
 * Whether permessage-deflate can be negotiated on this Node: it needs the synchronous streaming
 * zlib that the stream's deflate and inflate contexts drive (net/node-internals.ts, 4). Where it is
 * missing, or `TSBEAST_NO_PRIVATE=1` switched it off, a `Stream` neither offers nor accepts the
 * extension; a handshake carried outside the stream (RFC 8441 over HTTP/2) must ask this too.
 */
export function permessageDeflateAvailable(): boolean {
  return hasSyncZlib();
}
