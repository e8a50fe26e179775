import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { buildRunReport, renderReport } from '../../src/report/index.js';
import { createConnector } from '../../src/connectors/registry.js';
import { FerryError } from '../../src/core/errors.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { withEngine } from '../support/engine-session.js';

/**
 * Deletions in Pipedrive are reported by a delta and never propagated: a person (no tombstone list: found
 * as a known id that is gone) and a deal (a tombstone of `status=deleted`) deleted after the full migration
 * are named in the delta's messages and report with their target ids, and the target keeps both rows.
 */
const DDL = [
  'CREATE TABLE organizations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, updated_at TEXT)',
  'CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, organization_id INTEGER REFERENCES organizations(id), updated_at TEXT)',
  'CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, status TEXT, person_id INTEGER REFERENCES persons(id), organization_id INTEGER REFERENCES organizations(id), updated_at TEXT)',
];

function count(path: string, table: string): number {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('Pipedrive deletions in a delta', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pipedrive-deletions-'));
    const db = new SqliteDatabase(join(dir, 'target.db'));
    for (const statement of DDL) db.exec(statement);
    db.close();
  });
  afterEach(async () => {
    await pipedrive?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const projectFor = (pd: PipedriveEmulator, settings: Record<string, unknown> = {}): ProjectFile => ({
    version: 1,
    source: { connector: 'pipedrive', apiToken: pd.token, baseUrl: pd.url, burstLimit: 10_000, ...settings },
    target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: 100 },
    objects: [
      object({ source: 'organizations', target: 'organizations', fields: [copy('name')] }),
      object({ source: 'persons', target: 'persons', fields: [copy('name'), copy('email'), copy('org_id', 'organization_id')] }),
      object({ source: 'deals', target: 'deals', fields: [copy('title'), copy('status'), copy('person_id'), copy('org_id', 'organization_id')] }),
    ],
  });

  it('with checkDeletedById: false only deals are reported; a deletion report that fails is said and does not stop the delta', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 }, seed: 'sample', clock: () => now });
    const project = projectFor(pipedrive, { checkDeletedById: false });
    expect((await withEngine(dir, project, (engine) => engine.migrate())).status).toBe('completed');
    now += 3_600_000;
    const person = pipedrive.store.table('persons').all()[0]!;
    const deal = pipedrive.store.table('deals').all()[0]!;
    pipedrive.store.remove('persons', person.id);
    pipedrive.store.remove('deals', deal.id);
    now += 60_000;
    const delta = await withEngine(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true, dryRun: true }));
    expect(delta.messages.filter((text) => text.includes('deleted in the source')).map((text) => text.split(':')[0])).toEqual(['deals']);

    // A source whose deletion report fails: the delta completes and says so.
    const ledger = await Ledger.open(project.state!, { baseDir: dir });
    const source = createConnector(project.source, { baseDir: dir, role: 'source' });
    const target = createConnector(project.target, { baseDir: dir, role: 'target' });
    try {
      source.readDeletions = async () => {
        throw new FerryError('RATE_LIMITED', 'daily API budget reached');
      };
      const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream() });
      const failing = await engine.delta({ createNew: true, updateChanged: true });
      expect(failing.status).toBe('completed');
      expect(failing.messages).toContain("deals: the source's deletions could not be read (RATE_LIMITED: daily API budget reached); the next delta looks again.");
    } finally {
      await source.close();
      await target.close();
      await ledger.close();
    }
  });

  it('reports a deleted person and a deleted deal with their target ids, once, and deletes nothing', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 }, seed: 'sample', clock: () => now });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000 },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'organizations', target: 'organizations', fields: [copy('name')] }),
        object({ source: 'persons', target: 'persons', fields: [copy('name'), copy('email'), copy('org_id', 'organization_id')] }),
        object({ source: 'deals', target: 'deals', fields: [copy('title'), copy('status'), copy('person_id'), copy('org_id', 'organization_id')] }),
      ],
    };
    const full = await withEngine(dir, project, (engine) => engine.migrate());
    expect(full.status).toBe('completed');
    const target = join(dir, 'target.db');
    const before = { persons: count(target, 'persons'), deals: count(target, 'deals') };

    now += 3_600_000;
    const person = pipedrive.store.table('persons').all()[1]!;
    const deal = pipedrive.store.table('deals').all()[2]!;
    pipedrive.store.remove('persons', person.id);
    pipedrive.store.remove('deals', deal.id);
    const { personTarget, dealTarget } = await withEngine(dir, project, async (_engine, ledger) => ({
      personTarget: (await ledger.getLink('persons', String(person.id)))!.targetId!,
      dealTarget: (await ledger.getLink('deals', String(deal.id)))!.targetId!,
    }));

    // A dry run sees them too, and does not count as having reported them.
    const dry = await withEngine(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true, dryRun: true }));
    expect(dry.messages.filter((text) => text.includes('deleted in the source'))).toHaveLength(2);

    now += 60_000;
    const delta = await withEngine(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.messages).toContain(`persons: deleted in the source since the last run: 1 — not propagated, the target keeps them (source id -> target id: ${person.id} -> ${personTarget}).`);
    expect(delta.messages).toContain(`deals: deleted in the source since the last run: 1 — not propagated, the target keeps them (source id -> target id: ${deal.id} -> ${dealTarget}).`);
    expect({ persons: count(target, 'persons'), deals: count(target, 'deals') }).toEqual(before);
    expect(Object.values(delta.counts).reduce((sum, counts) => sum + counts.deleted + counts.failed, 0)).toBe(0);

    const report = await withEngine(dir, project, (_engine, ledger) => buildRunReport(ledger, delta.runId));
    const deleted = report.warnings.filter((warning) => warning.code === 'DELETED_IN_SOURCE');
    expect(deleted.map((warning) => [warning.object, warning.sourceId]).sort()).toEqual([['deals', String(deal.id)], ['persons', String(person.id)]].sort());
    expect(deleted.find((warning) => warning.object === 'deals')!.message).toContain(`deals ${dealTarget} is kept in the target`);
    const text = renderReport(report, 'text');
    expect(text).toContain('Deleted in the source, not propagated: 2 (the target keeps them)');
    expect(text).not.toContain('written with a problem');
    // Reported, not open: nothing for retry, no open failures.
    expect(report.openFailures.total).toBe(0);

    // The next delta does not report them again.
    now += 60_000;
    const next = await withEngine(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(next.messages.filter((text) => text.includes('deleted in the source since the last run'))).toEqual([]);
    expect({ persons: count(target, 'persons'), deals: count(target, 'deals') }).toEqual(before);
  });
});
