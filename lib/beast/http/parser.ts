/**
 * The incremental HTTP/1.1 parser (Beast's `basic_parser` with `http::parser`): bytes in, a
 * {@link Request} or {@link Response} out, with header and body limits. No I/O here, it never
 * throws on any input, and it never holds more than the header limit of unparsed header bytes.
 *
 * Input may be split anywhere: an incomplete line is kept inside the parser (at most the header
 * limit, or 8 KiB for a chunk-size line), so `put` consumes every byte that belongs to the
 * message and only those; bytes after the end of the message are left to the caller (for a
 * WebSocket handshake, the first frames). Any split of the input gives the same result.
 *
 * Where this parser differs from Beast, on purpose:
 * - empty lines before a request-line are skipped (RFC 9112 section 2.2; Beast: `badMethod`);
 * - a line ended by a bare LF gives `badLineEnding` wherever it occurs (RFC 9112 section 2.2
 *   allows rejecting it; Beast names the element instead: `badVersion`, `badValue` …);
 * - obs-fold is replaced by one SP, as Beast does and RFC 9112 section 5.2 allows for requests
 *   and requires of user agents for responses; a folded value longer than 4096 bytes gives
 *   `badObsFold` (the limit is Beast's; Beast now reports `headerLimit` there);
 * - trailer fields are kept apart in {@link BasicParser.trailers}, never merged into the header
 *   (RFC 9110 section 6.5.1; Beast merges a few known-safe ones);
 * - lengths past 2^53 (Content-Length, chunk sizes) always exceed the body limit, even an
 *   unlimited one: JavaScript numbers cannot count further.
 */

import { Buffer } from 'node:buffer';

import type { ErrorCode } from '../../net/error.js';
import { BodyCollector } from './body-collector.js';
import { error } from './error.js';
import { appendChecked, Fields } from './fields.js';
import { Framing } from './framing.js';
import { FieldSection } from './field-section.js';
import { KEPT, LineReader, TOO_LONG } from './line-reader.js';
import { isFoldStart, parseChunkLine, parseRequestLine, parseStatusLine, trailingVersion } from './line-syntax.js';
import { Request, Response, type Message } from './message.js';

/** What {@link BasicParser.put} returns: the error (or null) and how many bytes it consumed. */
export interface PutResult {
  /** `null` when the message (or, not eager, the header) is complete; `needMore` for more input. */
  ec: ErrorCode | null;
  /**
   * Bytes consumed from the input: never more than given; the rest belongs to the caller. After
   * an error it counts the bytes examined up to the error (the malformed line, or the bytes up
   * to the limit), so the total is the same however the input was split.
   */
  consumed: number;
}

/** Options of a parser; every one can also be changed with the method of the same name. */
export interface ParserOptions {
  /** Most bytes of header, CRLFs included (default 8192); exceeding it gives `headerLimit`. */
  headerLimit?: number;
  /**
   * Most bytes of body, `null` for no limit (default 1 MiB for requests, 8 MiB for responses,
   * as in Beast); exceeding it gives `bodyLimit`.
   */
  bodyLimit?: number | null;
  /** Keep going past the header in one `put` (default false, as in Beast). */
  eager?: boolean;
  /** The message has no body whatever its fields say: a response to HEAD (default false). */
  skip?: boolean;
}

// States (Beast's, folded where line buffering makes them one).
const START = 0, FIELDS = 1, BODY = 2, BODY_TO_EOF = 3;
const CHUNK_HEADER = 4, CHUNK_DATA = 5, CHUNK_CRLF = 6, TRAILER = 7;
const DONE = 8, FAILED = 9;

const CR = 0x0d;
const LF = 0x0a;
const MAX_CHUNK_LINE = 8192; // Beast's bound on a chunk-size line with its extensions

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The parser common to requests and responses; use {@link RequestParser} or
 * {@link ResponseParser}. One parser reads one message: construct a new one for the next.
 */
export abstract class BasicParser<M extends Message> {
  readonly #msg: M;
  readonly #isRequest: boolean;
  readonly #trailers = new Fields();
  readonly #reader = new LineReader();
  readonly #framing = new Framing();
  #state = START;
  #ec: ErrorCode | null = null;
  #headerLimit: number;
  #bodyLimit: number | null;
  #eager: boolean;
  #skip: boolean;
  #gotSome = false;
  #headerDone = false;
  #section: FieldSection; // the header, then the trailer section
  readonly #body = new BodyCollector();
  #crlfSeen = 0; // bytes seen of the CRLF after chunk data

