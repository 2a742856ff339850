/**
 * LineReader: finds the next CRLF-terminated line of HTTP input across `put` calls, keeping the
 * bytes of an incomplete line until its end arrives (RFC 9112 section 2.2: lines end in LF,
 * which the parser checks is preceded by CR). No I/O and no parsing here; it holds at most the
 * `room` its caller allows, so the parser's limits bound its memory.
 */

import { Buffer } from 'node:buffer';

const LF = 0x0a;

/** {@link LineReader.take} kept every byte: the line has not ended yet. */
export const KEPT = -1;
/** {@link LineReader.take} found no line end within the room allowed. */
export const TOO_LONG = -2;

/** Where a complete line is: `buf[start, lf)` with the LF at `lf` (its CR, if any, before it). */
export interface LineRef {
  buf: Buffer;
  start: number;
  lf: number;
}

const NOTHING: Buffer = Buffer.alloc(0); // shared: most parsers never hold a partial line

/** Collects lines from successive inputs. */
export class LineReader {
  #held: Buffer = NOTHING;
  #heldLen = 0;
  // Reused for every line: the parser reads it before asking for the next.
  readonly #line: LineRef = { buf: NOTHING, start: 0, lf: 0 };

  /** The number of bytes of an incomplete line held. */
  held(): number {
    return this.#heldLen;
  }

  /** The first byte held (meaningful only when {@link LineReader.held} > 0). */
  first(): number {
    return this.#held[0];
  }

  /**
   * Takes the next line from `b[pos, n)`, allowing at most `room` new bytes for it (LF
   * included). Returns the index in `b` of the line's LF (then {@link LineReader.line} gives the
   * whole line, held bytes included), {@link KEPT} when every byte was kept for later, or
   * {@link TOO_LONG} when the line cannot end within `room`.
   */
  take(b: Buffer, pos: number, n: number, room: number): number {
    // indexOf runs natively; a line is short, so the scan stops soon in any real message.
    const lf = b.indexOf(LF, pos);
    if (lf < 0 || lf - pos >= room) {
      if (n - pos >= room) return TOO_LONG;
      this.#keep(b, pos, n);
      return KEPT;
    }
    const line = this.#line;
    if (this.#heldLen === 0) {
      line.buf = b;
      line.start = pos;
      line.lf = lf;
    } else {
      this.#keep(b, pos, lf + 1);
      line.buf = this.#held;
      line.start = 0;
      line.lf = this.#heldLen - 1;
      this.#heldLen = 0;
    }
    return lf;
  }

  /** The line found by the last {@link LineReader.take}; valid until the next call. */
  line(): LineRef {
    return this.#line;
  }

  #keep(b: Buffer, from: number, to: number): void {
    const need = this.#heldLen + (to - from);
    if (need > this.#held.length) {
      // Grow geometrically, but never far past what is needed: the room bounds `need`.
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(2 * this.#held.length, need + 1024), 256));
      this.#held.copy(grown, 0, 0, this.#heldLen);
      this.#held = grown;
    }
    b.copy(this.#held, this.#heldLen, from, to);
    this.#heldLen = need;
  }
}
