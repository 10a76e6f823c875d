/**
 * `npm run bench -- --quick` (scripts/bench.cjs) counts a benchmark that crashes, one without
 * a quick mode and one over the time limit as failed and exits 1; a passing set exits 0.
 * Real processes on real benchmark files (a temporary bench folder) and the real labels bench.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const runner = join(root, 'scripts', 'bench.cjs');
const dir = mkdtempSync(join(tmpdir(), 'layerwise-bench-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bench = (args: string[], env: Record<string, string> = {}): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, [runner, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, out: r.stdout + r.stderr };
};

describe('scripts/bench.cjs --quick', () => {
  it('fails the run when one benchmark crashes, lacks --quick or overruns; names each in the summary', () => {
    writeFileSync(join(dir, 'a-ok.bench.ts'), "const quick = process.argv.includes('--quick');\nconsole.log(quick ? 'quick ran' : 'full ran');\n");
    writeFileSync(join(dir, 'b-broken.bench.ts'), "if (process.argv.includes('--quick')) throw new Error('broken bench');\n");
    writeFileSync(join(dir, 'c-noquick.bench.ts'), "console.log('always full');\n");
    writeFileSync(join(dir, 'd-slow.bench.ts'), "if (process.argv.includes('--quick')) setTimeout(() => undefined, 60_000);\n");
    const r = bench(['--quick'], { BENCH_DIR: dir, BENCH_QUICK_LIMIT_S: '5' });
    expect(r.status).toBe(1);
    expect(r.out).toContain('quick ran');
    expect(r.out).not.toContain('always full');
    expect(r.out).toMatch(/ok {3}a-ok\.bench\.ts/);
    expect(r.out).toMatch(/FAIL b-broken\.bench\.ts .*exit 1/);
    expect(r.out).toMatch(/FAIL c-noquick\.bench\.ts .*no --quick mode/);
    expect(r.out).toMatch(/FAIL d-slow\.bench\.ts .*over the quick limit of 5 s/);
    expect(r.out).toContain('1 benchmarks passed, 3 failed');
  });

  it('passes the real labels benchmark in quick mode and filters by name', () => {
    const r = bench(['labels', '--quick']);
    expect(r.out).toContain('assign 1,000 (persisted, one transaction, one undo group)');
    expect(r.out).toContain('1 benchmarks passed, 0 failed');
    expect(r.status).toBe(0);
  });
});
