import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start real servers; two workers fit the 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
