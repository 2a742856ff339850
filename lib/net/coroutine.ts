/**
 * Generator coroutines for `coSpawn` (Asio's awaitables on an executor): a generator function
 * whose every resumption runs through its executor, so a coroutine spawned on a strand stays on
 * the strand, which an async function cannot (`await` resumes in a microtask, outside any
 * executor). It yields child operations as `asyncCompose` does, and gets typed results back
 * through `yield*`. No I/O here.
 */

import { getAssociatedCancellationSlot, setAssociations, type Handler } from './associators.js';
import { CancellationSignal, CancellationState, CancellationType, enableTerminalCancellation } from './cancellation.js';
import type { ChildOp } from './compose.js';
import { CancellationRequest, type CoSpawnContext, type CoSpawnSignature } from './co-spawn.js';
import { ErrorCode, error, SystemError } from './error.js';
import type { Executor } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { handlerTracker } from './handler-tracking.js';
import type { DeferredOp, ValueOf } from './token.js';

/** What a generator coroutine yields and resumes with: a child operation and its completion values. */
export type CoroutineBody<R> = Generator<ChildOp, R, readonly unknown[]>;

/** A child operation a coroutine can wait for: a deferred operation, or a function taking a handler. */
export type Awaitable<A extends readonly unknown[]> = DeferredOp<A> | ((handler: Handler<A>) => void);

/** What a generator function started by `coSpawn` receives. */
export interface CoroutineContext extends CoSpawnContext {
  /**
   * Starts `op` and returns its whole completion signature, error included:
   * `const [ec, n] = yield* co.call(socket.asyncReadSome(buf, deferred))`.
   */
  call<A extends readonly unknown[]>(op: Awaitable<A>): Generator<ChildOp, A, readonly unknown[]>;
  /**
   * Starts `op` and returns what the Promise token would resolve with, or throws what it would
   * reject with (a `SystemError` for an `ErrorCode`): `const n = yield* co.await(...)`.
   */
  await<A extends readonly unknown[]>(op: Awaitable<A>): Generator<ChildOp, ValueOf<A>, readonly unknown[]>;
  /** Waits for a promise; the coroutine resumes through its executor, not in a microtask. */
  promise<V>(p: PromiseLike<V>): Generator<ChildOp, V, readonly unknown[]>;
}

const GeneratorFunction = (function* () {}).constructor;

/** @internal Whether `fn` is a generator function (the form `coSpawn` drives step by step). */
export function isGeneratorFunction(fn: unknown): boolean {
  return fn instanceof GeneratorFunction;
}

/**
 * @internal Starts a generator coroutine on `executor` for `handler`: the first step runs from
 * a posted handler, each child's completion resumes it through `executor`, and the handler gets
 * `[error, value]` when the generator returns or throws. Cancellation as in `asyncCompose`:
 * terminal requests on the handler's slot are recorded, passed to the current child, and make
 * the next child the coroutine starts fail with `operationAborted` at once (as Asio's
 * `throw_if_cancelled`, on by default).
 */
export function spawnCoroutine<R>(
  executor: Executor,
  fn: (co: CoroutineContext) => CoroutineBody<R>,
  handler: Handler<CoSpawnSignature<R>>,
): void {
  new Coroutine(executor, handler).start(fn);
}

class Coroutine<R> implements CoroutineContext {
  readonly #work: HandlerWork<CoSpawnSignature<R>>;
  readonly #state: CancellationState;
  // The children's slot: the state's requests are relayed here and to `signal`'s controller.
  readonly #relay: CancellationSignal | null = null;
  #abort: AbortController | null = null;
  #body: CoroutineBody<R> | null = null;
  #childPending = false;

