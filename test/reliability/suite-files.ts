/**
 * The files of the reliability suite (`npm run test:reliability`, which prints the figures). `npm test` runs
 * them through that command, after the rest of the tests, so they run once and CI shows the figures.
 */
export const RELIABILITY_FILES = [
  'test/reliability/**/*.test.ts',
  'test/e2e/crash-resume.test.ts',
  'test/e2e/concurrency.test.ts',
  'test/e2e/secrets.test.ts',
  'test/e2e/hubspot.test.ts',
  'test/e2e/hubspot-engagements-crash.test.ts',
];
