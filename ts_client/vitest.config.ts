import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One daphne for the whole run (test/e2e/global-setup.ts); the restart test starts its own.
    globalSetup: ['test/e2e/global-setup.ts'],
    // Two cores, shared: a couple of workers is plenty.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
