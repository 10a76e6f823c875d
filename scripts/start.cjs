#!/usr/bin/env node
// `npm start`: build, then open Layerwise in Electron when its binary is present;
// otherwise (as on machines where Electron cannot be downloaded) start the headless
// host, import the bundled sample dataset on first start, train a LeNet-5 on it and
// print the URL to open in a browser. Extra arguments go to the host
// (e.g. `npm start -- --port 7701 --data-dir /tmp/lw --no-demo`).
const { spawnSync, spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const args = process.argv.slice(2);

const build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

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
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
