import { defineConfig } from 'vitest/config';
import { RELIABILITY_FILES } from './suite-files.js';

/** `npm run test:reliability`: the bad-data corpus and audit script tests, plus the crash/resume, concurrency, secrets and HubSpot fault tests. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: RELIABILITY_FILES,
    setupFiles: ['test/reliability/setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
