#!/usr/bin/env bash
# The README's test command (`npm test`): lint, type-check, build, unit/integration
# tests (Vitest), end-to-end tests (Vitest + playwright-core driving Debian Chromium
# against the headless host), every benchmark in quick mode. Ends with one line:
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-output
passed=0; failed=0; skipped=0
failures=test-output/failures.txt # one line per failed step or test, printed again at the end
rm -f "$failures"
step() { # name, command...
  local name=$1; shift
  printf '\n== %s ==\n' "$name"
  if "$@"; then passed=$((passed + 1)); echo "PASS $name"; else failed=$((failed + 1)); echo "FAIL $name"; echo "FAILED step: $name" >> "$failures"; fi
}
count_vitest() { # vitest json report → add its counts
  local f=$1 p q s
  if [ -f "$f" ]; then
    read -r p q s < <(node scripts/count-vitest.cjs "$f" "$failures")
    passed=$((passed + p)); failed=$((failed + q)); skipped=$((skipped + s))
    echo "$f: $p passed, $q failed, $s skipped"
  else
    failed=$((failed + 1)); echo "$f: no report (the suite crashed)"; echo "FAILED $f: no report (the suite crashed)" >> "$failures"
  fi
}

# The E2E tests need Debian's Chromium, the accuracy test Debian's Fashion-MNIST, the
# WebGPU test (test/engine/webgpu.test.ts) the Vulkan loader and Chromium's SwiftShader,
# the real-Slurm tests Debian's slurm-wlm and munge.
need=()
command -v chromium >/dev/null || need+=(chromium)
[ -n "$(ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1')" ] || need+=(libvulkan1) # no grep -q: with pipefail its early exit can fail the pipe
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch) # the benchmarks' PyTorch side (bench/*.bench.ts --quick)
{ [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ]; } || need+=(slurm-wlm munge) # the one-node Slurm of the real-Slurm tests (scripts/slurm-up.sh)
if [ ${#need[@]} -gt 0 ]; then
  printf '\n== installing Debian packages: %s ==\n' "${need[*]}"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "could not install ${need[*]}: the tests that need them will fail"
fi

step "eslint (import rules between src/* folders)" npx eslint src test bench
step "dependency-cruiser (no import cycles in src)" npm run --silent lint:cycles
step "tsc (main, preload, engine, shared, tests)" npx tsc --noEmit -p tsconfig.node.json
step "vue-tsc (renderer)" npx vue-tsc --noEmit -p tsconfig.web.json
step "electron-vite build" npx electron-vite build

# A one-node Slurm (scripts/slurm-up.sh) for the real-Slurm tests, stopped at the end unless it
# was already running; when it cannot start, those tests skip with the reason.
printf '\n== one-node Slurm cluster ==\n'
if sinfo -h >/dev/null 2>&1; then echo "Slurm already running"
elif scripts/slurm-up.sh; then trap 'scripts/slurm-down.sh' EXIT
else echo "no Slurm cluster: the real-Slurm tests skip"; fi

printf '\n== vitest: unit and integration ==\n'
rm -f test-output/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json
count_vitest test-output/vitest.json

printf '\n== vitest: end to end (Chromium + headless host) ==\n'
rm -f test-output/e2e.json
npx vitest run -c vitest.e2e.config.mts --reporter=default --reporter=json --outputFile.json=test-output/e2e.json
count_vitest test-output/e2e.json

# Every benchmark at its smallest (scripts/bench.cjs --quick; about a minute in all, each
# under a time limit): a benchmark that no longer runs fails here, as one suite. Timings in
# quick mode are reported, never judged. Needs the build above (bench/grid.bench.ts).
step "benchmarks, quick mode (npm run bench -- --quick)" node scripts/bench.cjs --quick

echo
echo "Screenshots and reports: test-output/"
[ ! -s "$failures" ] || { echo "What failed:"; cat "$failures"; }
[ "$skipped" -eq 0 ] || echo "$skipped skipped (real data missing: see the 'skipped:' lines above; tests read ../shared/data and Debian's Fashion-MNIST)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
