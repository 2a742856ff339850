/**
 * `coSpawn` (Asio's `co_spawn`): runs an async function, or a generator coroutine (see
 * `coroutine.ts`), under an executor's work and hands its outcome to a completion token. The
 * async form lives here; the generator form's stepping is `coroutine.ts`'s. No I/O here.
 */

import { getAssociatedCancellationSlot, type Handler } from './associators.js';
import { CancellationState, CancellationType, enableTerminalCancellation } from './cancellation.js';
import { error, SystemError } from './error.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { handlerTracker } from './handler-tracking.js';
import { isGeneratorFunction, spawnCoroutine, type CoroutineBody, type CoroutineContext } from './coroutine.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from './token.js';

/** What a function started by {@link coSpawn} receives. */
export interface CoSpawnContext {
  /** The executor the function was spawned on. */
  readonly executor: Executor;
  /** The cancellation types requested of the spawned function (terminal only, by default). */
  cancelled(): CancellationType;
  /** Throws `operationAborted` as a `SystemError` when cancellation was requested. */
  throwIfCancelled(): void;
  /** An AbortSignal that aborts when cancellation is requested, for Node APIs. */
  readonly signal: AbortSignal;
}

/** The completion signature of {@link coSpawn}: the exception (or `null`) and the value. */
export type CoSpawnSignature<R> = [error: Error | null, value: R];

/**
 * Runs an async function under the executor's work (Asio's `co_spawn`): it starts from a posted
 * handler, work is held until it settles, and the token receives `[error, value]` (a Promise
 * token resolves with the value or rejects with the exception). Only its first segment, up to
 * the first `await`, runs in a handler of the executor; later segments are promise continuations,
 * outside any executor (an Asio coroutine resumes on its executor).
 * Cancellation requests on the token's slot (terminal) show in `ctx.cancelled()` and `ctx.signal`.
 *
 * Given a generator function instead, every step runs through `executor` (a coroutine on a strand
 * stays on the strand): it waits for operations with `yield* co.await(op(deferred))` (typed
 * value, throws on error) or `yield* co.call(...)` (the whole signature), for promises with
 * `yield* co.promise(p)`; cancellation goes to the current child operation, as in
 * {@link asyncCompose}. See {@link CoroutineContext}.
 *
 * @param executor Where the function starts (and, for a generator, where every step runs), and
 *   whose work is held until it settles.
 * @param fn The generator function to run; it receives a {@link CoroutineContext}.
 * @param handler The completion handler, called once as `handler(error: Error | null, value: R)`,
 *   never inside this call, through its associated executor.
 *
 * #### Per-operation cancellation
 * Supports the cancellation type `terminal`, as an Asio coroutine does by default. A generator
 * coroutine passes the request to the child operation in progress, and the next child it starts
 * fails at once with `operationAborted` (Asio's `throw_if_cancelled`); an async function sees
 * it in `ctx.cancelled()`, `ctx.throwIfCancelled()` and `ctx.signal` (aborted with a
 * {@link CancellationRequest}) and decides how to stop. Either way the operation completes when
 * the function settles. `partial` and `total` alone are ignored.
 */
export function coSpawn<R>(
  executor: ExecutorLike,
  fn: (co: CoroutineContext) => CoroutineBody<R>,
  handler: Handler<CoSpawnSignature<R>>,
): void;
/**
 * {@inheritDoc coSpawn:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `(error, value)`.
 */
export function coSpawn<R, T extends CompletionToken = UsePromise>(
  executor: ExecutorLike,
  fn: (co: CoroutineContext) => CoroutineBody<R>,
  token?: T & TokenCheck<T, CoSpawnSignature<R>>,
): AsyncResult<T, CoSpawnSignature<R>>;
/**
 * {@inheritDoc coSpawn:0}
 * @param fn The async (or plain) function to run; it receives a context with `cancelled()`,
 *   `throwIfCancelled()` and `signal`.
 */
export function coSpawn<R>(
  executor: ExecutorLike,
  fn: (ctx: CoroutineContext) => Promise<R> | R,
  handler: Handler<CoSpawnSignature<R>>,
): void;
/**
 * {@inheritDoc coSpawn:0}
 * @param fn The async (or plain) function to run; it receives a context with `cancelled()`,
 *   `throwIfCancelled()` and `signal`.
 * @param token Any completion token; the Promise token when omitted.
 */
export function coSpawn<R, T extends CompletionToken = UsePromise>(
  executor: ExecutorLike,
  fn: (ctx: CoroutineContext) => Promise<R> | R,
  token?: T & TokenCheck<T, CoSpawnSignature<R>>,
): AsyncResult<T, CoSpawnSignature<R>>;
export function coSpawn<R>(
  executor: ExecutorLike,
  fn: (ctx: CoroutineContext) => unknown,
  token?: CompletionToken | Handler<CoSpawnSignature<R>>,
): unknown {
  const ex = toExecutor(executor);
  // Handler tracking names the operation `co_spawn@i.coSpawn`, i the executor.
  const t = handlerTracker;
  const saved = t?.tag(ex, 'co_spawn', 'coSpawn');
  if (isGeneratorFunction(fn)) {
    const gen = fn as unknown as (co: CoroutineContext) => CoroutineBody<R>;
    try {
      return asyncInitiate<CoSpawnSignature<R>>((handler) => spawnCoroutine(ex, gen, handler), token, ex);
    } finally {
      if (saved !== undefined) t!.untag(saved);
    }
  }
  try {
    return spawnAsync(ex, fn as (ctx: CoroutineContext) => Promise<R> | R, token);
  } finally {
    if (saved !== undefined) t!.untag(saved);
  }
}

function spawnAsync<R>(
  ex: Executor,
  fn: (ctx: CoroutineContext) => Promise<R> | R,
  token?: CompletionToken | Handler<CoSpawnSignature<R>>,
): unknown {
  return asyncInitiate<CoSpawnSignature<R>>(
    (handler) => {
      const work = new HandlerWork(handler, ex);
      const abort = new AbortController();
      const state = new CancellationState(getAssociatedCancellationSlot(handler), enableTerminalCancellation);
      state.slot().assign((type) => abort.abort(new CancellationRequest(type)));
      const ctx: CoroutineContext = {
        call: generatorOnly,
        await: generatorOnly,
        promise: generatorOnly,
        executor: ex,
        cancelled: () => state.cancelled(),
        throwIfCancelled: () => {
          if (state.cancelled() !== CancellationType.none) throw new SystemError(error.operationAborted);
        },
        signal: abort.signal,
      };
      const finish = (...args: CoSpawnSignature<R>): void => {
        state.slot().clear();
        state.detach();
        work.complete(true, ...args);
      };
      ex.post(() => {
        let result: Promise<R> | R;
        try {
          result = fn(ctx);
        } catch (err) {
          return finish(asError(err), undefined as R);
        }
        Promise.resolve(result).then(
          (value) => finish(null, value),
          (err: unknown) => finish(asError(err), undefined as R),
        );
      });
    },
    token,
    ex,
  );
}

// One context type for both forms (TypeScript fixes a callback's parameter type at the first
// overload it tries); in an async function the generator-only methods say so.
function generatorOnly(): never {
  throw new TypeError('coSpawn: call/await/promise are for generator functions; in an async function, await the operation');
}

/** The reason a {@link CoSpawnContext.signal} aborts with. */
export class CancellationRequest extends Error {
  constructor(readonly type: CancellationType) {
    super('cancellation requested');
    this.name = 'CancellationRequest';
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err), { cause: err });
}
