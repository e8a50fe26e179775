import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { buildRunReport } from '../../src/report/index.js';
import { applySourceChanges, sampleToPipedriveObjects, writeSampleSqlite } from '../../src/sample/index.js';
import { expectLinkedOrFailed, insertLike, sqlite } from '../support/delta-checks.js';
import { withEngine } from '../support/engine-session.js';

/**
 * Deltas in all three modes, with edits in the target and conflicts, retry and undo, under injected faults
 * (responses lost after the write, 5xx, 429 storms) and a tight burst window, for SQL -> Pipedrive and
 * Pipedrive -> SQL. Small on purpose (CI): a few dozen records per object. After every run: nothing in the
 * target twice, nothing lost (every source record is linked or listed as failed).
 *
 * The emulator's clock runs with the wall clock from a fixed epoch (its burst window must free up) and is moved
 * forward between runs, so the runs' windows do not depend on when the test runs.
 */
const SEED = 11;
/** Pipedrive's burst window, tightened: the connector adopts the limit the emulator announces. */
const BURST = { requests: 60, intervalMs: 2000 };

const sql = sqlite;

function session<T>(dir: string, project: ProjectFile, work: (engine: Engine, ledger: Ledger) => Promise<T>): Promise<T> {
  return withEngine(dir, project, work);
}

/** A clock from a fixed epoch that runs with the wall clock, plus jumps. */
function movingClock(epoch: number): { now: () => number; jump: (ms: number) => void } {
  const started = Date.now();
  let offset = 0;
  return { now: () => epoch + offset + (Date.now() - started), jump: (ms) => (offset += ms) };
}

const live = (pipedrive: PipedriveEmulator, entity: 'persons' | 'organizations' | 'deals' | 'notes'): { id: number; data: Record<string, unknown> }[] =>
  (entity === 'notes' ? pipedrive.store.notes.all() : pipedrive.store.table(entity).all()).filter((row) => !row.deleted) as unknown as { id: number; data: Record<string, unknown> }[];

