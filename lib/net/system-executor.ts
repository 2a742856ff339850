/**
 * The system executor: handlers run on Node's own event loop, with no `run()` to call (Asio's
 * `system_executor`, whose handlers run on the system's threads). It keeps no count of work:
 * Node's loop stays alive for as long as a socket, a server or a timer is open, which is what
 * keeps a program going here. It must never run a function inside `post` or `defer`.
 */

import type { Executor } from './executor.js';

/** Functions run per microtask batch before the batch yields to Node's I/O with `setImmediate`. */
const handlersPerTurn = 1024;

/**
 * The execution context of {@link systemExecutor}: one FIFO queue drained on Node's event loop.
 * A handler that throws does not stop the others: its exception is rethrown on a later tick of
 * its own, where Node reports it as any uncaught exception (Asio lets it escape the thread).
 */
class SystemContext {
  readonly #queue: Array<() => void> = [];
  #head = 0;
  #scheduled = false;
  #budget = handlersPerTurn;

  post(fn: () => void): void {
    this.#queue.push(fn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Like IoContext: batches run from microtasks, and once `handlersPerTurn` handlers have run
    // since the last turn of the loop, the next batch waits for one, so I/O is never starved.
    if (this.#budget > 0) queueMicrotask(this.#drain);
    else setImmediate(this.#newTurn);
  }

  readonly #newTurn = (): void => {
    this.#budget = handlersPerTurn;
    this.#drain();
  };

  readonly #drain = (): void => {
    this.#scheduled = false;
    const end = this.#queue.length;
    while (this.#head < end) {
      const fn = this.#queue[this.#head]!;
      this.#head++;
      this.#budget--;
      try {
        fn();
      } catch (err) {
        process.nextTick(rethrow, err);
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      if (this.#budget > 0) queueMicrotask(this.#drain);
      else setImmediate(this.#newTurn);
    }
  };
}

function rethrow(err: unknown): never {
  throw err;
}

const context = new SystemContext();

/**
 * An executor whose handlers run on Node's event loop without any `run()` (Asio's
 * `system_executor`). `post` and `defer` queue the function (never inside the call); `dispatch`
 * runs it at once, as Asio's does, since every caller already runs on the loop: an operation's
 * completion therefore runs its handler straight from Node's I/O callback. Work counting is a
 * no-op: nothing waits for this executor to run out of work.
 *
 * The front door (`connect`, `acceptWebSockets`) uses it unless it is given an `IoContext`.
 *
 * ```ts
 * const socket = new TcpSocket(systemExecutor);
 * await socket.asyncConnect(new Endpoint('127.0.0.1', port)); // no ioc.run() needed
 * ```
 */
export const systemExecutor: Executor = Object.freeze({
  post(fn: () => void): void { context.post(fn); },
  defer(fn: () => void): void { context.post(fn); },
  dispatch(fn: () => void): void { fn(); },
  runningInThisThread(): boolean { return true; },
  onWorkStarted(): void {},
  onWorkFinished(): void {},
});
