'use strict';
// The spec reporter, plus a one-line JSON summary of mocha's own counts written to
// .mocha-results.json (or $MOCHA_SUMMARY_FILE) so .ci/run can report what actually ran.
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.MOCHA_SUMMARY_FILE || '.mocha-results.json';
    runner.once('end', () => {
      const { passes = 0, failures = 0, pending = 0, tests = 0 } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }) + '\n');
    });
  }
}
module.exports = SummaryReporter;
