import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The default output, then a line per group of skipped tests and why (test/reporters/skipped.ts).
    reporters: ['default', './test/reporters/skipped.ts'],
  },
});
