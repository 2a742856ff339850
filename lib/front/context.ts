/**
 * Where the front door runs handlers, and the watchdog that makes a context nobody runs loud.
 * Without an executor of the caller's, everything runs on `systemExecutor` (Node's own loop, no
 * `run()`). With an `IoContext`, every operation the front door starts posts a probe to it; a
 * probe that has not run after {@link contextWatchdogMs} means no `run()` is serving the
 * context, and a warning says which operation waits and why. Nothing here does I/O.
 */

import { IoContext, post, systemExecutor, toExecutor, type Executor, type ExecutorLike } from '../net/index.js';

/** How long an operation may wait for its `IoContext` to be run before the front door warns. */
export const contextWatchdogMs = 1000;

/** The warning's `code`, for `process.on('warning')` and `--no-deprecation`-style filters. */
export const contextNotRunningCode = 'TSBEAST_CONTEXT_NOT_RUNNING';

/** The executor the front door uses: the caller's, or Node's own loop. */
export function frontExecutor(executor: ExecutorLike | undefined): Executor {
  return executor === undefined ? systemExecutor : toExecutor(executor);
}

/** The `IoContext` behind `executor`, when it is one or its executor. */
export function ioContextOf(executor: ExecutorLike | undefined): IoContext | null {
  if (executor === undefined) return null;
  if (executor instanceof IoContext) return executor;
  const ex = toExecutor(executor) as Executor & { context?: () => unknown };
  const ctx = typeof ex.context === 'function' ? ex.context() : null;
  return ctx instanceof IoContext ? ctx : null;
}

interface Watch {
  readonly timer: NodeJS.Timeout;
  readonly waiting: string[];
}

const watches = new WeakMap<IoContext, Watch>();

/**
 * Checks that someone runs the context behind `executor` (nothing to check for other
 * executors): posts one probe per context at a time, and warns if it has not run within
 * {@link contextWatchdogMs}. The probe is an ordinary handler, so `run()`, `poll()` and
 * `runOne()` all count as running the context (and each runs it, like any handler).
 *
 * @param what - the operation that waits, named in the warning (`connect ws://host/`).
 */
export function watchContext(executor: ExecutorLike | undefined, what: string): void {
  const ioc = ioContextOf(executor);
  if (ioc === null) return;
  const watch = watches.get(ioc);
  if (watch !== undefined) {
    if (watch.waiting.length < 8) watch.waiting.push(what);
    return;
  }
  const waiting = [what];
  const timer = setTimeout(() => {
    watches.delete(ioc);
    warnNotRunning(ioc, waiting);
  }, contextWatchdogMs);
  // The watchdog must not be what keeps a program alive.
  timer.unref();
  watches.set(ioc, { timer, waiting });
  post(ioc, () => {
    const w = watches.get(ioc);
    if (w === undefined || w.timer !== timer) return;
    clearTimeout(timer);
    watches.delete(ioc);
  });
}

/** Emits the loud report: a process warning naming the operations and the likely mistake. */
export function warnNotRunning(ioc: IoContext, waiting: readonly string[]): void {
  const why = ioc.stopped()
    ? 'its run() has ended (it ran out of work, or stop() was called): call restart() and run() again, or hold a WorkGuard'
    : 'nobody runs it: call ioc.run(), or leave the executor out to run on Node\'s own loop';
  process.emitWarning(`tsbeast: ${waiting.join(', ')} waits on an IoContext, and ${why}`, {
    type: 'TsbeastWarning',
    code: contextNotRunningCode,
  });
}
