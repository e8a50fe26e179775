import { defineConfig } from 'vitest/config';

/** `npm run test:reliability`: the bad-data corpus and audit script tests, plus the crash/resume, concurrency, secrets and HubSpot fault tests. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/reliability/**/*.test.ts', 'test/e2e/crash-resume.test.ts', 'test/e2e/concurrency.test.ts', 'test/e2e/secrets.test.ts', 'test/e2e/hubspot.test.ts'],
    setupFiles: ['test/reliability/setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    env: { TZ: 'UTC' },
  },
});
