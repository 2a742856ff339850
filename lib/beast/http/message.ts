/**
 * HTTP messages (Beast's `message<isRequest, Body, Fields>` with a bytes-or-string body):
 * {@link Request}, {@link Response}, the standard reason phrases and the predicates a WebSocket
 * handshake needs ({@link isUpgrade}, {@link keepAlive}). Plain data; no I/O and no parsing here.
 */

import { Fields, type FieldsInit } from './fields.js';

/** A message body: bytes, or a string sent as UTF-8. Parsed messages always hold bytes. */
export type Body = Uint8Array | string;

const EMPTY = new Uint8Array(0);

/** What a {@link Request} can be built from; anything left out takes its default. */
export interface RequestInit {
  /** The method token, case-sensitive (RFC 9110 section 9.1); default `GET`. */
  method?: string;
  /** The request-target; default `/`. */
  target?: string;
  /** `10` for HTTP/1.0, `11` for HTTP/1.1 (Beast's encoding); default `11`. */
  version?: number;
  /** The header fields, used as is when given as a {@link Fields}. */
  fields?: Fields | FieldsInit;
  /** The body; default empty. */
  body?: Body;
}

/** What a {@link Response} can be built from; anything left out takes its default. */
export interface ResponseInit {
  /** The status code; default 200. */
  status?: number;
  /** The reason phrase; default `''`, which is sent as {@link obsoleteReason}(status). */
  reason?: string;
  /** `10` for HTTP/1.0, `11` for HTTP/1.1 (Beast's encoding); default `11`. */
  version?: number;
  /** The header fields, used as is when given as a {@link Fields}. */
  fields?: Fields | FieldsInit;
  /** The body; default empty. */
  body?: Body;
}

const toFields = (f: Fields | FieldsInit | undefined): Fields => (f instanceof Fields ? f : new Fields(f));

/** An HTTP request: request-line, fields and body (RFC 9112 section 3). */
export class Request {
  /** The method token, e.g. `GET`. */
  method: string;
  /** The request-target, e.g. `/chat?room=1`. */
  target: string;
  /** The HTTP version as Beast encodes it: 10 or 11. */
  version: number;
  /** The header fields. */
  fields: Fields;
  /** The body. */
  body: Body;

  constructor(init: RequestInit = {}) {
    this.method = init.method ?? 'GET';
    this.target = init.target ?? '/';
    this.version = init.version ?? 11;
    this.fields = toFields(init.fields);
    this.body = init.body ?? EMPTY;
  }
}

/** An HTTP response: status-line, fields and body (RFC 9112 section 4). */
export class Response {
  /** The status code, three digits. */
  status: number;
  /** The reason phrase as received or set; `''` is sent as {@link obsoleteReason}(status). */
  reason: string;
  /** The HTTP version as Beast encodes it: 10 or 11. */
  version: number;
  /** The header fields. */
  fields: Fields;
  /** The body. */
  body: Body;

  constructor(init: ResponseInit = {}) {
    this.status = init.status ?? 200;
    this.reason = init.reason ?? '';
    this.version = init.version ?? 11;
    this.fields = toFields(init.fields);
    this.body = init.body ?? EMPTY;
  }
}

/** Either kind of message. */
export type Message = Request | Response;

const reasons: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'], [101, 'Switching Protocols'], [102, 'Processing'], [103, 'Early Hints'],
  [200, 'OK'], [201, 'Created'], [202, 'Accepted'], [203, 'Non-Authoritative Information'],
  [204, 'No Content'], [205, 'Reset Content'], [206, 'Partial Content'], [207, 'Multi-Status'],
  [208, 'Already Reported'], [226, 'IM Used'],
  [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Found'], [303, 'See Other'],
  [304, 'Not Modified'], [305, 'Use Proxy'], [307, 'Temporary Redirect'], [308, 'Permanent Redirect'],
  [400, 'Bad Request'], [401, 'Unauthorized'], [402, 'Payment Required'], [403, 'Forbidden'],
  [404, 'Not Found'], [405, 'Method Not Allowed'], [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'], [408, 'Request Timeout'], [409, 'Conflict'], [410, 'Gone'],
  [411, 'Length Required'], [412, 'Precondition Failed'], [413, 'Payload Too Large'],
  [414, 'URI Too Long'], [415, 'Unsupported Media Type'], [416, 'Range Not Satisfiable'],
  [417, 'Expectation Failed'], [418, "I'm a teapot"], [421, 'Misdirected Request'],
  [422, 'Unprocessable Entity'], [423, 'Locked'], [424, 'Failed Dependency'], [425, 'Too Early'],
  [426, 'Upgrade Required'], [428, 'Precondition Required'], [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'], [451, 'Unavailable For Legal Reasons'],
  [500, 'Internal Server Error'], [501, 'Not Implemented'], [502, 'Bad Gateway'],
  [503, 'Service Unavailable'], [504, 'Gateway Timeout'], [505, 'HTTP Version Not Supported'],
  [506, 'Variant Also Negotiates'], [507, 'Insufficient Storage'], [508, 'Loop Detected'],
  [510, 'Not Extended'], [511, 'Network Authentication Required'],
]);

/**
 * The registered reason phrase of a status code (Beast's `obsolete_reason`), or
 * `<unknown-status>` as in Beast. Sent when a {@link Response} has no reason of its own.
 */
export function obsoleteReason(status: number): string {
  return reasons.get(status) ?? '<unknown-status>';
}

/**
 * Whether `req` asks to become a WebSocket connection (Beast's `websocket::is_upgrade`):
 * HTTP/1.1 or later, method `GET`, `Connection` holding the token `upgrade` and `Upgrade` holding
 * `websocket` (tokens compared case-insensitively). Unlike Beast, which reads only the first
 * `Connection` and `Upgrade` field, every repeat is read, as RFC 9110 section 5.3 combines them.
 */
export function isUpgrade(req: Request): boolean {
  return (
    req.version >= 11 &&
    req.method === 'GET' &&
    req.fields.containsToken('Connection', 'upgrade') &&
    req.fields.containsToken('Upgrade', 'websocket')
  );
}

/**
 * Whether the connection stays open after `msg` (Beast's `message::keep_alive`, RFC 9112
 * section 9.3): for HTTP/1.1 unless `Connection: close`; for HTTP/1.0 only with
 * `Connection: keep-alive`.
 */
export function keepAlive(msg: Message): boolean {
  if (msg.version >= 11) return !msg.fields.containsToken('Connection', 'close');
  return msg.fields.containsToken('Connection', 'keep-alive');
}
