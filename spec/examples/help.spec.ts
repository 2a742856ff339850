/**
 * Every example program answers `--help` with its usage (exit 0) and an unknown option with a
 * message and the usage, not a stack trace (exit 2). Neither starts a server or connects.
 */

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examples = join(process.cwd(), 'dist', 'examples');
const programs = [
  'echo_server.js',
  'echo_client.js',
  'autobahn_client.js',
  'chat/server.js',
  'tokens/callback.js',
  'tokens/promise.js',
  'tokens/abort-signal.js',
  'tokens/deferred.js',
  'tokens/strand.js',
];

describe('examples: --help and unknown options', () => {
  for (const program of programs) {
    it(`${program} --help prints its usage and exits 0`, async () => {
      const { stdout, stderr } = await run(process.execPath, [join(examples, program), '--help'], { timeout: 10_000 });
      expect(stdout).to.match(/^usage: .*node dist\/examples\//);
      expect(stdout).to.contain(program);
      expect(stderr).to.equal('');
    });

    it(`${program} --no-such-option says so and exits 2, without a stack trace`, async () => {
      const failure = await run(process.execPath, [join(examples, program), '--no-such-option'], { timeout: 10_000 }).then(
        () => null,
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect(failure, 'it exited 0').to.not.equal(null);
      expect(failure!.code).to.equal(2);
      expect(failure!.stderr).to.contain("Unknown option '--no-such-option'").and.contain('usage: ');
      expect(failure!.stderr).to.not.match(/\n\s+at /);
    });
  }
});
