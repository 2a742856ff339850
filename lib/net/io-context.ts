/**
 * IoContext: Asio's `io_context` on Node's event loop. It owns a FIFO queue of handlers and a
 * count of outstanding work; handlers run only inside `run()`, `runOne()`, `poll()` and
 * `pollOne()`. It performs no I/O itself: I/O objects report their completions to it.
 */

import type { Executor } from './executor.js';
import { enableHandlerTracking, type HandlerTrackingOutput } from './handler-tracking.js';

/**
 * A settled promise: `settled.then(fn)` queues `fn` as a microtask, as `queueMicrotask(fn)` does,
 * without the AsyncResource and the bound function Node's `queueMicrotask` makes for each call
 * (one a drained batch, so about one a message on a busy connection; bench/ws-instructions).
 */
const settled = Promise.resolve();

/** Handlers run per turn of Node's event loop before I/O callbacks get their turn. */
const handlersPerTurn = 1024;

/** A queue array longer than this is replaced when it empties, or compacted when half done. */
const shrinkAbove = 1024;

interface Runner {
  count: number;
  readonly limit: number;
  readonly resolve: (count: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Options of an {@link IoContext}. */
export interface IoContextOptions {
  /**
   * Switches handler tracking on (for the whole process, see `enableHandlerTracking`): `true`
   * writes to standard error, a string is a file to append to, a function receives each line.
   */
  readonly handlerTracking?: boolean | HandlerTrackingOutput;
}

/**
 * The execution context of Asio's model. Work (operations in flight, queued handlers, work
 * guards) keeps `run()` going; when none is left the context stops, and `restart()` is needed
 * before it runs again, as in Asio.
 *
 * ```ts
 * const ioc = new IoContext();
 * post(ioc.getExecutor(), () => console.log('ran inside run()'));
 * await ioc.run();
 * ```
 */
export class IoContext {
  // The queue is #queue[#head..#tail). Its array keeps its length when it empties (slots are
  // cleared as they run): shortening an array and growing it again cost about 1k instructions
  // per message on a one-connection echo (bench/server-instructions).
  #queue: Array<(() => void) | undefined> = [];
  #head = 0;
  #tail = 0;
  #work = 0;
  #stopped = false;
  #depth = 0;
  #runners: Runner[] = [];
  #tick: NodeJS.Immediate | null = null;
  #draining = false;
  #microtask = false;
  #budget = 0;
  readonly #executor: Executor;

  constructor(options?: IoContextOptions) {
    const tracking = options?.handlerTracking;
    if (tracking !== undefined && tracking !== false) enableHandlerTracking(tracking === true ? 'stderr' : tracking);
    const ctx = this;
    this.#executor = Object.freeze({
      post(fn: () => void): void { ctx.#enqueue(fn); },
      defer(fn: () => void): void { ctx.#enqueue(fn); },
      dispatch(fn: () => void): void {
        if (ctx.#depth > 0) fn();
        else if (ctx.#isRunning()) ctx.#invokeFromIo(fn);
        else ctx.#enqueue(fn);
      },
      runningInThisThread(): boolean { return ctx.#depth > 0 || ctx.#isRunning(); },
      onWorkStarted(): void { ctx.#work++; },
      onWorkFinished(): void { ctx.#workFinished(); },
      context(): IoContext { return ctx; },
    });
  }

  /** The context's executor (always the same object). */
  getExecutor(): Executor {
    return this.#executor;
  }

  /**
   * Runs handlers until no work is left or {@link IoContext.stop} is called. Operations started
   * right after this call, in the same turn or after an `await`, still count. Handlers are drained
   * in batches from `setImmediate`, so Node's I/O is never starved. "No work left" is decided only
   * after pending microtasks have run, so code after an `await` can start its next operation.
   *
   * @returns a Promise of the number of handlers run; it rejects with the exception a handler
   *   threw (the context stays usable and `run()` may be called again).
   */
  run(): Promise<number> {
    return this.#startRunner(Infinity);
  }

  /**
   * Like {@link IoContext.run}, but resolves (with the number of handlers run) at the latest after
   * `ms` milliseconds (Asio's `run_for`). Reaching the time limit does not stop the context:
   * pending work stays pending, and the context can be run again at once.
   */
  runFor(ms: number): Promise<number> {
    return this.runUntil(performance.now() + ms);
  }

  /**
   * Like {@link IoContext.run}, but resolves at the latest at `time`, a time on the steady clock
   * (`steadyNow()`, `performance.now()`) (Asio's `run_until`). See {@link IoContext.runFor}.
   */
  runUntil(time: number): Promise<number> {
    return this.#startRunner(Infinity, time);
  }

  /** Like {@link IoContext.run}, but resolves after at most one handler has run. */
  runOne(): Promise<number> {
    return this.#startRunner(1);
  }

  /**
   * Runs every handler that is ready, without waiting, including those that become ready while it
   * runs. Returns the number run. An exception from a handler propagates to the caller.
   */
  poll(): number {
    return this.#pollUpTo(Infinity);
  }

  /** Runs at most one ready handler, without waiting. Returns 0 or 1. */
  pollOne(): number {
    return this.#pollUpTo(1);
  }

  /**
   * Stops the context: `run()` resolves as soon as possible, queued handlers stay queued, and no
   * handler runs until {@link IoContext.restart}.
   */
  stop(): void {
    this.#stopped = true;
    // From inside a handler, settle once it returns so that it is counted.
    if (this.#depth === 0) this.#settleRunners();
  }

  /** Whether the context is stopped (explicitly, or because it ran out of work). */
  stopped(): boolean {
    return this.#stopped;
  }

  /** Clears the stopped state so that the context can run again. */
  restart(): void {
    this.#stopped = false;
  }

  /** The outstanding work: operations in flight, work guards, and queued handlers. */
  outstandingWork(): number {
    return this.#work;
  }

  // -------------------------------------------------------------------------------------------

  #isRunning(): boolean {
    return this.#runners.length > 0 && !this.#stopped;
  }

  #enqueue(fn: () => void): void {
    this.#queue[this.#tail++] = fn;
    this.#work++;
    this.#schedule();
  }

  #workFinished(): void {
    if (--this.#work === 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#tick === null && !this.#microtask && !this.#draining && this.#runners.length > 0) {
      this.#tick = setImmediate(this.#onTick);
    }
  }

  #startRunner(limit: number, until?: number): Promise<number> {
    if (this.#stopped) return Promise.resolve(0);
    // Unlike Asio's run(), "no work" is not decided inside this call but on a later turn, so
    // `const done = ioc.run(); await op();` works whatever the order of the two lines.
    return new Promise<number>((resolve, reject) => {
      if (until === undefined) {
        this.#runners.push({ count: 0, limit, resolve, reject });
        return this.#schedule();
      }
      // The time limit's timer goes when the runner settles, however it settles.
      const r: Runner = {
        count: 0,
        limit,
        resolve: (n) => {
          clearTimeout(deadline);
          resolve(n);
        },
        reject: (err) => {
          clearTimeout(deadline);
          reject(err);
        },
      };
      const deadline = setTimeout(() => this.#expireRunner(r), Math.max(0, until - performance.now()));
      this.#runners.push(r);
      this.#schedule();
    });
  }

  // A runFor / runUntil runner whose time is up: it leaves, the context keeps its state.
  #expireRunner(r: Runner): void {
    const i = this.#runners.indexOf(r);
    if (i < 0) return;
    this.#runners.splice(i, 1);
    r.resolve(r.count);
  }

  readonly #onTick = (): void => {
    this.#tick = null;
    this.#budget = handlersPerTurn;
    this.#drain();
  };

  readonly #onMicrotask = (): void => {
    this.#microtask = false;
    this.#drain();
  };

  // Runs the handlers queued so far. Handlers they queue run in a following microtask rather
  // than a following event-loop turn: promise continuations (queued while this batch ran) get
  // to run first, and an operation chain costs no turn of Node's loop per step. After
  // `handlersPerTurn` handlers the next batch waits for a new turn, so I/O is never starved.
  #drain(): void {
    if (this.#runners.length === 0) return;
    if (this.#stopped) return this.#settleRunners();
    const end = this.#tail;
    let ran = 0;
    this.#draining = true;
    try {
      while (this.#head < end && this.#isRunning()) {
        this.#runQueued();
        ran++;
      }
    } catch (err) {
      this.#rejectRunners(err);
    } finally {
      this.#draining = false;
      this.#budget -= ran;
      this.#compact();
    }
    if (this.#runners.length === 0) return;
    const pending = this.#head < this.#tail;
    if ((pending || ran > 0) && this.#budget > 0) {
      // Also after a batch that left the queue empty: the promise continuations it released run
      // before this microtask and may queue the next step of their operation.
      this.#microtask = true;
      void settled.then(this.#onMicrotask);
    } else if (pending) {
      this.#schedule();
    } else if (this.#work === 0) {
      this.#tick = setImmediate(this.#onIdle);
    }
  }

  // Runs one macrotask after the queue emptied: every microtask (an `await` continuation that
  // may start the next operation) has run by then.
  readonly #onIdle = (): void => {
    this.#tick = null;
    if (this.#runners.length === 0) return;
    if (this.#work === 0 && this.#head === this.#tail) {
      this.#stopped = true;
      this.#settleRunners();
    } else {
      this.#schedule();
    }
  };

  #runQueued(): void {
    const fn = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined;
    this.#depth++;
    try {
      fn();
    } finally {
      this.#depth--;
      this.#work--;
      this.#counted();
      if (this.#stopped && this.#depth === 0) this.#settleRunners();
    }
  }

  // A completion from one of Node's I/O callbacks while run() is active runs as a handler of
  // run(): it counts as inside the context, but it became ready after every handler already
  // queued, and Asio's scheduler runs handlers in the order they became ready. Inline only with nothing queued ahead of it;
  // behind queued handlers it waits its turn. (Seen when Node's timers phase came before the
  // check phase that drains the queue: a timer's handler ran before handlers posted earlier.)
  #invokeFromIo(fn: () => void): void {
    if (this.#head < this.#tail) return this.#enqueue(fn);
    this.#depth++;
    try {
      fn();
    } catch (err) {
      this.#rejectRunners(err);
    } finally {
      this.#depth--;
      this.#counted();
      if (this.#stopped && this.#depth === 0) this.#settleRunners();
    }
  }

  #counted(): void {
    let finished = false;
    for (const r of this.#runners) if (++r.count >= r.limit) finished = true;
    if (!finished) return;
    this.#runners = this.#runners.filter((r) => {
      if (r.count < r.limit) return true;
      r.resolve(r.count);
      return false;
    });
  }

  #pollUpTo(limit: number): number {
    if (this.#stopped) return 0;
    if (this.#work === 0) {
      this.#stopped = true;
      return 0;
    }
    let count = 0;
    try {
      while (count < limit && this.#head < this.#tail && !this.#stopped) {
        this.#runQueued();
        count++;
      }
    } finally {
      this.#compact();
    }
    return count;
  }

  #settleRunners(): void {
    const runners = this.#runners;
    this.#runners = [];
    for (const r of runners) r.resolve(r.count);
    if (this.#tick !== null) {
      clearImmediate(this.#tick);
      this.#tick = null;
    }
  }

  #rejectRunners(err: unknown): void {
    const runners = this.#runners;
    this.#runners = [];
    for (const r of runners) r.reject(err);
  }

  #compact(): void {
    if (this.#head === this.#tail) {
      this.#head = this.#tail = 0;
      // After a burst, a large array goes rather than stay as long as the context.
      if (this.#queue.length > shrinkAbove) this.#queue = [];
    } else if (this.#head > shrinkAbove && this.#head * 2 > this.#tail) {
      this.#queue = this.#queue.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
  }
}