  constructor(
    readonly executor: Executor,
    handler: Handler<CoSpawnSignature<R>>,
  ) {
    this.#work = new HandlerWork(handler, executor);
    this.#state = new CancellationState(getAssociatedCancellationSlot(handler), enableTerminalCancellation);
    const slot = this.#state.slot();
    if (slot.isConnected()) {
      const relay = (this.#relay = new CancellationSignal());
      slot.assign((type) => {
        this.#abort?.abort(new CancellationRequest(type));
        relay.emit(type);
      });
    }
    setAssociations(this.#next, {
      executor,
      cancellationSlot: this.#relay === null ? undefined : this.#relay.slot(),
    });
  }

  start(fn: (co: CoroutineContext) => CoroutineBody<R>): void {
    this.executor.post(() => {
      const first = (): void => {
        try {
          this.#body = fn(this);
        } catch (err) {
          return this.#finish(asError(err), undefined as R);
        }
        this.#step({ next: [] });
      };
      // With handler tracking, what the first step starts is the coroutine's own doing.
      if (handlerTracker !== null) handlerTracker.step(this.#work, first);
      else first();
    });
  }

  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      const type = this.#state.cancelled();
      if (type !== CancellationType.none) this.#abort.abort(new CancellationRequest(type));
    }
    return this.#abort.signal;
  }

  cancelled(): CancellationType {
    return this.#state.cancelled();
  }

  throwIfCancelled(): void {
    if (this.#state.cancelled() !== CancellationType.none) throw new SystemError(error.operationAborted);
  }

  *call<A extends readonly unknown[]>(op: Awaitable<A>): Generator<ChildOp, A, readonly unknown[]> {
    return (yield op as ChildOp) as unknown as A;
  }

  *await<A extends readonly unknown[]>(op: Awaitable<A>): Generator<ChildOp, ValueOf<A>, readonly unknown[]> {
    const args = yield op as ChildOp;
    const e = args[0];
    const errorFirst = args.length > 0 && (e === null || e === undefined || e instanceof ErrorCode || e instanceof Error);
    if (errorFirst && e instanceof ErrorCode) throw new SystemError(e);
    if (errorFirst && e instanceof Error) throw e;
    const values = errorFirst ? args.slice(1) : args;
    return (values.length === 0 ? undefined : values.length === 1 ? values[0] : values) as ValueOf<A>;
  }

  *promise<V>(p: PromiseLike<V>): Generator<ChildOp, V, readonly unknown[]> {
    const [err, value] = yield (h: Handler<readonly unknown[]>) => {
      // Work is held while the promise is pending, and its settlement is dispatched through the
      // coroutine's executor like any other completion.
      const work = new HandlerWork(h, this.executor);
      p.then(
        (v) => work.complete(true, null, v),
        (e: unknown) => work.complete(true, { rejected: e }),
      );
    };
    if (err !== null) throw (err as { rejected: unknown }).rejected;
    return value as V;
  }

  // The intermediate handler: one per coroutine. A child that completes outside the executor
  // (a hand-written child calling its handler directly) is sent through it.
  readonly #next = (...args: readonly unknown[]): void => {
    if (!this.#childPending) throw new Error('coSpawn: a child operation completed twice');
    if (!this.executor.runningInThisThread()) {
      this.executor.dispatch(() => this.#next(...args));
      return;
    }
    this.#childPending = false;
    this.#relay?.slot().clear();
    this.#step({ next: args });
  };

  #step(input: { next: readonly unknown[] } | { throw: unknown }): void {
    const body = this.#body!;
    for (;;) {
      let step: IteratorResult<ChildOp, R>;
      try {
        step = 'next' in input ? body.next(input.next) : body.throw(input.throw);
      } catch (err) {
        return this.#finish(asError(err), undefined as R);
      }
      if (step.done) return this.#finish(null, step.value);
      // Cancelled: the next child is not started, its `yield` throws (Asio's throw_if_cancelled).
      if (this.#state.cancelled() !== CancellationType.none) {
        input = { throw: new SystemError(error.operationAborted) };
        continue;
      }
      this.#childPending = true;
      step.value(this.#next);
      return;
    }
  }

  #finish(err: Error | null, value: R): void {
    this.#relay?.slot().clear();
    this.#state.detach();
    this.#work.complete(true, err, value);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err), { cause: err });
}
