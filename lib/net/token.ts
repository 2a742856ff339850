/**
 * Completion tokens (Asio's `async_result` / `async_initiate`): how an initiating function turns
 * the caller's token into a completion handler and what it returns. A function token is the
 * handler itself; a token object wraps the operation's initiation. One code path per operation.
 *
 * The binders (`bindExecutor`, `bindAbortSignal`, …) live in `binders.ts` and `cancel-after.ts`.
 */

import { setAssociations, withAbortCause, wrapHandler, type Handler } from './associators.js';
import { ErrorCode, SystemError } from './error.js';
import type { Executor } from './executor.js';
import { handlerTracker } from './handler-tracking.js';
import type { AppendToken, PrependToken } from './append.js';

export type { Handler } from './associators.js';

/** Starts an operation with the completion handler it is given. */
export type Initiation<A extends readonly unknown[]> = (handler: Handler<A>) => void;

/** The method through which a token object takes over an initiation (for token implementers). */
export const kInitiate: unique symbol = Symbol('tsbeast.initiate');

/**
 * What every token object implements. `errorFirst` tells terminal tokens whether the
 * first value of the signature is an error slot (adapters such as `asTuple` rewrite the signature
 * so that it is not).
 */
export interface TokenObject {
  readonly kind: string;
  [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor, errorFirst: boolean): unknown;
}

// ---------------------------------------------------------------------------------------------
// Typing: a completion signature is a labelled tuple, error first. What an initiating function
// returns follows the token, as Asio's async_result specialisations rewrite it.

/** True when a signature's first value is an error slot (`ErrorCode | null` or `Error | null`). */
type ErrorFirst<A extends readonly unknown[]> = A extends readonly [infer E, ...unknown[]]
  ? [E] extends [ErrorCode | Error | null] ? (null extends E ? true : false) : false
  : false;

/** What the Promise token resolves with for a signature. */
export type ValueOf<A extends readonly unknown[]> =
  ErrorFirst<A> extends true
    ? A extends readonly [unknown] ? void
      : A extends readonly [unknown, infer V] ? V
      : A extends readonly [unknown, ...infer R] ? R
      : never
    : A extends readonly [] ? void
    : A extends readonly [infer Only] ? Only
    : A;

/** The signature without its leading error slot (what `redirectError` leaves). */
export type WithoutError<A extends readonly unknown[]> =
  ErrorFirst<A> extends true ? (A extends readonly [unknown, ...infer R] ? R : A) : A;

/** The results of the terminal tokens; an open interface so that new tokens can add theirs. */
export interface TokenResults<A extends readonly unknown[]> {
  promise: Promise<ValueOf<A>>;
  deferred: DeferredOp<A>;
  detached: void;
}
/** The names of the terminal tokens. */
export type TokenKind = keyof TokenResults<[]>;

/** A token that produces a result itself: `usePromise`, `deferred`, `detached`. */
export interface TerminalToken<K extends TokenKind> extends TokenObject {
  readonly kind: K;
}
/** `asTuple(inner)`: the inner token receives the whole signature as one tuple. */
export interface AsTupleToken<T> extends TokenObject {
  readonly kind: 'asTuple';
  readonly inner: T;
}
/** `redirectError(inner, out)`: the error goes to `out`, the inner token gets the rest. */
export interface RedirectErrorToken<T> extends TokenObject {
  readonly kind: 'redirectError';
  readonly inner: T;
}
/** A binder (`bindExecutor`, `bindAbortSignal`, `cancelAfter`, …): the result is the inner token's. */
export interface BoundToken<T> extends TokenObject {
  readonly kind: 'bound';
  readonly inner: T;
}

/** Any token object. */
export type CompletionToken =
  | TerminalToken<TokenKind>
  | AsTupleToken<unknown>
  | RedirectErrorToken<unknown>
  | BoundToken<unknown>
  | AppendToken<unknown, readonly unknown[]>
  | PrependToken<unknown, readonly unknown[]>;

/** The Promise token (the default). */
export type UsePromise = TerminalToken<'promise'>;
/** The deferred token. */
export type Deferred = TerminalToken<'deferred'>;
/** The detached token. */
export type Detached = TerminalToken<'detached'>;

