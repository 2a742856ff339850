/**
 * Handler tracking (Asio's `ASIO_ENABLE_HANDLER_TRACKING`): one log line for every operation
 * started (`n*m`), handler invoked (`>m`), left (`<m`), left by an exception (`!m`), dropped
 * without being invoked (`~m`), and every `cancel`/`close` an I/O object receives (`n|…`), in
 * Asio's text format, so that `tsbeast-handlerviz` (or Asio's own `handlerviz.pl`) can draw it.
 *
 * Off by default, and then free: the hooks in `asyncInitiate` and `HandlerWork` test one module
 * variable for `null`, and the I/O objects' methods are not wrapped at all. Switched on by the
 * environment variable `TSBEAST_HANDLER_TRACKING` (`1` or `stderr`: standard error; anything else:
 * a file to append to), by {@link enableHandlerTracking}, or by `new IoContext({ handlerTracking })`.
 *
 * Naming without a hook per operation: each I/O object class registers once
 * ({@link trackOperations}); when tracking is switched on, its `async*` methods are wrapped to label
 * the next operation created (`websocket@3.asyncRead`) and its `cancel`/`close` methods to log the
 * call. This module does no I/O of the model and knows no token or executor.
 */

import { closeSync, openSync, writeSync } from 'node:fs';
import { ErrorCode } from './error.js';

/** Where tracking lines go: standard error, a file path (appended to), or a function. */
export type HandlerTrackingOutput = 'stderr' | string | ((line: string) => void);

interface Label {
  readonly object: object;
  readonly kind: string;
  readonly op: string;
}

/** @internal What a named initiating call replaced, restored when it returns. */
export interface Scope {
  readonly pending: Label | null;
  readonly current: number;
}

/** @internal The live tracker; `null` when tracking is off (the only thing hot paths test). */
export let handlerTracker: HandlerTracker | null = null;

/** @internal What the hooks call while tracking is on. */
export class HandlerTracker {
  #nextId = 1;
  #nextObject = 1;
  /** The handler being invoked now (0: none, as Asio's top level). */
  #current = 0;
  #pending: Label | null = null;
  readonly #ids = new WeakMap<object, number>();
  readonly #objects = new WeakMap<object, number>();
  // The live operations: which handler each holds, and which bookkeeping owns each id now.
  readonly #byHandler = new WeakMap<object, number>();
  readonly #owner = new Map<number, object>();
  readonly #handingOver = new WeakSet<object>();

  constructor(readonly write: (line: string) => void, readonly close: () => void) {}

