import { defineConfig } from 'vitest/config';

// Stand-alone config for the simulator suite (no globalSetup: every test file starts its own simulator).
export default defineConfig({
  test: {
    include: ['test/simulator/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
