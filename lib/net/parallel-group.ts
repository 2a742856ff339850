/**
 * Parallel groups (Asio's `make_parallel_group`): launch several deferred operations at once and
 * complete when a condition says so, cancelling the others. Unlike `Promise.race`, the losers are
 * cancelled and the group completes only after every child has completed, so nothing it started
 * is still running when its handler runs.
 */

import { getAssociatedCancellationSlot, type Handler } from './associators.js';
import { bindCancellationSlot } from './binders.js';
import { CancellationSignal, CancellationType } from './cancellation.js';
import { ErrorCode } from './error.js';
import { HandlerWork } from './handler-work.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type DeferredOp, type UsePromise } from './token.js';

/**
 * Decides, from one child's completion values, whether to cancel the other children and with
 * which type (`none` to let them run).
 */
export type WaitCondition = (...args: readonly unknown[]) => CancellationType;

function failed(args: readonly unknown[]): boolean {
  const e = args[0];
  return e instanceof ErrorCode || e instanceof Error;
}

/** Waits for every child; never cancels. */
export function waitForAll(): WaitCondition {
  return () => CancellationType.none;
}

/** Cancels the others (with `type`, all by default) as soon as one child completes. */
export function waitForOne(type: CancellationType = CancellationType.all): WaitCondition {
  return () => type;
}

/** Cancels the others once a child completes without an error. */
export function waitForOneSuccess(type: CancellationType = CancellationType.all): WaitCondition {
  return (...args) => (failed(args) ? CancellationType.none : type);
}

/** Cancels the others once a child completes with an error. */
export function waitForOneError(type: CancellationType = CancellationType.all): WaitCondition {
  return (...args) => (failed(args) ? type : CancellationType.none);
}

type AnyDeferred = DeferredOp<readonly unknown[]>;
type SignatureOf<O> = O extends DeferredOp<infer A> ? A : never;
type Flatten<Ops extends readonly unknown[]> = Ops extends readonly [infer H, ...infer R]
  ? [...SignatureOf<H>, ...Flatten<R>]
  : [];

/**
 * The group's completion signature: the order in which the children completed (their indices),
 * then every child's completion values, in launch order.
 */
export type ParallelGroupSignature<Ops extends readonly unknown[]> = [order: number[], ...values: Flatten<Ops>];

/** A set of deferred operations to launch together. */
export class ParallelGroup<Ops extends readonly AnyDeferred[]> {
  readonly #ops: Ops;

  constructor(ops: Ops) {
    if (ops.length === 0) throw new RangeError('makeParallelGroup: at least one operation is required');
    this.#ops = ops;
  }

  /**
   * Launches every operation and completes once all of them have completed (Asio's
   * `parallel_group::async_wait`). After each child's completion, `condition` decides whether
   * the others are cancelled, and with which type (once).
   *
   * Completes with `[order, ...values]`: the indices of the children in the order they
   * completed, then every child's completion values, in launch order.
   *
   * @param condition Decides from a child's completion whether to cancel the others
   *   ({@link waitForAll}, {@link waitForOne}, {@link waitForOneSuccess}, {@link waitForOneError}).
   * @param handler The completion handler, called once as `handler(order: number[], ...values)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Every type is forwarded, as it is, to every child still running; what each child does with
   * it is its own per-operation cancellation. The group still completes only once every child
   * has completed.
   */
  asyncWait(condition: WaitCondition, handler: Handler<ParallelGroupSignature<Ops>>): void;
  /**
   * {@inheritDoc ParallelGroup.asyncWait:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(order, ...values)`.
   */
  asyncWait<T extends CompletionToken = UsePromise>(
    condition: WaitCondition,
    token?: T & TokenCheck<T, ParallelGroupSignature<Ops>>,
  ): AsyncResult<T, ParallelGroupSignature<Ops>>;
  asyncWait(condition: WaitCondition, token?: CompletionToken | Handler<ParallelGroupSignature<Ops>>): unknown {
    const ops = this.#ops;
    const ioExecutor = ops[0]!.executor;
    return asyncInitiate<ParallelGroupSignature<Ops>>(
      (handler) => {
        const work = new HandlerWork(handler, ioExecutor);
        const signals = ops.map(() => new CancellationSignal());
        const results: Array<readonly unknown[]> = new Array(ops.length);
        const order: number[] = [];
        let cancelled = false;
        const outer = getAssociatedCancellationSlot(handler);
        const forward = (type: CancellationType): void => {
          for (const s of signals) s.emit(type);
        };
        if (outer.isConnected()) outer.assign(forward);

        const cancelOthers = (type: CancellationType): void => {
          if (cancelled || type === CancellationType.none) return;
          cancelled = true;
          for (const s of signals) s.emit(type);
        };
        ops.forEach((op, i) => {
          op(
            bindCancellationSlot(signals[i]!.slot(), (...args: readonly unknown[]) => {
              results[i] = args;
              order.push(i);
              cancelOthers(condition(...args));
              if (order.length < ops.length) return;
              outer.release(forward);
              const values = results.flat() as Flatten<Ops>;
              work.complete(true, order, ...values);
            }),
          );
        });
      },
      token,
      ioExecutor,
      false,
    );
  }
}

/**
 * Groups deferred operations (from the `deferred` token) to be launched together.
 *
 * ```ts
 * const [order, readEc, n, waitEc] = await makeParallelGroup(
 *   socket.asyncReadSome(buf, deferred),
 *   timer.asyncWait(deferred),
 * ).asyncWait(waitForOne());
 * ```
 */
export function makeParallelGroup<Ops extends readonly AnyDeferred[]>(...ops: Ops): ParallelGroup<Ops> {
  return new ParallelGroup(ops);
}
