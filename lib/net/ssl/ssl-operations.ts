/**
 * The state machine behind an {@link SslStream}: its TLS connection, the four operations that may
 * be pending on it (one handshake, read, write and shutdown), and the one place, `pump`, that
 * moves them on when the connection changes. The stream is the public face and its reference
 * documentation; this holds what it does. Internal: not exported from the package.
 */

import { getAssociatedCancellationSlot, type Handler } from '../associators.js';
import { bufferSequence, bufferSize, type ConstBufferSequence, type MutableBufferSequence } from '../buffer.js';
import { CancellationType } from '../cancellation.js';
import { ErrorCode, error as netError } from '../error.js';
import type { Executor } from '../executor.js';
import { HandlerWork } from '../handler-work.js';
import type { AsyncStream, IoSignature, ReadTargetSource } from '../stream.js';
import type { HandshakeType, SslContext, VerifyMode } from './context.js';
import { error, fromTlsError } from './error.js';
import { isNativeSocketLayer, untimedScope, type OperationKind, type OperationScope } from './next-layer.js';
import { finishOp, onCancellation, type SslOp } from './ssl-op.js';
import { isReadTargetSource, TlsConnection } from './tls-connection.js';
import { openTls } from './tls-socket.js';
import { writeAll } from '../ip/socket-writer.js';
import type { SslStream } from './stream.js';

/** The completion signature of handshake, shutdown and teardown: the error alone. */
export type SslSignature = [ec: ErrorCode | null];

interface ReadOp extends SslOp<IoSignature> {
  /** Where the bytes go: buffers, or (a lazy read) what gives them once bytes are there. */
  readonly buffers: MutableBufferSequence | ReadTargetSource;
}
interface WriteOp extends SslOp<IoSignature> {
  readonly total: number;
}

/**
 * How long a TLS handshake may take unless {@link SslStream.handshakeTimeout} says otherwise:
 * 30 s, the handshake timeout of Beast's suggested WebSocket settings.
 */
export const defaultSslHandshakeTimeout = 30_000;

