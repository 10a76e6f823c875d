#!/usr/bin/env node
// `npm run bench [-- <name-filter>…] [-- --quick] [-- --gpu] [-- --strict]`: runs every
// bench/*.bench.ts (with tsx), each printing its own table with the reference figures beside
// ours. Benchmarks measure speed and memory; unit tests never time anything.
//
// --quick: every benchmark at its smallest sizes (a few seconds each; what a benchmark needs
// and cannot find is skipped with a printed reason), each under a time limit, so that CI
// (scripts/test-all.sh) catches a benchmark that no longer runs. A benchmark file must handle
// `--quick` (the string appears in it), else quick mode fails it rather than run it in full.
// Ends with one line per benchmark (status, seconds) and exits 1 if any failed.
// The benchmarks (any bench/*.bench.ts is picked up; a name filter matches part of the file
// name): engine (ours vs PyTorch / ONNX Runtime, speed and memory), datasets (import, pack),
// labels, grid (Chromium), compare (Chromium: 20 runs × 50,000 points drawn by the Compare page), load (host), time-to-accuracy (Fashion-MNIST LeNet-5 to 85 % test
// accuracy through the services vs a plain PyTorch script, a ratio), parity (CIFAR-10 subset
// ResNet-20 / LeNet-5 test accuracy vs the same ResNet-20 in PyTorch, judged: exits 1 beyond
// 3 points). The last two need python3-torch for their PyTorch side, which --quick skips with
// the reason when it is missing.
// BENCH_DIR overrides the folder of benchmarks (for the runner's own test).
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const quick = flags.includes('--quick');
/** Seconds one benchmark may take in quick mode before it counts as failed. */
const QUICK_LIMIT_S = Number(process.env.BENCH_QUICK_LIMIT_S ?? 240);
const benchDir = process.env.BENCH_DIR ?? join(root, 'bench');
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ') || '(any)'} in ${benchDir}`);
  process.exit(2);
}
const results = [];
for (const f of files) {
  console.log(`\n## ${f}${quick ? ' (quick)' : ''}\n`);
  const file = join(benchDir, f);
  if (quick && !readFileSync(file, 'utf8').includes('--quick')) {
    console.log(`FAIL: ${file} has no --quick mode (add one: smallest sizes, a few seconds)`);
    results.push({ f, status: 'no --quick mode', s: 0 });
    continue;
  }
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], {
    cwd: root,
    stdio: 'inherit',
    timeout: quick ? QUICK_LIMIT_S * 1000 : undefined,
    killSignal: 'SIGTERM',
  });
  const s = (Date.now() - t0) / 1000;
  let status = 'ok';
  if (r.error && r.error.code === 'ETIMEDOUT') status = `over the quick limit of ${QUICK_LIMIT_S} s`;
  else if (r.error) status = r.error.message;
  else if (r.status !== 0) status = `exit ${r.status ?? r.signal}`;
  results.push({ f, status, s });
}
const failed = results.filter((r) => r.status !== 'ok').length;
console.log(`\n## summary${quick ? ' (quick)' : ''}\n`);
for (const r of results) console.log(`${r.status === 'ok' ? 'ok  ' : 'FAIL'} ${r.f} ${r.s.toFixed(1)} s${r.status === 'ok' ? '' : `: ${r.status}`}`);
console.log(`${results.length - failed} benchmarks passed, ${failed} failed, ${results.reduce((a, r) => a + r.s, 0).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
