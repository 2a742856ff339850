/**
 * PendingConnect: a TcpSocket's connect in flight, with its handler's work and cancellation. It
 * tells the socket once how the attempt ended (before the handler runs), and must never complete
 * twice nor leave the attempt's listeners behind.
 */

import type * as net from 'node:net';
import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { CancellationType, type CancellationHandler, type CancellationSlot } from '../cancellation.js';
import { error, fromNodeError, type ErrorCode } from '../error.js';
import type { HandlerWork } from '../handler-work.js';
import type { Endpoint } from './endpoint.js';
import type { OnreadReader } from './onread-reader.js';
import { startConnect, type ConnectAttempt } from './socket-open.js';
import type { TcpSocket } from './tcp-socket.js';

/** The completion signature of {@link TcpSocket.asyncConnect}. */
export type ConnectSignature = [ec: ErrorCode | null];

/** The key of {@link ConnectOwner}'s method; not exported from the package. */
export const kConnectDone: unique symbol = Symbol('tsbeast.connectDone');

/** What a connect tells its socket, once, before the handler runs. */
export interface ConnectOwner {
  /** Connected on `socket`, read through `reader`; or (both null) failed or abandoned. */
  [kConnectDone](socket: net.Socket | null, reader: OnreadReader | null): void;
}

export class PendingConnect {
  readonly #work: HandlerWork<ConnectSignature>;
  readonly #slot: CancellationSlot;
  readonly #onCancel: CancellationHandler;
  readonly #owner: ConnectOwner;
  #attempt: ConnectAttempt | null = null;

  private constructor(work: HandlerWork<ConnectSignature>, handler: Handler<ConnectSignature>, owner: ConnectOwner) {
    this.#work = work;
    this.#owner = owner;
    this.#slot = getAssociatedCancellationSlot(handler);
    this.#onCancel = (type) => {
      if ((type & CancellationType.terminal) !== 0) this.abort();
    };
  }

  /**
   * Starts connecting to `endpoint` for `work`; null when `net.connect` refused at once (`work`
   * has then completed with that error, inside its initiating call). A terminal cancellation on
   * `handler`'s slot abandons the attempt as {@link PendingConnect.abort}.
   */
  static start(endpoint: Endpoint, work: HandlerWork<ConnectSignature>, handler: Handler<ConnectSignature>, owner: ConnectOwner): PendingConnect | null {
    const op = new PendingConnect(work, handler, owner);
    try {
      op.#attempt = startConnect(endpoint, (err) => op.#finish(true, err === null ? null : fromNodeError(err)));
    } catch (err) {
      work.complete(false, fromNodeError(err));
      return null;
    }
    if (op.#slot.isConnected()) op.#slot.assign(op.#onCancel);
    return op;
  }

  /** The socket being connected. */
  socket(): net.Socket {
    return this.#attempt!.socket;
  }

  /** Abandons the attempt (the socket is destroyed) and completes with `operationAborted`, posted. */
  abort(): void {
    this.#finish('post', error.operationAborted);
  }

  #finish(how: true | 'post', ec: ErrorCode | null): void {
    const attempt = this.#attempt;
    if (attempt === null) return;
    this.#attempt = null;
    if (ec === null) this.#owner[kConnectDone](attempt.socket, attempt.reader);
    else this.#owner[kConnectDone](null, null);
    if (how === 'post') attempt.abort();
    this.#slot.release(this.#onCancel);
    if (how === 'post') this.#work.post(ec);
    else this.#work.complete(true, ec);
  }
}
