/**
 * Inflation of compressed messages for the frame reader (RFC 7692; Beast's deflated read): what
 * `FrameReader.inflate` does, apart so that the reader stays one concept a file.
 */

import { bufferSize, type BuffersSuffix } from '../../net/buffer.js';
import { SystemError } from '../../net/error.js';
import { CloseCode } from './close.js';
import { error } from './error.js';
import type { FrameReader } from './frame-reader.js';
import { Opcode } from './frame.js';

const noPayload = new Uint8Array(0);
const emptyBlock = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/**
 * Inflates the buffered compressed payload into `out` (Beast's deflated read): feeds the
 * `00 00 FF FF` tail after the final frame and checks readMessageMax on the inflated size as it
 * grows, so a small frame cannot inflate into unbounded memory. Stops when `out` is full, or the
 * buffer is empty with payload still due (the caller reads more). Returns false on a violation
 * (1009 too big, 1007 invalid UTF-8 or data that does not inflate); `FrameReader.taken` holds the
 * bytes produced either way.
 */
export function inflateInto(r: FrameReader, out: BuffersSuffix): boolean {
  const pmd = r.pmd!;
  const inflater = pmd.inflater(r.decoder.role);
  const pieces: Uint8Array[] = [];
  const max = r.decoder.readMessageMax;
  let total = 0;
  r.taken = 0;
  while (bufferSize(out.data()) > 0) {
    const dest = firstNonEmpty(out.data());
    let consumed: number;
    let produced: number;
    try {
      if (r.remain > 0) {
        if (r.buf.size() === 0) break;
        r.unmaskBuffered(); // zlib reads the payload where it lies
        const at = r.buf.readOffset();
        const input = r.buf.block().subarray(at, at + Math.min(r.remain, r.buf.size()));
        if (pmd.inflateEnded) {
          // Past the end of the peer's deflate stream: nothing more to inflate in this message.
          r.consumePayload(input.length);
          continue;
        }
        ({ consumed, produced } = inflater.write(input, dest));
        r.consumePayload(consumed);
        // zlib stopped short of both the input's end and the output's: the stream has ended.
        if (consumed < input.length && produced < dest.length) pmd.inflateEnded = true;
      } else if (r.fin && pmd.inflateEnded) {
        endInflated(r);
        break;
      } else if (r.fin) {
        ({ consumed, produced } = inflater.write(emptyBlock.subarray(pmd.ebConsumed), dest));
        pmd.ebConsumed += consumed;
        if (produced === 0) {
          endInflated(r);
          break;
        }
      } else {
        break;
      }
    } catch (err) {
      if (!(err instanceof SystemError)) throw err;
      // RFC 7692 section 8: data that does not inflate fails the connection; 1007, as ws sends
      // (Beast sends no close frame here).
      r.violate(err.code, CloseCode.badPayload);
      return false;
    }
    if (max > 0 && r.size + produced > max) {
      r.violate(error.messageTooBig, CloseCode.tooBig);
      return false;
    }
    pieces.push(dest.subarray(0, produced));
    out.consume(produced);
    r.size += produced;
    total += produced;
    r.taken = total;
    if (consumed === 0 && produced === 0) break;
  }
  if (r.op === Opcode.text) {
    for (const piece of pieces) if (!r.utf8().write(piece)) return r.badPayload();
    if (r.done && !r.utf8().finish()) return r.badPayload();
  }
  return true;
}

function endInflated(r: FrameReader): void {
  const pmd = r.pmd!;
  pmd.afterRead(r.decoder.role, pmd.inflateEnded);
  pmd.inflateEnded = false;
  r.done = true;
}

function firstNonEmpty(buffers: readonly Uint8Array[]): Uint8Array {
  for (const b of buffers) if (b.length > 0) return b;
  return noPayload;
}
