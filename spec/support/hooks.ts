/**
 * Root hooks for every spec: after each test, the Node resources that tests create (timers,
 * sockets, servers, immediates) must be back to what they were before it. A test that leaves one
 * behind is reported by name and fails the run at the end, without aborting the suites that follow.
 */

import type { Context } from 'mocha';
import { hasSyncZlib, privateApisEnabled } from '../../lib/net/node-internals.js';

const watched = new Set(['Timeout', 'Immediate', 'TCPSocketWrap', 'TCPServerWrap', 'TLSWrap', 'PipeWrap', 'ProcessWrap', 'UDPWrap']);

function snapshot(ownTimers = 0): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (watched.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  // An async hook runs under a mocha timeout timer of its own; it is not the test's.
  if (ownTimers > 0) counts.set('Timeout', (counts.get('Timeout') ?? 0) - ownTimers);
  return counts;
}

// Mocha keeps the running hook's timer on its Runnable (not in its typings).
function hookTimers(ctx: Context): number {
  const runnable = ctx.runnable() as unknown as { timer?: unknown };
  return runnable.timer === undefined || runnable.timer === null ? 0 : 1;
}

function excess(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [kind, n] of after) {
    const m = before.get(kind) ?? 0;
    if (n > m) out.push(`${n - m} ${kind}`);
  }
  return out;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let baseline = new Map<string, number>();
const leaks: string[] = [];

export const mochaHooks = {
  beforeAll(): void {
    // Says once why the specs of compression itself are pending in this run.
    if (!privateApisEnabled() || !hasSyncZlib()) {
      console.log(`  Node's private APIs are ${privateApisEnabled() ? 'on, but this Node has no synchronous zlib' : 'off (TSBEAST_NO_PRIVATE=1)'}: permessage-deflate is declined (net/node-internals.ts, 4), so the specs of compression itself are pending and the others check the uncompressed connection.`);
    }
  },
  beforeEach(this: Context): void {
    baseline = snapshot(hookTimers(this));
  },
  async afterEach(this: Context): Promise<void> {
    // Closing handles finish on a later turn of the loop; give them a bounded moment.
    let extra: string[] = [];
    for (let i = 0; i < 50; i++) {
      await turn();
      extra = excess(baseline, snapshot(hookTimers(this)));
      if (extra.length === 0) return;
      if (i >= 5) await new Promise((resolve) => setTimeout(resolve, 10).unref());
    }
    leaks.push(`${this.currentTest?.fullTitle() ?? '?'}: left ${extra.join(', ')}`);
  },
  afterAll(): void {
    if (leaks.length > 0) throw new Error(`tests left Node resources behind:\n  ${leaks.join('\n  ')}`);
  },
};
