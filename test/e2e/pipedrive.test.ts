import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { withEngine } from '../support/engine-session.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { applySourceChanges, canonicalSampleStage, PIPEDRIVE_STAGE_IDS, PIPEDRIVE_STATUS, SOURCE_ACTIVITY_TYPE_SPELLINGS, sampleToPipedriveObjects, writeSampleSqlite } from '../../src/sample/index.js';

/**
 * Migrations into and out of Pipedrive through the engine, against the Pipedrive emulator in-process:
 * the sample "legacy CRM" (SQLite) into Pipedrive with owners matched by e-mail, organizations, persons,
 * deals with stage, status and participants, notes, and (in the full migration test) activities by type with
 * their deal, person and owner; then a delta with a Pipedrive-side edit and undo.
 * And Pipedrive's sample company into SQLite, full then delta after edits made in Pipedrive.
 */
const FAST = { burstLimit: { requests: 100_000, intervalMs: 2000 } };
const SEED = 5;

/** `withSession(dir, project, ({ engine, ledger }) => ...)`: one CLI invocation's engine (test/support/engine-session.ts). */
function withSession<T>(dir: string, project: ProjectFile, work: (session: { engine: Engine; ledger: Ledger }) => Promise<T>): Promise<T> {
  return withEngine(dir, project, (engine, ledger) => work({ engine, ledger }));
}

function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

const canonicalStage = canonicalSampleStage;
const STAGE_IDS = PIPEDRIVE_STAGE_IDS;
const STATUS = PIPEDRIVE_STATUS;

/** The sample's logged calls, meetings and e-mails as Pipedrive activities of those types (every spelling mapped). */
const ACTIVITY_TYPES = Object.fromEntries(Object.entries(SOURCE_ACTIVITY_TYPE_SPELLINGS).flatMap(([type, spellings]) => spellings.map((spelling) => [spelling, type])));
const activitiesMapping = object({
  source: 'activities',
  target: 'activities',
  fields: [
    copy('subject'),
    { source: ['type'], target: 'type', transform: { kind: 'map', values: ACTIVITY_TYPES, unmapped: 'fail' } },
    copy('body', 'note'),
    { source: ['activity_date'], target: 'due_date', transform: { kind: 'date' } },
    copy('deal_id'),
    copy('contact_id', 'person_id'),
    copy('company_id', 'org_id'),
    copy('owner_id'),
  ],
});

function sqlToPipedriveProject(dir: string, pipedrive: PipedriveEmulator): ProjectFile {
  return {
    version: 1,
    source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
    target: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000, dealParticipants: true },
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: 100 },
    objects: sampleToPipedriveObjects(),
  };
}

