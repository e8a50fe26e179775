import { configDefaults, defineConfig } from 'vitest/config';
import { RELIABILITY_FILES } from './test/reliability/suite-files.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The reliability suite runs after these, through `npm run test:reliability` (see package.json's test).
    exclude: [...configDefaults.exclude, ...RELIABILITY_FILES],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep at most two test files running at once.
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
