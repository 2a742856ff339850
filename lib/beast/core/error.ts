/**
 * Beast's core error and condition (`beast::error`, `beast::condition`): the value a stream with
 * a timeout (TcpStream) completes with when its timer closed the socket. Pure data; no I/O.
 */

import { ErrorCategory, ErrorCondition } from '../../net/error.js';

/** The category of Beast's core errors, named `beast`. */
export const beastCategory: ErrorCategory = new ErrorCategory('beast', (value) =>
  value === 1 ? 'The socket was closed due to a timeout' : `beast error ${value}`,
);

/**
 * Beast's core error values. `error.timeout`: the operation's deadline passed and the stream
 * closed its socket; the stream is then only fit to be destroyed.
 */
export const error = Object.freeze({
  timeout: beastCategory.code(1),
});

/**
 * Beast's core conditions. `condition.timeout` matches {@link error}`.timeout` (test with
 * `ec.matches(condition.timeout)`), as Beast maps its timeout code to this condition.
 */
export const condition = Object.freeze({
  timeout: new ErrorCondition('beast.timeout', [error.timeout]),
});
