/**
 * Conversions from Node's `http` module, for servers that take upgrades from an `http.Server`:
 * the `'upgrade'` event gives an `IncomingMessage`, which becomes a {@link Request} here. No I/O.
 */

import type { IncomingMessage } from 'node:http';
import { Fields } from './fields.js';
import { Request } from './message.js';

/**
 * The {@link Request} Node parsed: method, target, version (`10` or `11`), and the fields in the
 * order and spelling they arrived (from `rawHeaders`, so repeated fields are kept). The body is
 * empty: an upgrade request has none, and Node has not read one.
 */
export function requestFromIncomingMessage(msg: IncomingMessage): Request {
  const fields = new Fields();
  const raw = msg.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) fields.insert(raw[i]!, raw[i + 1]!);
  return new Request({
    method: msg.method ?? 'GET',
    target: msg.url ?? '/',
    version: msg.httpVersionMajor * 10 + msg.httpVersionMinor,
    fields,
  });
}