describe('SQL (sample data) -> Pipedrive, through the engine', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pipedrive-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 60 });
  });
  afterEach(async () => {
    await pipedrive?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run reports the token cost: what its reads spent plus the forecast writes, and what is left today', async () => {
    pipedrive = await startPipedriveEmulator({ port: 0, ...FAST });
    const project = sqlToPipedriveProject(dir, pipedrive);
    const dry = await withSession(dir, project, (session) => session.engine.migrate({ dryRun: true }));
    expect(dry.dryRun).toBe(true);
    expect(pipedrive.store.table('persons').all()).toHaveLength(0);
    const created = Object.values(dry.counts).reduce((sum, counts) => sum + counts.created, 0);
    expect(created).toBeGreaterThan(0);
    expect(dry.estimate?.cost).toEqual({ unit: 'tokens', amount: pipedrive.stats.tokens + created * 5, remaining: 60_000 - pipedrive.stats.tokens });
  });

  it('stops before the daily token budget is spent, resumably, and the same command resumes it after the reset with nothing doubled', async () => {
    pipedrive = await startPipedriveEmulator({ port: 0, ...FAST, dailyBudget: 800 });
    for (const row of rows(join(dir, 'source.db'), 'SELECT email FROM owners')) pipedrive.store.addUser({ name: String(row.email), email: String(row.email) });
    const project = sqlToPipedriveProject(dir, pipedrive);
    (project.target as Record<string, unknown>).tokenReserve = 200;
    const stopped = withSession(dir, project, (session) => session.engine.migrate());
    await expect(stopped).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(stopped).rejects.toThrow(/daily API budget reached .*before the budget is spent, and is resumable/);
    expect(pipedrive.stats.status429).toBe(0);
    expect(pipedrive.limits.usedToday()).toBeLessThanOrEqual(800 - 200);
    const interrupted = await withSession(dir, project, async ({ ledger }) => {
      const runs = await ledger.unfinishedRuns();
      expect(runs).toHaveLength(1);
      expect(runs[0]!.error).toMatch(/RATE_LIMITED/);
      return runs[0]!;
    });
    const before = pipedrive.store.table('persons').all().length + pipedrive.store.table('organizations').all().length;
    expect(before).toBeGreaterThan(0);

    pipedrive.limits.resetDaily(1_000_000); // midnight
    const resumed = await withSession(dir, project, (session) => session.engine.migrate());
    expect(resumed).toMatchObject({ runId: interrupted.id, resumed: true });
    expect(['completed', 'completed_with_failures']).toContain(resumed.status);
    await withSession(dir, project, async ({ ledger }) => {
      expect(await ledger.unfinishedRuns()).toHaveLength(0);
      for (const [name, entity] of [['companies', 'organizations'], ['contacts', 'persons'], ['deals', 'deals']] as const) {
        const live = pipedrive.store.table(entity).all().filter((row) => !row.deleted);
        const stamps = live.map((row) => Object.values((row.data as { custom: Record<string, unknown> }).custom)[0]);
        expect(new Set(stamps).size, `${name}: a source id stamped twice`).toBe(stamps.length);
        const ids = rows(join(dir, 'source.db'), `SELECT id FROM ${name}`).map((row) => String(row.id));
        const links = await ledger.getLinks(name, ids);
        const failures = new Set((await ledger.listFailures({ object: name, unresolved: true })).map((failure) => failure.sourceId));
        for (const id of ids) expect(links.get(id)?.targetId !== undefined && links.get(id)?.targetId !== null ? true : failures.has(id), `${name} ${id}`).toBe(true);
      }
    });
  });

  it('retry writes the records a broken value map failed, naming field and value, without duplicating anything', async () => {
    pipedrive = await startPipedriveEmulator({ port: 0, ...FAST });
    for (const row of rows(join(dir, 'source.db'), 'SELECT email FROM owners')) pipedrive.store.addUser({ name: String(row.email), email: String(row.email) });
    const project = sqlToPipedriveProject(dir, pipedrive);
    const broken = structuredClone(project);
    const stage = broken.objects.find((mapping) => mapping.source === 'deals')!.fields.find((field) => field.target === 'stage_id')!;
    if (stage.transform.kind === 'map') for (const [value, mapped] of Object.entries(stage.transform.values)) if (mapped === '5') stage.transform.values[value] = '55';
    const full = await withSession(dir, broken, (session) => session.engine.migrate());
    const failedDeals = full.counts.deals!.failed;
    expect(failedDeals).toBeGreaterThan(0);
    await withSession(dir, broken, async ({ ledger }) => {
      const failures = (await ledger.listFailures({ runId: full.runId, object: 'deals' })).filter((failure) => failure.severity === 'error');
      expect(failures).toHaveLength(failedDeals);
      for (const failure of failures) expect(failure).toMatchObject({ code: 'INVALID_VALUE', field: 'stage_id', value: '"55"' });
    });
    const sourceDeals = rows(join(dir, 'source.db'), 'SELECT id FROM deals').length;
    expect(pipedrive.store.table('deals').all()).toHaveLength(sourceDeals - failedDeals);
    const retry = await withSession(dir, project, (session) => session.engine.retry(full.runId));
    expect(retry.counts.deals).toMatchObject({ created: failedDeals, failed: 0 });
    expect(pipedrive.store.table('deals').all()).toHaveLength(sourceDeals);
  });

  it('full migration with relations and owners, a delta with a Pipedrive-side edit, undo; nothing duplicated or lost', async () => {
    pipedrive = await startPipedriveEmulator({ port: 0, ...FAST });
    for (const row of rows(join(dir, 'source.db'), 'SELECT email, first_name, last_name FROM owners')) pipedrive.store.addUser({ name: `${String(row.first_name)} ${String(row.last_name)}`, email: String(row.email) });
    // Lost answers on the first creates: the external-id custom field finds them again.
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v2/persons', method: 'POST', count: 2 });
    pipedrive.faults.serverError(503, { path: '/api/v2/deals', method: 'POST', count: 1 });
    // An activity has no custom field to stamp: its lost create is found as its twin.
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v2/activities', method: 'POST', count: 1 });
    const base = sqlToPipedriveProject(dir, pipedrive);
    const project = { ...base, objects: [...base.objects, activitiesMapping] };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    // The run tells what it spent of the company's daily token budget.
    expect(full.messages).toContainEqual(expect.stringMatching(/^target \(pipedrive\): [\d,]+ tokens of the daily API budget spent, [\d,]+ left today\.$/));
    // Every injected fault fired (the idempotent creates were exercised).
    expect(Object.values(pipedrive.faults.fired()).every((count) => count > 0)).toBe(true);
    const source = (table: string) => rows(join(dir, 'source.db'), `SELECT * FROM ${table}`);
    await withSession(dir, project, async ({ ledger }) => {
      const target = async (name: string, id: unknown): Promise<number | undefined> => {
        const link = await ledger.getLink(name, String(id));
        return link?.targetId ? Number(link.targetId) : undefined;
      };
      // Every source record is in Pipedrive once or listed as failed with its reason.
      for (const [name, entity] of [['companies', 'organizations'], ['contacts', 'persons'], ['deals', 'deals'], ['notes', 'notes']] as const) {
        const failures = new Set((await ledger.listFailures({ object: name, unresolved: true })).map((failure) => failure.sourceId));
        const live = (entity === 'notes' ? pipedrive.store.notes.all() : pipedrive.store.table(entity).all()).filter((row) => !row.deleted);
        let linked = 0;
        for (const row of source(name)) {
          const id = await target(name, row.id);
          if (id === undefined) expect(failures.has(String(row.id)), `${name} ${String(row.id)}`).toBe(true);
          else linked += 1;
        }
        expect(live, `${name}: Pipedrive holds exactly the linked records`).toHaveLength(linked);
        if (name === 'notes') continue;
        const stamps = live.map((row) => Object.values((row.data as { custom: Record<string, unknown> }).custom)[0]);
        expect(new Set(stamps).size, `${name}: a source id stamped twice`).toBe(stamps.length);
      }
      // Relations and owners.
      const owners = new Map(source('owners').map((row) => [row.id, pipedrive.store.users.all().find((user) => user.data.email === row.email)!.id]));
      for (const row of source('contacts')) {
        const id = await target('contacts', row.id);
        if (id === undefined) continue;
        const person = pipedrive.store.table('persons').get(id)!;
        expect(person.data.org_id).toBe(row.company_id === null ? null : ((await target('companies', row.company_id)) ?? null));
        if (row.owner_id !== null) expect(person.data.owner_id).toBe(owners.get(row.owner_id));
      }
      for (const row of source('deals')) {
        const id = await target('deals', row.id);
        if (id === undefined) continue;
        const deal = pipedrive.store.table('deals').get(id)!;
        const stage = canonicalStage(String(row.stage));
        expect(deal.data.stage_id).toBe(Number(STAGE_IDS[stage]));
        expect(deal.data.status).toBe(STATUS[stage] ?? 'open');
        const contacts = rows(join(dir, 'source.db'), `SELECT contact_id FROM deal_contacts WHERE deal_id = ${Number(row.id)}`);
        const expected = (await Promise.all(contacts.map((contact) => target('contacts', contact.contact_id)))).filter((value): value is number => value !== undefined).sort((a, b) => a - b);
        const participants = pipedrive.store.participants.liveRows().filter((participant) => participant.data.deal_id === id).map((participant) => participant.data.person_id).sort((a, b) => a - b);
        expect(participants, `deal ${String(row.id)} participants`).toEqual(expected);
      }
      for (const row of source('notes')) {
        const id = await target('notes', row.id);
        if (id === undefined) continue;
        const note = pipedrive.store.notes.get(id)!;
        expect(note.data.deal_id).toBe(row.deal_id === null ? null : ((await target('deals', row.deal_id)) ?? null));
      }
      // Activities (no custom field to stamp): each once, with its type, deal, person as primary participant and owner.
      const activities = pipedrive.store.table('activities').all().filter((row) => !row.deleted);
      const activityFailures = new Set((await ledger.listFailures({ object: 'activities', unresolved: true })).map((failure) => failure.sourceId));
      let linkedActivities = 0;
      for (const row of source('activities')) {
        const id = await target('activities', row.id);
        if (id === undefined) {
          expect(activityFailures.has(String(row.id)), `activity ${String(row.id)}`).toBe(true);
          continue;
        }
        linkedActivities += 1;
        const activity = pipedrive.store.table('activities').get(id)!.data;
        expect(activity.type).toBe(ACTIVITY_TYPES[String(row.type)]);
        expect(activity.subject).toBe(row.subject);
        expect(activity.deal_id).toBe(row.deal_id === null ? null : ((await target('deals', row.deal_id)) ?? null));
        const person = row.contact_id === null ? undefined : await target('contacts', row.contact_id);
        expect(activity.participants).toEqual(person === undefined ? [] : [{ person_id: person, primary: true }]);
        if (row.owner_id !== null) expect(activity.owner_id).toBe(owners.get(row.owner_id));
      }
      expect(linkedActivities).toBeGreaterThan(0);
      expect(activityFailures.size).toBe(0);
      expect(activities, 'activities: Pipedrive holds exactly the linked records').toHaveLength(linkedActivities);
    });

    // ---- delta: new and changed source records; one person edited in Pipedrive meanwhile.
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 6, changedRecords: 8, at: '2031-01-01T00:00:00.000Z' });
    const edited = await withSession(dir, project, async ({ ledger }) => {
      for (const id of changes.changed.contacts) {
        const link = await ledger.getLink('contacts', String(id));
        if (link?.targetId) return Number(link.targetId);
      }
      return undefined;
    });
    expect(edited).toBeDefined();
    pipedrive.store.update('persons', edited!, { name: 'Edited in Pipedrive' });
    const before = pipedrive.store.table('persons').all().filter((row) => !row.deleted).length;
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    expect(delta.counts.contacts!.created + delta.counts.contacts!.failed + delta.counts.contacts!.matched).toBe(changes.created.contacts.length);
    expect(delta.counts.deals!.created).toBe(changes.created.deals.length);
    expect(pipedrive.store.table('persons').all().filter((row) => !row.deleted)).toHaveLength(before + delta.counts.contacts!.created);
    // The name was not changed in the source: Pipedrive's edit stays.
    expect(pipedrive.store.table('persons').get(edited!)!.data.name).toBe('Edited in Pipedrive');

    // ---- undo the delta: what it created is deleted again.
    const undo = await withSession(dir, project, (session) => session.engine.undo(delta.runId));
    expect(undo.status).toBe('completed');
    expect(pipedrive.store.table('persons').all().filter((row) => !row.deleted)).toHaveLength(before);
  });
});

