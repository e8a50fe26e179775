import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep at most two test files running at once.
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
