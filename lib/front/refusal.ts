/**
 * The bytes of a refused upgrade: a complete HTTP/1.1 response with `Connection: close`, after
 * which the connection is closed (DESIGN section 8). No I/O here.
 */

import { STATUS_CODES } from 'node:http';
import { Buffer } from 'node:buffer';

/** The response refusing an upgrade with `status`, extra `headers` and a short text `body`. */
export function refusalBytes(status: number, headers: Readonly<Record<string, string>> = {}, body = ''): Buffer {
  const text = body === '' ? '' : body;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) {
    // A field with CR or LF would split the response: refuse to send it.
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`refusal: invalid header field ${JSON.stringify(name)}`);
    lines.push(`${name}: ${value}`);
  }
  if (text !== '') lines.push('Content-Type: text/plain; charset=utf-8');
  lines.push(`Content-Length: ${Buffer.byteLength(text)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${text}`, 'utf8');
}
