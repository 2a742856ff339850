/**
 * Associated characteristics of completion handlers (Asio's associators): the executor a handler
 * runs on, the cancellation slot that can cancel its operation, and the immediate executor used
 * when the operation completes before its initiating call returns. They are kept under one
 * symbol-keyed property of the handler function; binders never mutate the user's function, they
 * wrap it.
 */

import type { CancellationSlot } from './cancellation.js';
import { disconnectedSlot } from './cancellation.js';
import type { Executor } from './executor.js';

/** A completion handler: receives the completion signature's values, exactly once. */
export type Handler<A extends readonly unknown[]> = (...args: A) => void;

/** The characteristics a handler may carry. */
export interface Associations {
  /** Where the handler runs (default: the operation's I/O executor). */
  readonly executor?: Executor;
  /** The slot through which its operation can be cancelled (default: disconnected). */
  readonly cancellationSlot?: CancellationSlot;
  /** Where an immediate completion is dispatched (default: posted to the I/O executor). */
  readonly immediateExecutor?: Executor;
  /**
   * @internal Receives the reason of an AbortSignal that cancelled the operation, so a Promise
   * rejection can carry it as `cause`.
   */
  readonly abortCause?: (reason: unknown) => void;
}

const kAssociations = Symbol.for('tsbeast.associations');

type Associated = { [kAssociations]?: Associations };

const none: Associations = Object.freeze({});

/** The characteristics `handler` carries (an empty object when it carries none). */
export function associationsOf(handler: unknown): Associations {
  return typeof handler === 'function' ? ((handler as Associated)[kAssociations] ?? none) : none;
}

/**
 * Returns `fn` carrying `handler`'s characteristics with `overrides` applied: what a binder or an
 * intermediate handler uses so that wrapping a handler does not lose what is bound to it.
 * `fn` must be a function created by the caller; it is marked, not copied.
 */
export function wrapHandler<F extends (...args: never[]) => void>(
  handler: unknown,
  fn: F,
  overrides?: Associations,
): F {
  const inherited = associationsOf(handler);
  (fn as Associated)[kAssociations] =
    overrides === undefined ? inherited : Object.freeze({ ...inherited, ...overrides });
  return fn;
}

/**
 * @internal Marks `fn` with a ready-made associations object (no copy): for intermediate handlers
 * that are created at every step of a composed operation with the same characteristics.
 */
export function setAssociations<F extends (...args: never[]) => void>(fn: F, associations: Associations): F {
  (fn as Associated)[kAssociations] = associations;
  return fn;
}

/** The handler's associated executor, or `defaultExecutor`. */
export function getAssociatedExecutor(handler: unknown, defaultExecutor: Executor): Executor {
  return associationsOf(handler).executor ?? defaultExecutor;
}

/** The handler's associated cancellation slot, or a disconnected slot. */
export function getAssociatedCancellationSlot(handler: unknown): CancellationSlot {
  return associationsOf(handler).cancellationSlot ?? disconnectedSlot;
}

/** The handler's associated immediate executor, if one is bound. */
export function getAssociatedImmediateExecutor(handler: unknown): Executor | undefined {
  return associationsOf(handler).immediateExecutor;
}
