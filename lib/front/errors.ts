/**
 * Errors that say what failed and where: the front door remembers, for each stream it made, the
 * URL or path and the peer's address, and its default Promise path rejects with a `SystemError`
 * whose message names the operation, the URL and the peer, while `.code` stays the interned
 * `ErrorCode`. Handlers and other tokens receive the plain `ErrorCode`, as everywhere in tsbeast.
 * No I/O here.
 */

import {
  bindAbortSignal,
  SystemError,
  usePromise,
  type AsyncResult,
  type CompletionToken,
  type ErrorCode,
  type TokenFor,
  type UsePromise,
} from '../net/index.js';

/** Where a stream goes: what the front door knows of it for its messages. */
export interface StreamPlace {
  /** `ws://host:port/path` for a client, the request target (`/chat`) for a server. */
  readonly url: string;
  /** The peer's `address:port` (`[::1]:443` for IPv6), or `''` before a connection exists. */
  readonly peer: string;
  /** The subprotocol agreed on in the handshake, `''` for none. */
  readonly protocol: string;
  /**
   * How the WebSocket was opened: `'http/1.1'` (the upgrade) or `'h2'` (RFC 8441's extended
   * CONNECT on an HTTP/2 session); absent for streams whose server side did not record it.
   */
  readonly via?: 'http/1.1' | 'h2';
}

const places = new WeakMap<object, StreamPlace>();

/** Records where `stream` goes (the front door calls it once the stream is connected or accepted). */
export function setPlace(stream: object, place: StreamPlace): void {
  places.set(stream, place);
}

/** Where `stream` goes, or `undefined` for a stream the front door did not make. */
export function placeOf(stream: object): StreamPlace | undefined {
  return places.get(stream);
}

/** `"read ws://localhost:8080/ (peer 127.0.0.1:8080)"`: the operation and where. */
export function describe(operation: string, place: StreamPlace | undefined): string {
  if (place === undefined) return operation;
  const peer = place.peer === '' ? '' : ` (peer ${place.peer})`;
  return `${operation} ${place.url}${peer}`;
}

/**
 * Starts a front-door operation whose signature begins with an error. With the default token the
 * promise rejects with a {@link SystemError} carrying `what()` in its message (and the abort
 * reason as `.cause` when `signal` aborted it); any other token gets the plain signature. With a
 * `signal`, the operation is bound to it (terminal cancellation).
 *
 * @param launch - starts the operation with the token it is given.
 */
export function initiateDescribed<A extends [ErrorCode | null, ...unknown[]], T extends TokenFor<A> | undefined>(
  launch: (token: TokenFor<A>) => unknown,
  token: T,
  what: (ec: ErrorCode) => string,
  signal?: AbortSignal,
): AsyncResult<T extends undefined ? UsePromise : T, A> {
  type R = AsyncResult<T extends undefined ? UsePromise : T, A>;
  if (token !== undefined && (token as unknown) !== usePromise) {
    const t = signal === undefined ? token : bindAbortSignal(signal, token as CompletionToken);
    return launch(t as TokenFor<A>) as R;
  }
  return new Promise<unknown>((resolve, reject) => {
    const handler = (...args: A): void => {
      const [ec] = args;
      if (ec === null) {
        resolve(args.length === 2 ? args[1] : args.length > 2 ? args.slice(1) : undefined);
        return;
      }
      const cause = signal?.aborted === true ? { cause: signal.reason as unknown } : undefined;
      reject(new SystemError(ec, what(ec), cause));
    };
    const bound = signal === undefined ? handler : bindAbortSignal(signal, handler as unknown as (...args: never[]) => void);
    launch(bound as TokenFor<A>);
  }) as R;
}

/**
 * What the front door knows of a stream it made: its URL (client) or request-target (server),
 * the peer's address and the subprotocol agreed on; `undefined` for other streams.
 */
export function streamInfo(stream: object): StreamPlace | undefined {
  return places.get(stream);
}
