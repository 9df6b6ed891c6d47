import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores, shared with other work: a couple of workers is plenty.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.{ts,tsx}'],
          // One daphne for the run; the restart test starts and stops its own.
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'measure',
          include: ['test/measure/**/*.measure.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
        },
      },
    ],
  },
});
