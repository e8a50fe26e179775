import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ferry } from './run-cli.js';

/**
 * onInvalid: empty through the real engine: a CSV export into SQLite, one contact with an invalid e-mail
 * address. The contact arrives with the e-mail empty and everything else written; the run records a warning
 * naming the record, field and value, which `migrate --json` counts and `report --json` lists.
 * The same file reads German-formatted amounts through sourceLocale.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-oninvalid-'));
  mkdirSync(join(dir, 'export'));
  writeFileSync(
    join(dir, 'export', 'people.csv'),
    ['id,name,mail,revenue', '1,Anna Schmidt,anna@example.de,"1.234,56"', '2,Bernd Meyer,bernd(at)example.de,"12.000"', '3,Carla Vogel,carla@example.de,"0,5"', ''].join('\n'),
  );
  const db = new SqliteDatabase(join(dir, 'target.db'));
  db.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT, revenue REAL, ferry_source_id TEXT)');
  db.close();
  writeFileSync(
    join(dir, 'ferry.yaml'),
    `version: 1
source:
  connector: csv
  path: export
  objects:
    people:
      fields:
        revenue: { type: string }
target:
  connector: sql
  dialect: sqlite
  path: target.db
sourceLocale: de-DE
objects:
  people:
    target: contacts
    fields:
      name: name
      mail: { target: email, onInvalid: empty }
      revenue: revenue
`,
  );
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('onInvalid: empty through ferry migrate', () => {
  it('writes the record with the field empty and records a warning naming record, field and value', async () => {
    const migrate = await ferry(dir, ['migrate', '--json']);
    const summary = migrate.json<{ runId: number; counts: Record<string, { created: number; failed: number }>; warnings: { total: number; byCode: Record<string, number> } }>();
    expect(migrate.code, migrate.stdout).toBe(0);
    expect(summary.counts.people).toMatchObject({ created: 3, failed: 0 });
    expect(summary.warnings).toMatchObject({ total: 1, byCode: { INVALID_VALUE: 1 } });
    expect((summary.warnings as unknown as { records: unknown[] }).records).toEqual([
      expect.objectContaining({ object: 'people', sourceId: '2', field: 'email', code: 'INVALID_VALUE', message: expect.stringContaining('bernd(at)example.de') }),
    ]);

    const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT name, email, revenue, ferry_source_id AS source FROM contacts ORDER BY ferry_source_id').all();
      expect(rows).toEqual([
        { name: 'Anna Schmidt', email: 'anna@example.de', revenue: 1234.56, source: '1' },
        { name: 'Bernd Meyer', email: null, revenue: 12000, source: '2' },
        { name: 'Carla Vogel', email: 'carla@example.de', revenue: 0.5, source: '3' },
      ]);
    } finally {
      db.close();
    }

    const report = await ferry(dir, ['report', String(summary.runId), '--format', 'json']);
    expect(report.code).toBe(0);
    const parsed = JSON.parse(report.stdout) as { warnings: { object: string; sourceId: string; field: string; value: string; code: string; message: string }[]; failures: unknown[] };
    expect(parsed.failures).toEqual([]);
    expect(parsed.warnings).toEqual([
      expect.objectContaining({
        object: 'people',
        sourceId: '2',
        field: 'email',
        value: '"bernd(at)example.de"',
        code: 'INVALID_VALUE',
        message: 'people 2: contacts.email: "bernd(at)example.de" is not a valid e-mail address; written empty (onInvalid: empty)',
      }),
    ]);
  });

  it('without onInvalid the same record fails and the others are written', async () => {
    writeFileSync(join(dir, 'ferry.yaml'), readFileSync(join(dir, 'ferry.yaml'), 'utf8').replace('{ target: email, onInvalid: empty }', 'email'));
    const migrate = await ferry(dir, ['migrate', '--json']);
    const summary = migrate.json<{ counts: Record<string, { created: number; failed: number }> }>();
    expect(migrate.code).toBe(3);
    expect(summary.counts.people).toMatchObject({ created: 2, failed: 1 });
  });
});
