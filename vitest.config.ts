import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fault and cluster tests kill and run real processes, on their own: npm run test:faults.
    exclude: ['test/faults/**', 'test/cluster/**', '**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each file gets its own database and queue prefix, so files run in parallel safely.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
