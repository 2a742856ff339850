/**
 * Binders: attach an associated characteristic to a completion token (Asio's `bind_executor`,
 * `bind_cancellation_slot`, `bind_immediate_executor`) and adapt a DOM `AbortSignal` into the
 * per-operation cancellation model. A binder knows nothing about the operation it is given to.
 */

import { associationsOf, setAssociations, withCancellationSlot, wrapHandler, type Associations, type Handler } from './associators.js';
import { CancellationSignal, CancellationType, type CancellationHandler, type CancellationSlot } from './cancellation.js';
import { error } from './error.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { BinderToken, kInitiate, settlePromise, usePromise, type BoundToken, type CompletionToken, type Initiation, type UsePromise } from './token.js';

type AnyFunction = (...args: never[]) => void;
type AnyHandler = Handler<readonly unknown[]>;

function bindAssociation<F extends AnyFunction>(fn: F, overrides: Associations): F {
  return wrapHandler(fn, ((...args: Parameters<F>) => fn(...args)) as F, overrides);
}

/** `bindExecutor` and its kind on a token object: the inner token's handler, wrapped and marked. */
class AssociationToken<T> extends BinderToken<T> {
  constructor(
    inner: T,
    readonly overrides: Associations,
  ) {
    super(inner);
  }

  protected start(init: Initiation<readonly unknown[]>, h: AnyHandler): void {
    init(wrapHandler(h, (...args: readonly unknown[]) => h(...args), this.overrides));
  }
}

function bindToken(token: unknown, overrides: Associations): unknown {
  if (typeof token === 'function') return bindAssociation(token as AnyFunction, overrides);
  return new AssociationToken(token, overrides);
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
 * A signal carries at most one `'abort'` listener of tsbeast's, however many operations are bound
 * to it: it is added when the first of them starts and removed as soon as the last one completes
 * (before its handler runs), so a signal with no operation in flight has none. A signal that is
 * already aborted cancels the operation as soon as it has started, so it completes (posted, never
 * inline) with `net.error.operationAborted`. With the Promise token the rejection's `.cause` is
 * `signal.reason`. A slot already bound to the inner token keeps working: its requests are
 * relayed.
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
  return new AbortSignalToken(token, signal, type);
}

class AbortSignalToken<T> extends BinderToken<T> {
  constructor(
    inner: T,
    readonly signal: AbortSignal,
    readonly type: CancellationType,
  ) {
    super(inner);
  }

  protected override wantsAbortCause(): boolean {
    return true;
  }

  // The Promise token directly inside (`op(bindAbortSignal(signal))`, the usual form): one object
  // settles the promise and carries the slot, where the general path wraps the Promise token's own
  // handler and passes it the abort's reason through another (bench/echo, AbortSignal lane).
  override [kInitiate](init: Initiation<readonly unknown[]>, ioExecutor: Executor, errorFirst: boolean): unknown {
    if (!errorFirst || (this.inner !== undefined && (this.inner as unknown) !== usePromise)) return super[kInitiate](init, ioExecutor, errorFirst);
    return new Promise((resolve, reject) => this.#launch(init, new AbortBoundPromise(this.signal, this.type, resolve, reject)));
  }

  protected start(init: Initiation<readonly unknown[]>, h: AnyHandler): void {
    this.#launch(init, new AbortBoundHandler(this.signal, this.type, h));
  }

  #launch(init: Initiation<readonly unknown[]>, op: AbortBoundOp): void {
    const signal = this.signal;
    if (signal.aborted) {
      init(op.wrapped);
      op.emit(op.type);
      return;
    }
    let registry = registries.get(signal);
    if (registry === undefined) registries.set(signal, (registry = new AbortRegistry(signal)));
    registry.add(op);
    init(op.wrapped);
  }
}

/**
 * The operations in flight bound to one AbortSignal, in the order they started, and the one
 * listener that cancels them. The listener is on the signal exactly while the list is not empty.
 * Measured (Node 20): an add/remove pair of an EventTarget listener costs about 130 ns, and the
 * per-operation relay it needed more; this makes the cost of a further operation on a signal that
 * already has one in flight a few list links.
 */
