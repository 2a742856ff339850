// This instance's part of the room: the members connected here. Each event the bus delivers is
// serialized and framed once (a PreparedMessage) and that one set of frames goes to every
// member here.

import { PreparedMessage } from 'tsbeast/websocket';
import type { Bus } from './bus.js';
import type { RoomEvent } from './protocol.js';

/** A member of the room on this instance. */
export interface Member {
  /** An event of the room, with its frames already built. */
  deliver(event: RoomEvent, message: PreparedMessage): void;
}

/** The room on this instance, fed by `bus`. */
export class Room {
  readonly bus: Bus;
  readonly #members = new Set<Member>();

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
}
