/**
 * The front-door examples as they ship: the echo server started on a free port, the client run
 * against it, then the server stopped by SIGTERM (it must close its connections and exit 0).
 */

import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('front: examples/front', () => {
  it('echo_server and client: messages echoed in order, a clean shutdown on SIGTERM', async () => {
    const server = spawn(process.execPath, ['dist/examples/front/echo_server.js', '--port', '0', '--deflate'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const m = /listening on (ws:\/\/\S+)/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        server.once('exit', () => reject(new Error(`server exited: ${out}`)));
      });
      const { stdout } = await run(process.execPath, ['dist/examples/front/client.js', '--url', url, '--messages', '50', '--deflate'], { timeout: 10_000 });
      expect(stdout).to.contain(`50 messages echoed by ${url}`);
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });
});
