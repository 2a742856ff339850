/**
 * FieldSection: one header or trailer section being parsed (RFC 9112 section 5): its byte
 * budget, and the field whose value may still continue on an obs-fold line. A field is handed to
 * the sink only once the next line shows it does not continue. No I/O and no storage here.
 */

import type { Buffer } from 'node:buffer';

import type { ErrorCode } from '../../net/error.js';
import { error } from './error.js';
import { isFoldStart, parseFieldLine, parseFoldLine } from './line-syntax.js';

const MAX_OBS_FOLD = 4096; // Beast's max_obs_fold

/** Receives each complete field: name as received, its lower case, and the value. */
export type FieldSink = (name: string, key: string, value: string) => ErrorCode | null;

/** The state of one field section. */
export class FieldSection {
  /** Bytes of the section taken so far, CRLFs included. */
  bytes = 0;
  readonly #sink: FieldSink;
  #name: string | null = null;
  #value = '';

  /**
   * @param limit - most bytes the section may take (the header limit, or what a trailer gets).
   * @param sink - where complete fields go; an error it returns makes the message malformed.
   */
  constructor(
    readonly limit: number,
    sink: FieldSink,
  ) {
    this.#sink = sink;
  }

  /** Bytes the section may still take. */
  room(): number {
    return this.limit - this.bytes;
  }

  /** Whether a field waits for the first byte of the next line. */
  waiting(): boolean {
    return this.#name !== null;
  }

  /** Hands the waiting field, if any, to the sink. */
  flush(): ErrorCode | null {
    const name = this.#name;
    if (name === null) return null;
    this.#name = null;
    return this.#sink(name, name.toLowerCase(), this.#value);
  }

  /**
   * Takes one non-empty line `b[s, e)` of the section: a field line, or an obs-fold continuation
   * of the waiting field, which is joined with one SP (RFC 9112 section 5.2, as Beast does).
   * A folded value longer than 4096 bytes gives `badObsFold`.
   */
  line(b: Buffer, s: number, e: number, bareLf: boolean): ErrorCode | null {
    if (isFoldStart(b[s]) && this.#name !== null) {
      const more = parseFoldLine(b, s, e);
      if (typeof more !== 'string') return more;
      if (bareLf) return error.badLineEnding;
      if (more !== '') this.#value = this.#value === '' ? more : `${this.#value} ${more}`;
      return this.#value.length > MAX_OBS_FOLD ? error.badObsFold : null;
    }
    const ec = this.flush();
    if (ec !== null) return ec;
    const f = parseFieldLine(b, s, e);
    if (!('name' in f)) return f;
    if (bareLf) return error.badLineEnding;
    this.#name = f.name;
    this.#value = f.value;
    return null;
  }
}
