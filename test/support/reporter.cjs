// Mocha reporter: the spec output for people, plus a stats file per suite that
// hack/run-tests.sh adds up into the closing "N passed, N failed" line. The file also names
// each failed test, so the end of a CI log says which tests failed, not only how many.
const Mocha = require('mocha');
const fs = require('fs');
const path = require('path');

class SuiteStatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failed = [];
    runner.on('fail', (test, err) => {
      const message = String((err && err.message) || err)
        .split('\n')[0]
        .slice(0, 200);
      failed.push(`${test.fullTitle()}: ${message}`);
    });
    runner.once('end', () => {
      const dir = process.env.SOFTTENANT_RESULTS;
      const suite = (options.reporterOptions && options.reporterOptions.suite) || 'tests';
      if (!dir) return;
      const { passes, failures, pending } = runner.stats;
      fs.writeFileSync(
        path.join(dir, `${suite}.json`),
        JSON.stringify({ passes, failures, pending, failed }),
      );
    });
  }
}
module.exports = SuiteStatsReporter;
