// The chat's bus: how a room spans processes. Sessions talk to the room only through this
// interface, and every instance hears every event of the room, in one order (`seq`). Three
// engines: in memory (one process, the default), node:cluster (the workers of one machine,
// cluster-bus.ts) and Redis pub/sub (any number of machines, redis-bus.ts).

import { Hub } from './hub.js';
import type { RoomEvent } from './protocol.js';

/** The room as seen from one instance. */
export interface Bus {
  /** A name for this instance, unique in the room (shown to members, used for presence). */
  readonly instance: string;
  /** Claims `name` for a session; the join event, or null when someone else holds it. */
  join(name: string, token: string, session: string): Promise<RoomEvent | null>;
  /** The session left. */
  leave(name: string, session: string): Promise<void>;
  /** Says `text` as `name`. */
  say(name: string, text: string): Promise<void>;
  /** The recent messages, oldest first. */
  history(): Promise<RoomEvent[]>;
  /** Calls `listener` with every event of the room, in `seq` order. */
  onEvent(listener: (event: RoomEvent) => void): void;
  /** Stops listening and lets go of connections. */
  close(): Promise<void>;
}

/** The bus of a room that lives in this process. */
export class MemoryBus implements Bus {
  readonly instance = `pid ${process.pid}`;
  readonly #hub = new Hub();
  #listener: (event: RoomEvent) => void = () => {};

  async join(name: string, token: string, session: string): Promise<RoomEvent | null> {
    const e = this.#hub.join(name, token, session, this.instance);
    if (e !== null) this.#listener(e);
    return e;
  }

  async leave(name: string, session: string): Promise<void> {
    const e = this.#hub.leave(name, session);
    if (e !== null) this.#listener(e);
  }

  async say(name: string, text: string): Promise<void> {
    this.#listener(this.#hub.say(name, text));
  }

  async history(): Promise<RoomEvent[]> {
    return this.#hub.history();
  }

  onEvent(listener: (event: RoomEvent) => void): void {
    this.#listener = listener;
  }

  async close(): Promise<void> {}
}
