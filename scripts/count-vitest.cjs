// Prints "<passed> <failed> <skipped>" from a Vitest JSON report. A test file that crashed
// before running any test counts as one failure, so a broken suite cannot read as green.
// With a second argument, appends one line per failed test (file › test: first line of the
// error) to that file, so the end of the log names what failed.
const path = require('node:path');
const fs = require('node:fs');
const r = require(path.resolve(process.argv[2]));
const crashed = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
if (process.argv[3]) {
  const lines = [];
  const firstLine = (s) => String(s ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim()) ?? '';
  for (const t of r.testResults) {
    const file = path.relative(process.cwd(), t.name);
    if (t.status === 'failed' && t.assertionResults.length === 0) lines.push(`${file}: the file failed before its tests ran: ${firstLine(t.message)}`);
    for (const a of t.assertionResults) {
      if (a.status === 'failed') lines.push(`${file} › ${a.fullName}: ${firstLine((a.failureMessages ?? [])[0]).slice(0, 300)}`);
    }
  }
  if (lines.length) fs.appendFileSync(process.argv[3], lines.map((l) => `FAILED ${l}\n`).join(''));
}
console.log(`${r.numPassedTests} ${r.numFailedTests + crashed} ${r.numPendingTests + r.numTodoTests}`);