  /**
   * Labels the next operation created (called by a wrapped `async*` method) and opens its
   * initiating call: the operation's children started inside it are its own (`m*k`). Returns
   * what {@link HandlerTracker.untag} restores.
   */
  tag(object: object, kind: string, op: string): Scope {
    const saved: Scope = { pending: this.#pending, current: this.#current };
    // A method that delegates to another of the same object (`asyncWrite` to `asyncWriteSome`)
    // before creating anything: the operation is the one the caller called.
    if (this.#pending === null || this.#pending.object !== object) this.#pending = { object, kind, op };
    return saved;
  }

  /** Closes the initiating call a {@link HandlerTracker.tag} opened. */
  untag(saved: Scope): void {
    this.#pending = saved.pending;
    this.#current = saved.current;
  }

  /**
   * Keeps the pending label with an initiation that may run later (the `deferred` token): the
   * operation it creates when launched still gets its name.
   */
  captureInit<F extends (handler: never) => void>(init: F): F {
    const label = this.#pending;
    if (label === null) return init;
    this.#pending = null;
    return ((handler: never): void => {
      const saved: Scope = { pending: this.#pending, current: this.#current };
      this.#pending = label;
      try {
        init(handler);
      } finally {
        this.untag(saved);
      }
    }) as F;
  }

  /**
   * An operation was created with `work` as its completion bookkeeping: logs `n*m`. When `handler`
   * is being handed over ({@link HandlerTracker.handOver}), the new bookkeeping continues the
   * operation's id rather than starting one.
   */
  created(work: object, handler: object): void {
    const held = this.#byHandler.get(handler);
    if (held !== undefined && this.#handingOver.delete(handler) && this.#owner.has(held)) {
      this.#ids.set(work, held);
      this.#owner.set(held, work);
      this.#pending = null;
      return;
    }
    const id = this.#nextId++;
    this.#ids.set(work, id);
    this.#byHandler.set(handler, id);
    this.#owner.set(id, work);
    const label = this.#pending;
    this.#pending = null;
    const what = label === null ? 'operation@0.async' : `${this.#describe(label.object, label.kind)}.${label.op}`;
    this.write(`${this.#current}*${id}|${what}`);
    // Inside its named initiating call, what else is started is this operation's doing.
    if (label !== null) this.#current = id;
  }

  /**
   * The live operation holding `handler` passes it to a new one (a fast path handing over to its
   * full composed operation): one operation to the reader of the log, not a drop and a start.
   */
  handOver(handler: object): void {
    this.#handingOver.add(handler);
  }

  /**
   * Logs the first step of a composed operation as run by the operation itself, so that the
   * children it starts inside its initiating call are its own (`m*k`), not its caller's.
   */
  step<R>(work: object, fn: () => R): R {
    const id = this.#ids.get(work);
    if (id === undefined) return fn();
    const prev = this.#current;
    this.#current = id;
    try {
      return fn();
    } finally {
      this.#current = prev;
    }
  }

  /** Wraps the invocation of `work`'s handler: `>m|args`, then `<m` (or `!m` on an exception). */
  invocation(work: object, args: readonly unknown[], call: () => void): () => void {
    const id = this.#ids.get(work);
    if (id === undefined) return call;
    this.#owner.delete(id);
    return () => {
      this.write(`>${id}|${describeArgs(args)}`);
      const prev = this.#current;
      this.#current = id;
      try {
        call();
      } catch (err) {
        this.#current = prev;
        this.write(`!${id}|`);
        throw err;
      }
      this.#current = prev;
      this.write(`<${id}|`);
    };
  }

  /** `work`'s handler will never be invoked: `~m`. */
  destroyed(work: object): void {
    const id = this.#ids.get(work);
    if (id === undefined || this.#owner.get(id) !== work) return;
    this.#owner.delete(id);
    this.write(`~${id}|`);
  }

  /** A synchronous operation on an I/O object that affects pending operations: `n|kind@i.op`. */
  operation(object: object, kind: string, op: string): void {
    this.write(`${this.#current}|${this.#describe(object, kind)}.${op}`);
  }

  #describe(object: object, kind: string): string {
    let id = this.#objects.get(object);
    if (id === undefined) {
      id = this.#nextObject++;
      this.#objects.set(object, id);
    }
    return `${kind}@${id}`;
  }
}

/** Asio's handler arguments: `ec=category:value` first, then the values. */
function describeArgs(args: readonly unknown[]): string {
  const parts: string[] = [];
  args.forEach((a, i) => {
    if (a instanceof ErrorCode) parts.push(`ec=${a.category.name}:${a.value}`);
    else if (a === null && i === 0) parts.push('ec=system:0');
    else if (a instanceof Error) parts.push(`ex=${a.name}`);
    else if (typeof a === 'number' || typeof a === 'boolean') parts.push(`v${i}=${a}`);
    else if (typeof a === 'string') parts.push(`v${i}=${JSON.stringify(a.length > 20 ? a.slice(0, 20) + '…' : a)}`);
    else if (a === undefined || a === null) parts.push(`v${i}=${a}`);
    else parts.push(`v${i}=${(a as object).constructor?.name ?? 'object'}`);
  });
  return parts.join(',');
}

/** Asio's timestamp: seconds and microseconds since the epoch. */
function timestamp(): string {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

function makeWriter(output: HandlerTrackingOutput): { write: (line: string) => void; close: () => void } {
  if (typeof output === 'function') {
    return { write: (line) => output(`@asio|${timestamp()}|${line}`), close: () => {} };
  }
  // Written synchronously, line by line: the log must survive a crash, and keep its order
  // with the program's own output.
  const fd = output === 'stderr' ? 2 : openSync(output, 'a');
  return {
    write: (line) => void writeSync(fd, `@asio|${timestamp()}|${line}\n`),
    close: () => {
      if (fd !== 2) closeSync(fd);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The I/O object classes whose operations are named.

type Methods = Record<string, unknown>;

interface Registered {
  readonly proto: Methods;
  readonly kind: string;
  readonly originals: Map<string, unknown>;
}

const registered: Registered[] = [];

/** Synchronous methods logged as `n|kind@i.name`: they complete or affect pending operations. */
const cancelling = new Set(['cancel', 'cancelOne', 'close', 'clear', 'remove']);

function patch(r: Registered): void {
  const { proto, kind } = r;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    const orig = d?.value as unknown;
    if (typeof orig !== 'function' || name === 'constructor') continue;
    const fn = orig as (...args: unknown[]) => unknown;
    let wrapped: (this: object, ...args: unknown[]) => unknown;
    if (name.startsWith('async')) {
      wrapped = function (this: object, ...args: unknown[]): unknown {
        const t = handlerTracker;
        if (t === null) return fn.apply(this, args);
        const saved = t.tag(this, kind, name);
        try {
          return fn.apply(this, args);
        } finally {
          t.untag(saved);
        }
      };
    } else if (cancelling.has(name)) {
      wrapped = function (this: object, ...args: unknown[]): unknown {
        handlerTracker?.operation(this, kind, name);
        return fn.apply(this, args);
      };
    } else {
      continue;
    }
    r.originals.set(name, orig);
    Object.defineProperty(proto, name, { ...d, value: wrapped });
  }
}

function unpatch(r: Registered): void {
  for (const [name, orig] of r.originals) {
    const d = Object.getOwnPropertyDescriptor(r.proto, name)!;
    Object.defineProperty(r.proto, name, { ...d, value: orig });
  }
  r.originals.clear();
}

/**
 * Registers an I/O object class whose operations handler tracking names `kind@id.method`
 * (`tcp`, `websocket`, `timer`, …). Costs nothing while tracking is off: the methods are wrapped
 * only when it is switched on, and unwrapped when it is switched off.
 */
export function trackOperations(ctor: abstract new (...args: never[]) => object, kind: string): void {
  const r: Registered = { proto: ctor.prototype as Methods, kind, originals: new Map() };
  registered.push(r);
  if (handlerTracker !== null) patch(r);
}

/**
 * Switches handler tracking on for the whole process (handlers cross contexts, so tracking is not
 * per context). Lines follow Asio's format, `@asio|<seconds.micros>|<action>|<description>`:
 *
 * - `n*m|kind@i.op`: handler `n` (0: none) started operation `m` on object `i`;
 * - `>m|ec=…,v1=…`: `m`'s handler is invoked with these values; `<m` it returned; `!m` it threw;
 * - `~m`: `m`'s handler was dropped without being invoked;
 * - `n|kind@i.cancel` (or `close`, …): handler `n` cancelled or closed an object.
 *
 * Calling it again replaces the output.
 *
 * @param output - `'stderr'` (the default), a file path to append to, or a function receiving each line.
 */
export function enableHandlerTracking(output: HandlerTrackingOutput = 'stderr'): void {
  const wasOn = handlerTracker !== null;
  handlerTracker?.close();
  const { write, close } = makeWriter(output);
  handlerTracker = new HandlerTracker(write, close);
  if (!wasOn) for (const r of registered) patch(r);
}

/** Switches handler tracking off: the methods are unwrapped and the output is closed. */
export function disableHandlerTracking(): void {
  if (handlerTracker === null) return;
  handlerTracker.close();
  handlerTracker = null;
  for (const r of registered) unpatch(r);
}

/** Whether handler tracking is on. */
export function handlerTrackingEnabled(): boolean {
  return handlerTracker !== null;
}

const fromEnv = typeof process === 'object' ? process.env['TSBEAST_HANDLER_TRACKING'] : undefined;
if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== '0') {
  enableHandlerTracking(fromEnv === '1' || fromEnv === 'stderr' ? 'stderr' : fromEnv);
}
