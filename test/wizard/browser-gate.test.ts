import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumGate, isCi } from './browser-gate.js';

describe('whether the wizard browser tests run', () => {
  let dir: string;
  let executable: string;
  let notExecutable: string;
  let folder: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-browser-gate-'));
    executable = join(dir, 'chromium');
    await writeFile(executable, '#!/bin/sh\nexit 0\n');
    await chmod(executable, 0o755);
    notExecutable = join(dir, 'chromium-no-x');
    await writeFile(notExecutable, 'not a program');
    await chmod(notExecutable, 0o644);
    folder = join(dir, 'a-folder');
    await mkdir(folder);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs them when the path is an executable file, in CI or not', () => {
    expect(chromiumGate(executable, {})).toEqual({ run: true, fail: false });
    expect(chromiumGate(executable, { CI: 'true' })).toEqual({ run: true, fail: false });
  });

  it('skips them with the reason and the fix outside CI, when Chromium is missing, not executable or a folder', () => {
    for (const path of [join(dir, 'missing', 'chromium'), notExecutable, folder]) {
      const gate = chromiumGate(path, { CI: undefined });
      expect(gate.run).toBe(false);
      expect(gate.fail).toBe(false);
      expect(gate.reason).toContain(`no Chromium executable at ${path}`);
      expect(gate.reason).toContain('apt-get install chromium');
      expect(gate.reason).toContain('FERRY_CHROMIUM');
    }
    expect(chromiumGate(join(dir, 'missing'), { CI: 'false' }).fail).toBe(false);
  });

  it('fails them under CI=true when Chromium is missing', () => {
    const gate = chromiumGate(join(dir, 'missing'), { CI: 'true' });
    expect(gate).toMatchObject({ run: false, fail: true });
    expect(gate.reason).toMatch(/^CI=true requires the wizard's browser tests, but no Chromium executable at /);
  });

  it('reads CI as CI services set it', () => {
    expect(['true', 'TRUE', '1', 'yes', ' true '].map((CI) => isCi({ CI }))).toEqual([true, true, true, true, true]);
    expect(['false', '0', '', 'no'].map((CI) => isCi({ CI }))).toEqual([false, false, false, false]);
    expect(isCi({})).toBe(false);
  });
});
