/**
 * Resolver: host names to endpoints (Asio's `ip::tcp::resolver`) over `dns.lookup`, so it sees
 * what the operating system's resolver sees (/etc/hosts, nsswitch). It only looks names up: it
 * never connects, and never lets a lookup's late result reach a handler that was cancelled.
 */

import { lookup, type LookupAddress } from 'node:dns';
import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../cancellation.js';
import { error, fromNodeError, type ErrorCode } from '../error.js';
import { toExecutor, type Executor, type ExecutorLike } from '../executor.js';
import { HandlerWork } from '../handler-work.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../token.js';
import { Endpoint } from './endpoint.js';
import { trackOperations } from '../handler-tracking.js';

/** The completion signature of {@link Resolver.asyncResolve}: the error and the endpoints found. */
export type ResolveSignature = [ec: ErrorCode | null, results: Endpoint[]];

interface PendingResolve {
  readonly work: HandlerWork<ResolveSignature>;
  readonly slot: CancellationSlot;
  readonly onCancel: CancellationHandler;
}

/** Parses a service: a port number or a numeric string. Names such as `'http'` are not looked up. */
function parsePort(service: string | number): number | null {
  const port = typeof service === 'number' ? service : /^\d{1,5}$/.test(service) ? Number(service) : NaN;
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : null;
}

/**
 * Resolves host names into lists of endpoints. Several resolves may be outstanding at once;
 * {@link Resolver.cancel} completes them all with `operationAborted`.
 */
export class Resolver {
  readonly #executor: Executor;
  readonly #pending = new Set<PendingResolve>();

  /** @param executor - the I/O executor (an `IoContext` or any executor). */
  constructor(executor: ExecutorLike) {
    this.#executor = toExecutor(executor);
  }

  /** The resolver's I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /**
   * Looks up `host` with the system resolver and pairs every address found with the port given
   * by `service` (Asio's `basic_resolver::async_resolve(host, service)`).
   *
   * Completes once the system resolver answers, with `[ec, results]`: on success at least one
   * endpoint, in the resolver's order; on error no endpoint and the error, as
   * {@link fromNodeError} maps Node's (an unknown name gives `net.error.hostNotFound`);
   * `net.error.serviceNotFound`, without waiting, when `service` is not a port number (no
   * service database is consulted, so `'http'` is refused); `operationAborted` after
   * {@link Resolver.cancel} or a cancellation.
   *
   * @param host A host name, or an IPv4 or IPv6 address literal.
   * @param service The port every endpoint gets: a number, or a string of digits, 0 to 65535.
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, results: Endpoint[])`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`: the resolve completes at
   * once with `operationAborted` and no endpoint. A lookup has no side effect, so the resolver is
   * as before the call; the system lookup itself cannot be stopped, it runs on and its answer is
   * dropped. Asio documents no per-operation cancellation for `async_resolve` (only `cancel()`):
   * this is an addition.
   */
  asyncResolve(host: string, service: string | number, handler: Handler<ResolveSignature>): void;
  /**
   * {@inheritDoc Resolver.asyncResolve:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, results)`.
   */
  asyncResolve<T extends CompletionToken = UsePromise>(
    host: string,
    service: string | number,
    token?: T & TokenCheck<T, ResolveSignature>,
  ): AsyncResult<T, ResolveSignature>;
  asyncResolve(host: string, service: string | number, token?: CompletionToken | Handler<ResolveSignature>): unknown {
    return asyncInitiate<ResolveSignature>((h) => this.#initiate(host, service, h), token, this.#executor);
  }

  /** Completes every outstanding resolve with `operationAborted` (posted). */
  cancel(): void {
    const all = [...this.#pending];
    this.#pending.clear();
    for (const p of all) {
      p.slot.release(p.onCancel);
      p.work.post(error.operationAborted, []);
    }
  }

  #initiate(host: string, service: string | number, handler: Handler<ResolveSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    const port = parsePort(service);
    if (port === null) return work.complete(false, error.serviceNotFound, []);
    const slot = getAssociatedCancellationSlot(handler);
    const op: PendingResolve = {
      work,
      slot,
      onCancel: (type) => {
        if ((type & CancellationType.all) === 0 || !this.#pending.delete(op)) return;
        slot.release(op.onCancel);
        work.post(error.operationAborted, []);
      },
    };
    this.#pending.add(op);
    if (slot.isConnected()) slot.assign(op.onCancel);
    lookup(host, { all: true }, (err, addresses: LookupAddress[]) => {
      if (!this.#pending.delete(op)) return; // cancelled: the handler already has its answer
      slot.release(op.onCancel);
      if (err !== null) return work.complete(true, fromNodeError(err), []);
      const results = addresses.map((a) => new Endpoint(a.address, port));
      if (results.length === 0) return work.complete(true, error.hostNotFound, []);
      work.complete(true, null, results);
    });
  }
}

// Handler tracking names this class's operations `resolver@<id>.<method>` (nothing while it is off).
trackOperations(Resolver, 'resolver');
