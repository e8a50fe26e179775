import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectEnv } from '../cli/open-project.js';
import { parseSecrets, readSecrets, secretsPath, secretVariable, writeSecrets } from './secrets-file.js';

describe('the project secrets file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips values with quotes, spaces, = and newlines, in a file only its owner can read', async () => {
    const values = { FERRY_TARGET_ACCESS_TOKEN: 'pat-na1-abc=def', FERRY_SOURCE_URL: "postgres://u:p'w d@h/db", ODD: 'line1\nline2 "q"' };
    await writeSecrets(dir, values);
    expect(statSync(secretsPath(dir)).mode & 0o777).toBe(0o600);
    expect(await readSecrets(dir)).toEqual(values);
    await writeSecrets(dir, { ODD: '' });
    expect(Object.keys(await readSecrets(dir)).sort()).toEqual(['FERRY_SOURCE_URL', 'FERRY_TARGET_ACCESS_TOKEN']);
  });

  it('refuses a file others can read, saying how to fix it and without its contents', async () => {
    await writeSecrets(dir, { FERRY_SOURCE_URL: 'postgres://user:hunter2@db/x' });
    chmodSync(secretsPath(dir), 0o644);
    const error = await readSecrets(dir).catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(error.message).toContain('chmod 600');
    expect(error.message).not.toContain('hunter2');
  });

  it('parses export lines and comments, and names variables per side and setting', () => {
    expect(parseSecrets('# c\nexport A=1\nB = "x\\ny"\n\nC=\'z\'\n')).toEqual({ A: '1', B: 'x\ny', C: 'z' });
    expect(secretVariable('target', 'accessToken')).toBe('FERRY_TARGET_ACCESS_TOKEN');
  });

  it('gives every command its values under the environment: a variable set in the shell wins', async () => {
    await writeSecrets(dir, { FERRY_SOURCE_URL: 'from-file', FERRY_TARGET_ACCESS_TOKEN: 'file-token' });
    const env = await projectEnv(dir, { FERRY_SOURCE_URL: 'from-shell', PATH: '/bin' });
    expect(env).toMatchObject({ FERRY_SOURCE_URL: 'from-shell', FERRY_TARGET_ACCESS_TOKEN: 'file-token', PATH: '/bin' });
    writeFileSync(join(dir, 'unrelated'), '');
    expect(await projectEnv(join(dir, 'no-such-folder'), { A: '1' })).toEqual({ A: '1' });
  });
});
