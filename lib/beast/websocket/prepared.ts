/**
 * A message framed once for many streams ("prepare once, send many", ws#617): the bytes a server
 * stream would write for it, made the first time a stream with given write settings asks and
 * kept for every later stream with the same settings. Compression is shared too, but only where
 * the stream does not keep its deflate window between messages (server_no_context_takeover): a
 * window kept across messages makes each stream's bytes depend on what it sent before.
 *
 * No I/O here: the write operation (ops/write.ts) sends what this module builds. Client frames are never
 * prepared: RFC 6455 section 5.3 wants a fresh, unpredictable masking key for every frame, so
 * a client stream frames a prepared message itself, as asyncWrite would.
 */

import { Buffer } from 'node:buffer';
import { bufferCopy, bufferSize, type ConstBufferSequence } from '../../net/buffer.js';
import type { AsyncStream } from '../../net/stream.js';
import { encodeFrameHeader, Opcode } from './frame.js';
import type { StreamImpl } from './stream-impl.js';
import { Deflater } from './zlib-codec.js';

/**
 * A whole message whose frames are built once and shared by every server stream it is written
 * to with {@link Stream.asyncWritePrepared}: the payload is framed (and, where the negotiated
 * permessage-deflate keeps no context between messages, compressed) once per distinct set of
 * write settings, not once per stream. The bytes on the wire are those `asyncWrite` would send
 * for the same payload on the same stream.
 *
 * The payload is copied when the message is made, so the caller may reuse its buffers at once.
 * The message type (text or binary) follows each stream's `text()` / `binary()` setting, as for
 * `asyncWrite`. A prepared message is immutable and may be written to any number of streams,
 * concurrently.
 *
 * ```ts
 * const message = new PreparedMessage('hello, everyone');
 * for (const ws of members) ws.asyncWritePrepared(message, (ec) => { ... });
 * ```
 */
export class PreparedMessage {
  readonly #payload: Buffer;
  /** Encodings made so far, by the settings that produced them. */
  readonly #encodings = new Map<string, Buffer>();

  /** Copies `data` (bytes, or a string encoded as UTF-8). */
  constructor(data: ConstBufferSequence | string) {
    if (typeof data === 'string') {
      this.#payload = Buffer.from(data, 'utf8');
    } else {
      const size = bufferSize(data);
      this.#payload = Buffer.allocUnsafe(size);
      bufferCopy(this.#payload, data, size);
    }
  }

  /** The payload size in bytes (before framing and compression). */
  size(): number {
    return this.#payload.length;
  }

  /** The payload (the message's own copy: do not modify). */
  payload(): Uint8Array {
    return this.#payload;
  }

  /** How many distinct encodings were built (one per distinct set of stream write settings). */
  encodings(): number {
    return this.#encodings.size;
  }

  /**
   * @internal The frames for `impl` as it stands before its next message, or null when the
   * stream must frame the message itself: a client (fresh masking keys), a stream in the middle
   * of a message (the payload continues it), or compression with context takeover.
   */
  framesFor<N extends AsyncStream>(impl: StreamImpl<N>): Buffer | null {
    const w = impl.writer;
    if (impl.role !== 'server' || w.cont) return null;
    const size = this.#payload.length;
    const opcode = w.opcode;
    const cfg = impl.pmdConfig;
    // Beast's begin_msg decides compression per message from the same three things.
    if (cfg !== null && w.compressOpt && size >= impl.pmdOpts.msgSizeThreshold) {
      if (!cfg.serverNoContextTakeover) return null;
      const { compLevel, memLevel } = impl.pmdOpts;
      const bufSize = w.bufOpt;
      const key = `z${opcode}/${bufSize}/${cfg.serverMaxWindowBits}/${compLevel}/${memLevel}`;
      let frames = this.#encodings.get(key);
      if (frames === undefined) {
        frames = deflateFrames(this.#payload, opcode, bufSize, cfg.serverMaxWindowBits, compLevel, memLevel);
        this.#encodings.set(key, frames);
      }
      return frames;
    }
    // Uncompressed: fragments of the write buffer's size with autoFragment, else one frame.
    const fragment = w.fragOpt && size > w.bufOpt ? w.bufOpt : 0;
    const key = `p${opcode}/${fragment}`;
    let frames = this.#encodings.get(key);
    if (frames === undefined) {
      frames = plainFrames(this.#payload, opcode, fragment);
      this.#encodings.set(key, frames);
    }
    return frames;
  }
}

/** Unmasked frames of `payload`: one, or fragments of `fragment` bytes when it is not 0. */
function plainFrames(payload: Buffer, opcode: number, fragment: number): Buffer {
  const size = payload.length;
  const count = fragment === 0 ? 1 : Math.ceil(size / fragment);
  const out = Buffer.allocUnsafe(size + count * 10);
  let at = 0;
  let offset = 0;
  do {
    const n = fragment === 0 ? size : Math.min(fragment, size - offset);
    at += encodeFrameHeader(out, at, { fin: offset + n === size, opcode: offset === 0 ? opcode : Opcode.cont, length: n });
    payload.copy(out, at, offset, offset + n);
    at += n;
    offset += n;
  } while (offset < size);
  return out.subarray(0, at);
}

// One deflate context per set of parameters, reset after each message: preparing is synchronous,
// so one context serves every message, and zlib's allocation is paid once, not per broadcast.
const deflaters = new Map<string, Deflater>();

function deflaterFor(windowBits: number, level: number, memLevel: number): Deflater {
  const key = `${windowBits}/${level}/${memLevel}`;
  let z = deflaters.get(key);
  if (z === undefined) {
    z = new Deflater(windowBits, level, memLevel);
    deflaters.set(key, z);
  }
  return z;
}

/**
 * The compressed frames a server stream with no context takeover writes for `payload`: the same
 * calls to a fresh deflate context as ops/write.ts makes (output in pieces of the write buffer's
 * size, one frame each, RSV1 on the first; the final sync flush's `00 00 FF FF` removed, RFC 7692
 * section 7.2.1), so that the bytes are the same.
 */
function deflateFrames(payload: Buffer, opcode: number, bufSize: number, windowBits: number, level: number, memLevel: number): Buffer {
  const z = deflaterFor(windowBits, level, memLevel);
  const buf = new Uint8Array(bufSize);
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(10);
  let offset = 0;
  let first = true;
  try {
    for (;;) {
      // Beast's impl.deflate: what fits of the rest, then the flush once everything is taken.
      let produced = 0;
      let more = true;
      if (offset < payload.length) {
        const r = z.write(payload.subarray(offset), buf);
        produced += r.produced;
        offset += r.consumed;
      }
      if (produced < buf.length && offset === payload.length) {
        produced += z.flushBlock(buf.subarray(produced)).produced;
        if (buf.length - produced >= 6) {
          produced += z.flushSync(buf.subarray(produced)).produced - 4;
          more = false;
        }
      }
      if (produced === 0 && more) continue;
      const n = encodeFrameHeader(header, 0, { fin: !more, rsv1: first, opcode: first ? opcode : Opcode.cont, length: produced });
      parts.push(header.slice(0, n), buf.slice(0, produced));
      first = false;
      if (!more) break;
    }
  } finally {
    z.reset();
  }
  return Buffer.concat(parts);
}