  /** @internal use {@link RequestParser} or {@link ResponseParser}. */
  protected constructor(msg: M, defaultBodyLimit: number, options: ParserOptions) {
    this.#msg = msg;
    this.#isRequest = msg instanceof Request;
    this.#headerLimit = options.headerLimit ?? 8192;
    this.#section = new FieldSection(this.#headerLimit, this.#onField);
    this.#bodyLimit = options.bodyLimit === undefined ? defaultBodyLimit : options.bodyLimit;
    this.#eager = options.eager ?? false;
    this.#skip = options.skip ?? false;
  }

  /** Whether this parser reads requests. */
  get isRequest(): boolean {
    return this.#isRequest;
  }

  /** The message being built: complete once {@link BasicParser.isDone}. */
  get(): M {
    return this.#msg;
  }

  /** The trailer fields of a chunked body (empty otherwise). Never merged into the header. */
  trailers(): Fields {
    return this.#trailers;
  }

  /** Whether any byte of a message was received (empty lines before a request do not count). */
  gotSome(): boolean {
    return this.#gotSome;
  }

  /** Whether the whole header has been parsed. */
  isHeaderDone(): boolean {
    return this.#headerDone;
  }

  /** Whether the whole message has been parsed. */
  isDone(): boolean {
    return this.#state === DONE;
  }

  /** The error the parser stopped on, or null. */
  error(): ErrorCode | null {
    return this.#ec;
  }

  /** Whether the header asked for chunked transfer coding. */
  chunked(): boolean {
    return this.#framing.chunked;
  }

  /** The Content-Length of the header, or null when there is none. */
  contentLength(): number | null {
    return this.#framing.contentLength;
  }

  /** Whether the body ends only at end of stream (a response with no length). */
  needEof(): boolean {
    return this.#state === BODY_TO_EOF;
  }

