/**
 * TcpAcceptor: Asio's `ip::tcp::acceptor` with a Node `net.Server` as its engine. Connections
 * the server accepts wait in a queue until an `asyncAccept` takes them, as they would in the
 * kernel's backlog. It must never run a handler inside its initiating call, never drop an
 * accepted connection while it is open, and never leave one open after `close()`.
 */

import * as net from 'node:net';
import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../cancellation.js';
import { error, fromNodeError, SystemError, type ErrorCode } from '../error.js';
import { toExecutor, type Executor, type ExecutorLike } from '../executor.js';
import { HandlerWork } from '../handler-work.js';
import { asyncInitiate, type AsyncResult, type TokenCheck, type CompletionToken, type UsePromise } from '../token.js';
import { Endpoint } from './endpoint.js';
import { TcpSocket } from './tcp-socket.js';
import { trackOperations } from '../handler-tracking.js';
import { listenHandle, type TcpHandle } from '../node-internals.js';

/** The completion signature of {@link TcpAcceptor.asyncAccept}: the error and the new socket. */
export type AcceptSignature = [ec: ErrorCode | null, socket: TcpSocket];

/** The completion signature of {@link TcpAcceptor.asyncListen}. */
export type ListenSignature = [ec: ErrorCode | null];

interface Waiter<A extends readonly unknown[]> {
  readonly work: HandlerWork<A>;
  readonly slot: CancellationSlot;
  readonly onCancel: CancellationHandler;
}

type State = 'closed' | 'open' | 'binding' | 'listening' | 'failed';


/** A connection waiting for an `asyncAccept`: a bare TCP handle, or a socket `net.Server` made. */
type Queued = TcpHandle | net.Socket;

/**
 * Accepts TCP connections.
 *
 * ```ts
 * const acceptor = new TcpAcceptor(ioc);
 * acceptor.open();
 * acceptor.bind(new Endpoint('127.0.0.1', 0));
 * await acceptor.asyncListen();           // or listen(), if the port is known
 * const port = acceptor.localEndpoint().port;
 * const peer = await acceptor.asyncAccept();
 * ```
 *
 * Node binds a server asynchronously, so `listen()` returns before the address is bound:
 * `asyncListen()` completes once it is, and a bind failure (`addressInUse`…) is reported there
 * and to every pending and later `asyncAccept`.
 */
export class TcpAcceptor {
  readonly #executor: Executor;
  #server: net.Server | null = null;
  #endpoint = new Endpoint();
  #state: State = 'closed';
  #error: ErrorCode | null = null;
  #queue: Queued[] = [];
  #accepts: Waiter<AcceptSignature>[] = [];
  #listens: Waiter<ListenSignature>[] = [];

  /**
   * @param executor - the I/O executor; accepted sockets use it too.
   * @param endpoint - when given, the acceptor is opened, bound to it and listening (Asio's
   *   convenience constructor).
   */
  constructor(executor: ExecutorLike, endpoint?: Endpoint) {
    this.#executor = toExecutor(executor);
    if (endpoint !== undefined) {
      this.open();
      this.bind(endpoint);
      this.listen();
    }
  }

  /** The acceptor's I/O executor. */
  getExecutor(): Executor {
    return this.#executor;
  }

