/**
 * Framing: what the header fields say about how a message is delimited and whether the
 * connection stays open (Beast's parser flags and `do_field`, RFC 9112 sections 6 and 9). Fed
 * one field at a time by the parser; no I/O and no storage of the fields here.
 */

import type { ErrorCode } from '../../net/error.js';
import { error } from './error.js';
import { isToken, listElements, parseContentLength, trimOws } from './field-syntax.js';

/** The framing state of one message header. */
export class Framing {
  /** The Content-Length, or null when there is none. */
  contentLength: number | null = null;
  /** A Transfer-Encoding field was present. */
  transferEncoding = false;
  /** chunked is the final transfer coding. */
  chunked = false;
  /** Connection tokens seen. */
  close = false;
  keepAlive = false;
  connectionUpgrade = false;
  /** An Upgrade field was present. */
  upgrade = false;

  /**
   * Applies one header field; `key` is the lower-case name. Returns the error that makes the
   * message malformed, or null. Fields that do not affect framing are ignored.
   */
  onField(key: string, value: string): ErrorCode | null {
    switch (key) {
      case 'connection':
      case 'proxy-connection':
        // A list of tokens (RFC 9110 section 7.6.1); empty elements are allowed, as in Beast.
        for (const t of value.includes(',') ? listElements(value) : [trimOws(value)]) {
          if (t !== '' && !isToken(t)) return error.badValue;
          const token = t.toLowerCase();
          if (token === 'close') this.close = true;
          else if (token === 'keep-alive') this.keepAlive = true;
          else if (token === 'upgrade') this.connectionUpgrade = true;
        }
        return null;
      case 'content-length': {
        // RFC 9112 section 6.3: Transfer-Encoding and Content-Length together are a request
        // smuggling vector; reject whatever order they come in, as Beast does.
        if (this.transferEncoding) return error.badContentLength;
        const n = parseContentLength(value);
        if (n === -1) return error.badContentLength;
        if (n === -2 || (this.contentLength !== null && n !== this.contentLength)) return error.multipleContentLength;
        this.contentLength = n;
        return null;
      }
      case 'transfer-encoding': {
        if (this.chunked || this.contentLength !== null) return error.badTransferEncoding;
        this.transferEncoding = true;
        // RFC 9112 section 6.3: the body is chunked only if chunked is the final coding.
        const codings = listElements(value).filter((c) => c !== '');
        const at = codings.findIndex((c) => c.toLowerCase() === 'chunked');
        if (at >= 0 && at === codings.length - 1) this.chunked = true;
        return null;
      }
      case 'upgrade':
        this.upgrade = true;
        return null;
      default:
        return null;
    }
  }

  /**
   * The request-only rules of Beast's `finish_header`: chunked is an HTTP/1.1 coding, and a
   * request whose final coding is not chunked has no determinable length (RFC 9112 section 6.3
   * item 4). Returns `badTransferEncoding` or null.
   */
  checkRequest(version: number): ErrorCode | null {
    if (this.chunked && version < 11) return error.badTransferEncoding;
    if (this.transferEncoding && !this.chunked) return error.badTransferEncoding;
    return null;
  }
}
