/**
 * `append` and `prepend`: completion token adapters that add values to the completion signature
 * (Asio's `append` and `prepend`). The operation completes as usual; its handler receives the
 * given values after (or before) the operation's own. They know nothing of the operation.
 */

import { wrapHandler, type Handler } from './associators.js';
import type { Executor } from './executor.js';
import { asyncInitiate, kInitiate, type Initiation, type TokenFor, type TokenObject } from './token.js';

/** `append(inner, ...values)`: the inner token receives `[...signature, ...values]`. */
export interface AppendToken<T, V extends readonly unknown[]> extends TokenObject {
  readonly kind: 'append';
  readonly inner: T;
  readonly values: V;
}

/** `prepend(inner, ...values)`: the inner token receives `[...values, ...signature]`. */
export interface PrependToken<T, V extends readonly unknown[]> extends TokenObject {
  readonly kind: 'prepend';
  readonly inner: T;
  readonly values: V;
}

class ValuesToken<K extends 'append' | 'prepend', T, V extends readonly unknown[]> {
  constructor(
    readonly kind: K,
    readonly inner: T,
    readonly values: V,
  ) {
    Object.freeze(this);
  }

  [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor, errorFirst: boolean): unknown {
    const { values, kind } = this;
    const add =
      kind === 'append'
        ? (h: Handler<readonly unknown[]>) => (...args: readonly unknown[]) => h(...args, ...values)
        : (h: Handler<readonly unknown[]>) => (...args: readonly unknown[]) => h(...values, ...args);
    // Values in front of the error take the error's place: the inner token sees no error slot.
    const first = kind === 'prepend' && values.length > 0 ? false : errorFirst;
    return asyncInitiate<readonly unknown[]>(
      (h) => init(wrapHandler(h, add(h))),
      this.inner as TokenFor<readonly unknown[]>,
      ioExecutor,
      first,
    );
  }
}

/**
 * Appends `values` to the completion signature: the handler receives the operation's values,
 * then these. The inner token decides the result as for any operation of the new signature.
 *
 * ```ts
 * const [ec, n, tag] = await socket.asyncReadSome(buf, append(asTuple(), 'first read'));
 * ```
 *
 * @param token - the inner token (a handler, or any token object such as `usePromise`).
 * @param values - the values to append.
 */
export function append<T extends TokenFor<never>, V extends readonly unknown[]>(token: T, ...values: V): AppendToken<T, V> {
  return new ValuesToken('append', token, values);
}

/**
 * Prepends `values` to the completion signature: the handler receives these, then the
 * operation's values (error first). With the Promise token the promise then resolves with the
 * whole tuple, error included, since the signature no longer starts with an error.
 *
 * ```ts
 * timer.asyncWait(prepend((id: number, ec: ErrorCode | null) => done(id, ec), 7));
 * ```
 */
export function prepend<T extends TokenFor<never>, V extends readonly unknown[]>(token: T, ...values: V): PrependToken<T, V> {
  return new ValuesToken('prepend', token, values);
}
