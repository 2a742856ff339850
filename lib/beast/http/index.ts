/**
 * `tsbeast/http`: HTTP/1.1 messages for the WebSocket handshake and simple servers and clients
 * (Beast's `beast::http`): {@link Fields}, {@link Request} / {@link Response}, the incremental
 * parsers, the serializer, `asyncRead` / `asyncReadHeader` / `asyncWrite`, and the `http.error`
 * values. Only the I/O operations (`read.ts`, `write.ts`) touch a stream.
 *
 * Deliberate differences from Beast: {@link Fields} rejects invalid names and values (control
 * characters, CR, LF, characters above U+00FF) with `TypeError` instead of sending them; the
 * parser's differences are listed in `parser.ts` (empty lines before a request are skipped,
 * bare LF is `badLineEnding`, obs-fold past 4096 bytes is `badObsFold`, trailers are kept apart);
 * the serializer adds `Content-Length` itself where Beast leaves it to `prepare_payload`.
 */

export { error, httpCategory, type HttpErrorName } from './error.js';
export { Fields, tokenListContains, type FieldsInit } from './fields.js';
export {
  Request,
  Response,
  isUpgrade,
  keepAlive,
  obsoleteReason,
  type Body,
  type Message,
  type RequestInit,
  type ResponseInit,
} from './message.js';
export { BasicParser, RequestParser, ResponseParser, type ParserOptions, type PutResult } from './parser.js';
export { Serializer, serialize, bodyBytes } from './serializer.js';
export { asyncRead, asyncReadHeader, type ReadTarget } from './read.js';
export { asyncWrite } from './write.js';
export { requestFromIncomingMessage } from './node.js';
