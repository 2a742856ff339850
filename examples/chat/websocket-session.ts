// One chat member's WebSocket connection (Beast's chat-multi `websocket_session`): it reads the
// member's messages and hands them to the bus, and writes the room's events from its own bounded
// send queue of prepared messages. It owns its socket: every way the connection ends (a refused
// handshake, a read or write error, a protocol violation, our own close, a shutdown) goes
// through #end, which closes the socket, leaves the room, and logs once.

import { buffersToString, cancelAfter, error as netError, FlatBuffer, type ConstBufferSequence, type ErrorCode, type TcpSocket } from 'tsbeast/net';
import type { Request } from 'tsbeast/http';
import {
  CloseCode,
  closeReason,
  Decorator,
  error as wsError,
  PermessageDeflate,
  PreparedMessage,
  Stream,
  Timeout,
  type CloseReason,
} from 'tsbeast/websocket';
import { TcpStream } from 'tsbeast/core';
import { maxTextBytes, nameCandidates, readMessageMax, type RoomEvent, type Welcome } from './protocol.js';
import type { Connection, Member, Room } from './room.js';

/** The most messages waiting for one member before it is considered too slow. */
export const maxQueuedMessages = 256;
/** The most bytes waiting for one member before it is considered too slow. */
export const maxQueuedBytes = 1024 * 1024;
/** How long a close may wait for a write that a stalled peer never lets finish. */
export const closeGraceMs = 3000;

let sessions = 0;

/** Who the member asked to be: a valid name and the browser's token (see http-session.ts). */
export interface Identity {
  name: string;
  token: string;
}

/**
 * A member's WebSocket connection: one read loop feeding the bus, one write loop draining this
 * member's queue. Everything happens in handlers on the one context, so no strand is needed.
 */
export class WebSocketSession implements Member, Connection {
  readonly #ws: Stream<TcpStream>;
  readonly #room: Room;
  readonly #peer: string;
  readonly #id = String(++sessions);
  readonly #buffer = new FlatBuffer();
  readonly #queue: PreparedMessage[] = [];
  #queuedBytes = 0;
  #name: string;
  readonly #token: string;
  /** Until the welcome is queued, events wait here (the history is being fetched). */
  #early: Array<[RoomEvent, PreparedMessage]> | null = null;
  /** Messages up to this seq were in the history; presence events before our join are old. */
  #seenMessage = 0;
  #joinSeq = 0;
  #joined = false;
  #closing = false;
  #ended = false;

  /** Takes over `socket`, whose HTTP upgrade request has been read (see `run`). */
  constructor(socket: TcpSocket, room: Room, peer: string, who: Identity) {
    this.#ws = new Stream(new TcpStream(socket));
    this.#room = room;
    this.#peer = peer;
    this.#name = who.name;
    this.#token = who.token;
    room.opened(this);
  }