  /** Opens the acceptor. Throws `alreadyOpen` if it is open. */
  open(): void {
    if (this.#server !== null) throw new SystemError(error.alreadyOpen, 'TcpAcceptor.open');
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.on('connection', this.#onConnection);
    server.on('error', this.#onError);
    server.on('listening', this.#onListening);
    this.#server = server;
    this.#state = 'open';
    this.#error = null;
  }

  /** Whether the acceptor is open. */
  isOpen(): boolean {
    return this.#server !== null;
  }

  /** Sets the local endpoint to listen on (port 0: any free port). Throws when not open. */
  bind(endpoint: Endpoint): void {
    if (this.#state !== 'open') throw new SystemError(this.#server === null ? error.badDescriptor : error.invalidArgument, 'TcpAcceptor.bind');
    this.#endpoint = endpoint;
  }

  /**
   * Starts listening on the bound endpoint with `backlog` (default 511, Node's). Returns at once;
   * Node binds on a later turn of the event loop (see {@link TcpAcceptor.asyncListen}).
   */
  listen(backlog = 511): void {
    const server = this.#server;
    if (server === null) throw new SystemError(error.badDescriptor, 'TcpAcceptor.listen');
    if (this.#state !== 'open') return;
    this.#state = 'binding';
    server.listen({ host: this.#endpoint.address, port: this.#endpoint.port, backlog });
  }

  /**
   * Starts listening, as {@link TcpAcceptor.listen} does if it was not called yet, and completes
   * once Node has bound the address. No Asio counterpart: Asio's `listen` binds at once, Node
   * binds on a later turn of the event loop.
   *
   * Completes with `[ec]`: `null` once listening (without waiting when already listening); the
   * bind failure (`addressInUse`, `accessDenied`… from Node), which every accept reports after
   * it; `badDescriptor` when the acceptor is not open; `operationAborted` after
   * {@link TcpAcceptor.cancel}, {@link TcpAcceptor.close} or a cancellation.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null)`, never inside this call,
   *   through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`: only the wait is
   * cancelled, completing with `operationAborted`; the acceptor goes on binding and listening,
   * as it would have without the call.
   */
  asyncListen(handler: Handler<ListenSignature>): void;
  /**
   * {@inheritDoc TcpAcceptor.asyncListen:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec)`.
   */
  asyncListen<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, ListenSignature>): AsyncResult<T, ListenSignature>;
  /**
   * {@inheritDoc TcpAcceptor.asyncListen:0}
   * @param backlog The length of the queue of connections the kernel keeps (511 when omitted),
   *   used only when this call starts listening.
   */
  asyncListen(backlog: number, handler: Handler<ListenSignature>): void;
  /**
   * {@inheritDoc TcpAcceptor.asyncListen:0}
   * @param backlog The length of the queue of connections the kernel keeps (511 when omitted),
   *   used only when this call starts listening.
   * @param token Any completion token; the Promise token when omitted.
   */
  asyncListen<T extends CompletionToken = UsePromise>(backlog: number, token?: T & TokenCheck<T, ListenSignature>): AsyncResult<T, ListenSignature>;
  asyncListen(a?: number | CompletionToken | Handler<ListenSignature>, b?: CompletionToken | Handler<ListenSignature>): unknown {
    const [backlog, token] = typeof a === 'number' ? [a, b] : [undefined, a];
    return asyncInitiate<ListenSignature>((h) => {
      const work = new HandlerWork(h, this.#executor);
      if (this.#server === null) return work.complete(false, error.badDescriptor);
      this.listen(backlog);
      if (this.#state === 'listening' || this.#state === 'failed') return work.complete(false, this.#error);
      this.#wait(this.#listens, work, h, [error.operationAborted]);
    }, token, this.#executor);
  }

  /** The bound address and port. Throws `inProgress` while Node is still binding, `badDescriptor` when closed. */
  localEndpoint(): Endpoint {
    const address = this.#server?.address();
    if (this.#server === null) throw new SystemError(error.badDescriptor, 'TcpAcceptor.localEndpoint');
    if (address === null || address === undefined || typeof address === 'string') {
      if (this.#state === 'open') return this.#endpoint;
      throw new SystemError(this.#error ?? error.inProgress, 'TcpAcceptor.localEndpoint');
    }
    return new Endpoint(address.address, address.port);
  }

  /**
   * Accepts a connection into a new {@link TcpSocket} on the acceptor's executor (Asio's
   * `basic_socket_acceptor::async_accept` overload that returns the peer; accepting into a given
   * socket is not offered).
   *
   * Completes with `[ec, socket]`: a connection already waiting (without waiting), or the next
   * one to arrive. On error `socket` is a new, closed TcpSocket. Errors: the bind failure of
   * {@link TcpAcceptor.listen}; `invalidArgument` when `listen()` was not called;
   * `badDescriptor` when closed; `operationAborted` after {@link TcpAcceptor.cancel},
   * {@link TcpAcceptor.close} or a cancellation. Several accepts may wait at once; connections
   * go to them in the order they started.
   *
   * @param handler The completion handler, called once as `handler(ec: ErrorCode | null, socket: TcpSocket)`,
   *   never inside this call, through its associated executor.
   *
   * #### Per-operation cancellation
   * Supports the cancellation types `terminal`, `partial` and `total`, as Asio's does: the
   * accept leaves the queue of waiting accepts and completes with `operationAborted` and a closed
   * socket. No connection is lost: one that arrives afterwards waits for the next accept, so the
   * acceptor is as it was before the call.
   */
  asyncAccept(handler: Handler<AcceptSignature>): void;
  /**
   * {@inheritDoc TcpAcceptor.asyncAccept:0}
   * @param token Any completion token; the Promise token when omitted. The result is what the
   *   token makes of the completion `(ec, socket)`.
   */
  asyncAccept<T extends CompletionToken = UsePromise>(token?: T & TokenCheck<T, AcceptSignature>): AsyncResult<T, AcceptSignature>;
  asyncAccept(token?: CompletionToken | Handler<AcceptSignature>): unknown {
    return asyncInitiate<AcceptSignature>((h) => this.#initiateAccept(h), token, this.#executor);
  }

  /** Completes every pending accept and listen wait with `operationAborted` (posted). */
  cancel(): void {
    for (const w of this.#accepts.splice(0)) this.#post(w, error.operationAborted, this.#closedSocket());
    for (const w of this.#listens.splice(0)) this.#post(w, error.operationAborted);
  }

  /** Stops listening, closes queued connections and cancels pending operations. Never fails. */
  close(): void {
    const server = this.#server;
    if (server === null) return;
    this.cancel();
    for (const s of this.#queue.splice(0)) {
      if (s instanceof net.Socket) {
        s.off('error', ignore);
        s.destroy();
      } else {
        s.close?.();
      }
    }
    server.off('connection', this.#onConnection);
    server.off('listening', this.#onListening);
    server.off('error', this.#onError);
    // Errors after close would otherwise be thrown as unhandled 'error' events.
    server.once('error', ignore);
    server.close();
    this.#server = null;
    this.#state = 'closed';
    this.#error = null;
  }

  // ------------------------------------------------------------------------------------------

  #initiateAccept(handler: Handler<AcceptSignature>): void {
    const work = new HandlerWork(handler, this.#executor);
    if (this.#server === null) return work.complete(false, error.badDescriptor, this.#closedSocket());
    if (this.#error !== null) return work.complete(false, this.#error, this.#closedSocket());
    if (this.#state === 'open') return work.complete(false, error.invalidArgument, this.#closedSocket());
    const queued = this.#queue.shift();
    if (queued !== undefined) return work.complete(false, null, this.#take(queued));
    this.#wait(this.#accepts, work, handler, [error.operationAborted, this.#closedSocket()]);
  }

  #wait<A extends readonly unknown[]>(list: Waiter<A>[], work: HandlerWork<A>, handler: Handler<A>, aborted: A): void {
    const slot = getAssociatedCancellationSlot(handler);
    const waiter: Waiter<A> = {
      work,
      slot,
      onCancel: (type) => {
        const i = list.indexOf(waiter);
        if ((type & CancellationType.all) === 0 || i < 0) return;
        list.splice(i, 1);
        this.#post(waiter, ...aborted);
      },
    };
    list.push(waiter);
    if (slot.isConnected()) slot.assign(waiter.onCancel);
  }

  #post<A extends readonly unknown[]>(w: Waiter<A>, ...args: A): void {
    w.slot.release(w.onCancel);
    w.work.post(...args);
  }

  #complete<A extends readonly unknown[]>(w: Waiter<A>, ...args: A): void {
    w.slot.release(w.onCancel);
    w.work.complete(true, ...args);
  }

  #closedSocket(): TcpSocket {
    return new TcpSocket(this.#executor);
  }

  #take(queued: Queued): TcpSocket {
    if (!(queued instanceof net.Socket)) return TcpSocket.fromHandle(this.#executor, queued);
    queued.off('error', ignore);
    return TcpSocket.fromAccepted(this.#executor, queued);
  }

  /**
   * Takes the connections from Node's listening handle before `net.Server` wraps each in a
   * `net.Socket`: a TcpSocket reads through `onread`, which Node offers only to sockets created
   * on request, so the server's socket was destroyed at once and its handle moved to a second one
   * (see `takeOver`). One socket per connection instead of two: about 5 µs less server CPU per
   * handshake, and a queued connection is only its handle. Accept errors and connections past
   * `maxConnections` stay Node's. Where the handle has no `onconnection`, the server's
   * `'connection'` event is used as before (net/node-internals.ts, 1).
   */
  #interceptConnections(server: net.Server): void {
    const handle = listenHandle(server);
    if (handle === null) return;
    const nodeOnConnection = handle.onconnection;
    const onHandle = this.#onHandle;
    handle.onconnection = function (status, client) {
      if (status !== 0 || client === undefined || server.maxConnections !== undefined) return nodeOnConnection.call(this, status, client);
      onHandle(client);
    };
  }

  readonly #onHandle = (handle: TcpHandle): void => {
    const w = this.#accepts.shift();
    if (w !== undefined) return this.#complete(w, null, TcpSocket.fromHandle(this.#executor, handle));
    this.#queue.push(handle);
  };

  readonly #onConnection = (socket: net.Socket): void => {
    const w = this.#accepts.shift();
    if (w !== undefined) return this.#complete(w, null, this.#take(socket));
    // A queued connection is not read until accepted; an error it meets meanwhile (a reset)
    // shows on its first read, so here it must only not crash the process.
    socket.on('error', ignore);
    this.#queue.push(socket);
  };

  readonly #onListening = (): void => {
    this.#state = 'listening';
    if (this.#server !== null) this.#interceptConnections(this.#server);
    for (const w of this.#listens.splice(0)) this.#complete(w, null);
  };

  readonly #onError = (err: Error): void => {
    const ec = fromNodeError(err);
    this.#error = ec;
    this.#state = 'failed';
    for (const w of this.#listens.splice(0)) this.#complete(w, ec);
    for (const w of this.#accepts.splice(0)) this.#complete(w, ec, this.#closedSocket());
  };
}

function ignore(): void {}

// Handler tracking names this class's operations `acceptor@<id>.<method>` (nothing while it is off).
trackOperations(TcpAcceptor, 'acceptor');