class AbortRegistry {
  #head: AbortBoundOp | null = null;
  #tail: AbortBoundOp | null = null;
  readonly #onAbort = (): void => this.#abortAll();

  constructor(readonly signal: AbortSignal) {}

  add(op: AbortBoundOp): void {
    op.registry = this;
    const tail = this.#tail;
    op.prev = tail;
    this.#tail = op;
    if (tail !== null) {
      tail.next = op;
    } else {
      this.#head = op;
      this.signal.addEventListener('abort', this.#onAbort);
    }
  }

  remove(op: AbortBoundOp): void {
    op.registry = null;
    const { prev, next } = op;
    if (prev !== null) prev.next = next;
    else this.#head = next;
    if (next !== null) next.prev = prev;
    else this.#tail = prev;
    op.prev = op.next = null;
    if (this.#head === null) this.signal.removeEventListener('abort', this.#onAbort);
  }

  // Takes every operation off the list first: those that complete while the others are being
  // cancelled, and those started meanwhile (the signal is aborted: they cancel themselves), must
  // find no list to leave.
  #abortAll(): void {
    this.signal.removeEventListener('abort', this.#onAbort);
    const ops: AbortBoundOp[] = [];
    for (let op = this.#head; op !== null; op = op.next) ops.push(op);
    this.#head = this.#tail = null;
    for (const op of ops) {
      op.registry = null;
      op.prev = op.next = null;
    }
    for (const op of ops) op.emit(op.type);
  }
}

const registries = new WeakMap<AbortSignal, AbortRegistry>();

/**
 * One operation bound to an AbortSignal: the cancellation signal whose slot the operation is
 * given (an abort is emitted on it), and a link in its AbortSignal's list of operations in flight.
 */
abstract class AbortBoundOp extends CancellationSignal {
  prev: AbortBoundOp | null = null;
  next: AbortBoundOp | null = null;
  /** The list the operation is on, while it is. */
  registry: AbortRegistry | null = null;
  /** The handler the operation is given: it leaves the list, then completes. */
  abstract readonly wrapped: AnyHandler;

  constructor(
    readonly abortSignal: AbortSignal,
    readonly type: CancellationType,
  ) {
    super();
  }

  /** Whether a completion with `ec` is the abort's doing (its rejection then carries the reason). */
  protected abortedBy(ec: unknown): boolean {
    return ec === error.operationAborted && this.abortSignal.aborted;
  }
}

/**
 * An operation bound to an AbortSignal whose inner handler is any token's: a request through a
 * slot already bound to that handler is relayed, and an abort's reason is handed to a Promise
 * token further in.
 */
class AbortBoundHandler extends AbortBoundOp {
  readonly wrapped: AnyHandler;
  readonly #outer: CancellationSlot | undefined;
  readonly #forward: CancellationHandler | undefined;

  constructor(abortSignal: AbortSignal, type: CancellationType, inner: AnyHandler) {
    super(abortSignal, type);
    const own = associationsOf(inner);
    const outer = own.cancellationSlot;
    if (outer !== undefined && outer.isConnected()) {
      this.#outer = outer;
      this.#forward = outer.assign((t: CancellationType): void => this.emit(t));
    }
    const handler = (...args: readonly unknown[]): void => {
      this.registry?.remove(this);
      if (this.#forward !== undefined) this.#outer!.release(this.#forward);
      if (this.abortedBy(args[0])) own.abortCause?.(this.abortSignal.reason);
      inner(...args);
    };
    this.wrapped = setAssociations(handler, withCancellationSlot(own, this.slot()));
  }
}

/** An operation bound to an AbortSignal that settles the Promise token's promise itself. */
class AbortBoundPromise extends AbortBoundOp {
  readonly wrapped: AnyHandler;

  constructor(abortSignal: AbortSignal, type: CancellationType, resolve: (value: unknown) => void, reject: (reason: unknown) => void) {
    super(abortSignal, type);
    const handler = (...args: readonly unknown[]): void => {
      this.registry?.remove(this);
      settlePromise(args, resolve, reject, this.abortedBy(args[0]) ? { cause: this.abortSignal.reason } : undefined);
    };
    this.wrapped = setAssociations(handler, withCancellationSlot(noAssociations, this.slot()));
  }
}

const noAssociations = associationsOf(undefined);
