/**
 * The free functions `post`, `dispatch` and `defer`: submit a completion token to an executor
 * (Asio's `post(ex, token)` and friends). The token's handler runs on the given executor and is
 * then dispatched to its own associated executor, with work tracked in between.
 */

import type { Handler } from './associators.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { handlerTracker } from './handler-tracking.js';
import { Strand } from './strand.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from './token.js';

type Submit = (ex: Executor, fn: () => void) => void;

function submit(how: Submit, executor: ExecutorLike, token: CompletionToken | Handler<[]> | undefined, name: string): unknown {
  const ex = toExecutor(executor);
  // Handler tracking names the operation `io_context@i.post` or `strand@i.post`.
  const t = handlerTracker;
  if (t === null) return initiate(how, ex, token);
  const saved = t.tag(ex, ex instanceof Strand ? 'strand' : 'io_context', name);
  try {
    return initiate(how, ex, token);
  } finally {
    t.untag(saved);
  }
}

function initiate(how: Submit, ex: Executor, token: CompletionToken | Handler<[]> | undefined): unknown {
  return asyncInitiate<[]>(
    (h) => {
      const work = new HandlerWork(h, ex);
      how(ex, () => work.complete(true));
    },
    token,
    ex,
    false,
  );
}

/**
 * Queues the token's handler on `executor`; it never runs inside this call (Asio's `post`).
 *
 * ```ts
 * post(ioc.getExecutor(), () => console.log('later'));
 * await post(strand);            // resume on the strand
 * ```
 *
 * @param executor Where the handler is queued (an `IoContext`, a strand, any executor).
 * @param handler The completion handler, called once as `handler()` on `executor`, then
 *   through its own associated executor.
 *
 * #### Per-operation cancellation
 * None, as in Asio: once queued, the handler runs.
 */
export function post(executor: ExecutorLike, handler: Handler<[]>): void;
/**
 * {@inheritDoc post:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `()`.
 */
export function post<T extends CompletionToken = UsePromise>(executor: ExecutorLike, token?: T & TokenCheck<T, []>): AsyncResult<T, []>;
export function post(executor: ExecutorLike, token?: CompletionToken | Handler<[]>): unknown {
  return submit((ex, fn) => ex.post(fn), executor, token, 'post');
}

/**
 * Runs the token's handler inside this call when the caller is already running in `executor`,
 * otherwise queues it (Asio's `dispatch`).
 *
 * @param executor Where the handler runs (an `IoContext`, a strand, any executor).
 * @param handler The completion handler, called once as `handler()` on `executor` (inside this
 *   call when already there), then through its own associated executor.
 *
 * #### Per-operation cancellation
 * None, as in Asio.
 */
export function dispatch(executor: ExecutorLike, handler: Handler<[]>): void;
/**
 * {@inheritDoc dispatch:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `()`.
 */
export function dispatch<T extends CompletionToken = UsePromise>(executor: ExecutorLike, token?: T & TokenCheck<T, []>): AsyncResult<T, []>;
export function dispatch(executor: ExecutorLike, token?: CompletionToken | Handler<[]>): unknown {
  return submit((ex, fn) => ex.dispatch(fn), executor, token, 'dispatch');
}

/**
 * Like {@link post}, hinting that the handler continues the current one (Asio's `defer`).
 *
 * @param executor Where the handler is queued (an `IoContext`, a strand, any executor).
 * @param handler The completion handler, called once as `handler()` on `executor`, then
 *   through its own associated executor.
 *
 * #### Per-operation cancellation
 * None, as in Asio: once queued, the handler runs.
 */
export function defer(executor: ExecutorLike, handler: Handler<[]>): void;
/**
 * {@inheritDoc defer:0}
 * @param token Any completion token; the Promise token when omitted. The result is what the
 *   token makes of the completion `()`.
 */
export function defer<T extends CompletionToken = UsePromise>(executor: ExecutorLike, token?: T & TokenCheck<T, []>): AsyncResult<T, []>;
export function defer(executor: ExecutorLike, token?: CompletionToken | Handler<[]>): unknown {
  return submit((ex, fn) => ex.defer(fn), executor, token, 'defer');
}
