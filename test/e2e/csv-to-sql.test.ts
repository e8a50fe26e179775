import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector } from '../../src/connectors/registry.js';
import type { Connector } from '../../src/core/connector.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { proposeMapping } from '../../src/project/propose-mapping.js';
import type { ProjectFile } from '../../src/project/types.js';
import { createDemoTargetSqlite, writeSampleCsv } from '../../src/sample/index.js';

/**
 * A CRM that lives in a folder of CSV exports moved into a SQL database, the way a consultant would:
 * proposed mapping, full migration with relations, a second run that changes nothing, and a broken row
 * in an export that fails alone with its line number.
 */
describe('CSV exports into SQLite', () => {
  let dir: string;
  let project: ProjectFile;
  let source: Connector;
  let target: Connector;
  let ledger: Ledger;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-csv-e2e-'));
    await writeSampleCsv(join(dir, 'export'), { seed: 3, size: 240 });
    await createDemoTargetSqlite(join(dir, 'target.db'), { seed: 3, size: 240 });
    // A row whose quoting is broken, as hand-edited exports have.
    appendFileSync(join(dir, 'export', 'notes.csv'), '99999,"unterminated,,,,\n');
    const sourceConfig = { connector: 'csv', path: 'export', objects: { companies: { references: { parent_company_id: 'companies' } } } };
    const targetConfig = { connector: 'sql', dialect: 'sqlite', path: 'target.db' };
    source = createConnector(sourceConfig, { baseDir: dir, role: 'source' });
    target = createConnector(targetConfig, { baseDir: dir, role: 'target' });
    ledger = await Ledger.open(join(dir, 'state.db'));
    const sourceSchema = await source.describe();
    const targetSchema = await target.describe();
    const draft = new Engine({
      project: { version: 1, source: sourceConfig, target: targetConfig, sourceTimeZone: 'UTC', objects: [], options: { demoSampleSize: 5, pageSize: 100 } },
      source,
      target,
      ledger,
      progress: new ProgressStream(),
      sourceSchema,
      targetSchema,
    });
    ({ project } = await proposeMapping({ sourceSchema, targetSchema, source: sourceConfig, target: targetConfig, sampleValues: (object, field) => draft.sampleSourceValues(object, field) }));
    project.options.pageSize = 100;
  });
  afterAll(async () => {
    await source.close();
    await target.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const engine = () => new Engine({ project, source, target, ledger, progress: new ProgressStream() });

  it('migrates every object with its relations, and reports the broken row by its line', async () => {
    const result = await engine().migrate();
    expect(result.counts.contacts!.read).toBe(240);
    expect(result.counts.contacts!.created + result.counts.contacts!.matched + result.counts.contacts!.failed).toBeGreaterThanOrEqual(240 - 10);
    expect(result.counts.deals!.created).toBeGreaterThan(0);
    expect(result.counts.notes!.created).toBeGreaterThan(0);
    const unreadable = (await ledger.listFailures({ runId: result.runId, object: 'notes' })).filter((failure) => failure.code === 'CSV_ROW_INVALID');
    expect(unreadable).toEqual([expect.objectContaining({ sourceId: 'line 433', message: expect.stringContaining('notes.csv line 433') as unknown })]);

    const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
    try {
      // Every deal created from the export has its contacts (the deal_contacts.csv join file) and company,
      // unless its contacts could not be migrated: then the deal carries a warning naming them.
      const dealsWithoutContacts = db
        .prepare('SELECT d.ferry_source_id AS id FROM deals d WHERE d.ferry_source_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deal_contacts dc WHERE dc.deal_id = d.id)')
        .all() as { id: string }[];
      const warned = new Set(
        (await ledger.listFailures({ runId: result.runId, object: 'deals' })).filter((failure) => failure.code === 'REFERENCE_MISSING' && failure.field === 'contacts').map((failure) => failure.sourceId),
      );
      expect(dealsWithoutContacts.filter((deal) => !warned.has(deal.id))).toEqual([]);
      const linkedDeals = db.prepare('SELECT COUNT(DISTINCT deal_id) AS n FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id WHERE d.ferry_source_id IS NOT NULL').get() as { n: number };
      expect(linkedDeals.n).toBeGreaterThan(result.counts.deals!.created * 0.9);
      const dealsWithoutCompany = db.prepare('SELECT ferry_source_id AS id FROM deals WHERE ferry_source_id IS NOT NULL AND company_id IS NULL').all() as { id: string }[];
      const companyWarned = new Set(
        (await ledger.listFailures({ runId: result.runId, object: 'deals' })).filter((failure) => failure.code === 'REFERENCE_MISSING' && failure.field === 'company_id').map((failure) => failure.sourceId),
      );
      const withoutCompanyInSource = new Set(
        (await source.readByIds('deals', dealsWithoutCompany.map((deal) => deal.id))).filter((deal) => deal.fields.company_id === null).map((deal) => deal.id),
      );
      expect(dealsWithoutCompany.filter((deal) => !companyWarned.has(deal.id) && !withoutCompanyInSource.has(deal.id))).toEqual([]);
      const duplicated = db.prepare('SELECT COUNT(*) AS n FROM (SELECT ferry_source_id FROM contacts WHERE ferry_source_id IS NOT NULL GROUP BY ferry_source_id HAVING COUNT(*) > 1)').get() as {
        n: number;
      };
      expect(duplicated.n).toBe(0);
    } finally {
      db.close();
    }
  });

  it('a second full migration of the same export writes nothing', async () => {
    const again = await engine().migrate();
    for (const [object, counts] of Object.entries(again.counts)) {
      expect({ object, created: counts.created, updated: counts.updated }).toEqual({ object, created: 0, updated: 0 });
    }
  });
});
