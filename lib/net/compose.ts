/**
 * Composed operations (Asio's `async_compose`), written as generators: each `yield` starts a
 * child operation with the intermediate handler and resumes with the child's results. Also
 * `asyncImmediate`; `coSpawn` is in `co-spawn.ts` (re-exported here). Every composed operation in
 * tsbeast is built here, so the completion rules of DESIGN section 4 are kept in one place.
 */

import {
  associationsOf,
  getAssociatedCancellationSlot,
  mergeAssociations,
  setAssociations,
  type Associations,
  type Handler,
} from './associators.js';
import {
  CancellationState,
  CancellationType,
  disconnectedSlot,
  enableTerminalCancellation,
  type CancellationFilter,
} from './cancellation.js';
import { error } from './error.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { reportInternalError } from './internal-error.js';
import { handlerTracker } from './handler-tracking.js';
import {
  asyncInitiate,
  type AsyncResult,
  type TokenCheck,
  type CompletionToken,
  type DeferredOp,
  type TokenFor,
  type UsePromise,
} from './token.js';

const noAssociations = associationsOf(undefined);
const plainByExecutor = new WeakMap<Executor, Associations>();

function plainAssociations(executor: Executor): Associations {
  let a = plainByExecutor.get(executor);
  if (a === undefined) {
    a = Object.freeze({ executor, cancellationSlot: disconnectedSlot });
    plainByExecutor.set(executor, a);
  }
  return a;
}

/** A child operation as a composed operation yields it: started with the intermediate handler. */
export type ChildOp = (handler: Handler<readonly unknown[]>) => void;

/** The generator that implements a composed operation. */
export type ComposedBody = Generator<ChildOp, void, readonly unknown[]>;

/**
 * The intermediate handler's view of its composed operation (Asio's `self`).
 */
export interface ComposedSelf<A extends readonly unknown[]> {
  /** Completes the operation: the user's handler receives `args` (never inside the initiating call). */
  complete(...args: A): void;
  /** The cancellation types requested so far (after the in-filter). */
  cancelled(): CancellationType;
  /** Replaces the cancellation state, forgetting recorded requests (default filters: terminal). */
  resetCancellationState(inFilter?: CancellationFilter, outFilter?: CancellationFilter): void;
  /** The current cancellation state. */
  getCancellationState(): CancellationState;
  /** The operation's I/O executor (the first I/O object or executor given). */
  getIoExecutor(): Executor;
  /** The user's handler's associated executor, where every step runs. */
  getExecutor(): Executor;
  /**
   * False during the first step (inside the initiating call), true once a child has completed:
   * Beast's `cont` flag, for steps that must not run user code inside the initiating call.
   */
  isContinuation(): boolean;
  /**
   * Registers a function that runs once when the operation completes, before its handler is
   * submitted (or when it is abandoned): state the operation held is released before the handler
   * can start the next operation (DESIGN section 4, rule 4).
   */
  onComplete(fn: () => void): void;
  /**
   * Starts a child and returns its results, typed: `const [ec, n] = yield* self.call(op)`,
   * where `op` is a deferred operation or a function taking a handler.
   */
  call<R extends readonly unknown[]>(op: DeferredOp<R>): Generator<ChildOp, R, readonly unknown[]>;
  call<R extends readonly unknown[]>(op: (handler: Handler<R>) => void): Generator<ChildOp, R, readonly unknown[]>;
}

class ComposedOp<A extends readonly unknown[]> implements ComposedSelf<A> {
  readonly #work: HandlerWork<A>;
  readonly #handler: Handler<A>;
  #state: CancellationState;
  #body: ComposedBody | null = null;
  #initiating = true;
  #done = false;
  // What every intermediate handler carries; rebuilt when the cancellation state is replaced.
  #associations: Associations;
  #finally: (() => void) | null = null;
  #childPending = false;

