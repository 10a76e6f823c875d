import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

/**
 * Builds:
 *  - main: the Electron shell (index), the headless host (host), the CLI (cli) and the
 *    engine process entry (engine) — all plain CommonJS for Node, dependencies external.
 *  - preload: CommonJS for the sandboxed preload.
 *  - renderer: the Vue app, served by Electron or by the headless host.
 */
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/electron/main.ts'),
          host: resolve(__dirname, 'src/main/host/entry.ts'),
          cli: resolve(__dirname, 'src/main/host/cli.ts'),
          engine: resolve(__dirname, 'src/engine/entry.ts'),
        },
      },
    },
  },
  preload: {
    build: { rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } } },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: { rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
    plugins: [vue()],
  },
});