  /** Accepts the upgrade `request` (with `head`, bytes that came after it) and joins the room. */
  run(request: Request, head: ConstBufferSequence): void {
    this.#ws.setOption(Timeout.suggested('server'));
    this.#ws.setOption(new Decorator({ response: (res) => res.fields.set('Server', 'tsbeast chat demo') }));
    // No context takeover on our side: every member's frames of an event are then the same
    // bytes, compressed once for all (PreparedMessage). Short lines are not worth deflating.
    this.#ws.setOption(new PermessageDeflate({ serverEnable: true, serverNoContextTakeover: true, msgSizeThreshold: 512 }));
    // The page knows this limit and never sends more; anything larger fails with 1009.
    this.#ws.readMessageMax(readMessageMax);
    this.#ws.asyncAccept(request, head, (ec) => {
      if (ec !== null) return this.#end(ec, 'accept');
      void this.#join();
    });
  }

  /** Claims a name (the one asked for, else with a suffix), then sends the welcome and history. */
  async #join(): Promise<void> {
    const bus = this.#room.bus;
    this.#early = [];
    this.#room.add(this);
    try {
      let joined: RoomEvent | null = null;
      for (const candidate of nameCandidates(this.#name)) {
        joined = await bus.join(candidate, this.#token, this.#id);
        if (joined !== null) break;
      }
      if (this.#ended) return void (joined !== null && bus.leave(joined.name, this.#id));
      if (joined === null || joined.type === 'message') return this.#close(closeReason(CloseCode.tryAgainLater, 'that name is taken'));
      this.#name = joined.name;
      this.#joinSeq = joined.seq;
      this.#joined = true;
      const history = await bus.history();
      if (this.#ended) return;
      this.#seenMessage = history.reduce((max, e) => Math.max(max, e.seq), 0);
      const welcome: Welcome = { type: 'welcome', name: joined.name, count: joined.count, instance: bus.instance, maxTextBytes, history };
      this.#send(new PreparedMessage(JSON.stringify(welcome)));
      const early = this.#early;
      this.#early = null;
      for (const [event, message] of early) this.deliver(event, message);
      console.log(`join ${this.#peer} as ${joined.name} on ${bus.instance} (${joined.count} in the room)`);
      this.#read();
    } catch (err) {
      console.error(`error ${this.#peer} bus: ${(err as Error).message}`);
      this.#close(closeReason(CloseCode.tryAgainLater, 'the room is unavailable'));
    }
  }

  /** An event of the room: queued, unless this member has seen it already. */
  deliver(event: RoomEvent, message: PreparedMessage): void {
    if (this.#early !== null) return void this.#early.push([event, message]);
    if (event.type === 'message' ? event.seq <= this.#seenMessage : event.seq <= this.#joinSeq) return;
    this.#send(message);
  }

  /** Closes the connection because the server is going away. */
  stop(): void {
    if (this.#ws.isOpen()) this.#close(closeReason(CloseCode.goingAway, 'server shutting down'));
    else this.destroy(); // still in its opening handshake: nothing to say goodbye with
  }

  /** Closes the socket now; the pending operations end with errors, and #end follows. */
  destroy(): void {
    this.#ws.nextLayer().close();
  }

  /** Queues a message for this member; a member too far behind is closed with 1008. */
  #send(message: PreparedMessage): void {
    if (this.#closing || this.#ended) return;
    if (this.#queue.length >= maxQueuedMessages || this.#queuedBytes + message.size() > maxQueuedBytes) {
      console.log(`error ${this.#peer}: fell behind with ${this.#queue.length} messages (${this.#queuedBytes} bytes) queued; closing with 1008 policy error`);
      this.#close(closeReason(CloseCode.policyError, 'too slow'));
      return;
    }
    this.#queue.push(message);
    this.#queuedBytes += message.size();
    // One write at a time: the write's handler starts the next one.
    if (this.#queue.length === 1) this.#write();
  }

  #read(): void {
    this.#ws.asyncRead(this.#buffer, (ec) => {
      if (ec !== null) return this.#end(ec, 'read');
      if (!this.#ws.gotText()) return this.#close(closeReason(CloseCode.unknownData, 'text only'));
      const text = buffersToString(this.#buffer.data()).trim();
      this.#buffer.consume(this.#buffer.size());
      // The name is the server's: a member says things only as itself.
      if (text !== '') {
        this.#room.bus.say(this.#name, text).catch((err: Error) => console.error(`error ${this.#peer} bus: ${err.message}`));
      }
      this.#read();
    });
  }

  #write(): void {
    this.#ws.asyncWritePrepared(this.#queue[0]!, (ec) => {
      if (ec !== null) return this.#end(ec, 'write');
      this.#queuedBytes -= this.#queue.shift()!.size();
      if (this.#queue.length > 0 && !this.#closing) this.#write();
    });
  }

  /**
   * Starts the closing handshake. It waits behind a write in progress, which a peer that stopped
   * reading may never let finish; after a grace period the socket is simply closed.
   */
  #close(reason: CloseReason): void {
    if (this.#closing || this.#ended) return;
    this.#closing = true;
    this.#queue.splice(1); // drop what was not written yet; the first may be on the wire
    this.#ws.asyncClose(reason, cancelAfter(closeGraceMs, (ec: ErrorCode | null) => {
      if (ec !== null) this.#end(ec, 'close');
      else this.#end(wsError.closed, 'close');
    }));
  }

  /** The connection ended: the socket is closed, the member leaves the room, once. */
  #end(ec: ErrorCode, what: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#ws.nextLayer().close();
    this.#room.remove(this);
    this.#room.closed(this);
    if (this.#joined) this.#room.bus.leave(this.#name, this.#id).catch((err: Error) => console.error(`error ${this.#peer} bus: ${err.message}`));
    // A browser closing a page sends its close frame and drops the connection without waiting for
    // ours, so the teardown after a peer's close may fail with a reset: still a clean goodbye.
    const peerClosed = what === 'read' && this.#ws.reason().code !== CloseCode.none;
    if (this.#closing && (ec === netError.operationAborted || what === 'close')) {
      console.log(`close ${this.#peer} ${this.#name}: closed by the server`);
    } else if (ec === wsError.closed || peerClosed) {
      const { code, reason } = this.#ws.reason();
      console.log(`close ${this.#peer} ${this.#name}: clean, code ${code}${reason ? ` "${reason}"` : ''}`);
    } else {
      console.error(`error ${this.#peer} ${this.#name} ${what}: ${ec.message()}`);
    }
  }
}
