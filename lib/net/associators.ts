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

/**
 * One set of characteristics with all four fields present: every set made per operation has the
 * same hidden class. Measured (Node 20): `Object.freeze({ ...inherited, ...overrides })` costs
 * 200–1300 ns on objects made by spread (freezing gives each one a new map), this about 2 ns.
 * Not frozen for that reason; the fields are readonly to the type checker.
 */
class AssociationSet implements Associations {
  constructor(
    readonly executor: Executor | undefined,
    readonly cancellationSlot: CancellationSlot | undefined,
    readonly immediateExecutor: Executor | undefined,
    readonly abortCause: ((reason: unknown) => void) | undefined,
  ) {}
}

// An AssociationSet too, so that reading a characteristic sees one hidden class whether or not a
// handler carries any (those reads are on every operation's path). Not frozen, for the same
// reason: freezing would give it a map of its own.
const none: Associations = new AssociationSet(undefined, undefined, undefined, undefined);

/** The characteristics `handler` carries (an empty object when it carries none). */
export function associationsOf(handler: unknown): Associations {
  return typeof handler === 'function' ? ((handler as Associated)[kAssociations] ?? none) : none;
}

/**
 * `inherited` with each characteristic that `overrides` defines replacing it (what the spread
 * `{ ...inherited, ...overrides }` would give, without its cost). A new object; neither argument
 * is changed.
 */
export function mergeAssociations(inherited: Associations, overrides: Associations): Associations {
  return new AssociationSet(
    overrides.executor ?? inherited.executor,
    overrides.cancellationSlot ?? inherited.cancellationSlot,
    overrides.immediateExecutor ?? inherited.immediateExecutor,
    overrides.abortCause ?? inherited.abortCause,
  );
}

/** @internal `inherited` with its cancellation slot replaced by `slot` (a binder's hot path). */
export function withCancellationSlot(inherited: Associations, slot: CancellationSlot): Associations {
  return new AssociationSet(inherited.executor, slot, inherited.immediateExecutor, inherited.abortCause);
}

/** @internal A set carrying only `abortCause` (the Promise token's, under an AbortSignal binder). */
export function withAbortCause(abortCause: (reason: unknown) => void): Associations {
  return new AssociationSet(undefined, undefined, undefined, abortCause);
}

/**
 * Returns `fn` carrying `handler`'s characteristics with `overrides` applied: what a binder or an
 * intermediate handler uses so that wrapping a handler does not lose what is bound to it.
 * `fn` must be a function created by the caller; it is marked, not copied. Without overrides the
 * handler's own set is shared, not copied.
 */
export function wrapHandler<F extends (...args: never[]) => void>(
  handler: unknown,
  fn: F,
  overrides?: Associations,
): F {
  const inherited = associationsOf(handler);
  (fn as Associated)[kAssociations] = overrides === undefined ? inherited : mergeAssociations(inherited, overrides);
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
