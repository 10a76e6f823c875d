// Prints "<passed> <failed> <skipped>" from a Vitest JSON report. A test file that crashed
// before running any test counts as one failure, so a broken suite cannot read as green.
const r = require(require('node:path').resolve(process.argv[2]));
const crashed = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
console.log(`${r.numPassedTests} ${r.numFailedTests + crashed} ${r.numPendingTests + r.numTodoTests}`);
