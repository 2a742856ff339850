// This instance's part of the room: the members connected here, and every open connection (so
// that a shutdown reaches every socket). Each event the bus delivers is serialized and framed
// once (a PreparedMessage) and that one set of frames goes to every member here.

import { PreparedMessage } from 'tsbeast/websocket';
import type { Bus } from './bus.js';
import type { RoomEvent } from './protocol.js';

/** A member of the room on this instance. */
export interface Member {
  /** An event of the room, with its frames already built. */
  deliver(event: RoomEvent, message: PreparedMessage): void;
}

/** An open connection (HTTP or WebSocket), closed when the server shuts down. */
export interface Connection {
  /** Starts closing (a WebSocket with 1001); `ended` runs once it is gone. */
  stop(): void;
  /** Closes the socket at once. */
  destroy(): void;
}

/** The room on this instance, fed by `bus`. */
export class Room {
  readonly bus: Bus;
  readonly #members = new Set<Member>();
  readonly #connections = new Set<Connection>();
  #idle: (() => void) | null = null;

  constructor(bus: Bus) {
    this.bus = bus;
    bus.onEvent((event) => {
      if (this.#members.size === 0) return;
      const message = new PreparedMessage(JSON.stringify(event));
      for (const member of [...this.#members]) member.deliver(event, message);
    });
  }

  /** `member` receives every event from now on. */
  add(member: Member): void {
    this.#members.add(member);
  }

  /** `member` receives nothing more. */
  remove(member: Member): void {
    this.#members.delete(member);
  }

  /** How many members are connected here. */
  localSize(): number {
    return this.#members.size;
  }

  /** Records an open connection. */
  opened(connection: Connection): void {
    this.#connections.add(connection);
  }

  /** Forgets a connection that ended. */
  closed(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#idle?.();
  }

  /**
   * Stops every connection, waits at most `ms` for them to end, destroys what is left; resolves
   * with how many had to be destroyed.
   */
  async stopAll(ms: number): Promise<number> {
    const left = new Promise<void>((resolve) => {
      if (this.#connections.size === 0) return resolve();
      this.#idle = resolve;
    });
    for (const c of [...this.#connections]) c.stop();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    const outcome = await Promise.race([left, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return 0;
    const stuck = [...this.#connections];
    for (const c of stuck) c.destroy();
    return stuck.length;
  }
}