describe('SQL -> Pipedrive: deltas in every mode, conflicts, retry and undo, under faults and a tight burst window', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pd-deltas-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 24 });
  });
  afterEach(async () => {
    await pipedrive?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every source row linked to one live Pipedrive record or failed; Pipedrive holds exactly the linked ones, stamped once. */
  async function expectNoDuplicateNothingLost(project: ProjectFile, pd: PipedriveEmulator): Promise<void> {
    await session(dir, project, async (_engine, ledger) => {
      for (const [name, entity] of [['companies', 'organizations'], ['contacts', 'persons'], ['deals', 'deals'], ['notes', 'notes']] as const) {
        const rows = live(pd, entity);
        const stamps = entity === 'notes' ? undefined : rows.map((row) => Object.values((row.data as { custom: Record<string, unknown> }).custom)[0]);
        await expectLinkedOrFailed(ledger, name, sql(join(dir, 'source.db'), `SELECT id FROM ${name}`).map((row) => String(row.id)), { ids: rows.map((row) => String(row.id)), stamps });
      }
    });
  }

  it('full, create-new, update-changed with target-wins, both with source-wins and a failure, retry, undo', async () => {
    const clock = movingClock(Date.UTC(2030, 0, 1, 9));
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: BURST, clock: clock.now, abuseBlock: false });
    const pd = pipedrive;
    for (const row of sql(join(dir, 'source.db'), 'SELECT email, first_name, last_name FROM owners')) pd.store.addUser({ name: `${String(row.first_name)} ${String(row.last_name)}`, email: String(row.email) });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      // The connector starts at a higher limit than Pipedrive allows and adopts the announced one.
      target: { connector: 'pipedrive', apiToken: pd.token, baseUrl: pd.url, burstLimit: 200, dealParticipants: true },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 50 },
      objects: sampleToPipedriveObjects(),
    };

    // ---- full, with lost answers, 5xx and a 429 storm on the creates.
    pd.faults.dropConnection({ afterWrite: true, path: '/api/v2/persons', method: 'POST', count: 2 });
    pd.faults.dropConnection({ afterWrite: true, path: '/api/v1/notes', method: 'POST', count: 2 });
    pd.faults.serverError(503, { path: '/api/v2/organizations', method: 'POST', count: 1 });
    pd.faults.rateLimitStorm({ path: '/api/v2/deals', method: 'POST', count: 3 });
    const full = await session(dir, project, (engine) => engine.migrate());
    expect(['completed', 'completed_with_failures']).toContain(full.status);
    expect(Object.values(pd.faults.fired()).every((count) => count > 0)).toBe(true);
    await expectNoDuplicateNothingLost(project, pd);
    pd.faults.clear();

    // ---- source changes; create-new only: new records created, changed ones left alone.
    clock.jump(3_600_000);
    const first = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 4, changedRecords: 6, at: '2031-01-01T00:00:00.000Z' });
    const personOf = async (contact: number): Promise<number> => Number((await session(dir, project, (_engine, ledger) => ledger.getLink('contacts', String(contact))))!.targetId);
    const phoneOf = (person: number): string | undefined => (pd.store.table('persons').get(person)!.data.phones as { value: string; primary: boolean }[]).find((phone) => phone.primary)?.value;
    const [conflicted, targetOnly] = first.changed.contacts;
    const conflictedPerson = await personOf(conflicted!);
    const targetOnlyPerson = await personOf(targetOnly!);
    const phoneBefore = phoneOf(conflictedPerson);
    pd.faults.dropConnection({ afterWrite: true, path: '/api/v2/persons', method: 'POST', count: 1 });
    const createNew = await session(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: false }));
    expect(createNew.status).toBe('completed');
    for (const name of ['contacts', 'companies', 'deals', 'notes'] as const) {
      const counts = createNew.counts[name]!;
      expect(counts.updated, name).toBe(0);
      expect(counts.created + counts.matched, name).toBe(first.created[name].length);
    }
    expect(phoneOf(conflictedPerson), 'create-new leaves changed records alone').toBe(phoneBefore);
    await expectNoDuplicateNothingLost(project, pd);

    // ---- people edit in Pipedrive: the phone that also changed in the source (a conflict), a name that did not.
    clock.jump(60_000);
    pd.store.update('persons', conflictedPerson, { phones: [{ value: '+49 30 1111111', primary: true, label: 'work' }] });
    pd.store.update('persons', targetOnlyPerson, { name: 'Typed in Pipedrive' });
    clock.jump(60_000);
    pd.faults.serverError(503, { path: '/api/v2/persons/*', method: 'PATCH', count: 2 });
    const updateChanged = await session(dir, project, (engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'target-wins' }));
    expect(updateChanged.status).toBe('completed');
    expect(Object.values(updateChanged.counts).reduce((sum, counts) => sum + counts.created, 0)).toBe(0);
    expect(updateChanged.counts.contacts!.updated).toBeGreaterThan(0);
    const report = await session(dir, project, (_engine, ledger) => buildRunReport(ledger, updateChanged.runId));
    expect(report.conflicts).toContainEqual(expect.objectContaining({ object: 'contacts', sourceId: String(conflicted), field: 'phone', targetValue: '+49 30 1111111', resolution: 'target-wins' }));
    expect(phoneOf(conflictedPerson), 'target-wins keeps the Pipedrive edit').toBe('+49 30 1111111');
    expect(pd.store.table('persons').get(targetOnlyPerson)!.data.name, 'a field changed only in the target is kept').toBe('Typed in Pipedrive');
    const sourcePhone = sql(join(dir, 'source.db'), 'SELECT phone FROM contacts WHERE id = ?', targetOnly)[0]!.phone as string;
    expect(phoneOf(targetOnlyPerson)?.replace(/\D/g, '')).toBe(sourcePhone.replace(/\D/g, ''));
    await expectNoDuplicateNothingLost(project, pd);

    // ---- both modes, source-wins; a new deal with a stage the value map lacks fails alone.
    clock.jump(3_600_000);
    const second = await applySourceChanges(join(dir, 'source.db'), { seed: SEED + 1, newRecords: 3, changedRecords: 4, at: '2032-01-01T00:00:00.000Z' });
    const exotic = insertLike(join(dir, 'source.db'), 'deals', second.created.deals[0]!, { stage: 'Exotic', name: 'Exotic deal' });
    pd.faults.dropConnection({ afterWrite: true, path: '/api/v2/deals', method: 'POST', count: 1 });
    pd.faults.rateLimitStorm({ path: '/api/v2/persons*', count: 2 });
    const both = await session(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true, onConflict: 'source-wins' }));
    expect(both.status).toBe('completed_with_failures');
    expect(both.counts.contacts!.created + both.counts.contacts!.matched).toBe(second.created.contacts.length);
    expect(both.counts.contacts!.updated).toBeGreaterThan(0);
    const failed = await session(dir, project, (_engine, ledger) => ledger.listFailures({ runId: both.runId, severity: 'error' }));
    expect(failed.map((failure) => [failure.object, failure.sourceId, failure.code, failure.value])).toEqual([['deals', String(exotic), 'VALUE_NOT_MAPPED', '"Exotic"']]);
    await expectNoDuplicateNothingLost(project, pd);
    const beforeRetry = { persons: live(pd, 'persons').length, deals: live(pd, 'deals').length, organizations: live(pd, 'organizations').length, notes: live(pd, 'notes').length };

    // ---- retry with the value map fixed: only the failed deal is written.
    const fixed = structuredClone(project);
    for (const field of fixed.objects.find((mapping) => mapping.source === 'deals')!.fields) {
      if (field.transform.kind === 'map' && field.target === 'stage_id') field.transform.values.Exotic = '1';
      if (field.transform.kind === 'map' && field.target === 'status') field.transform.values.Exotic = 'open';
    }
    const retry = await session(dir, fixed, (engine) => engine.retry(both.runId));
    expect(retry.counts.deals).toMatchObject({ created: 1, failed: 0 });
    expect(live(pd, 'deals')).toHaveLength(beforeRetry.deals + 1);
    await expectNoDuplicateNothingLost(fixed, pd);

    // ---- undo, newest first: the retry's deal, then the combined delta's creates and updates.
    const undoRetry = await session(dir, fixed, (engine) => engine.undo(retry.runId));
    expect(undoRetry.status).toBe('completed');
    expect(live(pd, 'deals')).toHaveLength(beforeRetry.deals);
    const undoBoth = await session(dir, fixed, (engine) => engine.undo(both.runId));
    expect(undoBoth.status).toBe('completed');
    const createdByBoth = (name: string) => both.counts[name]!.created;
    expect(live(pd, 'persons')).toHaveLength(beforeRetry.persons - createdByBoth('contacts'));
    expect(live(pd, 'organizations')).toHaveLength(beforeRetry.organizations - createdByBoth('companies'));
    expect(live(pd, 'deals')).toHaveLength(beforeRetry.deals - createdByBoth('deals'));
    expect(live(pd, 'notes')).toHaveLength(beforeRetry.notes - createdByBoth('notes'));
    // Fields the combined delta changed are back to what the update-changed delta left.
    expect(phoneOf(conflictedPerson)).toBe('+49 30 1111111');
    expect(pd.stats.status429).toBeGreaterThan(0);
  }, 120_000);
});

