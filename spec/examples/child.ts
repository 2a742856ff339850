/**
 * Runs a compiled example as a child process for the example specs: collects its output, waits
 * for a line, signals it, and makes sure none outlives its test (`stopAll` in `afterEach`).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<Example>();

/** A compiled example (`dist/examples/<script>.js`) running as a child process. */
export class Example {
  readonly #child: ChildProcess;
  readonly #exit: Promise<Exit>;
  #stdout = '';
  #stderr = '';
  #waiters: Array<() => void> = [];

  /** Starts `node dist/examples/<script>.js ...args` with `env` added to this process's. */
  constructor(script: string, args: readonly string[] = [], env: Record<string, string> = {}) {
    const file = join(process.cwd(), 'dist', 'examples', `${script}.js`);
    this.#child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout!.setEncoding('utf8').on('data', (s: string) => this.#append(s, ''));
    this.#child.stderr!.setEncoding('utf8').on('data', (s: string) => this.#append('', s));
    // Both pipes must be drained before the exit counts, or the last lines could be missed.
    this.#exit = new Promise((resolve) => this.#child.once('close', (code, signal) => resolve({ code, signal })));
    running.add(this);
    void this.#exit.then(() => {
      running.delete(this);
      this.#wake();
    });
  }

  /** The child's process id (for /proc/<pid>/fd). */
  get pid(): number {
    return this.#child.pid!;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Everything printed so far, both streams. */
  get output(): string {
    return this.#stdout + this.#stderr;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the child exits first or after `ms`. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.output.match(pattern);
      if (m !== null) return m;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(`exited before printing ${pattern}; output:\n${this.output}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${ms} ms; output:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.push(done);
      });
    }
  }

  /** Sends `signal` to the child. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.#child.kill(signal);
  }

  /** Resolves when the child has exited and its output is complete; rejects after `ms`. */
  async exited(ms = 10_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${ms} ms; output:\n${this.output}`)), ms);
    });
    try {
      return await Promise.race([this.#exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #append(out: string, err: string): void {
    this.#stdout += out;
    this.#stderr += err;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Kills every example still running and waits for each to exit (for `afterEach`). */
export async function stopAll(): Promise<void> {
  const left = [...running];
  for (const e of left) e.kill('SIGKILL');
  await Promise.all(left.map((e) => e.exited()));
}

/** The port in a line such as `listening on 127.0.0.1:PORT` or `http://127.0.0.1:PORT/`. */
export async function portOf(example: Example, pattern: RegExp): Promise<number> {
  const m = await example.waitFor(pattern);
  return Number(m[1]);
}
