import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Prints whether PostgreSQL is covered, and sweeps test databases (test/support/globalSetup.ts).
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start real servers; two workers fit the 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
