import { defineConfig } from 'vitest/config';

// Two cores: integration files share one Temporal dev server and one Postgres, so files run one
// at a time; within a file, tests may still overlap their waits.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/quiet-runtime.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
