import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FerryError } from '../core/errors.js';

/**
 * The project's local secrets file (written by the wizard, read by every command): `.ferry/secrets.env` beside ferry.yaml, `NAME=value` lines, created with
 * mode 0600. ferry.yaml refers to its values as `${NAME}`. A file that other users can read is refused.
 */
export const SECRETS_FILE = join('.ferry', 'secrets.env');

export function secretsPath(baseDir: string): string {
  return join(baseDir, SECRETS_FILE);
}

/** `FERRY_SOURCE_URL`, `FERRY_TARGET_ACCESS_TOKEN`: the variable a side's secret setting is stored under. */
export function secretVariable(side: 'source' | 'target', setting: string): string {
  const snake = setting.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return `FERRY_${side.toUpperCase()}_${snake}`;
}

/** Plain when safe, else single-quoted (as a shell reads it with `set -a; . file`), else JSON-quoted. */
function encode(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]*$/.test(value)) return value;
  if (!/['\n\r]/.test(value)) return `'${value}'`;
  return JSON.stringify(value);
}

function decode(raw: string): string {
  const text = raw.trim();
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    try {
      return JSON.parse(text) as string;
    } catch {
      return text.slice(1, -1);
    }
  }
  if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) return text.slice(1, -1);
  return text;
}

export function parseSecrets(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(trimmed);
    if (match) out[match[1]!] = decode(match[2]!);
  }
  return out;
}

/** The secrets, or {} when there is no file. Refuses a file that group or others can read or write. */
export async function readSecrets(baseDir: string): Promise<Record<string, string>> {
  const path = secretsPath(baseDir);
  if (!existsSync(path)) return {};
  if (process.platform !== 'win32') {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new FerryError(
        'CONFIG_INVALID',
        `${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); Ferry does not read secrets from it. ` +
          `Run \`chmod 600 ${path}\` (and change the secrets if others may have read them).`,
        { path },
      );
    }
  }
  return parseSecrets(await readFile(path, 'utf8'));
}

/** Sets (or, with an empty value, removes) secrets; the file is written atomically with mode 0600. */
export async function writeSecrets(baseDir: string, changes: Record<string, string>): Promise<void> {
  const path = secretsPath(baseDir);
  const current = await readSecrets(baseDir);
  for (const [name, value] of Object.entries(changes)) {
    if (value === '') delete current[name];
    else current[name] = value;
  }
  const lines = [
    '# Secrets of the Ferry project beside this folder, written by `ferry serve`. Keep this file private (mode 600);',
    '# ferry.yaml refers to these values as ${NAME}; every ferry command reads them (a variable set in the environment wins).',
    ...Object.entries(current)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${name}=${encode(value)}`),
    '',
  ];
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(lines.join('\n'), 'utf8');
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
