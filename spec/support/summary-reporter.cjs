'use strict';
// The spec reporter, plus a one-line JSON summary of mocha's own counts written to
// .mocha-results.json (or $MOCHA_SUMMARY_FILE) so .ci/run can report what actually ran, with the
// title and first lines of the error of each failure (CI keeps only the tail of a long log).
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.MOCHA_SUMMARY_FILE || '.mocha-results.json';
    const failed = [];
    runner.on('fail', (test, err) => {
      const message = String((err && (err.stack || err.message)) || err).split('\n').slice(0, 6).join('\n');
      failed.push({ title: test.fullTitle(), error: message });
    });
    runner.once('end', () => {
      const { passes = 0, failures = 0, pending = 0, tests = 0 } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests, failed }) + '\n');
      // Mocha runs without --exit, so a server or socket a failing test left open would keep the
      // process (and CI) waiting forever. The run is over: if something still holds the loop after
      // a grace period, name it and end with a failure. Unreferenced, this timer never holds the
      // loop itself, so a clean run exits as soon as its last handle closes.
      setTimeout(() => {
        const held = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'FSReqCallback');
        process.stderr.write(`mocha: the run ended 15 s ago, but Node resources still hold the process: ${held.join(', ')}; exiting with a failure\n`);
        // Mocha's own 'exit' listener sets the exit code from the failure count; this one runs after it.
        process.on('exit', () => { process.exitCode = 1; });
        process.exit(1);
      }, 15_000).unref();
    });
  }
}
module.exports = SummaryReporter;
