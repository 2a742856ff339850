/**
 * Beast's HTTP errors (`beast::http::error`) in a `beast.http` category: what the parser, the
 * serializer and the HTTP read and write operations complete with. Pure data; no I/O here.
 *
 * The values keep Beast's numbering (`endOfStream` is 1, in Beast's order), so a code logged by
 * tsbeast can be looked up in Beast's documentation.
 */

import { ErrorCategory, type ErrorCode } from '../../net/error.js';

// Beast's order: the value of a name is its index + 1.
const names = [
  'endOfStream',
  'partialMessage',
  'needMore',
  'unexpectedBody',
  'needBuffer',
  'endOfChunk',
  'bufferOverflow',
  'headerLimit',
  'bodyLimit',
  'badAlloc',
  'badLineEnding',
  'badMethod',
  'badTarget',
  'badVersion',
  'badStatus',
  'badReason',
  'badField',
  'badValue',
  'badContentLength',
  'badTransferEncoding',
  'badChunk',
  'badChunkExtension',
  'badObsFold',
  'multipleContentLength',
  'staleParser',
  'shortRead',
] as const;

/** The name of one {@link error} value. */
export type HttpErrorName = (typeof names)[number];

const messages: Readonly<Record<HttpErrorName, string>> = {
  endOfStream: 'end of stream: the stream ended before any byte of a new message',
  partialMessage: 'partial message: the stream ended in the middle of a message',
  needMore: 'need more: the parser needs more input to make progress',
  unexpectedBody: 'unexpected body: the message has a body where none may be',
  needBuffer: 'need buffer: the body needs more storage',
  endOfChunk: 'end of chunk',
  bufferOverflow: 'buffer overflow: the dynamic buffer reached its maximum size',
  headerLimit: 'header limit exceeded',
  bodyLimit: 'body limit exceeded',
  badAlloc: 'bad alloc: a memory allocation failed',
  badLineEnding: 'bad line ending: a line is not terminated by CRLF, or holds a bare CR',
  badMethod: 'bad method: the method is not a token',
  badTarget: 'bad target: the request-target is empty or holds whitespace or control characters',
  badVersion: 'bad version: the HTTP-version is malformed or not HTTP/1.0 or HTTP/1.1',
  badStatus: 'bad status: the status-code is not three digits followed by a space',
  badReason: 'bad reason: the reason-phrase holds control characters',
  badField: 'bad field: the field name is empty or not a token',
  badValue: 'bad value: the field value holds control characters or is malformed',
  badContentLength: 'bad Content-Length',
  badTransferEncoding: 'bad Transfer-Encoding',
  badChunk: 'bad chunk: malformed chunk size or missing CRLF after chunk data',
  badChunkExtension: 'bad chunk extension',
  badObsFold: 'bad obs-fold: a folded field value exceeded the limit',
  multipleContentLength: 'multiple Content-Length fields with conflicting values',
  staleParser: 'stale parser: the parser already completed a message; use a new parser',
  shortRead: 'unexpected end of file in body',
};

/** The category of HTTP errors, named `beast.http` as in Beast. */
export const httpCategory: ErrorCategory = new ErrorCategory('beast.http', (value) => {
  const name = names[value - 1];
  return name === undefined ? `beast.http error ${value}` : messages[name];
});

/**
 * The HTTP error values (Beast's `http::error`, camelCased). Interned: compare with `===`.
 *
 * `needMore` is what {@link RequestParser.put} returns while a message is incomplete;
 * `endOfStream` / `partialMessage` are what an HTTP read completes with at end of stream before
 * any byte or in the middle of a message. The other parser errors name the malformed element.
 */
export const error: Readonly<Record<HttpErrorName, ErrorCode>> = Object.freeze(
  Object.fromEntries(names.map((name, i) => [name, httpCategory.code(i + 1)])) as Record<HttpErrorName, ErrorCode>,
);
