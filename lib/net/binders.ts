/**
 * Binders: attach an associated characteristic to a completion token (Asio's `bind_executor`,
 * `bind_cancellation_slot`, `bind_immediate_executor`) and adapt a DOM `AbortSignal` into the
 * per-operation cancellation model. A binder knows nothing about the operation it is given to.
 */

import { associationsOf, wrapHandler, type Associations, type Handler } from './associators.js';
import {
  CancellationSignal,
  CancellationType,
  type CancellationSlot,
} from './cancellation.js';
import { error } from './error.js';
import { toExecutor, type ExecutorLike } from './executor.js';
import { makeBoundToken, type BoundToken, type CompletionToken, type UsePromise } from './token.js';

type AnyFunction = (...args: never[]) => void;

function bindAssociation<F extends AnyFunction>(fn: F, overrides: Associations): F {
  return wrapHandler(fn, ((...args: Parameters<F>) => fn(...args)) as F, overrides);
}

function bindToken(token: unknown, overrides: Associations): unknown {
  if (typeof token === 'function') return bindAssociation(token as AnyFunction, overrides);
  return makeBoundToken(token, (h) => ({ handler: wrapHandler(h, (...args: readonly unknown[]) => h(...args), overrides) }));
}

/**
 * Associates an executor with a token: the handler (and every intermediate step of a composed
 * operation) runs through `executor`, e.g. a strand.
 */
export function bindExecutor<F extends AnyFunction>(executor: ExecutorLike, handler: F): F;
export function bindExecutor<T extends CompletionToken>(executor: ExecutorLike, token: T): BoundToken<T>;
export function bindExecutor(executor: ExecutorLike): BoundToken<UsePromise>;
export function bindExecutor(executor: ExecutorLike, token?: unknown): unknown {
  return bindToken(token, { executor: toExecutor(executor) });
}

/** Associates a cancellation slot with a token: emitting on its signal cancels the operation. */
export function bindCancellationSlot<F extends AnyFunction>(slot: CancellationSlot, handler: F): F;
export function bindCancellationSlot<T extends CompletionToken>(slot: CancellationSlot, token: T): BoundToken<T>;
export function bindCancellationSlot(slot: CancellationSlot): BoundToken<UsePromise>;
export function bindCancellationSlot(slot: CancellationSlot, token?: unknown): unknown {
  return bindToken(token, { cancellationSlot: slot });
}

/**
 * Associates an immediate executor with a token: when the operation completes inside its
 * initiating call, the handler is dispatched there instead of posted. Binding `inlineExecutor`
 * opts in to synchronous completion (and to the recursion that comes with it).
 */
export function bindImmediateExecutor<F extends AnyFunction>(executor: ExecutorLike, handler: F): F;
export function bindImmediateExecutor<T extends CompletionToken>(executor: ExecutorLike, token: T): BoundToken<T>;
export function bindImmediateExecutor(executor: ExecutorLike): BoundToken<UsePromise>;
export function bindImmediateExecutor(executor: ExecutorLike, token?: unknown): unknown {
  return bindToken(token, { immediateExecutor: toExecutor(executor) });
}

/**
 * Cancels the operation with `type` (terminal by default) when `signal` aborts.
 *
 * Exactly one `'abort'` listener is added when the operation starts and it is removed before the
 * handler runs. A signal that is already aborted cancels the operation as soon as it has started,
 * so it completes (posted, never inline) with `net.error.operationAborted`. With the Promise
 * token the rejection's `.cause` is `signal.reason`. A slot already bound to the inner token
 * keeps working: its requests are relayed.
 */
export function bindAbortSignal(signal: AbortSignal): BoundToken<UsePromise>;
export function bindAbortSignal<T extends CompletionToken | AnyFunction>(
  signal: AbortSignal,
  token: T,
  type?: CancellationType,
): BoundToken<T>;
export function bindAbortSignal(
  signal: AbortSignal,
  token?: unknown,
  type: CancellationType = CancellationType.terminal,
): BoundToken<unknown> {
  return makeBoundToken(token, (h) => {
    const relay = new CancellationSignal();
    const outer = associationsOf(h).cancellationSlot;
    const forward = (t: CancellationType): void => relay.emit(t);
    if (outer !== undefined) outer.assign(forward);
    const onAbort = (): void => relay.emit(type);
    const alreadyAborted = signal.aborted;
    if (!alreadyAborted) signal.addEventListener('abort', onAbort, { once: true });

    const handler = wrapHandler(
      h,
      (...args: readonly unknown[]) => {
        signal.removeEventListener('abort', onAbort);
        outer?.release(forward);
        if (args[0] === error.operationAborted && signal.aborted) associationsOf(h).abortCause?.(signal.reason);
        (h as Handler<readonly unknown[]>)(...args);
      },
      { cancellationSlot: relay.slot() },
    );
    return { handler, started: alreadyAborted ? () => relay.emit(type) : undefined };
  });
}
