// The bus for many machines: Redis pub/sub (node-redis). Each step that changes the room is one
// Lua script, so that the sequence number, the state, the history and the publication happen at
// once, in one order for every instance: what is published is what `seq` says.
//
//   <prefix>owners    hash  name -> session ("<instance>#<n>"), who holds each name
//   <prefix>tokens    hash  name -> the token of the browser that holds it (to take it back)
//   <prefix>seq       counter of events
//   <prefix>history   list of the last `historySize` messages (JSON)
//   <prefix>alive:<instance>   set while that instance lives (refreshed every second, 3 s TTL)
//   <prefix>events    the pub/sub channel
//
// An instance that dies without a word (killed, or its machine lost) stops refreshing its alive
// key; every instance sweeps once a second, and the first to see the key gone lets that
// instance's members leave, so the member count is true again within a few seconds.

import { hostname } from 'node:os';
import { createClient } from 'redis';
import type { Bus } from './bus.js';
import { historySize, type RoomEvent } from './protocol.js';

const aliveMs = 3000;
const sweepMs = 1000;

// Shared by the scripts: a leave event, published. ARGV[1] is the key prefix.
const leaveFn = `
local function leave(p, name)
  redis.call('HDEL', p .. 'owners', name)
  redis.call('HDEL', p .. 'tokens', name)
  local seq = redis.call('INCR', p .. 'seq')
  local count = redis.call('HLEN', p .. 'owners')
  local e = cjson.encode({type = 'leave', seq = seq, name = name, count = count})
  redis.call('PUBLISH', p .. 'events', e)
end
`;

// ARGV: prefix, name, token, session. Returns the join event, or false if the name is taken.
const joinScript = `
local p, name, token, session = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local held = redis.call('HGET', p .. 'owners', name)
if held and redis.call('HGET', p .. 'tokens', name) ~= token then return false end
redis.call('HSET', p .. 'owners', name, session)
redis.call('HSET', p .. 'tokens', name, token)
local seq = redis.call('INCR', p .. 'seq')
local count = redis.call('HLEN', p .. 'owners')
local e = cjson.encode({type = 'join', seq = seq, name = name, count = count})
redis.call('PUBLISH', p .. 'events', e)
return e
`;

// ARGV: prefix, name, session. Only the session that holds the name gives it up.
const leaveScript = `${leaveFn}
local p, name, session = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', p .. 'owners', name) == session then leave(p, name) end
return 0
`;

// ARGV: prefix, name, text, time, history size.
const sayScript = `
local p = ARGV[1]
local seq = redis.call('INCR', p .. 'seq')
local e = cjson.encode({type = 'message', seq = seq, name = ARGV[2], text = ARGV[3], time = tonumber(ARGV[4])})
redis.call('RPUSH', p .. 'history', e)
redis.call('LTRIM', p .. 'history', -tonumber(ARGV[5]), -1)
redis.call('PUBLISH', p .. 'events', e)
return seq
`;

// ARGV: prefix. The members of instances whose alive key is gone leave.
const sweepScript = `${leaveFn}
local p = ARGV[1]
local owners = redis.call('HGETALL', p .. 'owners')
local gone = 0
for i = 1, #owners, 2 do
  local instance = string.match(owners[i + 1], '^(.*)#')
  if instance == nil or redis.call('EXISTS', p .. 'alive:' .. instance) == 0 then
    leave(p, owners[i])
    gone = gone + 1
  end
end
return gone
`;

type Client = ReturnType<typeof createClient>;

/** The room in Redis at `url`, under keys starting with `prefix`. */
export class RedisBus implements Bus {
  readonly instance = `${hostname()}/pid ${process.pid}`;
  readonly #prefix: string;
  readonly #client: Client;
  readonly #subscriber: Client;
  #listener: (event: RoomEvent) => void = () => {};
  #timer: NodeJS.Timeout | null = null;

  private constructor(client: Client, subscriber: Client, prefix: string) {
    this.#client = client;
    this.#subscriber = subscriber;
    this.#prefix = prefix;
  }

  /** Connects, marks this instance alive and subscribes; rejects if Redis cannot be reached. */
  static async connect(url: string, prefix = 'tsbeast-chat:'): Promise<RedisBus> {
    const client = createClient({ url });
    // A lost connection is retried by node-redis; say so instead of throwing from an emitter.
    client.on('error', (err: Error) => console.error(`redis: ${err.message}`));
    await client.connect();
    const subscriber = client.duplicate();
    subscriber.on('error', (err: Error) => console.error(`redis subscriber: ${err.message}`));
    await subscriber.connect();
    const bus = new RedisBus(client, subscriber, prefix);
    await bus.#beat();
    await subscriber.subscribe(`${prefix}events`, (message: string) => bus.#listener(JSON.parse(message) as RoomEvent));
    bus.#timer = setInterval(() => void bus.#beat().catch((err: Error) => console.error(`redis: ${err.message}`)), sweepMs);
    return bus;
  }

  /** Keeps this instance alive and lets the members of dead ones go. */
  async #beat(): Promise<void> {
    await this.#client.set(`${this.#prefix}alive:${this.instance}`, '1', { PX: aliveMs });
    await this.#client.eval(sweepScript, { arguments: [this.#prefix] });
  }

  async join(name: string, token: string, session: string): Promise<RoomEvent | null> {
    const e = await this.#client.eval(joinScript, { arguments: [this.#prefix, name, token, `${this.instance}#${session}`] });
    return typeof e === 'string' ? (JSON.parse(e) as RoomEvent) : null;
  }

  async leave(name: string, session: string): Promise<void> {
    await this.#client.eval(leaveScript, { arguments: [this.#prefix, name, `${this.instance}#${session}`] });
  }

  async say(name: string, text: string): Promise<void> {
    await this.#client.eval(sayScript, { arguments: [this.#prefix, name, text, String(Date.now()), String(historySize)] });
  }

  async history(): Promise<RoomEvent[]> {
    const items = await this.#client.lRange(`${this.#prefix}history`, 0, -1);
    return items.map((s) => JSON.parse(s) as RoomEvent);
  }

  onEvent(listener: (event: RoomEvent) => void): void {
    this.#listener = listener;
  }

  /** Stops the heartbeat, forgets this instance, and closes both connections. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#client.del(`${this.#prefix}alive:${this.instance}`).catch(() => 0);
    await this.#subscriber.quit().catch(() => undefined);
    await this.#client.quit().catch(() => undefined);
  }
}
