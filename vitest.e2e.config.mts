import { defineConfig } from 'vitest/config';

/** End-to-end tests: Debian Chromium driven by playwright-core against the built headless host. Run after `electron-vite build`. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
