/**
 * Reporting of internal errors: an exception thrown by a step of a composed operation inside a
 * completion (after its initiating call returned). That is a bug of the operation, not an error of
 * the user's handler, so it must neither reject `IoContext.run()` (which the application would
 * take for its own handler's failure, losing every other connection on the context) nor crash the
 * process through `'uncaughtException'`. Instead the operation's handler completes with
 * `net.error.internalError` (exactly once, as always), and the exception goes to the listener set
 * here; without one, Node's process warning channel gets it (`process.emitWarning`, printed on
 * stderr, observable with `process.on('warning')`). No I/O and no executor knowledge here.
 */

/** Receives the exception a composed operation's step threw inside a completion. */
export type InternalErrorListener = (err: unknown) => void;

let listener: InternalErrorListener | null = null;

/**
 * Sets the listener of internal errors (`null` restores the default: a process warning of type
 * `TsbeastInternalError`) and returns the previous one. A listener that throws is ignored.
 *
 * ```ts
 * net.onInternalError((err) => log.error({ err }, 'tsbeast bug'));
 * ```
 */
export function onInternalError(fn: InternalErrorListener | null): InternalErrorListener | null {
  const previous = listener;
  listener = fn;
  return previous;
}

/** @internal Reports `err`, thrown by a composed operation's step inside a completion. */
export function reportInternalError(err: unknown): void {
  if (listener !== null) {
    try {
      listener(err);
    } catch {
      // The reporter of a bug must not become a second way to lose the context.
    }
    return;
  }
  const warning = new Error('a composed operation threw inside a completion; its handler got net.error.internalError', {
    cause: err,
  });
  warning.name = 'TsbeastInternalError';
  process.emitWarning(warning);
}