describe('Pipedrive -> SQL: deltas in every mode, conflicts, retry and undo, under faults and a tight burst window', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator | undefined;
  const DDL = [
    'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT UNIQUE, updated_at TEXT)',
    'CREATE TABLE organizations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
    'CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, organization_id INTEGER REFERENCES organizations(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
    'CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, status TEXT, stage TEXT, person_id INTEGER REFERENCES persons(id), organization_id INTEGER REFERENCES organizations(id), updated_at TEXT)',
    'CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, deal_id INTEGER REFERENCES deals(id), person_id INTEGER REFERENCES persons(id), updated_at TEXT)',
  ];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pd-sql-deltas-'));
    const db = new SqliteDatabase(join(dir, 'target.db'));
    for (const statement of DDL) db.exec(statement);
    db.close();
  });
  afterEach(async () => {
    await pipedrive?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('full with read faults, retry, create-new, update-changed with skip-record, both with source-wins, undo', async () => {
    const clock = movingClock(Date.UTC(2030, 5, 1, 9));
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: BURST, clock: clock.now, abuseBlock: false, seed: { sample: { seed: SEED, persons: 30 } } });
    const pd = pipedrive;
    const stageIds = pd.store.table('stages').all().map((row) => String(row.id));
    const project = (stages: string[]): ProjectFile => ({
      version: 1,
      source: { connector: 'pipedrive', apiToken: pd.token, baseUrl: pd.url, burstLimit: 200 },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 20 },
      objects: [
        object({ source: 'users', target: 'users', fields: [copy('name'), copy('email')] }),
        object({ source: 'organizations', target: 'organizations', fields: [copy('name'), copy('owner_id')] }),
        object({ source: 'persons', target: 'persons', fields: [copy('name'), copy('email'), copy('org_id', 'organization_id'), copy('owner_id')] }),
        object({
          source: 'deals',
          target: 'deals',
          fields: [copy('title'), copy('status'), { source: ['stage_id'], target: 'stage', transform: { kind: 'map', values: Object.fromEntries(stages.map((id) => [id, `stage-${id}`])), unmapped: 'fail' } }, copy('person_id'), copy('org_id', 'organization_id')],
        }),
        object({ source: 'notes', target: 'notes', fields: [copy('content', 'body'), copy('deal_id'), copy('person_id')] }),
      ],
    });
    const target = (statement: string, ...params: unknown[]) => sql(join(dir, 'target.db'), statement, ...params);
    const count = (table: string) => Number(target(`SELECT count(*) AS n FROM ${table}`)[0]!.n);
    const sqlId = (name: string, id: number) => session(dir, project(stageIds), async (_engine, ledger) => Number((await ledger.getLink(name, String(id)))!.targetId));

    /** Every live Pipedrive record linked to one SQL row or failed; SQL holds exactly the linked ones. */
    async function expectNoDuplicateNothingLost(): Promise<void> {
      await session(dir, project(stageIds), async (_engine, ledger) => {
        for (const [name, table] of [['organizations', 'organizations'], ['persons', 'persons'], ['deals', 'deals'], ['notes', 'notes']] as const) {
          const rows = live(pd, name);
          const failures = new Set((await ledger.listFailures({ object: name, unresolved: true, severity: 'error' })).map((failure) => failure.sourceId));
          const links = await ledger.getLinks(name, rows.map((row) => String(row.id)));
          const targets: number[] = [];
          for (const row of rows) {
            const id = links.get(String(row.id))?.targetId;
            if (id) targets.push(Number(id));
            else expect(failures.has(String(row.id)), `${name} ${row.id}: neither linked nor failed`).toBe(true);
          }
          expect(new Set(targets).size, `${name}: two source records on one row`).toBe(targets.length);
          expect(target(`SELECT id FROM ${table} ORDER BY id`).map((row) => Number(row.id)), `${table}: SQL holds exactly the linked records`).toEqual(targets.sort((a, b) => a - b));
        }
      });
    }

    // ---- full with 5xx, lost connections and a 429 storm on the reads; the last stage missing from the map.
    pd.faults.serverError(502, { path: '/api/v2/persons', method: 'GET', count: 2 });
    pd.faults.dropConnection({ path: '/api/v1/notes', method: 'GET', count: 1 });
    pd.faults.rateLimitStorm({ path: '/api/v2/deals', method: 'GET', count: 3 });
    const partial = project(stageIds.slice(0, -1));
    const full = await session(dir, partial, (engine) => engine.migrate());
    expect(full.status).toBe('completed_with_failures');
    expect(Object.values(pd.faults.fired()).every((fired) => fired > 0)).toBe(true);
    const lastStage = Number(stageIds.at(-1));
    const inLastStage = live(pd, 'deals').filter((row) => row.data.stage_id === lastStage).length;
    expect(inLastStage).toBeGreaterThan(0);
    expect(full.counts.deals!.failed).toBe(inLastStage);
    pd.faults.clear();

    // ---- retry with the full stage map: only those deals, once.
    const retry = await session(dir, project(stageIds), (engine) => engine.retry(full.runId));
    expect(retry.counts.deals).toMatchObject({ created: inLastStage, failed: 0 });
    await expectNoDuplicateNothingLost();

    // ---- in Pipedrive: a new person, a renamed person, a deal won; in SQL: that person renamed too (a conflict).
    clock.jump(3_600_000);
    const [renamed, other] = live(pd, 'persons');
    const otherName = String(other!.data.name);
    const openDeal = live(pd, 'deals').find((row) => row.data.status === 'open')!;
    pd.store.update('persons', renamed!.id, { name: 'Renamed in Pipedrive' });
    pd.store.update('deals', openDeal.id, { status: 'won' });
    const created = pd.store.create('persons', { name: 'New in Pipedrive', emails: [{ value: 'new.person@example.com', primary: true, label: 'work' }] });
    target('UPDATE persons SET name = ? WHERE id = ?', 'Renamed in SQL', await sqlId('persons', renamed!.id));
    target('UPDATE persons SET email = ? WHERE id = ?', 'typed.in.sql@example.com', await sqlId('persons', other!.id));
    clock.jump(60_000);

    const createNew = await session(dir, project(stageIds), (engine) => engine.delta({ createNew: true, updateChanged: false }));
    expect(createNew.counts.persons).toMatchObject({ created: 1, updated: 0, failed: 0 });
    expect(target('SELECT name FROM persons WHERE name = ?', 'New in Pipedrive')).toHaveLength(1);
    expect(target('SELECT status FROM deals WHERE id = ?', await sqlId('deals', openDeal.id))[0]!.status, 'create-new leaves changed records alone').toBe('open');

    pd.faults.serverError(503, { path: '/api/v2/deals', method: 'GET', count: 1 });
    const skip = await session(dir, project(stageIds), (engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'skip-record' }));
    expect(skip.counts.persons).toMatchObject({ created: 0, conflicts: 1 });
    expect(skip.counts.deals).toMatchObject({ created: 0, updated: 1 });
    expect(target('SELECT status FROM deals WHERE id = ?', await sqlId('deals', openDeal.id))[0]!.status).toBe('won');
    expect(target('SELECT name FROM persons WHERE id = ?', await sqlId('persons', renamed!.id))[0]!.name, 'skip-record writes nothing of the record').toBe('Renamed in SQL');
    await expectNoDuplicateNothingLost();

    // ---- the person changes again in Pipedrive: the combined delta settles the conflict by source-wins.
    clock.jump(3_600_000);
    pd.store.update('persons', renamed!.id, { name: 'Renamed again in Pipedrive' });
    pd.store.update('persons', other!.id, { name: 'Other renamed in Pipedrive' });
    const second = pd.store.create('persons', { name: 'Second new in Pipedrive' });
    clock.jump(60_000);
    pd.faults.rateLimitStorm({ path: '/api/v2/persons', method: 'GET', count: 2 });
    const both = await session(dir, project(stageIds), (engine) => engine.delta({ createNew: true, updateChanged: true, onConflict: 'source-wins' }));
    expect(both.status).toBe('completed');
    expect(both.counts.persons).toMatchObject({ created: 1, updated: 2, conflicts: 1, failed: 0 });
    expect(target('SELECT name FROM persons WHERE id = ?', await sqlId('persons', renamed!.id))[0]!.name).toBe('Renamed again in Pipedrive');
    // Changed only in SQL: kept.
    expect(target('SELECT name, email FROM persons WHERE id = ?', await sqlId('persons', other!.id))[0]).toEqual({ name: 'Other renamed in Pipedrive', email: 'typed.in.sql@example.com' });
    await expectNoDuplicateNothingLost();

    // ---- undo the combined delta: its person is gone, the names it wrote are back.
    const personsBefore = count('persons');
    const undo = await session(dir, project(stageIds), (engine) => engine.undo(both.runId));
    expect(undo.status).toBe('completed');
    expect(count('persons')).toBe(personsBefore - 1);
    expect(target('SELECT id FROM persons WHERE name = ?', 'Second new in Pipedrive')).toHaveLength(0);
    expect(target('SELECT name FROM persons WHERE id = ?', await sqlId('persons', renamed!.id))[0]!.name).toBe('Renamed in SQL');
    expect(target('SELECT name FROM persons WHERE id = ?', await sqlId('persons', other!.id))[0]!.name).toBe(otherName);
    expect(second.id).toBeGreaterThan(created.id);
    expect(pd.stats.status429).toBeGreaterThan(0);
  }, 120_000);
});
