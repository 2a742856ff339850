/**
 * SignalSet: waits for process signals (Asio's `signal_set`), e.g. SIGINT and SIGTERM for a
 * graceful shutdown. A Node `process` listener is installed for a signal only while a wait is
 * pending on a set that holds it, and removed as soon as none is: a set with nothing waiting
 * leaves no listener (nor timer), and the signal then has Node's default action. A pending wait
 * keeps the process alive, as it keeps Asio's `run()` going.
 */

import { constants } from 'node:os';
import type { Handler } from './associators.js';
import { error, type ErrorCode } from './error.js';
import { toExecutor, type Executor, type ExecutorLike } from './executor.js';
import { HandlerWork } from './handler-work.js';
import { trackOperations } from './handler-tracking.js';
import { addWaiter, finishWaiter, type Waiter } from './waiter.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from './token.js';

/** The completion signature of {@link SignalSet.asyncWait}: the error and the signal's number. */
export type SignalSignature = [ec: ErrorCode | null, signalNumber: number];

/** A signal, by name (`'SIGINT'`) or number (`2`). */
export type SignalLike = NodeJS.Signals | number;

const aborted: SignalSignature = [error.operationAborted, 0];

const signalNames = constants.signals as Readonly<Record<string, number>>;

function nameOf(signal: SignalLike): NodeJS.Signals {
  if (typeof signal === 'string') {
    if (signalNames[signal] === undefined) throw new TypeError(`SignalSet: unknown signal ${signal}`);
    return signal;
  }
  for (const [name, n] of Object.entries(signalNames)) if (n === signal) return name as NodeJS.Signals;
  throw new TypeError(`SignalSet: unknown signal number ${signal}`);
}

/**
 * A set of process signals to wait for. Every pending {@link SignalSet.asyncWait} completes when
 * one of the set's signals arrives, with that signal's number.
 *
 * Unlike Asio, a signal that arrives while no wait is pending is not queued for the next wait:
 * no listener is installed then, so the signal has Node's default action (SIGINT and SIGTERM end
 * the process). A second Ctrl+C while a server shuts down thus stops it at once.
 *
 * ```ts
 * const signals = new SignalSet(ioc, 'SIGINT', 'SIGTERM');
 * const [, n] = await signals.asyncWait(asTuple());
 * console.log('shutting down on signal', n);
 * ```
 */
export class SignalSet {
  readonly #executor: Executor;
  readonly #signals = new Set<NodeJS.Signals>();
  readonly #waiters: Waiter<SignalSignature>[] = [];
  // The listeners installed now, one per signal; empty whenever nothing waits.
  readonly #listeners = new Map<NodeJS.Signals, () => void>();
  // Node's signal listeners do not keep the process alive; a pending wait must, as it keeps
  // Asio's run() going. A timer that never fires holds the event loop while anything waits.
  #keepAlive: NodeJS.Timeout | null = null;

  constructor(executor: ExecutorLike, ...signals: SignalLike[]) {
    this.#executor = toExecutor(executor);
    for (const s of signals) this.add(s);
  }

  /** The set's I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** Adds a signal to the set; no effect when it is already there. */
  add(signal: SignalLike): void {
    const name = nameOf(signal);
    this.#signals.add(name);
    this.#sync();
  }

  /**
   * Removes a signal from the set; no effect when it is not there. Pending waits stay pending
   * (for the set's other signals).
   */
  remove(signal: SignalLike): void {
    this.#signals.delete(nameOf(signal));
    this.#sync();
  }

  /** Removes every signal from the set. Pending waits stay pending. */
  clear(): void {
    this.#signals.clear();
    this.#sync();
  }

  /** Completes every pending wait with `net.error.operationAborted` (posted, never inside this call). */
  cancel(): void {
    const waiters = this.#waiters.splice(0);
    this.#sync();
    for (const w of waiters) finishWaiter(w, 'post', ...aborted);
  }

  /**
   * Waits for one of the set's signals (Asio's `basic_signal_set::async_wait`). While a wait is
   * pending, the set's signals are caught (their default action, such as ending the process, is
   * suspended) and the process is kept alive.
   *
   * Completes with `[ec, signalNumber]`: `null` and the number of the signal that arrived (every
   * pending wait gets it); `net.error.operationAborted` and 0 after {@link SignalSet.cancel} or a
   * cancellation.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, signalNumber: number)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, as Asio's does: the wait
   * completes with `operationAborted` and 0; when it was the last one, the listeners are removed
   * and the signals have their default action again, as before the call.
   */
  asyncWait(handler: Handler<SignalSignature>): void;
  /**
   * {@inheritDoc SignalSet.asyncWait:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, signalNumber)`.
   */
  asyncWait<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, SignalSignature>): AsyncResult<T, SignalSignature>;
  asyncWait(token?: CompletionToken | Handler<SignalSignature>): unknown {
    return asyncInitiate<SignalSignature>((h) => this.#initiateWait(h), token, this.#executor);
  }

  #initiateWait(handler: Handler<SignalSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    addWaiter(this.#waiters, work, handler, aborted, this.#sync);
    this.#sync();
  }

  #deliver(name: NodeJS.Signals): void {
    const waiters = this.#waiters.splice(0);
    this.#sync();
    for (const w of waiters) finishWaiter(w, true, null, signalNames[name]!);
  }

  // Listeners exactly for the set's signals while a wait is pending; none otherwise. An arrow
  // function: a cancelled wait calls it too (see waiter.ts).
  readonly #sync = (): void => {
    const waiting = this.#waiters.length > 0;
    if (waiting && this.#keepAlive === null) this.#keepAlive = setInterval(() => {}, 0x7fffffff);
    if (!waiting && this.#keepAlive !== null) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = null;
    }
    const want = waiting ? this.#signals : new Set<NodeJS.Signals>();
    for (const [name, listener] of this.#listeners) {
      if (want.has(name)) continue;
      process.removeListener(name, listener);
      this.#listeners.delete(name);
    }
    for (const name of want) {
      if (this.#listeners.has(name)) continue;
      const listener = (): void => this.#deliver(name);
      this.#listeners.set(name, listener);
      process.on(name, listener);
    }
  };
}

// Handler tracking names this class's operations `signal_set@<id>.<method>` (nothing while it is off).
trackOperations(SignalSet, 'signal_set');
