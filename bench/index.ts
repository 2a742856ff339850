/**
 * `npm run bench`: every benchmark in one run, one after another, each in processes of its own:
 * the WebSocket echo table (tsbeast, ws, raw node:net), the TCP echo table (TcpSocket against
 * raw node:net), and the memory of 10,000 idle connections (tsbeast against ws). See bench/README.md for the method.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
for (const [script, ...args] of [['echo.js', ...process.argv.slice(2)], ['tcp-echo.js', ...process.argv.slice(2)], ['idle-memory.js']]) {
  const r = spawnSync(process.execPath, [join(here, script!), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log();
}
