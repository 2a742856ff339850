import {
  asyncCompose,
  deferred,
  error,
  IoContext,
  SteadyTimer,
  type CompletionToken,
  type ErrorCode,
  type Handler,
} from 'tsbeast/net';

type TicksSignature = [ec: ErrorCode | null, ticks: number];

/** Waits `count` times for `ms`: a composed operation, reading top to bottom like the protocol. */
function asyncTicks<T extends CompletionToken | Handler<TicksSignature> | undefined>(
  timer: SteadyTimer, count: number, ms: number, token: T) {
  return asyncCompose<TicksSignature, T>(function* (self) {
    for (let i = 0; i < count; i++) {
      timer.expiresAfter(ms);
      const [ec] = yield* self.call(timer.asyncWait(deferred));
      // A request that arrived while the wait's completion was queued is seen here.
      if (ec !== null) return self.complete(ec, i);
      if (self.cancelled()) return self.complete(error.operationAborted, i + 1);
    }
    self.complete(null, count);
  }, token, timer);
}

const ioc = new IoContext();
const ticks = asyncTicks(new SteadyTimer(ioc), 3, 1, undefined);
let inside = true;
asyncTicks(new SteadyTimer(ioc), 0, 1, (ec, n) => console.log('zero ticks:', ec, n, 'inside the call?', inside));
inside = false;
const running = ioc.run();
console.log('three ticks:', await ticks);
await running;
