// One chat member's WebSocket connection (Beast's chat-multi `websocket_session`): it reads
// messages and hands them to the room, and writes the room's messages from its own send queue.
// The queue is bounded, so a member that stops reading is dropped instead of stalling the room.

import { buffersToString, cancelAfter, error as netError, FlatBuffer, type ConstBufferSequence, type ErrorCode, type TcpSocket } from 'tsbeast/net';
import type { Request } from 'tsbeast/http';
import { CloseCode, closeReason, Decorator, error as wsError, Stream, Timeout, type CloseReason } from 'tsbeast/websocket';
import { TcpStream } from 'tsbeast/core';
import type { Connection, Member, SharedState } from './shared-state.js';

/** The most messages waiting for one member before it is considered too slow. */
export const maxQueuedMessages = 64;
/** The most bytes waiting for one member before it is considered too slow. */
export const maxQueuedBytes = 1024 * 1024;
/** How long a close may wait for a write that a stalled peer never lets finish. */
const closeGraceMs = 5000;

/**
 * A member's WebSocket connection: one read loop feeding the room, one write loop draining this
 * member's queue. Everything happens in handlers on the one context, so no strand is needed.
 */
export class WebSocketSession implements Member, Connection {
  readonly #ws: Stream<TcpStream>;
  readonly #state: SharedState;
  readonly #peer: string;
  readonly #buffer = new FlatBuffer();
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #closing = false;
  #ended = false;

  /** Takes over `socket`, whose HTTP upgrade request has been read (see `run`). */
  constructor(socket: TcpSocket, state: SharedState, peer: string) {
    this.#ws = new Stream(new TcpStream(socket));
    this.#state = state;
    this.#peer = peer;
    state.opened(this);
  }

  /** Accepts the upgrade `request` (with `head`, bytes that came after it) and joins the room. */
  run(request: Request, head: ConstBufferSequence): void {
    this.#ws.setOption(Timeout.suggested('server'));
    this.#ws.setOption(new Decorator({ response: (res) => res.fields.set('Server', 'tsbeast chat demo') }));
    // Chat lines are short; anything larger fails the connection with 1009 (too big).
    this.#ws.readMessageMax(64 * 1024);
    this.#ws.asyncAccept(request, head, (ec) => {
      if (ec !== null) return this.#end(ec, 'accept');
      this.#state.join(this);
      console.log(`connect ${this.#peer} (${this.#state.size()} in the room)`);
      this.#read();
    });
  }

  /** Queues a message for this member; a member too far behind is closed with 1008. */
  send(message: Uint8Array): void {
    if (this.#closing) return;
    if (this.#queue.length >= maxQueuedMessages || this.#queuedBytes + message.length > maxQueuedBytes) {
      console.log(`error ${this.#peer}: fell behind with ${this.#queue.length} messages (${this.#queuedBytes} bytes) queued; closing with 1008 policy error`);
      this.#close(closeReason(CloseCode.policyError, 'too slow'));
      return;
    }
    this.#queue.push(message);
    this.#queuedBytes += message.length;
    // One write at a time: the write's handler starts the next one.
    if (this.#queue.length === 1) this.#write();
  }

  /** Closes the connection because the server is going away. */
  stop(): void {
    if (this.#ws.isOpen()) this.#close(closeReason(CloseCode.goingAway));
    else if (!this.#closing) this.#ws.nextLayer().close(); // still in its opening handshake
  }

  #read(): void {
    this.#ws.asyncRead(this.#buffer, (ec) => {
      if (ec !== null) return this.#end(ec, 'read');
      // The page sends text; a binary message has no place in the room and is dropped.
      if (this.#ws.gotText()) this.#state.send(buffersToString(this.#buffer.data()));
      this.#buffer.consume(this.#buffer.size());
      this.#read();
    });
  }

  #write(): void {
    this.#ws.asyncWrite(this.#queue[0]!, (ec) => {
      if (ec !== null) return this.#end(ec, 'write');
      this.#queuedBytes -= this.#queue.shift()!.length;
      if (this.#queue.length > 0 && !this.#closing) this.#write();
    });
  }

  /**
   * Starts the closing handshake. It waits behind a write in progress, which a peer that stopped
   * reading may never let finish; after a grace period the socket is simply closed.
   */
  #close(reason: CloseReason): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#queue.splice(1); // drop what was not written yet; the first may be on the wire
    this.#ws.asyncClose(reason, cancelAfter(closeGraceMs, (ec: ErrorCode | null) => {
      if (ec !== null) this.#ws.nextLayer().close();
    }));
  }

  /** The connection ended: leave the room and say why, once. */
  #end(ec: ErrorCode, what: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#state.leave(this);
    this.#state.closed(this);
    const members = `(${this.#state.size()} in the room)`;
    // A browser closing a page sends its close frame and drops the connection without waiting for
    // ours, so the teardown after a peer's close may fail with a reset: still a clean goodbye.
    const peerClosed = what === 'read' && this.#ws.reason().code !== CloseCode.none;
    if (ec === netError.operationAborted && this.#closing) {
      // Our own close (shutdown, or a member too slow) ended the read.
      console.log(`close ${this.#peer}: closed by the server ${members}`);
    } else if (ec === wsError.closed || peerClosed) {
      const { code, reason } = this.#ws.reason();
      console.log(`close ${this.#peer}: clean, code ${code}${reason ? ` "${reason}"` : ''} ${members}`);
    } else {
      console.error(`error ${this.#peer} ${what}: ${ec.message()} ${members}`);
    }
  }
}
