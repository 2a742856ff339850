// The chat room's shared state (Beast's chat-multi `shared_state`): who is in the room, and every
// open connection, so that a message reaches everyone and a shutdown reaches every socket.

import { buffer } from 'tsbeast/net';

/** A member of the room: anything that can be sent a chat message. */
export interface Member {
  send(message: Uint8Array): void;
}

/** An open connection (HTTP or WebSocket), closed when the server shuts down. */
export interface Connection {
  stop(): void;
}

/**
 * The room. JavaScript runs one thread, so unlike Beast's version it needs no mutex; sessions
 * still join only after their handshake and leave as soon as their connection ends.
 */
export class SharedState {
  readonly #members = new Set<Member>();
  readonly #connections = new Set<Connection>();

  /** Adds a member: it receives every message sent from now on. */
  join(member: Member): void {
    this.#members.add(member);
  }

  /** Removes a member. */
  leave(member: Member): void {
    this.#members.delete(member);
  }

  /** How many are in the room. */
  size(): number {
    return this.#members.size;
  }

  /**
   * Sends `text` to every member. The bytes are encoded once and shared by all the send queues;
   * each member decides on its own what to do when it cannot keep up.
   */
  send(text: string): void {
    const message = buffer(text);
    for (const member of [...this.#members]) member.send(message);
  }

  /** Records an open connection. */
  opened(connection: Connection): void {
    this.#connections.add(connection);
  }

  /** Forgets a connection that ended. */
  closed(connection: Connection): void {
    this.#connections.delete(connection);
  }

  /** Stops every open connection (the server is shutting down). */
  stopAll(): void {
    for (const connection of [...this.#connections]) connection.stop();
  }
}