export class SslOperations {
  /** The server's name for a client handshake ({@link SslStream.setHostname}). */
  hostname: string | null = null;
  /** The verify mode that overrides the context's ({@link SslStream.setVerifyMode}). */
  verifyMode: VerifyMode | null = null;
  /** The limit of a handshake, in milliseconds ({@link SslStream.handshakeTimeout}). */
  handshakeTimeout = defaultSslHandshakeTimeout;
  /** The TLS connection, once a handshake started. */
  conn: TlsConnection | null = null;
  #state: 'idle' | 'handshaking' | 'open' | 'failed' | 'closed' = 'idle';
  #handshake: SslOp<SslSignature> | null = null;
  #read: ReadOp | null = null;
  #write: WriteOp | null = null;
  #shutdown: SslOp<SslSignature> | null = null;
  #handshakeTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly next: AsyncStream,
    readonly context: SslContext,
    readonly executor: Executor,
  ) {}

  /** Closes the connection: see {@link SslStream.close}. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const abort = <A extends [ErrorCode | null, ...unknown[]]>(op: SslOp<A> | null, ...args: A): void => {
      if (op !== null) finishOp(op, 'post', ...args);
    };
    const [h, r, w, s] = [this.#handshake, this.#read, this.#write, this.#shutdown];
    this.#handshake = this.#read = this.#write = this.#shutdown = null;
    this.#clearHandshakeTimer();
    abort<SslSignature>(h, netError.operationAborted);
    abort<IoSignature>(r, netError.operationAborted, 0);
    abort<IoSignature>(w, netError.operationAborted, 0);
    abort<SslSignature>(s, netError.operationAborted);
    this.conn?.detach();
    this.conn?.destroy();
    (this.next as { close?: () => void }).close?.();
  }

  #scope(kind: OperationKind): OperationScope {
    const next = this.next;
    return isNativeSocketLayer(next) && next.beginOperation !== undefined ? next.beginOperation(kind) : untimedScope;
  }

  /** The error an operation fails with before it starts, by the stream's state. */
  #unusable(): ErrorCode | null {
    if (this.#state === 'closed') return netError.badDescriptor;
    if (this.#state === 'failed') return this.conn?.error ?? netError.notConnected;
    if (this.#state !== 'open') return netError.notConnected;
    return null;
  }

  /** Starts the handshake of {@link SslStream}'s operation of that name; `handler` completes as it documents. */
  initiateHandshake(type: HandshakeType, handler: Handler<SslSignature>): void {
    const work = new HandlerWork(handler, this.executor);
    if (this.#state === 'handshaking') return work.complete(false, netError.alreadyStarted);
    if (this.#state === 'open') return work.complete(false, netError.alreadyConnected);
    const bad = this.#state === 'idle' ? null : this.#unusable();
    if (bad !== null) return work.complete(false, bad);
    const scope = this.#scope('both');
    if (scope.refused !== null) return work.complete(false, scope.refused);
    const role = type === 'server' ? 'server' : 'client';
    const mode = this.verifyMode ?? this.context.verifyMode(role);
    const started = openTls(this.next, role, { context: this.context, verifyMode: mode, hostname: this.hostname });
    if (started instanceof ErrorCode) {
      scope.end();
      return work.complete(false, started);
    }
    this.conn = new TlsConnection(started, role === 'server' ? mode : null, () => this.#pump(true));
    this.#state = 'handshaking';
    const op: SslOp<SslSignature> = { work, slot: getAssociatedCancellationSlot(handler), scope, onCancel: () => {} };
    this.#handshake = op;
    const abandon = (ec: ErrorCode): void => {
      if (this.#handshake !== op) return;
      this.#handshake = null;
      this.#clearHandshakeTimer();
      this.#state = 'failed';
      finishOp(op, 'post', ec);
      this.conn?.destroy();
      (this.next as { close?: () => void }).close?.();
    };
    onCancellation(op, CancellationType.terminal, () => abandon(netError.operationAborted));
    if (this.handshakeTimeout !== Infinity) {
      this.#handshakeTimer = setTimeout(() => {
        this.#handshakeTimer = null;
        abandon(netError.timedOut);
      }, this.handshakeTimeout);
    }
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer === null) return;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  /**
   * Moves every pending operation on after an event of the TLS socket (`fromIo`), or at the start
   * of an operation that may complete at once.
   */
  #pump(fromIo: boolean): void {
    const c = this.conn;
    if (c === null) return;
    const h = this.#handshake;
    if (h !== null) {
      // An end before the handshake did is a truncation for Asio too.
      const failed = c.error ?? (c.ended || c.destroyed ? error.streamTruncated : null);
      if (c.secured || failed !== null) {
        this.#handshake = null;
        this.#clearHandshakeTimer();
        this.#state = failed === null ? 'open' : 'failed';
        if (failed !== null) c.destroy();
        finishOp(h, fromIo, failed);
      }
    }
    const r = this.#read;
    if (r !== null) {
      const result = this.#tryRead(r.buffers, true);
      if (result !== null) {
        this.#read = null;
        finishOp(r, fromIo, ...result);
      }
    }
    const w = this.#write;
    if (w !== null && c.destroyed) {
      // Destroyed without the write's callback (Node calls it in most cases, not all).
      this.#write = null;
      finishOp(w, fromIo, c.error ?? netError.operationAborted, 0);
    }
    const s = this.#shutdown;
    if (s !== null) {
      if (r === null && !c.ended && c.error === null) {
        // Nobody reads any more: discard what precedes the peer's close_notify.
        c.discard();
        c.poll();
      }
      let ec: ErrorCode | null | undefined;
      if (c.error !== null) ec = c.error;
      else if (c.ended && (c.finished || c.destroyed)) ec = c.truncated ? error.streamTruncated : null;
      else if (c.destroyed) ec = netError.operationAborted;
      if (ec !== undefined) {
        this.#shutdown = null;
        finishOp(s, fromIo, ec);
      }
    }
  }

  /**
   * The result of a read that can complete now, or `null` when it must wait. `pending`: the read
   * was waiting when the connection went away (aborted), rather than started afterwards.
   */
  #tryRead(buffers: MutableBufferSequence | ReadTargetSource, pending: boolean): IoSignature | null {
    const c = this.conn!;
    const n = c.take(buffers);
    if (n > 0) return [null, n];
    if (c.error !== null) return [c.error, 0];
    if (c.ended) return [c.truncated ? error.streamTruncated : netError.eof, 0];
    if (c.destroyed) return [pending ? netError.operationAborted : netError.badDescriptor, 0];
    c.poll();
    return null;
  }

  /** Starts the read of {@link SslStream}'s operation of that name; `handler` completes as it documents. */
  initiateRead(buffers: MutableBufferSequence | ReadTargetSource, handler: Handler<IoSignature>): void {
    const work = new HandlerWork(handler, this.executor);
    if (this.#read !== null) return work.complete(false, netError.alreadyStarted, 0);
    const bad = this.#unusable();
    if (bad !== null) return work.complete(false, bad, 0);
    if (!isReadTargetSource(buffers) && bufferSize(buffers) === 0) return work.complete(false, null, 0);
    const now = this.#tryRead(buffers, false);
    if (now !== null) return work.complete(false, ...now);
    const scope = this.#scope('read');
    if (scope.refused !== null) return work.complete(false, scope.refused, 0);
    const op: ReadOp = { work, slot: getAssociatedCancellationSlot(handler), scope, buffers, onCancel: () => {} };
    this.#read = op;
    onCancellation(op, CancellationType.all, () => {
      if (this.#read !== op) return;
      this.#read = null;
      finishOp(op, 'post', netError.operationAborted, 0);
    });
  }

  /** Starts the write of {@link SslStream}'s operation of that name; `handler` completes as it documents. */
  initiateWrite(buffers: ConstBufferSequence, handler: Handler<IoSignature>): void {
    const work = new HandlerWork(handler, this.executor);
    if (this.#write !== null) return work.complete(false, netError.alreadyStarted, 0);
    const bad = this.#unusable();
    if (bad !== null) return work.complete(false, bad, 0);
    const c = this.conn!;
    const t = c.socket;
    if (c.error !== null) return work.complete(false, c.error, 0);
    if (this.#shutdown !== null || t.writableEnded || c.destroyed) return work.complete(false, netError.brokenPipe, 0);
    const list = bufferSequence(buffers).filter((b) => b.length > 0);
    if (list.length === 0) return work.complete(false, null, 0);
    const scope = this.#scope('write');
    if (scope.refused !== null) return work.complete(false, scope.refused, 0);
    let total = 0;
    for (const b of list) total += b.length;
    const op: WriteOp = { work, slot: getAssociatedCancellationSlot(handler), scope, total, onCancel: () => {} };
    this.#write = op;
    onCancellation(op, CancellationType.terminal, () => {
      if (this.#write !== op) return;
      this.#write = null;
      // Every byte reached TLS and the transport: too late to cancel.
      if (t.writableLength === 0) return finishOp(op, 'post', null, total);
      finishOp(op, 'post', netError.operationAborted, 0);
      c.destroy();
    });
    let inside = true;
    const done = (err?: Error | null): void => {
      if (this.#write !== op) return;
      this.#write = null;
      const ec = err === undefined || err === null ? null : (c.error ?? fromTlsError(err));
      finishOp(op, !inside, ec, ec === null ? total : 0);
    };
    writeAll(t, list, done);
    inside = false;
  }

  /** Starts the shutdown of {@link SslStream}'s operation of that name; `handler` completes as it documents. */
  initiateShutdown(handler: Handler<SslSignature>): void {
    const work = new HandlerWork(handler, this.executor);
    if (this.#shutdown !== null) return work.complete(false, netError.alreadyStarted);
    const bad = this.#unusable() ?? this.conn!.error;
    if (bad !== null) return work.complete(false, bad);
    const scope = this.#scope('write');
    if (scope.refused !== null) return work.complete(false, scope.refused);
    const c = this.conn!;
    const op: SslOp<SslSignature> = { work, slot: getAssociatedCancellationSlot(handler), scope, onCancel: () => {} };
    this.#shutdown = op;
    onCancellation(op, CancellationType.terminal, () => {
      if (this.#shutdown !== op) return;
      this.#shutdown = null;
      finishOp(op, 'post', netError.operationAborted);
      c.destroy();
    });
    if (!c.socket.writableEnded) c.socket.end();
    this.#pump(false);
  }
}
