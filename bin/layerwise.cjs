#!/usr/bin/env node
// The `layerwise` command: runs the built CLI (out/main/cli.js). Build it first with
// `npx electron-vite build` (or `npm run build`).
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error('layerwise: the CLI has not been built; run `npm run build` in ' + join(__dirname, '..'));
  process.exit(1);
}
require(cli);
