import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { main } from './main.js';

async function ferry(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Readable.from([]),
    cwd,
    env: { ...process.env, ...env },
  };
  const code = await main(['node', 'ferry', ...args], io);
  return { code, stdout, stderr };
}

/** A port on 127.0.0.1 nothing listens on (opened and closed again). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-msgs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI messages', () => {
  it('ferry check says "not counted" for a CSV export instead of "?", and --count counts it', async () => {
    writeFileSync(join(dir, 'people.csv'), 'id,name\n1,Ann\n2,Bo\n3,Cy\n');
    const target = new SqliteDatabase(join(dir, 'target.db'));
    target.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)');
    target.exec("INSERT INTO contacts (name) VALUES ('x'), ('y')");
    target.close();
    writeFileSync(
      join(dir, 'ferry.yaml'),
      'version: 1\nsource: { connector: csv, path: ., objects: { people: { file: people.csv, id: id } } }\ntarget: { connector: sql, dialect: sqlite, path: target.db }\nobjects: {}\n',
    );
    const plain = await ferry(dir, {}, 'check');
    expect(plain.stdout).toMatch(/^people +2 +not counted$/m);
    expect(plain.stdout).toMatch(/^contacts +2 +2$/m);
    expect(plain.stdout).not.toMatch(/ \?$/m);
    expect(plain.stdout).toContain('`ferry check --count` does');
    const counted = await ferry(dir, {}, 'check', '--count', '--json');
    const json = JSON.parse(counted.stdout) as { source: { objects: { name: string; count?: number }[] } };
    expect(json.source.objects).toEqual([{ name: 'people', fields: 2, count: 3 }]);
  });

  it('an unreachable HubSpot (emulator not running) names the URL and the setting to check', async () => {
    const port = await closedPort();
    writeFileSync(join(dir, 'source.db'), '');
    writeFileSync(
      join(dir, 'ferry.yaml'),
      `version: 1\nsource: { connector: sql, dialect: sqlite, path: source.db }\ntarget: { connector: hubspot, accessToken: "\${HS_TOKEN}", baseUrl: "http://127.0.0.1:${port}", maxRetries: 0 }\nobjects: {}\n`,
    );
    const result = await ferry(dir, { HS_TOKEN: 'pat-test-token-1234' }, 'check');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED`);
    expect(result.stderr).toContain('check target.baseUrl in ferry.yaml');
    expect(result.stderr).toContain('ferry emulator hubspot');
    expect(result.stderr).not.toContain('pat-test-token-1234');
  });

  it('the demo story names the wizard command that exists (`ferry serve`), not "the wizard comes later"', async () => {
    const demo = await ferry(dir, {}, 'demo', '--size', '40');
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).not.toContain('comes later');
    expect(demo.stdout).toContain('`ferry serve` starts the wizard');
    const help = await ferry(dir, {}, 'serve', '--help');
    expect(help.code).toBe(0);
  }, 60_000);

  it('no message in the sources ends mid-sentence (e.g. "merged into it once that record is")', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const files: string[] = [];
    const walk = (folder: string): void => {
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) files.push(path);
      }
    };
    walk(root);
    // A message literal (after `message:` or as a FerryError's text) whose last word leaves the sentence open.
    const dangling = /(?:message:\s*|FerryError\(\s*'[A-Z_]+',\s*)([`'"])((?:(?!\1)[^\\]|\\.){12,}?)\s(is|are|the|a|an|of|that|once|into|by|with|and|or|when|if|its|their)\1/g;
    const found: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(dangling)) found.push(`${file.slice(root.length)}: ...${match[2]!.slice(-40)} ${match[3]}`);
    }
    expect(found).toEqual([]);
  });
});
