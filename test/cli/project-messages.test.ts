import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ferry } from './run-cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-messages-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type JsonError = { error: { code: string; message: string } };

describe('project-file messages through the CLI', () => {
  it('ferry init + ferry map writes the mapping in block style, one field per line', async () => {
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '5', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    expect((await ferry(dir, ['init'])).code).toBe(0);
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toContain('objects: {}');
    expect((await ferry(dir, ['map', '--json'])).code).toBe(0);
    const text = readFileSync(join(dir, 'ferry.yaml'), 'utf8');
    expect(text).not.toMatch(/^objects: \{/m);
    expect(text).toMatch(/^objects:\n {2}\w+:\n {4}target: \w+\n/m);
    expect(text).toMatch(/^ {2}companies:\n {4}target: companies\n/m);
    expect(text).toMatch(/^ {4}fields:\n {6}name: name\n/m);
    // Every line stays short: nothing of the mapping is folded onto one line.
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThan(160);
    expect((await ferry(dir, ['check', '--json'])).code).toBe(0);
  });

  it('a missing project file names the real option, --config', async () => {
    const result = await ferry(dir, ['check', '--json']);
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.code).toBe('CONFIG_MISSING');
    expect(error.message).toContain('--config <file>');
    expect(error.message).not.toContain('--project');
    // And the option it names works.
    expect((await ferry(dir, ['--config', 'elsewhere/ferry.yaml', 'init'])).code).toBe(0);
    const elsewhere = await ferry(dir, ['--config', 'elsewhere/ferry.yaml', 'check', '--json']);
    expect(elsewhere.json<JsonError>().error?.code).not.toBe('CONFIG_MISSING');
  });

  it('a missing ${VAR} says how to set it, in the shell or in .ferry/secrets.env, and a set one there works', async () => {
    writeFileSync(
      join(dir, 'ferry.yaml'),
      'version: 1\nsource:\n  connector: sql\n  dialect: sqlite\n  path: ${SOURCE_DB_PATH}\ntarget:\n  connector: sql\n  dialect: sqlite\n  path: target.db\nobjects: {}\n',
    );
    const result = await ferry(dir, ['check', '--json']);
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.message).toMatch(/ferry\.yaml:5:9: source\.path: environment variable SOURCE_DB_PATH is not set/);
    expect(error.message).toContain('.ferry/secrets.env');
    expect(error.message).toContain('export SOURCE_DB_PATH=');

    expect((await ferry(dir, ['sample-data', '--size', '10', '--seed', '1', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    mkdirSync(join(dir, '.ferry'), { recursive: true });
    writeFileSync(join(dir, '.ferry', 'secrets.env'), 'SOURCE_DB_PATH=source.db\n', { mode: 0o600 });
    const fixed = await ferry(dir, ['check', '--json']);
    expect(fixed.json<{ command: string }>().command).toBe('check');
    expect(fixed.code).toBe(0);
  });
});