/** What an initiating function given token `T` returns for signature `A`. */
export type AsyncResult<T, A extends readonly unknown[]> =
  T extends undefined ? TokenResults<A>['promise']
  : T extends AsTupleToken<infer I> ? AsyncResult<I, [A]>
  : T extends RedirectErrorToken<infer I> ? AsyncResult<I, WithoutError<A>>
  : T extends BoundToken<infer I> ? AsyncResult<I, A>
  : T extends AppendToken<infer I, infer V> ? AsyncResult<I, [...A, ...V]>
  : T extends PrependToken<infer I, infer V> ? AsyncResult<I, [...V, ...A]>
  : T extends TerminalToken<infer K> ? TokenResults<A>[K]
  : T extends (...args: never[]) => unknown ? void
  : never;

/**
 * `unknown` when token `T` can complete an operation of signature `A`, `never` when it cannot: a
 * callback inside `asTuple(cb)` or `redirectError(cb, out)`, or given to a binder or to
 * `append`/`prepend`, that does not accept the signature as those adapters rewrite it. Initiating
 * functions take `token?: T & TokenCheck<T, A>`, so such a token is a compile error at the call.
 * A callback parameter typed `never` is one the callback left unannotated inside a binder
 * (`consign((ec) => …, x)`: the binder is made before the operation); it accepts any value.
 */
export type TokenCheck<T, A extends readonly unknown[]> =
  T extends AsTupleToken<infer I> ? TokenCheck<I, [A]>
  : T extends RedirectErrorToken<infer I> ? TokenCheck<I, WithoutError<A>>
  : T extends BoundToken<infer I> ? TokenCheck<I, A>
  : T extends AppendToken<infer I, infer V> ? TokenCheck<I, [...A, ...V]>
  : T extends PrependToken<infer I, infer V> ? TokenCheck<I, [...V, ...A]>
  : T extends (...args: infer P) => unknown
    ? (((...args: { [K in keyof P]: [P[K]] extends [never] ? unknown : P[K] }) => void) extends Handler<A> ? unknown : never)
  : unknown;

/** A token or a handler for signature `A`: what an initiating function accepts. */
export type TokenFor<A extends readonly unknown[]> = CompletionToken | Handler<A>;

/**
 * A launchable operation (from the `deferred` token). Call it with a handler or any token to
 * start it; every call is a whole initiation of its own (creating it started nothing). Not
 * thenable: `await op` launches nothing and yields `op` itself; write `await op()`. TypeScript
 * accepts `await` of any value, so it cannot refuse that mistake; the lint rule
 * `@typescript-eslint/await-thenable` does.
 */
export interface DeferredOp<A extends readonly unknown[]> {
  (handler: Handler<A>): void;
  <T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, A>): AsyncResult<T, A>;
  /** The operation's I/O executor. */
  readonly executor: Executor;
}

// ---------------------------------------------------------------------------------------------

function isTokenObject(token: unknown): token is TokenObject {
  return typeof token === 'object' && token !== null && kInitiate in token;
}

/**
 * Starts an operation: a function token is called as the handler (`undefined` is returned);
 * `undefined` means {@link usePromise}; a token object takes over the initiation and its result
 * is returned. Every initiating function in tsbeast goes through here.
 *
 * @param init - starts the operation with the handler it is given.
 * @param token - the caller's completion token.
 * @param ioExecutor - the operation's I/O executor (the default executor of its handler).
 * @param errorFirst - whether the signature starts with an error slot (true for every I/O op).
 */
export function asyncInitiate<A extends readonly unknown[]>(
  init: Initiation<A>,
  token: TokenFor<A> | undefined,
  ioExecutor: Executor,
  errorFirst = true,
): unknown {
  // Handler tracking: the name of the operation goes with its initiation (see handler-tracking.ts).
  if (handlerTracker !== null) init = handlerTracker.captureInit(init);
  if (typeof token === 'function') {
    init(token);
    return undefined;
  }
  const t = token === undefined ? usePromise : token;
  if (!isTokenObject(t)) throw new TypeError('tsbeast: not a completion token');
  return t[kInitiate](init as Initiation<readonly unknown[]>, ioExecutor, errorFirst);
}

/**
 * @internal Marks an initiation whose handler an AbortSignal binder wraps: the Promise token then
 * gives its handler an `abortCause` receiver, so that a rejection caused by the abort carries the
 * signal's reason. Only then: a handler with no characteristics at all lets a composed operation
 * share one set of characteristics for its steps instead of building one per operation. Binders
 * that wrap a marked initiation pass the mark on ({@link makeBoundToken}); adapters that make the
 * promise resolve instead of reject (`asTuple`, `redirectError`) need not.
 */
