/**
 * Error codes, categories and conditions: Asio's `error_code` model for TypeScript, and the
 * `net.error` values. Pure data; nothing here performs I/O.
 *
 * An {@link ErrorCode} is interned per (category, value) and frozen, so `ec === net.error.eof`
 * is the comparison to write, exactly as `ec == net::error::eof` is in C++. Success is `null`.
 */

import { constants as osConstants } from 'node:os';

/**
 * A family of error values with its own messages, like `std::error_category`. Codes of one
 * category are interned: {@link ErrorCategory.code} always returns the same object for a value.
 */
export class ErrorCategory {
  readonly #codes = new Map<number, ErrorCode>();
  readonly #messages: (value: number) => string;
  readonly #equivalent: ((code: ErrorCode, condition: ErrorCondition) => boolean) | undefined;

  /**
   * @param name - a short identifier such as `"asio.misc"` or `"beast.websocket"`.
   * @param messages - the message for a value of this category.
   * @param equivalent - optional: lets codes of this category match conditions of other
   *   categories (Asio's `error_category::equivalent`).
   */
  constructor(
    readonly name: string,
    messages: (value: number) => string,
    equivalent?: (code: ErrorCode, condition: ErrorCondition) => boolean,
  ) {
    this.#messages = messages;
    this.#equivalent = equivalent;
  }

  /**
   * A category whose messages are a table, the usual way to define one (Beast's categories are a
   * `switch` over their values): `messages[value]` for a value in the table, `"<name> error
   * <value>"` for any other.
   *
   * ```ts
   * export const myCategory = ErrorCategory.fromMessages('my.protocol', {
   *   1: 'The peer sent a malformed header',
   *   2: 'The peer went away',
   * });
   * export const error = Object.freeze({ badHeader: myCategory.code(1), gone: myCategory.code(2) });
   * ```
   *
   * @param name - the category's name, e.g. `"beast.websocket"`.
   * @param messages - the message of each value of the category.
   */
  static fromMessages(name: string, messages: Readonly<Record<number, string>>): ErrorCategory {
    return new ErrorCategory(name, (value) => messages[value] ?? `${name} error ${value}`);
  }

  /** The message describing `value` in this category. */
  message(value: number): string {
    return this.#messages(value);
  }

  /** The interned code for `value`: the same frozen object on every call. */
  code(value: number): ErrorCode {
    let ec = this.#codes.get(value);
    if (ec === undefined) {
      ec = new ErrorCode(this, value, internKey);
      this.#codes.set(value, ec);
    }
    return ec;
  }

  /** Whether `code` (of this category) is equivalent to `condition`. */
  equivalent(code: ErrorCode, condition: ErrorCondition): boolean {
    return this.#equivalent !== undefined && this.#equivalent(code, condition);
  }
}

// Only ErrorCategory.code may construct codes, which is what makes `===` a valid comparison.
const internKey = Symbol('ErrorCode.intern');

/**
 * An error value: a number within an {@link ErrorCategory}. Interned and frozen; compare with
 * `===`. A completion handler receives `null` for success and an `ErrorCode` otherwise.
 */
export class ErrorCode {
  /** @internal use {@link ErrorCategory.code} */
  constructor(
    readonly category: ErrorCategory,
    readonly value: number,
    key: symbol,
  ) {
    if (key !== internKey) throw new TypeError('ErrorCode values are obtained from ErrorCategory.code()');
    Object.freeze(this);
  }

  /** The category's message for this value. */
  message(): string {
    return this.category.message(this.value);
  }

  /**
   * Whether this code belongs to `condition`: the condition lists it, or this code's category
   * declares it equivalent (Asio's `ec == condition`).
   */
  matches(condition: ErrorCondition): boolean {
    return condition.equivalent(this) || this.category.equivalent(this, condition);
  }

  /** `"category:value (message)"`, for logs. */
  toString(): string {
    return `${this.category.name}:${this.value} (${this.message()})`;
  }
}

/**
 * A portable grouping of error codes that callers test against, like `std::error_condition`
 * (e.g. Beast's `condition::protocol_violation` groups every framing error).
 */
export class ErrorCondition {
  readonly #members: ReadonlySet<ErrorCode> | undefined;
  readonly #test: ((ec: ErrorCode) => boolean) | undefined;

  /**
   * @param name - a descriptive name, e.g. `"websocket.protocolViolation"`.
   * @param members - the codes that belong to the condition, or a predicate deciding it.
   */
  constructor(
    readonly name: string,
    members: Iterable<ErrorCode> | ((ec: ErrorCode) => boolean),
  ) {
    if (typeof members === 'function') this.#test = members;
    else this.#members = new Set(members);
    Object.freeze(this);
  }

  /** Whether `ec` belongs to this condition. */
  equivalent(ec: ErrorCode): boolean {
    return this.#members !== undefined ? this.#members.has(ec) : this.#test!(ec);
  }

