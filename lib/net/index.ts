/**
 * `tsbeast/net`: the Asio model: errors, executors, tokens, cancellation, composed operations,
 * timers and buffers.
 */

export * from './error.js';
export * from './executor.js';
export * from './io-context.js';
export {
  enableHandlerTracking,
  disableHandlerTracking,
  handlerTrackingEnabled,
  trackOperations,
  type HandlerTrackingOutput,
} from './handler-tracking.js';
export * from './system-executor.js';
export * from './strand.js';
export * from './work-guard.js';
export * from './cancellation.js';
export {
  getAssociatedExecutor,
  getAssociatedCancellationSlot,
  getAssociatedImmediateExecutor,
  type Associations,
} from './associators.js';
export {
  asyncInitiate,
  usePromise,
  deferred,
  detached,
  asTuple,
  redirectError,
  type Handler,
  type Initiation,
  type AsyncResult,
  type CompletionToken,
  type TokenFor,
  type TokenCheck,
  type DeferredOp,
  type UsePromise,
  type Deferred,
  type Detached,
  type ErrorOut,
  type ValueOf,
  type TokenResults,
  type TerminalToken,
  type AsTupleToken,
  type RedirectErrorToken,
  type BoundToken,
} from './token.js';
export * from './binders.js';
export { cancelAfter } from './cancel-after.js';
export * from './cancel-at.js';
export * from './append.js';
export * from './consign.js';
export * from './signal-set.js';
export * from './post.js';
export * from './compose.js';
export { onInternalError, type InternalErrorListener } from './internal-error.js';
// For leaf operations built outside lib/net (e.g. waiting for an HTTP/2 event): the completion rules in one class.
export { HandlerWork } from './handler-work.js';
export type { CoroutineContext, CoroutineBody, Awaitable } from './coroutine.js';
export * from './parallel-group.js';
export * from './timer.js';
export * from './buffer.js';
export * from './dynamic-buffer.js';
export * from './stream.js';
export * from './read-write.js';
export * from './ip/tcp.js';
export * as ssl from './ssl.js';
