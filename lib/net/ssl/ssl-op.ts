/**
 * The bookkeeping of one `SslStream` operation: its handler's work, its cancellation slot and the
 * deadline scope of the layer under it, finished in one place so that the slot is released and
 * the scope ended before the handler runs. Internal; no I/O here.
 */

import type { CancellationHandler, CancellationSlot, CancellationType } from '../cancellation.js';
import type { ErrorCode } from '../error.js';
import type { HandlerWork } from '../handler-work.js';
import type { OperationScope } from './next-layer.js';

/** An operation in flight. */
export interface SslOp<A extends readonly unknown[]> {
  readonly work: HandlerWork<A>;
  readonly slot: CancellationSlot;
  readonly scope: OperationScope;
  onCancel: CancellationHandler;
}

/** How a completion is submitted: from I/O (`true`), inside the initiating call (`false`), or posted. */
export type How = boolean | 'post';

/** Releases `op`'s slot, ends its scope (a deadline's error replaces the result) and submits it. */
export function finishOp<A extends [ErrorCode | null, ...unknown[]]>(op: SslOp<A>, how: How, ...args: A): void {
  op.slot.release(op.onCancel);
  const replaced = op.scope.end();
  if (replaced !== null) args[0] = replaced;
  if (how === 'post') op.work.post(...args);
  else op.work.complete(how, ...args);
}

/** Installs `op`'s cancellation handler: `onCancel` runs for requests of the types in `types`. */
export function onCancellation<A extends readonly unknown[]>(op: SslOp<A>, types: CancellationType, onCancel: () => void): void {
  op.onCancel = (type) => {
    if ((type & types) !== 0) onCancel();
  };
  if (op.slot.isConnected()) op.slot.assign(op.onCancel);
}
