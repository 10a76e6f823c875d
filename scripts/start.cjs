#!/usr/bin/env node
// `npm start`: build, then open Layerwise in Electron when its binary is present;
// otherwise (as on machines where Electron cannot be downloaded) start the headless
// host, import the bundled sample dataset on first start, train a LeNet-5 on it and
// print the URL (with its access token) to open in a browser. Extra arguments go to the
// host (e.g. `npm start -- --port 7701 --data-dir /tmp/lw --no-demo`; `node scripts/start.cjs
// -- …` works too). LAYERWISE_NO_BUILD=1 skips the build when out/ is already there.
//
// SIGINT / SIGTERM to this process are forwarded to the host, which stops cleanly (cancels
// runs, closes the database); this process then exits with the host's code.
const { spawnSync, spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));

if (!(process.env.LAYERWISE_NO_BUILD && existsSync(join(root, 'out/main/host.js')))) {
  const build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

function electronBinary() {
  // Read electron's path.txt ourselves: require('electron') would try to download.
  const dir = join(root, 'node_modules/electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

const electron = process.env.LAYERWISE_HEADLESS ? null : electronBinary();
const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== 'linux');
let child;
if (electron && hasDisplay) {
  child = spawn(electron, [root, ...args], { stdio: 'inherit' });
} else {
  console.log(
    electron
      ? 'No display found: starting the headless host instead of the Electron window.'
      : 'The Electron binary is not installed (run `npx install-electron` where the internet is reachable): starting the headless host.',
  );
  const demo = args.includes('--no-demo') ? [] : ['--demo'];
  child = spawn(process.execPath, [join(root, 'out/main/host.js'), ...demo, ...args.filter((a) => a !== '--no-demo')], { stdio: 'inherit' });
}
// Forward each signal once to the host and wait for it. At a terminal, Ctrl+C reaches both
// processes (one process group); the host treats the copy we forward as the same Ctrl+C.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}
// When whoever started us goes away without a signal reaching us (npm killed, its shell
// gone), we are re-parented: stop the host as if it had been sent SIGTERM.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent && child.exitCode === null && child.signalCode === null) {
    clearInterval(watch);
    child.kill('SIGTERM');
  }
}, 1000);
watch.unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : signal ? 1 : 0)));
