import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: kills and restarts real processes, and runs the native cluster; slower than the unit and API suite. */
export default defineConfig({
  test: {
    // Multi-process runs of the native cluster (nginx, API nodes, workers) belong here too.
    include: ['test/faults/**/*.test.ts', 'test/cluster/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