  /** Whether the connection stays open after this message (Beast's `keep_alive`). */
  keepAlive(): boolean {
    const f = this.#framing;
    return (this.#msg.version >= 11 ? !f.close : f.keepAlive) && !this.needEof();
  }

  /** Whether the message asks to upgrade: `Connection: upgrade` and an `Upgrade` field. */
  upgrade(): boolean {
    return this.#framing.connectionUpgrade && this.#framing.upgrade;
  }

  /** The number of bytes of an incomplete line held between puts (never above the limits). */
  bufferedBytes(): number {
    return this.#reader.held();
  }

  /** Gets or sets the header limit; set it before the first byte. */
  headerLimit(): number;
  headerLimit(v: number): void;
  headerLimit(v?: number): number | void {
    if (v === undefined) return this.#headerLimit;
    this.#headerLimit = v;
    this.#section = new FieldSection(v, this.#onField);
  }

  /** Gets or sets the body limit (`null`: none). */
  bodyLimit(): number | null;
  bodyLimit(v: number | null): void;
  bodyLimit(v?: number | null): number | null | void {
    if (v === undefined) return this.#bodyLimit;
    this.#bodyLimit = v;
  }

  /** Gets or sets the eager option: when false, `put` returns as soon as the header is done. */
  eager(): boolean;
  eager(v: boolean): void;
  eager(v?: boolean): boolean | void {
    if (v === undefined) return this.#eager;
    this.#eager = v;
  }

  /** Gets or sets the skip option (no body whatever the fields say); set it before the header ends. */
  skip(): boolean;
  skip(v: boolean): void;
  skip(v?: boolean): boolean | void {
    if (v === undefined) return this.#skip;
    this.#skip = v;
  }

  /**
   * Parses as much of `bytes` as belongs to the message (Beast's `put`). Returns `null` when the
   * message is complete (or, when not eager, the header just completed), `needMore` when every
   * byte was consumed and more are needed, or the error that stopped it; `staleParser` once done.
   * After an error every call returns the same error. Never throws.
   */
  put(bytes: Uint8Array): PutResult {
    if (this.#ec !== null) return { ec: this.#ec, consumed: 0 };
    if (this.#state === DONE) return { ec: error.staleParser, consumed: 0 };
    const b = asBuffer(bytes);
    const n = b.length;
    const headerWasDone = this.#headerDone;
    let pos = 0;
    for (;;) {
      const state = this.#state;
      if (state === DONE) return { ec: null, consumed: pos };
      if (state === FAILED) return { ec: this.#ec, consumed: pos };
      if (this.#headerDone && !headerWasDone && !this.#eager) return { ec: null, consumed: pos };
      if (pos === n) return { ec: error.needMore, consumed: n };
      if (state === BODY || state === CHUNK_DATA) pos = this.#bodyBytes(b, pos, n);
      else if (state === BODY_TO_EOF) pos = this.#bodyToEof(b, pos, n);
      else if (state === CHUNK_CRLF) pos = this.#chunkCrlf(b, pos);
      else pos = this.#line(b, pos, n);
    }
  }

  /**
   * Tells the parser the stream ended (Beast's `put_eof`): completes a body that runs to end of
   * stream, otherwise gives `endOfStream` before any byte of a message and `partialMessage` in
   * the middle of one. Returns null when the message is complete.
   */
  putEof(): ErrorCode | null {
    if (this.#ec !== null) return this.#ec;
    if (this.#state === DONE) return null;
    if (this.#state === BODY_TO_EOF) {
      this.#finish();
      return null;
    }
    return this.#fail(this.#gotSome ? error.partialMessage : error.endOfStream);
  }

  #fail(ec: ErrorCode): ErrorCode {
    this.#ec = ec;
    this.#state = FAILED;
    return ec;
  }

  // ---- lines: start line, fields, chunk-size lines, trailer fields --------------------------

  /** Takes the next line from `b` at `pos` and processes it; returns the position after it. */
  #line(b: Buffer, pos: number, n: number): number {
    const chunkLine = this.#state === CHUNK_HEADER;
    const reader = this.#reader;
    // Room left for the rest of this line; a line that cannot end within it breaks the limit.
    const section = this.#section;
    const room = chunkLine ? MAX_CHUNK_LINE - reader.held() : section.room();
    const limitError = chunkLine ? error.badChunkExtension : error.headerLimit;
    if (room <= 0) return (this.#fail(limitError), pos);
    // A field is complete once the next line's first byte shows it is not folded (Beast looks
    // one byte past the CRLF too), so a field's error never waits for the next line to end.
    if (section.waiting() && reader.held() === 0 && !isFoldStart(b[pos]) && this.#failed(section.flush())) return pos;
    const lf = reader.take(b, pos, n, room);
    // The bytes up to the limit, or a malformed line, count as consumed: the total is then the
    // same however the input was split.
    if (lf === TOO_LONG) return (this.#fail(limitError), pos + room);
    if (lf === KEPT) {
      if (!chunkLine) section.bytes += n - pos;
      if (this.#state === START) this.#gotSome ||= reader.first() !== CR || reader.held() > 1;
      return n;
    }
    if (!chunkLine) section.bytes += lf + 1 - pos;
    const { buf, start, lf: end } = reader.line();
    // A line ends with CRLF; a bare LF is reported after the content, which Beast checks first.
    const bareLf = end === start || buf[end - 1] !== CR;
    const e = bareLf ? end : end - 1;
    if (this.#state === START) this.#onStartLine(buf, start, e, bareLf);
    else if (chunkLine) this.#onChunkLine(buf, start, e, bareLf);
    else this.#onFieldLine(buf, start, e, bareLf);
    return lf + 1;
  }

  #onStartLine(b: Buffer, s: number, e: number, bareLf: boolean): void {
    if (bareLf && e === s) return void this.#fail(error.badLineEnding);
    // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before a request-line.
    if (e === s && this.#isRequest) return;
    this.#gotSome = true;
    if (this.#isRequest) {
      const r = parseRequestLine(b, s, e);
      const req = this.#msg as Request;
      if (!('version' in r)) {
        // The version of a well-formed line is kept, so that a server can answer 505 to it.
        if (r === error.badVersion) req.version = trailingVersion(b, s, e);
        return void this.#fail(r);
      }
      [req.method, req.target, req.version] = [r.method, r.target, r.version];
    } else {
      const r = parseStatusLine(b, s, e);
      if (!('version' in r)) return void this.#fail(r);
      const res = this.#msg as Response;
      [res.status, res.reason, res.version] = [r.status, r.reason, r.version];
    }
    if (bareLf) return void this.#fail(error.badLineEnding);
    this.#state = FIELDS;
  }

  #onFieldLine(b: Buffer, s: number, e: number, bareLf: boolean): void {
    if (e !== s) return void this.#failed(this.#section.line(b, s, e, bareLf));
    // The empty line ends the section.
    if (bareLf) return void this.#fail(error.badLineEnding);
    if (this.#failed(this.#section.flush())) return;
    return this.#state === TRAILER ? this.#finish() : this.#finishHeader();
  }

  /** Fails with `ec` when it is an error; returns whether it was. */
  #failed(ec: ErrorCode | null): boolean {
    if (ec === null) return false;
    this.#fail(ec);
    return true;
  }

  /** Applies a complete field: framing and the message for the header, trailers apart. */
  readonly #onField = (name: string, key: string, value: string): ErrorCode | null => {
    if (this.#state === TRAILER) {
      // Trailer fields never change framing or connection handling (RFC 9112 section 7.1.2).
      this.#trailers[appendChecked](name, key, value);
      return null;
    }
    const ec = this.#framing.onField(key, value);
    if (ec === null) this.#msg.fields[appendChecked](name, key, value);
    return ec;
  };

  /** Decides how the body is delimited (RFC 9112 section 6.3, Beast's `finish_header`). */
  #finishHeader(): void {
    const f = this.#framing;
    const bad = this.#isRequest ? f.checkRequest(this.#msg.version) : null;
    if (bad !== null) return void this.#fail(bad);
    if (this.#skip || this.#noBody()) return this.#finish();
    if (f.chunked) return this.#startBody(CHUNK_HEADER);
    const len = f.contentLength;
    if (len !== null) {
      if (len === 0) return this.#finish();
      if (len > Number.MAX_SAFE_INTEGER || (this.#bodyLimit !== null && len > this.#bodyLimit)) return void this.#fail(error.bodyLimit);
      this.#body.expectLength(len);
      return this.#startBody(BODY);
    }
    // A request without framing fields has no body; a response runs to end of stream.
    if (this.#isRequest) return this.#finish();
    this.#startBody(BODY_TO_EOF);
  }

  #startBody(state: number): void {
    this.#headerDone = true;
    this.#state = state;
  }

  /** 1xx, 204 and 304 responses end with the header, even with a Content-Length (Beast). */
  #noBody(): boolean {
    if (this.#isRequest) return false;
    const status = (this.#msg as Response).status;
    return Math.trunc(status / 100) === 1 || status === 204 || status === 304;
  }

  #onChunkLine(b: Buffer, s: number, e: number, bareLf: boolean): void {
    const allowed = this.#bodyLimit === null ? Infinity : this.#bodyLimit - this.#body.counted;
    const size = parseChunkLine(b, s, e, allowed);
    if (typeof size !== 'number') return void this.#fail(size);
    if (bareLf) return void this.#fail(error.badLineEnding);
    this.#body.expectChunk(size);
    if (size > 0) return void (this.#state = CHUNK_DATA);
    // The last chunk: the trailer section gets what the header left of the limit, plus its
    // final CRLF (as in Beast).
    this.#state = TRAILER;
    this.#section = new FieldSection(Math.max(0, this.#section.room()) + 2, this.#onField);
  }

  // ---- bodies ---------------------------------------------------------------------------------

  /** The bytes of a Content-Length body or of a chunk. */
  #bodyBytes(b: Buffer, pos: number, n: number): number {
    pos += this.#body.takeExpected(b, pos, n);
    if (this.#body.remaining() > 0) return pos;
    if (this.#state === BODY) this.#finish();
    else [this.#state, this.#crlfSeen] = [CHUNK_CRLF, 0];
    return pos;
  }

  #bodyToEof(b: Buffer, pos: number, n: number): number {
    // The body up to the limit is taken before failing, so every split fails at the same byte.
    const allowed = this.#bodyLimit === null ? Infinity : this.#bodyLimit - this.#body.counted;
    const end = Math.min(n, pos + allowed);
    this.#body.append(b, pos, end);
    if (end < n) this.#fail(error.bodyLimit);
    return end;
  }

  /** The CRLF after chunk data, one byte at a time so that no split changes the outcome. */
  #chunkCrlf(b: Buffer, pos: number): number {
    if (b[pos] !== (this.#crlfSeen === 0 ? CR : LF)) return (this.#fail(error.badChunk), pos);
    if (++this.#crlfSeen === 2) this.#state = CHUNK_HEADER;
    return pos + 1;
  }

  /** Completes the message: the body goes into it (Beast's `on_finish`). */
  #finish(): void {
    this.#headerDone = true;
    this.#state = DONE;
    const body = this.#body.finish();
    if (body !== null) this.#msg.body = body;
  }
}

/** Parses one HTTP/1.x request (Beast's `request_parser`). Default body limit 1 MiB. */
export class RequestParser extends BasicParser<Request> {
  /** @param options - limits and modes; see {@link ParserOptions}. */
  constructor(options: ParserOptions = {}) {
    super(new Request({ method: '', target: '' }), 1024 * 1024, options);
  }
}

/**
 * Parses one HTTP/1.x response (Beast's `response_parser`). Default body limit 8 MiB. For the
 * response to a HEAD request, set `skip`.
 */
export class ResponseParser extends BasicParser<Response> {
  /** @param options - limits and modes; see {@link ParserOptions}. */
  constructor(options: ParserOptions = {}) {
    super(new Response(), 8 * 1024 * 1024, options);
  }
}