const PD_TARGET_DDL = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT UNIQUE, updated_at TEXT)',
  'CREATE TABLE organizations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, address TEXT, tier TEXT, owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, labelled_list TEXT, phone TEXT, organization_id INTEGER REFERENCES organizations(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, value NUMERIC, currency TEXT, status TEXT, lost_reason TEXT, stage_id TEXT, person_id INTEGER REFERENCES persons(id), organization_id INTEGER REFERENCES organizations(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE activities (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT, type TEXT, due_date TEXT, done BOOLEAN, deal_id INTEGER REFERENCES deals(id), person_id INTEGER REFERENCES persons(id), updated_at TEXT)',
  'CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, deal_id INTEGER REFERENCES deals(id), person_id INTEGER REFERENCES persons(id), organization_id INTEGER REFERENCES organizations(id), pinned BOOLEAN, added_at TEXT, updated_at TEXT)',
];

describe('Pipedrive -> SQL, through the engine', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pipedrive-sql-'));
    const db = new SqliteDatabase(join(dir, 'target.db'));
    for (const statement of PD_TARGET_DDL) db.exec(statement);
    db.close();
  });
  afterEach(async () => {
    await pipedrive?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('full migration of the sample company with relations, owners and custom values, then a delta of Pipedrive edits', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    pipedrive = await startPipedriveEmulator({ port: 0, ...FAST, seed: 'sample', clock: () => now });
    const tier = pipedrive.store.custom('organizations').find((field) => field.field_name === 'Tier')!;
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000 },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'users', target: 'users', fields: [copy('name'), copy('email')] }),
        object({ source: 'organizations', target: 'organizations', fields: [copy('name'), copy('address'), { source: [tier.field_code], target: 'tier', transform: { kind: 'map', values: Object.fromEntries(tier.options!.map((option) => [String(option.id), option.label])), unmapped: 'fail' } }, copy('owner_id')] }),
        object({ source: 'persons', target: 'persons', fields: [copy('name'), copy('email'), copy('emails', 'labelled_list'), copy('phone'), copy('org_id', 'organization_id'), copy('owner_id')] }),
        object({ source: 'deals', target: 'deals', fields: [copy('title'), copy('value'), copy('currency'), copy('status'), copy('lost_reason'), copy('stage_id'), copy('person_id'), copy('org_id', 'organization_id'), copy('owner_id')] }),
        object({ source: 'activities', target: 'activities', fields: [copy('subject'), copy('type'), copy('due_date'), copy('done'), copy('deal_id'), copy('person_id')] }),
        object({ source: 'notes', target: 'notes', fields: [copy('content', 'body'), copy('deal_id'), copy('person_id'), copy('org_id', 'organization_id'), copy('pinned_to_deal_flag', 'pinned'), copy('add_time', 'added_at')] }),
      ],
    };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(await withSession(dir, project, ({ ledger }) => ledger.listFailures({ runId: full.runId }))).toEqual([]);
    expect(full.status).toBe('completed');
    const seeded = pipedrive.seeded!;
    const target = (sql: string) => rows(join(dir, 'target.db'), sql);
    expect(target('SELECT id FROM persons')).toHaveLength(seeded.persons);
    expect(target('SELECT id FROM deals')).toHaveLength(seeded.deals);
    expect(target('SELECT id FROM activities')).toHaveLength(seeded.activities);
    expect(target('SELECT id FROM notes')).toHaveLength(seeded.notes);
    expect(target('SELECT id FROM users')).toHaveLength(seeded.users);
    await withSession(dir, project, async ({ ledger }) => {
      const sqlId = async (name: string, id: unknown): Promise<number | null> => {
        if (id === null || id === undefined) return null;
        const link = await ledger.getLink(name, String(id));
        return link?.targetId ? Number(link.targetId) : null;
      };
      for (const row of pipedrive.store.table('persons').all()) {
        const [person] = target(`SELECT * FROM persons WHERE id = ${(await sqlId('persons', row.id))!}`);
        const emails = row.data.emails as { value: string; primary: boolean }[];
        expect(person).toMatchObject({ name: row.data.name, email: emails.find((item) => item.primary)?.value ?? null, organization_id: await sqlId('organizations', row.data.org_id), owner_id: await sqlId('users', row.data.owner_id) });
      }
      for (const row of pipedrive.store.table('deals').all()) {
        const [deal] = target(`SELECT * FROM deals WHERE id = ${(await sqlId('deals', row.id))!}`);
        expect(deal).toMatchObject({ title: row.data.title, status: row.data.status, stage_id: String(row.data.stage_id), lost_reason: row.data.lost_reason ?? null, person_id: await sqlId('persons', row.data.person_id) });
      }
      for (const row of pipedrive.store.table('organizations').all()) {
        const [org] = target(`SELECT tier FROM organizations WHERE id = ${(await sqlId('organizations', row.id))!}`);
        const option = tier.options!.find((candidate) => candidate.id === row.data.custom[tier.field_code]);
        expect(org!.tier).toBe(option?.label ?? null);
      }
    });

    // ---- edits in Pipedrive, then a delta: the edited records are updated, a new one created, nothing doubled.
    now += 3_600_000;
    const person = pipedrive.store.table('persons').all()[0]!;
    pipedrive.store.update('persons', person.id, { name: 'Renamed in Pipedrive' });
    const deal = pipedrive.store.table('deals').all().find((row) => row.data.status === 'open')!;
    pipedrive.store.update('deals', deal.id, { status: 'won' });
    pipedrive.store.create('persons', { name: 'New in Pipedrive', emails: [{ value: 'new@example.com', primary: true, label: 'work' }] });
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.persons).toMatchObject({ created: 1, updated: 1, failed: 0 });
    expect(delta.counts.deals).toMatchObject({ updated: 1, failed: 0 });
    expect(target('SELECT id FROM persons')).toHaveLength(seeded.persons + 1);
    expect(target(`SELECT name FROM persons WHERE name = 'Renamed in Pipedrive'`)).toHaveLength(1);
    expect(target(`SELECT status FROM deals WHERE title = ${JSON.stringify(deal.data.title).replace(/"/g, "'")}`)[0]!.status).toBe('won');
  });
});
