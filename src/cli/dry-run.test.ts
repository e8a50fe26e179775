import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../ledger/index.js';
import { ferry as runCli } from '../../test/cli/run-cli.js';

/** The CLI in-process with captured output (test/cli/run-cli.ts), with this process's environment. */
const ferry = (cwd: string, ...args: string[]) => runCli(cwd, args, process.env);

interface FailureJson {
  object: string;
  sourceId: string;
  code: string;
  field: string | null;
  value: string | null;
  message: string;
}

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-dry-'));
  expect((await ferry(dir, 'sample-data', '--size', '60', '--seed', '3', '--output', 'source.db', '--target-output', 'target.db', '--json')).code).toBe(0);
  expect((await ferry(dir, 'init')).code).toBe(0);
  expect((await ferry(dir, 'map', '--json')).code).toBe(0);
  // Two deals whose values the mapping cannot convert: a failure per record, known before any write.
  const source = new SqliteDatabase(join(dir, 'source.db'));
  try {
    source.prepare("UPDATE deals SET amount = 'lots' WHERE id = 2").run();
    source.prepare("UPDATE deals SET stage = 'Lost in space' WHERE id = 3").run();
  } finally {
    source.close();
  }
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a dry run and its would-be failures: one source for the summary, --json and the report', () => {
  it('names the same records, fields and values in the text summary, --json and the HTML report, and leaves no open failure', async () => {
    const json = await ferry(dir, 'migrate', '--dry-run', '--json');
    expect(json.code).toBe(3);
    const result = JSON.parse(json.stdout) as {
      runId: number;
      dryRun: boolean;
      totals: { failed: number };
      failures: { total: number; byCode: Record<string, number>; records: FailureJson[] };
      openFailures: { total: number };
    };
    expect(result.dryRun).toBe(true);
    const deals = result.failures.records.filter((failure) => failure.object === 'deals');
    expect(deals).toEqual([
      expect.objectContaining({ sourceId: '2', code: 'INVALID_VALUE', field: 'amount', value: '"lots"' }),
      expect.objectContaining({ sourceId: '3', code: 'VALUE_NOT_MAPPED', field: 'dealstage', value: '"Lost in space"' }),
    ]);
    // The counts and the listed failures agree (before: counts 172, failures.total 0).
    expect(result.failures.total).toBe(result.totals.failed);
    expect(result.failures.total).toBe(result.failures.records.length);
    // A forecast is never an open failure: nothing to retry, nothing counted as outstanding.
    expect(result.openFailures.total).toBe(0);

    const text = await ferry(dir, 'migrate', '--dry-run');
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(`  would fail: ${result.failures.total}\n`);
    expect(text.stdout).toContain(`Would fail: ${result.failures.total} records`);
    expect(text.stdout).toContain('deals 2 amount = "lots": INVALID_VALUE');
    expect(text.stdout).toContain('deals 3 dealstage = "Lost in space": VALUE_NOT_MAPPED');

    const runId = result.runId;
    const html = await ferry(dir, 'report', String(runId), '--format', 'html', '--output', 'report.html');
    expect(html.code).toBe(0);
    const page = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(page).toContain(`Would fail (${result.failures.total} records)`);
    for (const failure of result.failures.records) {
      expect(page).toContain(`<td>${failure.sourceId}</td>`);
    }
    expect(page).toContain('<td>amount</td><td>&quot;lots&quot;</td>');
    expect(page).toContain('<td>dealstage</td><td>&quot;Lost in space&quot;</td>');

    const report = await ferry(dir, 'report', String(runId));
    expect(report.stdout).toContain(`Would fail (dry run, nothing was written): ${result.failures.total} records`);

    const ledger = await Ledger.open(join(dir, '.ferry', 'state.db'));
    try {
      expect(await ledger.countOpenFailures()).toBe(0);
      expect(await ledger.listFailures({ runId, severity: 'error' })).toHaveLength(result.failures.total);
    } finally {
      await ledger.close();
    }

    // A dry run wrote nothing: retry and undo say so instead of acting on it.
    const retry = await ferry(dir, 'retry', String(runId), '--json');
    expect(retry.code).toBe(2);
    expect(retry.stdout).toContain('was a dry run');
    const undo = await ferry(dir, 'undo', String(runId), '--json');
    expect(undo.code).toBe(2);
    expect(undo.stdout).toContain('was a dry run');

    // The real run fails the same records, and they are open failures then.
    const real = JSON.parse((await ferry(dir, 'migrate', '--json')).stdout) as typeof result;
    expect(real.failures.records.filter((failure) => failure.object === 'deals').map((failure) => [failure.sourceId, failure.code])).toEqual(
      deals.map((failure) => [failure.sourceId, failure.code]),
    );
    expect(real.openFailures.total).toBeGreaterThanOrEqual(deals.length);
  }, 60_000);
});

describe('a dry run streams like the real run', () => {
  it('forecasts 200,000 CSV rows within a 64 MB heap (it kept every would-be link in memory: 96 MB ran out)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ferry-dry-heap-'));
    try {
      const rows = ['id,name,email'];
      for (let id = 1; id <= 200_000; id++) rows.push(`${id},Person ${id},p${id}@example.com`);
      writeFileSync(join(folder, 'people.csv'), `${rows.join('\n')}\n`);
      const target = new SqliteDatabase(join(folder, 'target.db'));
      target.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, email TEXT)');
      target.close();
      writeFileSync(
        join(folder, 'ferry.yaml'),
        [
          'version: 1',
          'source: { connector: csv, path: ., objects: { people: { file: people.csv, id: id } } }',
          'target: { connector: sql, dialect: sqlite, path: target.db }',
          'objects:',
          '  people:',
          '    target: contacts',
          '    fields: { name: name, email: email }',
          'options: { pageSize: 1000 }',
          '',
        ].join('\n'),
      );
      const entry = fileURLToPath(new URL('./entry.ts', import.meta.url));
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          ['--max-old-space-size=64', '--import', tsx, entry, 'migrate', '--dry-run', '--json'],
          { cwd: folder, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      });
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      const json = JSON.parse(result.stdout) as { dryRun: boolean; totals: { read: number; created: number; failed: number } };
      expect(json).toMatchObject({ dryRun: true, totals: { read: 200_000, created: 200_000, failed: 0 } });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
