/**
 * Whether the wizard's browser tests run: they need Debian's Chromium (never a downloaded one). Without it
 * they are skipped LOUDLY on a developer's machine (the reason is printed and is in the suite's name), and
 * they FAIL where CI=true, so CI can never pass without having run them.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { describe, it } from 'vitest';

export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

export interface BrowserGate {
  /** Run the browser tests. */
  run: boolean;
  /** Not runnable, and this environment must run them: fail instead of skipping. */
  fail: boolean;
  /** Why they do not run, and how to make them run; undefined when they run. */
  reason?: string;
}

/** CI=true (or 1, yes), as CI services set it. */
export function isCi(env: Record<string, string | undefined>): boolean {
  return /^(true|1|yes)$/i.test(env.CI?.trim() ?? '');
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Decides from the Chromium path and the environment; no side effects. */
export function chromiumGate(path: string, env: Record<string, string | undefined>): BrowserGate {
  if (isExecutableFile(path)) return { run: true, fail: false };
  const reason =
    `no Chromium executable at ${path}: install Debian's chromium (apt-get install chromium) or set FERRY_CHROMIUM ` +
    'to a Chromium binary';
  return isCi(env) ? { run: false, fail: true, reason: `CI=true requires the wizard's browser tests, but ${reason}` } : { run: false, fail: false, reason };
}

/**
 * `describe` for a browser test file: runs the suite when Chromium is there; otherwise skips it with the
 * reason printed and in the suite's name, or, under CI=true, replaces it with one test that fails with the
 * reason.
 */
export function describeInChromium(name: string, body: () => void, gate: BrowserGate = chromiumGate(CHROMIUM, process.env)): void {
  if (gate.run) {
    describe(name, body);
    return;
  }
  if (gate.fail) {
    describe(name, () => {
      it('runs in Chromium', () => {
        throw new Error(gate.reason);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPED: "${name}" (wizard browser tests): ${gate.reason}\n`);
  describe.skip(`${name} [SKIPPED: ${gate.reason}]`, body);
}