export function markAbortCause<F extends Initiation<readonly unknown[]>>(init: F): F {
  (init as AbortCauseMark)[kAbortCause] = true;
  return init;
}
const kAbortCause = Symbol('tsbeast.abortCause');
type AbortCauseMark = { [kAbortCause]?: true };

/** What the Promise token resolves with: the values after the error (none, one, or a tuple). */
function promiseValue(args: readonly unknown[], from: number): unknown {
  const n = args.length - from;
  return n <= 0 ? undefined : n === 1 ? args[from] : args.slice(from);
}

/**
 * @internal Settles a Promise token's promise with an error-first completion's values: resolves
 * with the values after the error, or rejects with a {@link SystemError} for an `ErrorCode`
 * (whose `.cause` is `cause`, when given) and with any other error as it is.
 */
export function settlePromise(
  args: readonly unknown[],
  resolve: (value: unknown) => void,
  reject: (reason: unknown) => void,
  cause?: { cause: unknown },
): void {
  const e = args[0];
  if (e === null || e === undefined) resolve(promiseValue(args, 1));
  else reject(e instanceof ErrorCode ? new SystemError(e, undefined, cause) : e);
}

/**
 * The Promise token, and the default when no token is given. The promise resolves with the values
 * after the error (`void` for `[ec]`, the value for `[ec, v]`, a tuple for more) and rejects with a
 * {@link SystemError} carrying `.code` (and `.cause`, the AbortSignal's reason, when an abort
 * cancelled the operation).
 */
export const usePromise: UsePromise = Object.freeze({
  kind: 'promise' as const,
  [kInitiate](init: Initiation<readonly unknown[]>, _ioExecutor: Executor, errorFirst: boolean): Promise<unknown> {
    const withCause = (init as AbortCauseMark)[kAbortCause] === true;
    return new Promise((resolve, reject) => {
      if (!errorFirst) return init((...args: readonly unknown[]): void => resolve(promiseValue(args, 0)));
      if (!withCause) return init((...args: readonly unknown[]): void => settlePromise(args, resolve, reject));
      let cause: { cause: unknown } | undefined;
      const handler = (...args: readonly unknown[]): void => settlePromise(args, resolve, reject, cause);
      init(setAssociations(handler, withAbortCause((r) => (cause = { cause: r }))));
    });
  },
});

/**
 * The deferred token: the initiating function returns a {@link DeferredOp} instead of starting,
 * to be launched later with any token (or handed to `makeParallelGroup`).
 */
export const deferred: Deferred = Object.freeze({
  kind: 'deferred' as const,
  [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor, errorFirst: boolean): unknown {
    const op = (token?: TokenFor<readonly unknown[]>): unknown => asyncInitiate(init, token, ioExecutor, errorFirst);
    return Object.assign(op, { executor: ioExecutor });
  },
});

/** The detached token: starts the operation and ignores its result. */
export const detached: Detached = Object.freeze({
  kind: 'detached' as const,
  [kInitiate](init: Initiation<readonly unknown[]>): void {
    init(() => {});
  },
});

/**
 * Rewrites the signature `[a, b, …]` into `[[a, b, …]]`: with the Promise token the promise
 * resolves with the whole tuple and never rejects for an operation error.
 *
 * ```ts
 * const [ec, n] = await socket.asyncReadSome(buf, asTuple());
 * ```
 *
 * With a callback, the callback receives the tuple, typed as it declares it (`readonly unknown[]`
 * when it declares none). A callback that cannot take the operation's tuple is a compile error
 * where the token is given to the operation ({@link TokenCheck}).
 */
export function asTuple(): AsTupleToken<UsePromise>;
export function asTuple<A extends readonly unknown[]>(callback: (result: A) => void): AsTupleToken<Handler<[A]>>;
export function asTuple<T extends CompletionToken>(inner: T): AsTupleToken<T>;
export function asTuple(inner?: unknown): AsTupleToken<unknown> {
  const token = inner ?? usePromise;
  return Object.freeze({
    kind: 'asTuple' as const,
    inner: token,
    [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor): unknown {
      return asyncInitiate<[readonly unknown[]]>(
        (h) => init(wrapHandler(h, (...args: readonly unknown[]) => h(args))),
        token as TokenFor<[readonly unknown[]]>,
        ioExecutor,
        false,
      );
    },
  });
}

