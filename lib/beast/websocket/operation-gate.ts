/**
 * What the WebSocket stream checks before it starts an operation: at most one read, one write,
 * one ping or pong, one close and one handshake outstanding together, and nothing else while the
 * opening handshake is. The base class of `Stream` (one object per connection, not two); its
 * operations start through {@link OperationGate.start}.
 */

import type { Handler } from '../../net/associators.js';
import { error as netError, type ErrorCode } from '../../net/error.js';
import { HandlerWork } from '../../net/handler-work.js';
import type { AsyncStream } from '../../net/stream.js';
import { asyncInitiate, type TokenFor } from '../../net/token.js';
import type { StreamImpl } from './stream-impl.js';

// The kinds of operation of which one at a time may be outstanding, as bits of one number.
const kinds = { read: 1, write: 2, ping: 4, close: 8, handshake: 16 } as const;
/** A kind of operation of which one at a time may be outstanding. */
export type Kind = keyof typeof kinds;

export abstract class OperationGate<NextLayer extends AsyncStream> {
  /** The kinds outstanding, as bits of {@link kinds} (a Set cost every stream a table). */
  #outstanding = 0;

  /** @internal the state shared with the operations */
  readonly impl: StreamImpl<NextLayer>;

  /** @internal */
  constructor(impl: StreamImpl<NextLayer>) {
    this.impl = impl;
  }

  /** @internal Whether any operation is outstanding (adoptHandshake refuses then). */
  protected anyOutstanding(): boolean {
    return this.#outstanding !== 0;
  }

  /**
   * Initiates an operation of `kind` through `token`. Nothing happens here but the token's own
   * work: a `deferred` token makes a launchable operation, and each launch is a whole initiation
   * ({@link OperationGate.#initiate}), with every rule of a direct call.
   */
  /** @internal */
  protected start<A extends readonly unknown[]>(
    kind: Kind,
    token: TokenFor<A> | undefined,
    io: boolean,
    launch: (handler: Handler<A>, onDone: () => void) => unknown,
  ): unknown {
    return asyncInitiate<A>((h) => this.#initiate(kind, h, io, launch), token, this.impl.executor);
  }

  /**
   * Starts an operation of `kind` with its handler, unless the stream refuses it: a second one of
   * a kind already outstanding completes with `alreadyStarted`; while a handshake (or accept) is
   * outstanding every other operation completes with `inProgress` (nothing may go on the wire
   * before the 101, RFC 6455 section 4.1), and a handshake waits for nothing else. Refusals are
   * posted and change nothing. The kind is free again just before the handler runs.
   */
  #initiate<A extends readonly unknown[]>(
    kind: Kind,
    handler: Handler<A>,
    io: boolean,
    launch: (handler: Handler<A>, onDone: () => void) => unknown,
  ): void {
    const bit = kinds[kind];
    const out = this.#outstanding;
    if (out !== 0) {
      let refusal: readonly unknown[] | null = null;
      if ((out & bit) !== 0 || bit === kinds.handshake) refusal = io ? busyIo : busyControl;
      else if ((out & kinds.handshake) !== 0) refusal = io ? handshakingIo : handshakingControl;
      if (refusal !== null) {
        new HandlerWork(handler, this.impl.executor).complete(false, ...(refusal as unknown as A));
        return;
      }
    }
    this.#outstanding = out | bit;
    try {
      launch(handler, this.#releaser(kind));
    } catch (err) {
      // A throw from the first step leaves the kind free, as if the call had never been made.
      this.#outstanding &= ~bit;
      throw err;
    }
  }

  // The releasers of reads and writes, made by the first of each (most connections never ping or
  // close, and hold only what they use) and kept, as every message starts one; a handshake, ping
  // or close gets one of its own. Bound methods, not arrows: no context each (bench/idle-memory).
  #releaseRead: (() => void) | null = null;
  #releaseWrite: (() => void) | null = null;

  #releaser(kind: Kind): () => void {
    if (kind === 'read') return (this.#releaseRead ??= this.#readDone.bind(this));
    if (kind === 'write') return (this.#releaseWrite ??= this.#writeDone.bind(this));
    const bit = kinds[kind];
    return () => void (this.#outstanding &= ~bit);
  }

  #readDone(): void {
    this.#outstanding &= ~kinds.read;
  }

  #writeDone(): void {
    this.#outstanding &= ~kinds.write;
  }
}


// What a second operation of a kind already outstanding completes with (made once: these are on
// every call's path).
const busyIo: [ErrorCode | null, number] = [netError.alreadyStarted, 0];
const busyControl: [ErrorCode | null] = [netError.alreadyStarted];
// What any other operation completes with while the opening handshake is outstanding.
const handshakingIo: [ErrorCode | null, number] = [netError.inProgress, 0];
const handshakingControl: [ErrorCode | null] = [netError.inProgress];

