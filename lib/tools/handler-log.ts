/**
 * Reads a handler tracking log (Asio's format, as tsbeast and Asio write it) into operations: who
 * started each one, on which object, when its handler ran, and how it ended. No drawing here.
 */

/** How an operation ended, as far as the log tells. */
export type Outcome = 'ok' | 'error' | 'aborted' | 'exception' | 'dropped' | 'pending';

/** One operation and its completion handler (Asio's "handler number m"). */
export interface TrackedOp {
  readonly id: number;
  /** The handler that was running when it was started (0: none). */
  readonly parent: number;
  /** `kind@id`, e.g. `tcp@2` (`operation@0` when the operation has no name). */
  readonly object: string;
  /** The initiating function, e.g. `asyncWriteSome`. */
  readonly op: string;
  /** Index of the event that created it, and its time in seconds. */
  readonly created: number;
  readonly createdAt: number;
  /** Index of the events where its handler was entered and left (undefined while not). */
  entered?: number;
  left?: number;
  /** The handler's arguments as logged (`ec=system:0,v1=5`). */
  args?: string;
  outcome: Outcome;
}

/** A synchronous call logged against an object (`n|tcp@2.close`): cancel, close, … */
export interface ObjectCall {
  readonly index: number;
  readonly at: number;
  /** The handler that made the call (0: none). */
  readonly by: number;
  readonly object: string;
  readonly op: string;
}

/** A parsed log. */
export interface HandlerLog {
  readonly ops: TrackedOp[];
  readonly calls: ObjectCall[];
  /** The number of events (the last index + 1). */
  readonly events: number;
  /** The times of the first and last event, in seconds. */
  readonly start: number;
  readonly end: number;
}

const line = /^@asio\|(\d+(?:\.\d+)?)\|([^|]*)\|(.*)$/;

/** `kind@id.op` split at the last dot (Asio's `socket@0x7ff….async_receive` parses the same). */
function splitDescription(desc: string): { object: string; op: string } {
  const dot = desc.lastIndexOf('.');
  return dot < 0 ? { object: desc, op: '' } : { object: desc.slice(0, dot), op: desc.slice(dot + 1) };
}

/** The outcome the handler's arguments tell: `ec=<category>:<value>`, 125 being "aborted". */
export function outcomeOf(args: string): Outcome {
  const m = /(?:^|,)ec=([^,:]+):(\d+)/.exec(args);
  if (m === null) return /(?:^|,)ex=/.test(args) ? 'error' : 'ok';
  const value = Number(m[2]);
  if (value === 0) return 'ok';
  // operationAborted: ECANCELED on POSIX (125), ERROR_OPERATION_ABORTED on Windows (995).
  return value === 125 || value === 995 ? 'aborted' : 'error';
}

/** Parses a log; lines that are not tracking lines (the program's own output) are skipped. */
export function parseHandlerLog(text: string): HandlerLog {
  const ops = new Map<number, TrackedOp>();
  const calls: ObjectCall[] = [];
  let index = 0;
  let start = Infinity;
  let end = -Infinity;
  for (const raw of text.split('\n')) {
    const m = line.exec(raw.trim());
    if (m === null) continue;
    const at = Number(m[1]);
    const action = m[2]!;
    const desc = m[3]!;
    start = Math.min(start, at);
    end = Math.max(end, at);
    let a: RegExpExecArray | null;
    if ((a = /^(\d+)\*(\d+)$/.exec(action)) !== null) {
      const { object, op } = splitDescription(desc);
      ops.set(Number(a[2]), { id: Number(a[2]), parent: Number(a[1]), object, op, created: index, createdAt: at, outcome: 'pending' });
    } else if ((a = /^>(\d+)$/.exec(action)) !== null) {
      const op = ops.get(Number(a[1]));
      if (op !== undefined) {
        op.entered = index;
        op.args = desc;
        op.outcome = outcomeOf(desc);
      }
    } else if ((a = /^([<!~])(\d+)$/.exec(action)) !== null) {
      const op = ops.get(Number(a[2]));
      if (op !== undefined) {
        op.left = index;
        if (a[1] === '!') op.outcome = 'exception';
        if (a[1] === '~') op.outcome = 'dropped';
      }
    } else if ((a = /^(\d+)$/.exec(action)) !== null) {
      const { object, op } = splitDescription(desc);
      calls.push({ index, at, by: Number(a[1]), object, op });
    } else {
      continue; // `n^m` (source locations) and `.n` (system calls) are not drawn
    }
    index++;
  }
  return { ops: [...ops.values()], calls, events: index, start: index === 0 ? 0 : start, end: index === 0 ? 0 : end };
}