/** Where {@link redirectError} stores the error. */
export interface ErrorOut {
  ec: ErrorCode | null;
}

/**
 * Strips the error from the signature and stores it in `out.ec` (Asio's `redirect_error`): the
 * inner token sees only the values, so a promise resolves even when the operation fails.
 *
 * ```ts
 * const out: ErrorOut = { ec: null };
 * const n = await socket.asyncReadSome(buf, redirectError(out));
 * if (out.ec === net.error.eof) …
 * ```
 *
 * With a callback, the callback receives the values after the error, typed as it declares them
 * (`unknown` when it declares none); one that cannot take them is a compile error where the token
 * is given to the operation ({@link TokenCheck}).
 */
export function redirectError(out: ErrorOut): RedirectErrorToken<UsePromise>;
export function redirectError<V extends readonly unknown[]>(callback: (...values: V) => void, out: ErrorOut): RedirectErrorToken<Handler<V>>;
export function redirectError<T extends CompletionToken>(inner: T, out: ErrorOut): RedirectErrorToken<T>;
export function redirectError(a: unknown, b?: ErrorOut): RedirectErrorToken<unknown> {
  const [token, out] = b === undefined ? [usePromise, a as ErrorOut] : [a, b];
  return Object.freeze({
    kind: 'redirectError' as const,
    inner: token,
    [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor): unknown {
      return asyncInitiate<readonly unknown[]>(
        (h) =>
          init(wrapHandler(h, (...args: readonly unknown[]) => {
            out.ec = (args[0] as ErrorCode | null | undefined) ?? null;
            h(...args.slice(1));
          })),
        token as TokenFor<readonly unknown[]>,
        ioExecutor,
        false,
      );
    },
  });
}

/**
 * @internal Builds a binder token: the inner token's handler is passed through `transform`
 * before the operation sees it. `launch` may run code after the operation started (e.g. emit a
 * cancellation for an AbortSignal that was already aborted).
 */
export function makeBoundToken<T>(
  inner: T,
  transform: (handler: Handler<readonly unknown[]>, ioExecutor: Executor) => {
    handler: Handler<readonly unknown[]>;
    started?: () => void;
  },
): BoundToken<T> {
  return new TransformToken(inner, transform);
}

/**
 * @internal The base of binder tokens: `inner` (the Promise token when omitted) receives the
 * handler that {@link BinderToken.start} builds. A class rather than a frozen literal with a
 * closure: binders are often made once per operation (`op(bindAbortSignal(signal))`), and the
 * literal cost a freeze and two closures each time. Not frozen; its fields are readonly.
 */
export abstract class BinderToken<T> implements BoundToken<T> {
  get kind(): 'bound' {
    return 'bound';
  }
  constructor(readonly inner: T) {}

  /** Starts `init` with a handler wrapping `h`, the inner token's handler. */
  protected abstract start(init: Initiation<readonly unknown[]>, h: Handler<readonly unknown[]>, ioExecutor: Executor): void;

  /** Whether the Promise token inside must be able to receive an abort's reason. */
  protected wantsAbortCause(init: Initiation<readonly unknown[]>): boolean {
    return (init as AbortCauseMark)[kAbortCause] === true;
  }

  [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor, errorFirst: boolean): unknown {
    const wrapped: Initiation<readonly unknown[]> = (h) => this.start(init, h, ioExecutor);
    if (this.wantsAbortCause(init)) markAbortCause(wrapped);
    const token = (this.inner ?? usePromise) as TokenFor<readonly unknown[]>;
    return asyncInitiate(wrapped, token, ioExecutor, errorFirst);
  }
}

class TransformToken<T> extends BinderToken<T> {
  constructor(
    inner: T,
    readonly transform: (handler: Handler<readonly unknown[]>, ioExecutor: Executor) => {
      handler: Handler<readonly unknown[]>;
      started?: () => void;
    },
  ) {
    super(inner);
  }

  protected start(init: Initiation<readonly unknown[]>, h: Handler<readonly unknown[]>, ioExecutor: Executor): void {
    const { handler, started } = this.transform(h, ioExecutor);
    init(handler);
    started?.();
  }
}