  constructor(handler: Handler<A>, readonly ioExecutor: Executor) {
    this.#handler = handler;
    this.#work = new HandlerWork(handler, ioExecutor);
    this.#state = CancellationState.for(getAssociatedCancellationSlot(handler), enableTerminalCancellation);
    this.#associations = this.#makeAssociations();
    setAssociations(this.#next, this.#associations);
  }

  #makeAssociations(): Associations {
    const own = associationsOf(this.#handler);
    const slot = this.#state.slot();
    // The common case (a plain handler, no slot bound) shares one frozen object per executor.
    if (own === noAssociations && !slot.isConnected()) return plainAssociations(this.#work.executor);
    // Built with a fixed shape: a frozen spread cost 0.2-1.3 µs per operation on Node 20.
    return mergeAssociations(own, { executor: this.#work.executor, cancellationSlot: slot });
  }

  /** Runs the first step; `initiating` false when that is not inside the user's initiating call. */
  start(body: (self: ComposedSelf<A>) => ComposedBody, initiating = true): void {
    this.#initiating = initiating;
    try {
      this.#body = body(this);
      // With handler tracking, the children of the first step are this operation's own.
      if (handlerTracker !== null) handlerTracker.step(this.#work, () => this.#resume([]));
      else this.#resume([]);
    } finally {
      this.#initiating = false;
    }
  }

  complete(...args: A): void {
    if (this.#done) throw new Error('asyncCompose: complete() called twice');
    this.#done = true;
    this.#state.detach();
    this.#finally?.();
    this.#work.complete(!this.#initiating, ...args);
  }

  onComplete(fn: () => void): void {
    this.#finally = fn;
  }

  cancelled(): CancellationType {
    return this.#state.cancelled();
  }

  resetCancellationState(inFilter: CancellationFilter = enableTerminalCancellation, outFilter?: CancellationFilter): void {
    this.#state.detach();
    this.#state = CancellationState.for(getAssociatedCancellationSlot(this.#handler), inFilter, outFilter ?? inFilter);
    this.#associations = this.#makeAssociations();
    setAssociations(this.#next, this.#associations);
  }

  getCancellationState(): CancellationState {
    return this.#state;
  }

  getIoExecutor(): Executor {
    return this.ioExecutor;
  }

  getExecutor(): Executor {
    return this.#work.executor;
  }

  isContinuation(): boolean {
    return !this.#initiating;
  }

  call<R extends readonly unknown[]>(op: DeferredOp<R>): Generator<ChildOp, R, readonly unknown[]>;
  call<R extends readonly unknown[]>(op: (handler: Handler<R>) => void): Generator<ChildOp, R, readonly unknown[]>;
  *call<R extends readonly unknown[]>(op: (handler: Handler<R>) => void): Generator<ChildOp, R, readonly unknown[]> {
    return (yield op as ChildOp) as unknown as R;
  }

  #resume(args: readonly unknown[]): void {
    const body = this.#body!;
    let step: IteratorResult<ChildOp, void>;
    try {
      step = body.next(args);
    } catch (err) {
      // Inside the initiating call the caller sees the exception; after complete(), it came from
      // the user's handler run inline, and run() must see it. Otherwise it is the operation's bug.
      if (this.#initiating || this.#done) {
        this.#abandon();
        throw err;
      }
      return this.#fail(err);
    }
    if (step.done) {
      if (!this.#done) {
        const err = new Error('asyncCompose: the operation returned without calling self.complete()');
        if (!this.#initiating) return this.#fail(err);
        this.#abandon();
        throw err;
      }
      return;
    }
    if (this.#done) throw new Error('asyncCompose: the operation started a child after completing');
    this.#childPending = true;
    step.value(this.#next);
  }

  // The intermediate handler: one per operation (not per step, which cost an allocation per
  // step on every hot path). It runs on the user's executor and carries the child slot; a child
  // that completes when none is pending (twice) is caught rather than resuming the generator.
  readonly #next = (...args: readonly unknown[]): void => {
    if (!this.#childPending) throw new Error('asyncCompose: a child operation completed twice');
    this.#childPending = false;
    this.#state.slot().clear();
    this.#resume(args);
  };

  // A step threw inside a completion: the handler still runs exactly once, with internalError,
  // and the exception is reported as the bug it is (internal-error.ts) instead of reaching run().
  #fail(err: unknown): void {
    this.#done = true;
    this.#state.detach();
    this.#finally?.();
    reportInternalError(err);
    this.#work.complete(true, ...([error.internalError] as unknown as A));
  }

  #abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#state.detach();
    this.#finally?.();
    this.#work.abandon();
  }
}

/**
 * Builds an asynchronous operation from a generator (Asio's `async_compose`). The generator
 * receives `self`; each `yield op` starts the child `op` (a deferred operation, or a function
 * taking the intermediate handler) and resumes with the child's completion values. Finish with
 * `self.complete(...)`. Work is held on the I/O executor and on the handler's executor until the
 * completion is submitted; a completion during the first step is posted, never inline.
 *
 * ```ts
 * function asyncTwoWaits(timer: SteadyTimer, token?: CompletionToken) {
 *   return asyncCompose<[ErrorCode | null]>(function* (self) {
 *     const [ec] = yield* self.call(timer.asyncWait(deferred));
 *     if (ec !== null || self.cancelled()) return self.complete(ec ?? net.error.operationAborted);
 *     const [ec2] = yield* self.call(timer.asyncWait(deferred));
 *     self.complete(ec2);
 *   }, token, timer);
 * }
 * ```
 *
 * A generator function written inline, as above, is a new function object on every call, and V8
 * gives each one a prototype and a map of its own when it first runs: about 1.4 µs per call on
 * Node 20, against 40 ns for a generator declared once. Where an operation is started often, pass
 * an arrow to a generator of the module, `(self) => twoWaits(self, timer)`, as every composed
 * operation of this library does (a server's handshake went from 355k to 292k instructions, bench/server-instructions).
 *
 * @param body - the generator function implementing the operation.
 * @param token - the caller's completion token.
 * @param ioObjects - I/O objects or executors; the first gives the I/O executor.
 */
export function asyncCompose<A extends readonly unknown[], T extends TokenFor<A> | undefined = UsePromise>(
  body: (self: ComposedSelf<A>) => ComposedBody,
  token: T,
  ...ioObjects: ExecutorLike[]
): AsyncResult<T, A> {
  const first = ioObjects[0];
  if (first === undefined) throw new TypeError('asyncCompose: an I/O object or executor is required');
  const ioExecutor = toExecutor(first);
  return asyncInitiate<A>((handler) => composeFor(handler, ioExecutor, body), token, ioExecutor) as AsyncResult<T, A>;
}

/**
 * @internal Starts the composed operation `body` for `handler`, inside the initiating call whose
 * token made the handler: what {@link asyncCompose} does once the token's work is done. For an
 * initiating function that did the token's work itself and may complete by other means first,
 * such as the WebSocket stream, whose reads of an already buffered message need no step.
 */
export function composeFor<A extends readonly unknown[]>(
  handler: Handler<A>,
  ioExecutor: Executor,
  body: (self: ComposedSelf<A>) => ComposedBody,
): void {
  new ComposedOp(handler, ioExecutor).start(body, true);
}

/**
 * @internal Starts the composed operation `body` for a handler a shortcut took and held (see
 * {@link composeFor}). From a completion on the handler's executor, `initiating` is false: the first
 * step is then a continuation, as if a first step of its own had just completed.
 */
export function startComposed<A extends readonly unknown[]>(
  handler: Handler<A>,
  ioExecutor: Executor,
  body: (self: ComposedSelf<A>) => ComposedBody,
  initiating: boolean,
): void {
  if (handlerTracker !== null) handlerTracker.handOver(handler);
  new ComposedOp(handler, ioExecutor).start(body, initiating);
}

/**
 * An operation that completes at once, with the completion rules of any other: posted to
 * `executor`, or dispatched to the handler's immediate executor when one is bound
 * (Asio's `async_immediate`). Signature `[]`.
 *
 * @param executor The I/O executor the completion is posted to.
 * @param handler The completion handler, called once as `handler()`: inside this call only
 *   through a bound immediate executor, otherwise posted, then through its associated executor.
 *
 * #### Per-operation cancellation
 * None, as in Asio: there is nothing to wait for.
 */
export function asyncImmediate(executor: ExecutorLike, handler: Handler<[]>): void;
/**
 * {@inheritDoc asyncImmediate:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `()`.
 */
export function asyncImmediate<T extends CompletionToken = UsePromise>(executor: ExecutorLike, token?: T & TokenCheck<T, []>): AsyncResult<T, []>;
export function asyncImmediate(executor: ExecutorLike, token?: CompletionToken | Handler<[]>): unknown {
  const ex = toExecutor(executor);
  return asyncInitiate<[]>((h) => new HandlerWork(h, ex).complete(false), token, ex, false);
}

export { coSpawn, CancellationRequest, type CoSpawnContext, type CoSpawnSignature } from './co-spawn.js';