  toString(): string {
    return this.name;
  }
}

/**
 * An `Error` carrying an {@link ErrorCode}: what the Promise token rejects with, and what a
 * caller throws when it turns a failed completion into an exception (Asio's `system_error`).
 */
export class SystemError extends Error {
  /** The error value. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, what?: string, options?: { cause?: unknown }) {
    super(what === undefined ? code.message() : `${what}: ${code.message()}`, options);
    this.name = 'SystemError';
    this.code = code;
  }
}

/** Throws a {@link SystemError} when `ec` is set; the `throw_if` idiom for synchronous calls. */
export function throwIfError(ec: ErrorCode | null, what?: string): void {
  if (ec !== null) throw new SystemError(ec, what);
}

// ---------------------------------------------------------------------------------------------
// The net.error values. Asio's system category uses the platform's errno values; Node gives us
// the same numbers through os.constants.errno, so codes created from a Node error and codes named
// here are the same interned objects.

const errno: Readonly<Record<string, number>> = osConstants.errno;

const systemMessages: Readonly<Record<string, string>> = {
  EACCES: 'Permission denied',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EAGAIN: 'Resource temporarily unavailable',
  EALREADY: 'Operation already in progress',
  EBADF: 'Bad file descriptor',
  ECANCELED: 'Operation canceled',
  ECONNABORTED: 'Software caused connection abort',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EFAULT: 'Bad address',
  EHOSTUNREACH: 'No route to host',
  EINPROGRESS: 'Operation now in progress',
  EINTR: 'Interrupted system call',
  EINVAL: 'Invalid argument',
  EISCONN: 'Transport endpoint is already connected',
  EMFILE: 'Too many open files',
  EMSGSIZE: 'Message too long',
  ENAMETOOLONG: 'File name too long',
  ENETDOWN: 'Network is down',
  ENETRESET: 'Network dropped connection on reset',
  ENETUNREACH: 'Network is unreachable',
  ENOBUFS: 'No buffer space available',
  ENODEV: 'No such device',
  ENOMEM: 'Cannot allocate memory',
  ENOPROTOOPT: 'Protocol not available',
  ENOTCONN: 'Transport endpoint is not connected',
  ENOTSOCK: 'Socket operation on non-socket',
  EOPNOTSUPP: 'Operation not supported',
  EPERM: 'Operation not permitted',
  EPIPE: 'Broken pipe',
  ESHUTDOWN: 'Cannot send after transport endpoint shutdown',
  ETIMEDOUT: 'Connection timed out',
};
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

/** Asio's `system_category`: errno values, as Node reports them. */
export const systemCategory = new ErrorCategory('system', (value) => {
  const name = errnoNames.get(value);
  return name === undefined ? `Unknown system error ${value}` : (systemMessages[name] ?? name);
});

/** Asio's `netdb` category (resolver errors from the host database). */
export const netdbCategory = new ErrorCategory('asio.netdb', (value) =>
  ({ 1: 'Host not found (authoritative)', 2: 'Host not found (non-authoritative), try again later',
     3: 'The query is valid, but it does not have associated data', 4: 'A non-recoverable error occurred during database lookup' })[value]
  ?? `asio.netdb error ${value}`);

/** Asio's `addrinfo` category. */
export const addrinfoCategory = new ErrorCategory('asio.addrinfo', (value) =>
  ({ 1: 'Service not found', 2: 'Socket type not supported' })[value] ?? `asio.addrinfo error ${value}`);

/** Asio's `misc` category. */
export const miscCategory = new ErrorCategory('asio.misc', (value) =>
  ({ 1: 'Already open', 2: 'End of file', 3: 'Element not found', 4: 'The descriptor does not fit into the select call\'s fd_set' })[value]
  ?? `asio.misc error ${value}`);

/**
 * tsbeast's own category, for one value: `internalError`, what the handler of a composed operation
 * receives when one of the operation's steps threw inside a completion (a bug, reported through
 * `onInternalError`; see internal-error.ts).
 */
export const internalCategory = new ErrorCategory('tsbeast.internal', (value) =>
  value === 1 ? 'Internal error: a step of the operation threw (a bug, reported through onInternalError)' : `tsbeast.internal error ${value}`);

// ESHUTDOWN is 108 on Linux; Node's table lacks it, so fall back to the Linux value.
const sys = (name: string, fallback: number): ErrorCode => systemCategory.code(errno[name] ?? fallback);

/** The `net.error` values (Asio's `asio::error`). */
export const error = Object.freeze({
  accessDenied: sys('EACCES', 13),
  addressFamilyNotSupported: sys('EAFNOSUPPORT', 97),
  addressInUse: sys('EADDRINUSE', 98),
  addressNotAvailable: sys('EADDRNOTAVAIL', 99),
  alreadyConnected: sys('EISCONN', 106),
  alreadyStarted: sys('EALREADY', 114),
  brokenPipe: sys('EPIPE', 32),
  connectionAborted: sys('ECONNABORTED', 103),
  connectionRefused: sys('ECONNREFUSED', 111),
  connectionReset: sys('ECONNRESET', 104),
  badDescriptor: sys('EBADF', 9),
  fault: sys('EFAULT', 14),
  hostUnreachable: sys('EHOSTUNREACH', 113),
  inProgress: sys('EINPROGRESS', 115),
  interrupted: sys('EINTR', 4),
  invalidArgument: sys('EINVAL', 22),
  messageSize: sys('EMSGSIZE', 90),
  nameTooLong: sys('ENAMETOOLONG', 36),
  networkDown: sys('ENETDOWN', 100),
  networkReset: sys('ENETRESET', 102),
  networkUnreachable: sys('ENETUNREACH', 101),
  noDescriptors: sys('EMFILE', 24),
  noBufferSpace: sys('ENOBUFS', 105),
  noMemory: sys('ENOMEM', 12),
  noPermission: sys('EPERM', 1),
  noProtocolOption: sys('ENOPROTOOPT', 92),
  noSuchDevice: sys('ENODEV', 19),
  notConnected: sys('ENOTCONN', 107),
  notSocket: sys('ENOTSOCK', 88),
  operationAborted: sys('ECANCELED', 125),
  operationNotSupported: sys('EOPNOTSUPP', 95),
  shutDown: sys('ESHUTDOWN', 108),
  timedOut: sys('ETIMEDOUT', 110),
  tryAgain: sys('EAGAIN', 11),
  wouldBlock: sys('EWOULDBLOCK', 11),
  hostNotFound: netdbCategory.code(1),
  hostNotFoundTryAgain: netdbCategory.code(2),
  noData: netdbCategory.code(3),
  noRecovery: netdbCategory.code(4),
  serviceNotFound: addrinfoCategory.code(1),
  socketTypeNotSupported: addrinfoCategory.code(2),
  alreadyOpen: miscCategory.code(1),
  eof: miscCategory.code(2),
  notFound: miscCategory.code(3),
  fdSetFailure: miscCategory.code(4),
  /** A step of a composed operation threw inside a completion: a bug, see `onInternalError`. */
  internalError: internalCategory.code(1),
});

// Node reports resolver failures with getaddrinfo's names rather than errno values.
const nodeSpecific: Readonly<Record<string, ErrorCode>> = {
  ENOTFOUND: error.hostNotFound,
  EAI_NONAME: error.hostNotFound,
  EAI_AGAIN: error.hostNotFoundTryAgain,
  EAI_FAIL: error.noRecovery,
  EAI_NODATA: error.noData,
  EAI_SERVICE: error.serviceNotFound,
  EAI_SOCKTYPE: error.socketTypeNotSupported,
  EAI_FAMILY: error.addressFamilyNotSupported,
  EAI_MEMORY: error.noMemory,
  ESHUTDOWN: error.shutDown,
  ERR_STREAM_DESTROYED: error.operationAborted,
  ERR_STREAM_WRITE_AFTER_END: error.brokenPipe,
  ERR_SOCKET_CLOSED: error.badDescriptor,
  ERR_SOCKET_CLOSED_BEFORE_CONNECTION: error.notConnected,
  ABORT_ERR: error.operationAborted,
};

/** A category for Node errors that have no errno value; the code's value indexes its name. */
const nodeNames: string[] = [];
export const nodeCategory = new ErrorCategory('node', (value) => nodeNames[value] ?? `node error ${value}`);

/**
 * The `ErrorCode` for one of Node's error strings (`'ECONNRESET'`, `'ENOTFOUND'`, …). Errno names
 * map into {@link systemCategory}, so `fromErrno('ECONNRESET') === net.error.connectionReset`;
 * unknown names get an interned code of their own in a `node` category rather than being lost.
 */
export function fromErrno(code: string): ErrorCode {
  // Own properties only: a name such as 'constructor' must not find Object.prototype's members.
  if (Object.hasOwn(nodeSpecific, code)) return nodeSpecific[code]!;
  if (Object.hasOwn(errno, code)) return systemCategory.code(errno[code]!);
  let index = nodeNames.indexOf(code);
  if (index < 0) index = nodeNames.push(code) - 1;
  return nodeCategory.code(index);
}

/**
 * The `ErrorCode` for an error Node raised (`err.code` when it is a string, else `fault`): the
 * boundary where Node's exceptions become completion values.
 */
export function fromNodeError(err: unknown): ErrorCode {
  if (err instanceof SystemError) return err.code;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return fromErrno(code);
  if (typeof code === 'number' && code < 0) return systemCategory.code(-code);
  return error.fault;
}
