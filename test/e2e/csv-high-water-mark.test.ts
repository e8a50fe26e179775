import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnector, createSourceConnector } from '../../src/connectors/registry.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';

/**
 * An export has no clock: a run on it takes its high-water mark from its data (the newest modified value),
 * not from the machine's clock, which is later than the export. Records edited in the CRM after export A
 * was taken, but before the migration ran, carry modified values older than the machine's clock at the
 * migration; with the local clock as the mark, the delta on export B would never read them.
 *
 * Every instant is in 2024, long before any clock this test runs under, and fixed in the data.
 */
const T = '2024-03-01T12:00:00.000Z';

const EXPORT_A = {
  'companies.csv': ['id,name,domain,updated_at', '1,Acme,acme.test,2024-02-20T09:00:00Z', '2,Globex,globex.test,2024-03-01T12:00:00Z'],
  'contacts.csv': [
    'id,first_name,email,company_id,updated_at',
    '1,Jane,jane@acme.test,1,2024-02-25T10:00:00Z',
    '2,John,john@acme.test,1,2024-03-01T11:00:00Z',
    '3,Mia,mia@globex.test,2,2024-02-28T08:00:00Z',
  ],
};

/** Export B, taken later: John was edited after export A (modified between T and now), Lena is new. */
const EXPORT_B = {
  'companies.csv': EXPORT_A['companies.csv'],
  'contacts.csv': [
    'id,first_name,email,company_id,updated_at',
    '1,Jane,jane@acme.test,1,2024-02-25T10:00:00Z',
    '2,Johnny,john@acme.test,2,2024-03-01T15:00:00Z',
    '3,Mia,mia@globex.test,2,2024-02-28T08:00:00Z',
    '4,Lena,lena@globex.test,2,2024-03-01T16:00:00Z',
  ],
};

describe('a CSV source takes its high-water mark from its data', () => {
  let dir: string;
  let project: ProjectFile;

  function writeExport(files: Record<string, string[]>): void {
    mkdirSync(join(dir, 'export'), { recursive: true });
    for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, 'export', name), `${lines.join('\n')}\n`);
  }

  /** What one CLI invocation gets: fresh connectors, ledger handle and engine. */
  async function run<T>(work: (engine: Engine, ledger: Ledger) => Promise<T>): Promise<T> {
    const source = createSourceConnector(project, { baseDir: dir });
    const target = createConnector(project.target, { baseDir: dir, role: 'target' });
    const ledger = await Ledger.open(join(dir, 'state.db'));
    try {
      return await work(new Engine({ project, source, target, ledger, progress: new ProgressStream() }), ledger);
    } finally {
      await source.close();
      await target.close();
      await ledger.close();
    }
  }

  function targetContacts(): { firstname: string; email: string; company: string | null }[] {
    const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
    try {
      return db
        .prepare('SELECT c.firstname, c.email, co.name AS company FROM contacts c LEFT JOIN companies co ON co.id = c.company_id ORDER BY c.email')
        .all() as { firstname: string; email: string; company: string | null }[];
    } finally {
      db.close();
    }
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-csv-hwm-'));
    const db = new SqliteDatabase(join(dir, 'target.db'));
    db.exec(`
      CREATE TABLE companies (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, domain TEXT);
      CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, firstname TEXT, email TEXT, company_id INTEGER REFERENCES companies(id));
    `);
    db.close();
    project = {
      version: 1,
      source: { connector: 'csv', path: 'export' },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 2, pageSize: 2 },
      objects: [
        objectMapping({ source: 'companies', target: 'companies', fields: [copyField('name'), copyField('domain')] }),
        objectMapping({ source: 'contacts', target: 'contacts', fields: [copyField('first_name', 'firstname'), copyField('email'), copyField('company_id')] }),
      ],
    };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a delta on a later export reads the records edited and created after the first export, in both modes', async () => {
    writeExport(EXPORT_A);
    const full = await run((engine) => engine.migrate());
    expect(full.status).toBe('completed');
    expect(full.counts.contacts).toMatchObject({ read: 3, created: 3 });
    // The mark is export A's newest modified value, not the machine's clock (years later).
    const fullRun = await run((_engine, ledger) => ledger.requireRun(full.runId));
    expect(fullRun.highWaterMark).toBe(T);

    writeExport(EXPORT_B);
    const delta = await run((engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    // The window starts at T (CSV has no lookback): John (edited at T + 3 h) and Lena (T + 4 h) are in it.
    const deltaRun = await run((_engine, ledger) => ledger.requireRun(delta.runId));
    expect(deltaRun.options.lowerBound).toBe(T);
    expect(deltaRun.highWaterMark).toBe('2024-03-01T16:00:00.000Z');
    expect(delta.counts.contacts).toMatchObject({ read: 2, created: 1, updated: 1, failed: 0 });
    expect(delta.counts.companies).toMatchObject({ read: 1, created: 0, updated: 0, unchanged: 1 });
    expect(targetContacts()).toEqual([
      { firstname: 'Jane', email: 'jane@acme.test', company: 'Acme' },
      { firstname: 'Johnny', email: 'john@acme.test', company: 'Globex' },
      { firstname: 'Lena', email: 'lena@globex.test', company: 'Globex' },
      { firstname: 'Mia', email: 'mia@globex.test', company: 'Globex' },
    ]);

    // The same export again: its window starts at its own newest value, and nothing is written.
    const again = await run((engine) => engine.delta({ createNew: true, updateChanged: true }));
    for (const [object, counts] of Object.entries(again.counts)) {
      expect({ object, created: counts.created, updated: counts.updated }).toEqual({ object, created: 0, updated: 0 });
    }
  });
});
