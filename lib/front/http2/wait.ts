/**
 * A leaf operation that waits for the first of some events of a Node `EventEmitter` (an HTTP/2
 * session's SETTINGS, a stream's response or its close), with the completion rules of every
 * other operation: work held while waiting, listeners removed before the handler runs, and any
 * cancellation type honoured (nothing was consumed). Internal to the HTTP/2 layer.
 */

import type { EventEmitter } from 'node:events';

import {
  getAssociatedCancellationSlot,
  type Handler,
  CancellationType,
  type CancellationHandler,
  error as netError,
  type ErrorCode,
  type Executor,
  HandlerWork,
} from '../../net/index.js';
import { error as beastError } from '../../beast/core/index.js';

/** The completion signature: the event that came first and its first argument. */
export type WaitSignature = [ec: ErrorCode | null, event: string, value: unknown];

/**
 * Waits until `emitter` emits one of `events`. `now` is consulted first, inside the initiation:
 * when it returns a result, the operation completes with it (posted) without listening. With a
 * finite `timeoutMs`, the wait ends with `beast.error.timeout` after that long.
 */
export function asyncWaitFor(
  executor: Executor,
  emitter: EventEmitter,
  events: readonly string[],
  handler: Handler<WaitSignature>,
  now?: () => WaitSignature | null,
  timeoutMs = Infinity,
): void {
  const work = new HandlerWork(handler, executor);
  const ready = now?.() ?? null;
  if (ready !== null) return work.complete(false, ...ready);
  const slot = getAssociatedCancellationSlot(handler);
  const listeners = events.map((event) => [event, (value?: unknown) => finish(null, event, value)] as const);
  let done = false;
  let timer: NodeJS.Timeout | null = null;
  const detach = (): void => {
    done = true;
    if (timer !== null) clearTimeout(timer);
    for (const [event, fn] of listeners) emitter.removeListener(event, fn);
    slot.release(onCancel);
  };
  const finish = (ec: ErrorCode | null, event: string, value: unknown): void => {
    if (done) return;
    detach();
    work.complete(true, ec, event, value);
  };
  const onCancel: CancellationHandler = (type) => {
    if (done || (type & CancellationType.all) === 0) return;
    detach();
    work.post(netError.operationAborted, '', undefined);
  };
  for (const [event, fn] of listeners) emitter.on(event, fn);
  if (slot.isConnected()) slot.assign(onCancel);
  if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(beastError.timeout, '', undefined), Math.max(0, timeoutMs));
}
