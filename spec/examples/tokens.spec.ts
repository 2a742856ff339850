/**
 * The token examples (examples/tokens/*.ts): each runs standalone against its own in-process echo
 * server, prints what it did, and exits 0.
 */

import { expect } from 'chai';
import { Example, stopAll } from './child.js';

const expected: Record<string, string[]> = {
  callback: ['sent 16 bytes', 'got "hello, callbacks"', 'closed'],
  promise: ['sent 15 bytes', 'got "hello, promises"', 'closed'],
  'abort-signal': [
    'got "hello, AbortSignal" within the deadline',
    'closed',
    'silent server, AbortSignal.timeout(100): Operation canceled (cause: TimeoutError)',
    'silent server, cancelAfter(100): Operation canceled',
  ],
  deferred: [
    'built connect and handshake; connected yet: false',
    'launched both; open: true',
    'write and read together: sent 15, received 15 bytes ("hello, deferred"), completion order [0,1]',
    'closed, error: null',
  ],
  strand: [
    'connection 1 got "hello from 1", on the strand: true',
    'connection 2 got "hello from 2", on the strand: true',
    'connection 3 got "hello from 3", on the strand: true',
    'all 3 connections closed; their handlers shared one strand',
  ],
};

describe('examples: one per token style', function () {
  this.timeout(20_000);
  afterEach(stopAll);

  for (const [name, lines] of Object.entries(expected)) {
    it(`tokens/${name}.js exits 0 and prints what it did`, async () => {
      const example = new Example(`tokens/${name}`);
      expect(await example.exited(), example.output).to.deep.equal({ code: 0, signal: null });
      expect(example.stdout).to.equal(lines.join('\n') + '\n');
      expect(example.stderr).to.equal('');
    });
  }
});
