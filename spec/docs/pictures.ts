/**
 * Makes the pictures of docs/topics/handler-tracking.md from real runs: each tracking snippet runs with
 * TSBEAST_HANDLER_TRACKING pointing at a log file, and `tsbeast-handlerviz` draws the log.
 * Used by spec/docs/pictures.spec.ts (into dist/, on every test run, so CI draws them) and,
 * with UPDATE_DOC_PICTURES=1, to refresh the copies committed under docs/pictures/.
 */

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The pictures: the snippet that is run and the title drawn. */
export const pictures = [
  { name: 'echo-session', snippet: 'docs/snippets/tracking/echo-session.ts', title: 'An echo session: two messages, then the closing handshake' },
  { name: 'cancelled-write', snippet: 'docs/snippets/tracking/cancelled-write.ts', title: 'A write cancelled by cancelAfter(50) while the peer reads nothing' },
] as const;

/** Runs each snippet under tracking and draws it into `outDir` (`name.log`, `.svg`, `.html`). */
export async function makePictures(root: string, outDir: string): Promise<Map<string, string>> {
  mkdirSync(outDir, { recursive: true });
  const logs = new Map<string, string>();
  const viz = join(root, 'dist/lib/tools/handlerviz.js');
  for (const p of pictures) {
    const log = join(outDir, `${p.name}.log`);
    rmSync(log, { force: true });
    const compiled = join(root, 'dist', p.snippet.replace(/\.ts$/, '.js'));
    await run(process.execPath, [compiled], {
      cwd: root,
      timeout: 20_000,
      env: { ...process.env, TSBEAST_HANDLER_TRACKING: log },
    });
    await run(process.execPath, [viz, log, '--title', p.title, '-o', join(outDir, `${p.name}.svg`)], { cwd: root });
    await run(process.execPath, [viz, log, '--title', p.title, '-o', join(outDir, `${p.name}.html`)], { cwd: root });
    logs.set(p.name, readFileSync(log, 'utf8'));
  }
  return logs;
}
