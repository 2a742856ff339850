// The room's shared state when it lives in one process: who holds which name, the sequence
// of events, and the recent history. The in-memory bus uses it directly; under node:cluster the
// primary holds the one hub and the workers reach it over IPC (cluster-bus.ts). No I/O here.

import { historySize, type RoomEvent } from './protocol.js';

interface Holder {
  token: string;
  session: string;
  owner: string;
}

/** The state of one room. */
export class Hub {
  #seq = 0;
  readonly #names = new Map<string, Holder>();
  readonly #history: RoomEvent[] = [];

  /**
   * Gives `name` to the member with `token` (its session `session`, on instance `owner`): free
   * names are taken; a name held under the same token is taken over (the same browser came back,
   * perhaps through another instance). Returns the join event, or null when the name is taken.
   */
  join(name: string, token: string, session: string, owner: string): RoomEvent | null {
    const held = this.#names.get(name);
    if (held !== undefined && held.token !== token) return null;
    this.#names.set(name, { token, session, owner });
    return { type: 'join', seq: ++this.#seq, name, count: this.#names.size };
  }

  /** The session left: its name is free again unless someone took it over. */
  leave(name: string, session: string): RoomEvent | null {
    if (this.#names.get(name)?.session !== session) return null;
    this.#names.delete(name);
    return { type: 'leave', seq: ++this.#seq, name, count: this.#names.size };
  }

  /** Everyone on instance `owner` left at once (it is gone). */
  dropOwner(owner: string): RoomEvent[] {
    const out: RoomEvent[] = [];
    for (const [name, held] of [...this.#names]) {
      if (held.owner !== owner) continue;
      const e = this.leave(name, held.session);
      if (e !== null) out.push(e);
    }
    return out;
  }

  /** A message from `name`, kept in the history. */
  say(name: string, text: string): RoomEvent {
    const event: RoomEvent = { type: 'message', seq: ++this.#seq, name, text, time: Date.now() };
    this.#history.push(event);
    if (this.#history.length > historySize) this.#history.shift();
    return event;
  }

  /** The recent messages, oldest first. */
  history(): RoomEvent[] {
    return [...this.#history];
  }
}
