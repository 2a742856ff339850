// The bus for the cores of one machine (node:cluster): the primary holds the room's one Hub and
// sends every event to every worker over IPC, in order; a worker's requests (join, leave, say,
// history) are messages to the primary with an id, answered the same way. When a worker dies,
// the primary lets its members leave, so the member count stays true.

import cluster, { type Worker } from 'node:cluster';
import { Hub } from './hub.js';
import type { Bus } from './bus.js';
import type { RoomEvent } from './protocol.js';

type Request =
  | { chat: 'join'; id: number; name: string; token: string; session: string }
  | { chat: 'leave'; id: number; name: string; session: string }
  | { chat: 'say'; id: number; name: string; text: string }
  | { chat: 'history'; id: number };

/** A request without its id (Omit over a union would keep only the common keys). */
type Ask = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

type Reply = { chat: 'reply'; id: number; result: RoomEvent | RoomEvent[] | null } | { chat: 'event'; event: RoomEvent };

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && typeof (m as { chat?: unknown }).chat === 'string' && typeof (m as { id?: unknown }).id === 'number';
}

/** In the primary: serves the room to every worker, now and forked later. */
export function serveClusterHub(): void {
  const hub = new Hub();
  const broadcast = (event: RoomEvent): void => {
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ chat: 'event', event } satisfies Reply);
  };
  const answer = (w: Worker, id: number, result: RoomEvent | RoomEvent[] | null): void => {
    if (w.isConnected()) w.send({ chat: 'reply', id, result } satisfies Reply);
  };
  cluster.on('message', (worker: Worker, m: unknown) => {
    if (!isRequest(m)) return;
    const owner = String(worker.id);
    switch (m.chat) {
      case 'join': {
        const e = hub.join(m.name, m.token, m.session, owner);
        if (e !== null) broadcast(e);
        return answer(worker, m.id, e);
      }
      case 'leave': {
        const e = hub.leave(m.name, m.session);
        if (e !== null) broadcast(e);
        return answer(worker, m.id, null);
      }
      case 'say':
        broadcast(hub.say(m.name, m.text));
        return answer(worker, m.id, null);
      case 'history':
        return answer(worker, m.id, hub.history());
    }
  });
  cluster.on('exit', (worker: Worker) => {
    for (const e of hub.dropOwner(String(worker.id))) broadcast(e);
  });
}

/** In a worker: the room through the primary. */
export class ClusterBus implements Bus {
  readonly instance = `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`;
  #nextId = 1;
  readonly #pending = new Map<number, (result: RoomEvent | RoomEvent[] | null) => void>();
  #listener: (event: RoomEvent) => void = () => {};
  readonly #onMessage = (m: Reply): void => {
    if (m?.chat === 'event') return this.#listener(m.event);
    if (m?.chat !== 'reply') return;
    const resolve = this.#pending.get(m.id);
    this.#pending.delete(m.id);
    resolve?.(m.result);
  };

  constructor() {
    process.on('message', this.#onMessage);
  }

  #ask(request: Ask): Promise<RoomEvent | RoomEvent[] | null> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (process.send === undefined || !process.connected) return reject(new Error('no IPC channel to the cluster primary'));
      this.#pending.set(id, resolve);
      process.send({ ...request, id });
    });
  }

  async join(name: string, token: string, session: string): Promise<RoomEvent | null> {
    return (await this.#ask({ chat: 'join', name, token, session })) as RoomEvent | null;
  }

  async leave(name: string, session: string): Promise<void> {
    await this.#ask({ chat: 'leave', name, session });
  }

  async say(name: string, text: string): Promise<void> {
    await this.#ask({ chat: 'say', name, text });
  }

  async history(): Promise<RoomEvent[]> {
    return (await this.#ask({ chat: 'history' })) as RoomEvent[];
  }

  onEvent(listener: (event: RoomEvent) => void): void {
    this.#listener = listener;
  }

  async close(): Promise<void> {
    process.off('message', this.#onMessage);
  }
}
