// One chat member's WebSocket connection (Beast's chat-multi `websocket_session`), handed over
// open by the front door (server.ts). It reads the member's messages in a loop of asyncRead and
// hands them to the bus; the room's events go out through the member's bounded SendQueue of
// prepared messages, which closes a member that falls too far behind with 1008. Every way the
// connection ends (a read error, a protocol violation, our own close, a shutdown) ends the read
// loop, and #end leaves the room and logs once.

import { buffersToString, FlatBuffer, SystemError, type ErrorCode } from 'tsbeast/net';
import { CloseCode, closeReason, error as wsError, PreparedMessage, type CloseReason } from 'tsbeast/websocket';
import { closeWithin, SendQueue, type ServerStream } from 'tsbeast/front';
import { nameCandidates, maxTextBytes, type RoomEvent, type Welcome } from './protocol.js';
import type { Member, Room } from './room.js';

/** The most messages waiting for one member before it is considered too slow. */
export const maxQueuedMessages = 256;
/** The most bytes waiting for one member before it is considered too slow. */
export const maxQueuedBytes = 1024 * 1024;
/** How long a close may wait for a write that a stalled peer never lets finish. */
export const closeGraceMs = 3000;

let sessions = 0;

/** Who the member asked to be: a valid name and the browser's token (see routes.ts). */
export interface Identity {
  name: string;
  token: string;
}

/**
 * A member's WebSocket connection: one read loop feeding the bus, one send queue written to by
 * the room. Everything happens on Node's loop, one handler at a time, so no strand is needed.
 */
export class WebSocketSession implements Member {
  readonly #ws: ServerStream;
  readonly #room: Room;
  readonly #peer: string;
  readonly #id = String(++sessions);
  readonly #buffer = new FlatBuffer();
  readonly #queue: SendQueue;
  #name: string;
  readonly #token: string;
  /** Until the welcome is queued, events wait here (the history is being fetched). */
  #early: Array<[RoomEvent, PreparedMessage]> | null = [];
  /** What the member said before it had a name: said once it has one. */
  #unsaid: string[] | null = [];
  /** Messages up to this seq were in the history; presence events before our join are old. */
  #seenMessage = 0;
  #joinSeq = 0;
  #joined = false;
  #closing = false;
  #ended = false;

  /** Takes over the open stream `ws` of the member at `peer`. */
  constructor(ws: ServerStream, room: Room, peer: string, who: Identity) {
    this.#ws = ws;
    this.#queue = new SendQueue(ws, { maxMessages: maxQueuedMessages, maxBytes: maxQueuedBytes, whenFull: 'close', closeTimeout: closeGraceMs });
    this.#room = room;
    this.#peer = peer;
    this.#name = who.name;
    this.#token = who.token;
  }

  /** Claims a name (the one asked for, else with a suffix), then sends the welcome and history. */
  async run(): Promise<void> {
    const bus = this.#room.bus;
    this.#room.add(this);
    // The read loop runs from the start, so that a peer leaving during the join is noticed.
    this.#read();
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
      const early = this.#early ?? [];
      this.#early = null;
      for (const [event, message] of early) this.deliver(event, message);
      const unsaid = this.#unsaid ?? [];
      this.#unsaid = null;
      for (const text of unsaid) this.#say(text);
      console.log(`join ${this.#peer} as ${joined.name} on ${bus.instance} (${joined.count} in the room)`);
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

  /** Queues a message; the queue closes a member too far behind with 1008 (its `whenFull`). */
  #send(message: PreparedMessage): void {
    if (this.#closing || this.#ended) return;
    const [messages, bytes] = [this.#queue.pendingMessages(), this.#queue.pendingBytes()];
    this.#queue.send(message).catch((err: SystemError) => {
      // Other failures (the stream closed or failed) end the read loop too, which reports them.
      if (!err.message.includes('send queue full')) return;
      this.#closing = true;
      console.log(`error ${this.#peer}: fell behind with ${messages} messages (${bytes} bytes) queued; closing with 1008 policy error`);
    });
  }

  /** The read loop: each text message goes to the bus under the member's name. */
  #read(): void {
    this.#ws.asyncRead(this.#buffer, (ec) => {
      if (ec !== null) return this.#end(ec);
      if (!this.#ws.gotText()) return this.#close(closeReason(CloseCode.unknownData, 'text only'));
      const text = buffersToString(this.#buffer.data()).trim();
      this.#buffer.consume(this.#buffer.size());
      if (text !== '') {
        if (this.#unsaid !== null && this.#unsaid.length < maxQueuedMessages) this.#unsaid.push(text);
        else if (this.#unsaid === null) this.#say(text);
        else return this.#close(closeReason(CloseCode.policyError, 'too much before the welcome'));
      }
      this.#read();
    });
  }

  /** The name is the server's: a member says things only as itself. */
  #say(text: string): void {
    this.#room.bus.say(this.#name, text).catch((err: Error) => console.error(`error ${this.#peer} bus: ${err.message}`));
  }

  /** Starts the closing handshake, bounded: a peer that stopped reading is cut off after a grace period. */
  #close(reason: CloseReason): void {
    if (this.#closing || this.#ended) return;
    this.#closing = true;
    closeWithin(this.#ws, reason, closeGraceMs, () => {});
  }

  /** The read loop ended: the connection is over; the member leaves the room, once. */
  #end(ec: ErrorCode): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#ws.nextLayer().close();
    this.#room.remove(this);
    if (this.#joined) this.#room.bus.leave(this.#name, this.#id).catch((err: Error) => console.error(`error ${this.#peer} bus: ${err.message}`));
    const { code, reason } = this.#ws.reason();
    // A browser closing a page sends its close frame and drops the connection without waiting for
    // ours, so the teardown after a peer's close may fail with a reset: still a clean goodbye.
    if (ec === wsError.closed || code !== CloseCode.none) {
      const by = this.#closing ? 'closed by the server, ' : '';
      console.log(`close ${this.#peer} ${this.#name}: ${by}clean, code ${code}${reason ? ` "${reason}"` : ''}`);
    } else if (this.#closing) {
      console.log(`close ${this.#peer} ${this.#name}: closed by the server`);
    } else {
      console.error(`error ${this.#peer} ${this.#name} read: ${ec.message()}`);
    }
  }
}
