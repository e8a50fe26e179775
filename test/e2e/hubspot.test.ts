import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { createConnector } from '../../src/connectors/registry.js';
import type { Connector } from '../../src/core/connector.js';
import type { Clock } from '../../src/core/http.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { startHubspotEmulator, type HubspotEmulator, type HubspotEmulatorOptions } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { ObjectMapping, ProjectFile } from '../../src/project/types.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import { applySourceChanges, sampleToHubspotObjects, TARGET_SQLITE_DDL, TARGET_TABLES, writeSampleSqlite } from '../../src/sample/index.js';

/**
 * Migrations into and out of HubSpot, end to end through the engine, against the HubSpot emulator started
 * in-process. Most tests raise the emulator's rate limits (and the connector's pacing to match): they are
 * about data, not pacing, and the default 100 requests / 10 s would make them wait for minutes. The pacing
 * test runs with the default limits on a small data set.
 */

const FAST_LIMITS: Pick<HubspotEmulatorOptions, 'burstLimit' | 'searchPerSecond'> = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };
const FAST_CONNECTOR = { burstLimit: 1000, searchPerSecond: 50 };
const SEED = 11;
const SIZE = 150;
/**
 * Requests per day in the daily-limit test, and the connector's dailyReserve. A 60-record sample takes about
 * 40 requests (schema reads, match, property creation, a batch/create and the associations per object); 26
 * spent (29 less the 3 kept back) runs out at the deals' batch/create, after companies and contacts were written.
 */
const DAILY_LIMIT = 29;
const DAILY_RESERVE = 3;

const copy = copyField;
const object = objectMapping;

/** The sample "legacy CRM" (src/sample) into HubSpot, with the hand-written mapping of src/sample/hubspot-mapping.ts. */
function sqlToHubspotProject(dir: string, hubspot: HubspotEmulator, connector: Record<string, unknown> = FAST_CONNECTOR): ProjectFile {
  return {
    version: 1,
    source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
    target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...connector },
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: 100 },
    objects: sampleToHubspotObjects(),
  };
}

interface Session {
  engine: Engine;
  ledger: Ledger;
  source: Connector;
  target: Connector;
  close(): Promise<void>;
}

/**
 * Virtual time shared by the emulator and the connector: the connector's pacing and backoff "sleep" by
 * moving it forward, so rate limits, Retry-After and backoff cost no real time.
 */
function virtualTime(start = Date.UTC(2026, 5, 1, 9)): { now: () => number; set: (millis: number) => void; clock: Clock; slept: () => number } {
  let now = start;
  let slept = 0;
  return {
    now: () => now,
    set: (millis) => {
      now = millis;
    },
    slept: () => slept,
    clock: {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
        slept += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
    },
  };
}

function connectorFor(dir: string, config: ProjectFile['source'], role: 'source' | 'target', clock?: Clock): Connector {
  if (clock && config.connector === 'hubspot') {
    const { connector: _kind, ...settings } = config;
    return createHubspotConnector(settings, { configPath: role, clock });
  }
  return createConnector(config, { baseDir: dir, role });
}

/** What one CLI invocation gets: fresh connectors, ledger and engine over the project. */
async function open(dir: string, project: ProjectFile, clock?: Clock): Promise<Session> {
  const ledger = await Ledger.open(project.state!, { baseDir: dir });
  const source = connectorFor(dir, project.source, 'source', clock);
  const target = connectorFor(dir, project.target, 'target', clock);
  const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream() });
  return {
    engine,
    ledger,
    source,
    target,
    async close() {
      await source.close();
      await target.close();
      await ledger.close();
    },
  };
}

async function withSession<T>(dir: string, project: ProjectFile, work: (session: Session) => Promise<T>, clock?: Clock): Promise<T> {
  const session = await open(dir, project, clock);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** Live records of a HubSpot object by `ferry_source_id` (source id -> HubSpot ids). */
function bySourceId(hubspot: HubspotEmulator, objectType: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const record of hubspot.store.table(objectType).values()) {
    if (record.archived) continue;
    const sourceId = record.properties.get('ferry_source_id');
    if (sourceId === undefined) continue;
    out.set(sourceId, [...(out.get(sourceId) ?? []), record.id]);
  }
  return out;
}

function liveCount(hubspot: HubspotEmulator, objectType: string): number {
  return [...hubspot.store.table(objectType).values()].filter((record) => !record.archived).length;
}

function associated(hubspot: HubspotEmulator, fromType: string, fromId: string, toType: string): string[] {
  return hubspot.store
    .associationsOf(fromType, fromId, toType)
    .map(([id]) => id)
    .sort();
}

function sourceRows(dir: string, sql: string): Record<string, unknown>[] {
  const db = new SqliteDatabase(join(dir, 'source.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/**
 * Nothing duplicated, nothing lost: per object, every source record is either linked to exactly one live
 * HubSpot record or has an open failure with its reason; no ferry_source_id is on two live records; and
 * HubSpot holds exactly the records Ferry created plus those that were there before.
 */
async function expectAccountedFor(
  dir: string,
  hubspot: HubspotEmulator,
  ledger: Ledger,
  objects: string[],
  preexisting: Record<string, number> = {},
  options: { failedMayExist?: boolean } = {},
): Promise<void> {
  for (const name of objects) {
    const stamped = bySourceId(hubspot, name);
    for (const [sourceId, ids] of stamped) expect(ids, `${name} ${sourceId} is in HubSpot more than once`).toHaveLength(1);
    const ids = sourceRows(dir, `SELECT id FROM ${name}`).map((row) => String(row.id));
    const links = await ledger.getLinks(name, ids);
    const failures = new Set((await ledger.listFailures({ object: name, unresolved: true })).filter((failure) => failure.code !== 'REFERENCE_MISSING').map((failure) => failure.sourceId));
    let created = 0;
    for (const id of ids) {
      const link = links.get(id);
      if (link?.state === 'linked' && link.targetId) {
        const record = hubspot.store.get(name, link.targetId);
        expect(record && !record.archived, `${name} ${id} is linked to ${link.targetId}, which is not in HubSpot`).toBe(true);
        if (link.origin === 'created') created += 1;
      } else {
        expect(failures.has(id), `${name} ${id} is neither migrated nor listed as failed`).toBe(true);
      }
    }
    // Merged source duplicates share one target record: count distinct created targets.
    const createdTargets = new Set([...links.values()].filter((link) => link.origin === 'created' && link.targetId).map((link) => link.targetId));
    expect(createdTargets.size).toBeLessThanOrEqual(created);
    // A create that failed on a retried request (5xx / partial failure after a lost answer) may exist in
    // HubSpot under its ferry_source_id while the ledger lists it as failed: retry finds it, never duplicates it.
    const orphans = options.failedMayExist ? [...stamped.keys()].filter((sourceId) => failures.has(sourceId) && !links.get(sourceId)?.targetId).length : 0;
    expect(liveCount(hubspot, name), `${name}: HubSpot holds records nobody accounts for`).toBe(createdTargets.size + orphans + (preexisting[name] ?? 0));
  }
}

const OBJECTS = ['companies', 'contacts', 'deals', 'notes'];

describe('SQL (sample data) -> HubSpot, through the engine', () => {
  let dir: string;
  let hubspot: HubspotEmulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-hubspot-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: SIZE });
  });
  afterEach(async () => {
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The account's users, as the source's owners (owners are read-only in HubSpot: matched by e-mail). */
  function addOwners(): void {
    for (const row of sourceRows(dir, 'SELECT email FROM owners')) hubspot.store.addOwner({ email: String(row.email) });
  }

  it('full migration with relations, delta with HubSpot-side edits and conflicts, undo of the delta', async () => {
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    addOwners();
    // Already in HubSpot before the migration: one company with a source company's domain (matched, not duplicated).
    const [firstCompany] = sourceRows(dir, `SELECT id, domain FROM companies WHERE domain IS NOT NULL AND trim(domain) <> '' ORDER BY id LIMIT 1`);
    const existing = hubspot.store.createRecord('companies', { name: 'Already here', domain: String(firstCompany!.domain).trim().replace(/^https?:\/\//i, '').replace(/^www\./i, '').replace(/\/$/, '').toLowerCase() });
    const project = sqlToHubspotProject(dir, hubspot);

    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).toBe('completed_with_failures');
    expect(full.counts.companies).toMatchObject({ matched: 1, failed: 0 });
    expect(full.counts.deals).toMatchObject({ failed: 0 });
    expect(full.counts.notes).toMatchObject({ failed: 0 });
    await withSession(dir, project, async ({ ledger }) => {
      // The bad e-mails of the sample fail alone, with HubSpot's reason.
      const failures = await ledger.listFailures({ runId: full.runId, object: 'contacts' });
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) expect(failure).toMatchObject({ code: 'INVALID_VALUE', field: 'email' });
      expect((await ledger.getLink('companies', String(firstCompany!.id)))?.targetId).toBe(existing.id);
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS, { companies: 1 });

      // Relations: contact -> primary company, deal -> contacts and company, note -> its parent.
      const target = async (name: string, id: unknown) => (await ledger.getLink(name, String(id)))?.targetId;
      let checked = 0;
      // Source duplicates (same e-mail) are merged into one HubSpot contact, written from the most recent of them.
      const contactLinks = await ledger.getLinks('contacts', sourceRows(dir, 'SELECT id FROM contacts').map((row) => String(row.id)));
      const shared = new Set([...contactLinks.values()].filter((link) => link.origin === 'merged').map((link) => link.targetId));
      for (const row of sourceRows(dir, 'SELECT id, company_id FROM contacts WHERE company_id IS NOT NULL')) {
        const contact = await target('contacts', row.id);
        if (!contact || shared.has(contact)) continue;
        expect(associated(hubspot, 'contacts', contact, 'companies')).toContain(await target('companies', row.company_id));
        checked += 1;
      }
      expect(checked).toBeGreaterThan(50);
      for (const row of sourceRows(dir, 'SELECT id, company_id FROM deals')) {
        const deal = (await target('deals', row.id))!;
        const contactIds = sourceRows(dir, `SELECT contact_id FROM deal_contacts WHERE deal_id = ${Number(row.id)}`).map((r) => r.contact_id);
        const expected = (await Promise.all(contactIds.map((id) => target('contacts', id)))).filter((id): id is string => id !== undefined);
        expect(associated(hubspot, 'deals', deal, 'contacts')).toEqual([...new Set(expected)].sort());
        // Both directions are stored, as in HubSpot.
        for (const contact of expected) expect(associated(hubspot, 'contacts', contact, 'deals')).toContain(deal);
        if (row.company_id !== null) expect(associated(hubspot, 'deals', deal, 'companies')).toEqual([await target('companies', row.company_id)]);
      }
      for (const row of sourceRows(dir, 'SELECT id, contact_id, company_id, deal_id FROM notes')) {
        const note = (await target('notes', row.id))!;
        const [kind, parent] = row.contact_id !== null ? ['contacts', row.contact_id] : row.company_id !== null ? ['companies', row.company_id] : ['deals', row.deal_id];
        const parentTarget = await target(kind!, parent);
        if (parentTarget) expect(associated(hubspot, 'notes', note, kind!)).toEqual([parentTarget]);
      }
    });

    // ---- time passes: the source changes, and people edit records in HubSpot.
    const at = new Date(Date.now() + 60_000).toISOString();
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 8, changedRecords: 12, at });
    const { conflictContact, keptContact, conflictTarget, keptTarget } = await withSession(dir, project, async ({ ledger }) => {
      const linked: { sourceId: string; targetId: string }[] = [];
      for (const id of changes.changed.contacts) {
        const link = await ledger.getLink('contacts', String(id));
        if (link?.targetId && link.origin === 'created') linked.push({ sourceId: String(id), targetId: link.targetId });
      }
      expect(linked.length).toBeGreaterThanOrEqual(2);
      return { conflictContact: linked[0]!.sourceId, conflictTarget: linked[0]!.targetId, keptContact: linked[1]!.sourceId, keptTarget: linked[1]!.targetId };
    });
    // Same field changed on both sides (job title) -> a conflict; a field changed only in HubSpot -> kept.
    hubspot.store.updateRecord('contacts', conflictTarget, { jobtitle: 'Edited in HubSpot' });
    hubspot.store.updateRecord('contacts', keptTarget, { firstname: 'Renamed in HubSpot' });

    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    // New contacts are created, or linked when their e-mail is already there (a source duplicate); changed ones updated.
    expect(delta.counts.contacts!.created + delta.counts.contacts!.matched + delta.counts.contacts!.failed).toBe(changes.created.contacts.length);
    expect(delta.counts.contacts!.updated).toBeGreaterThanOrEqual(changes.changed.contacts.length - delta.counts.contacts!.failed);
    expect(delta.counts.contacts!.conflicts).toBe(1);
    expect(delta.counts.companies).toMatchObject({ created: changes.created.companies.length });
    expect(delta.counts.deals!.created).toBe(changes.created.deals.length);
    expect(delta.counts.notes!.created).toBe(changes.created.notes.length);
    const sourceTitle = String(sourceRows(dir, `SELECT job_title FROM contacts WHERE id = ${Number(conflictContact)}`)[0]!.job_title);
    expect(hubspot.store.get('contacts', conflictTarget)!.properties.get('jobtitle')).toBe(sourceTitle); // source-wins
    expect(hubspot.store.get('contacts', keptTarget)!.properties.get('firstname')).toBe('Renamed in HubSpot');
    const keptTitle = String(sourceRows(dir, `SELECT job_title FROM contacts WHERE id = ${Number(keptContact)}`)[0]!.job_title);
    expect(hubspot.store.get('contacts', keptTarget)!.properties.get('jobtitle')).toBe(keptTitle);
    await withSession(dir, project, async ({ ledger }) => {
      expect(await ledger.listConflicts(delta.runId)).toEqual([
        expect.objectContaining({ object: 'contacts', sourceId: conflictContact, field: 'jobtitle', sourceValue: sourceTitle, targetValue: 'Edited in HubSpot', resolution: 'source-wins' }),
      ]);
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS, { companies: 1 });
    });

    // ---- undo the delta: what it created is archived, what it changed is restored.
    const before = { contacts: liveCount(hubspot, 'contacts'), deals: liveCount(hubspot, 'deals') };
    const undo = await withSession(dir, project, (session) => session.engine.undo(delta.runId));
    expect(undo.status).toBe('completed');
    expect(liveCount(hubspot, 'contacts')).toBe(before.contacts - delta.counts.contacts!.created);
    expect(liveCount(hubspot, 'deals')).toBe(before.deals - delta.counts.deals!.created);
    expect(hubspot.store.get('contacts', conflictTarget)!.properties.get('jobtitle')).toBe('Edited in HubSpot');
    expect(hubspot.store.get('contacts', keptTarget)!.properties.get('firstname')).toBe('Renamed in HubSpot');
  });

  it('retry migrates the records that failed once the mapping is fixed, without duplicating anything', async () => {
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot);
    // A stage HubSpot does not have ("closedwonn", a typo in the value map): HubSpot refuses those deals
    // (INVALID_VALUE on dealstage) and every other deal arrives.
    const broken = structuredClone(project);
    const stage = broken.objects.find((mapping) => mapping.source === 'deals')!.fields.find((field) => field.target === 'dealstage')!;
    if (stage.transform.kind === 'map') {
      for (const [value, mapped] of Object.entries(stage.transform.values)) if (mapped === 'closedwon') stage.transform.values[value] = 'closedwonn';
    }
    const full = await withSession(dir, broken, (session) => session.engine.migrate());
    const failedDeals = full.counts.deals!.failed;
    expect(failedDeals).toBeGreaterThan(0);
    await withSession(dir, broken, async ({ ledger }) => {
      const failures = (await ledger.listFailures({ runId: full.runId, object: 'deals' })).filter((failure) => failure.severity === 'error');
      expect(failures).toHaveLength(failedDeals);
      for (const failure of failures) expect(failure).toMatchObject({ code: 'INVALID_VALUE', field: 'dealstage', value: '"closedwonn"' });
    });
    expect(liveCount(hubspot, 'deals')).toBe(sourceRows(dir, 'SELECT id FROM deals').length - failedDeals);
    const retry = await withSession(dir, project, (session) => session.engine.retry(full.runId));
    expect(retry.counts.deals).toMatchObject({ created: failedDeals, failed: 0 });
    await withSession(dir, project, async ({ ledger }) => {
      expect(await ledger.listFailures({ runId: full.runId, object: 'deals', unresolved: true })).toEqual([]);
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS);
    });
    expect(liveCount(hubspot, 'deals')).toBe(sourceRows(dir, 'SELECT id FROM deals').length);
  });

  it('under injected faults every record is migrated or listed as failed with its reason, with no duplicate and bounded retries', async () => {
    // Baseline: the same migration without faults, to bound the extra requests the faults cost.
    const time = virtualTime();
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS, clock: time.now });
    addOwners();
    await withSession(dir, sqlToHubspotProject(dir, hubspot), (session) => session.engine.migrate(), time.clock);
    const baseline = hubspot.stats.requests;
    await hubspot.close();
    rmSync(join(dir, 'state.db'), { force: true });

    hubspot = await startHubspotEmulator({ ...FAST_LIMITS, clock: time.now, faultSeed: 3 });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot);
    const { faults } = hubspot;
    const rules = [
      faults.serverError(503, { path: '/crm/v3/objects/*/batch/create', count: 2 }),
      faults.serverError(502, { path: '/crm/v4/associations/contacts/*', count: 2 }),
      faults.serverError(500, { path: '/crm/v3/*', probability: 0.03, count: 2 }),
      // The create happens, the answer is lost: the retry must find the records by ferry_source_id.
      faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 }),
      faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/notes/batch/create', count: 1 }),
      faults.dropConnection({ path: '/crm/v3/objects/deals/batch/create', count: 1 }),
      // A storm of 429s (with Retry-After), shorter than the retry budget.
      faults.rateLimitStorm({ path: '/crm/v4/associations/deals/*', count: 3 }),
      // Some inputs of a batch fail (207, INTERNAL_ERROR), the others are written.
      faults.partialBatch(0.1, { path: '/crm/v3/objects/companies/batch/create', count: 1 }),
      faults.partialBatch(0.1, { path: '/crm/v3/objects/contacts/batch/create', count: 2 }),
    ];
    const full = await withSession(dir, project, (session) => session.engine.migrate(), time.clock);
    expect(full.status).not.toBe('failed');
    const fired = faults.fired();
    const totalFired = rules.reduce((sum, id) => sum + (fired[id] ?? 0), 0);
    expect(fired[rules[3]!]).toBe(1);
    expect(fired[rules[6]!]).toBe(3);
    expect(hubspot.store.requests.filter((request) => request.status === 429)).toHaveLength(3);
    // Bounded: each fault costs a few requests at most (a retry, a look-up by ferry_source_id).
    expect(hubspot.stats.requests).toBeLessThanOrEqual(baseline + 4 * totalFired);
    // Look-ups by ferry_source_id are one per affected batch, not one per record: the lost answer and each of
    // the two partial failures (INTERNAL_ERROR inputs may have been written by an earlier attempt).
    expect(hubspot.stats.byPath['POST /crm/v3/objects/contacts/batch/read']).toBeGreaterThanOrEqual(1);
    expect(hubspot.stats.byPath['POST /crm/v3/objects/contacts/batch/read']).toBeLessThanOrEqual(3);
    await withSession(dir, project, async ({ ledger }) => {
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS, {}, { failedMayExist: true });
      const failures = (await ledger.listFailures({ runId: full.runId })).filter((failure) => failure.severity === 'error');
      for (const failure of failures) expect(failure.message.length).toBeGreaterThan(0);
      // The records that failed only because of a partial batch failure are listed, with HubSpot's reason.
      expect(failures.filter((failure) => failure.code !== 'INVALID_VALUE').length).toBeGreaterThan(0);
    });

    // Once the faults are gone, retry migrates them: still nothing duplicated.
    faults.clear();
    const retry = await withSession(dir, project, (session) => session.engine.retry(full.runId), time.clock);
    expect(retry.status).not.toBe('failed');
    await withSession(dir, project, async ({ ledger }) => {
      const open = (await ledger.listFailures({ runId: full.runId, unresolved: true })).filter((failure) => failure.severity === 'error');
      for (const failure of open) expect(failure).toMatchObject({ object: 'contacts', code: 'INVALID_VALUE', field: 'email' });
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS);
    });
  });

  it('with HubSpot\'s default limits (100 requests / 10 s), pacing keeps 429s to a handful', async () => {
    // Default limits on both sides; virtual time, so the pacer's waits cost nothing real.
    const time = virtualTime();
    rmSync(join(dir, 'source.db'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 100 });
    hubspot = await startHubspotEmulator({ clock: time.now });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot, {});
    project.options.pageSize = 3; // small pages: many small batches, so the run needs several burst windows
    const full = await withSession(dir, project, (session) => session.engine.migrate(), time.clock);
    expect(full.status).not.toBe('failed');
    expect(hubspot.stats.requests).toBeGreaterThan(100); // more than one burst window's worth
    expect(hubspot.stats.status429).toBeLessThanOrEqual(3);
    expect(time.slept()).toBeGreaterThan(0);
    await withSession(dir, project, (session) => expectAccountedFor(dir, hubspot, session.ledger, OBJECTS));
  });

  /** A smaller sample (fast), migrated in full; returns the project. */
  async function migrated(size = 60, options: HubspotEmulatorOptions = {}): Promise<ProjectFile> {
    rmSync(join(dir, 'source.db'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size });
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS, ...options });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot);
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    return project;
  }

  /** HubSpot records (object, id) that changed source records are linked to (created by Ferry). */
  async function changedTargets(project: ProjectFile, changed: Record<string, number[]>): Promise<{ object: string; sourceId: string; targetId: string }[]> {
    return withSession(dir, project, async ({ ledger }) => {
      const out: { object: string; sourceId: string; targetId: string }[] = [];
      for (const [name, ids] of Object.entries(changed)) {
        for (const id of ids) {
          const link = await ledger.getLink(name, String(id));
          if (link?.targetId && link.origin === 'created') out.push({ object: name, sourceId: String(id), targetId: link.targetId });
        }
      }
      return out;
    });
  }

  /** A record's properties without the server-set modification times. */
  function snapshot(name: string, id: string): Record<string, string> {
    return Object.fromEntries([...hubspot.store.get(name, id)!.properties].filter(([property]) => !/lastmodifieddate|^hs_lastmodified/.test(property)));
  }

  it('with createMissingProperties, the fields and picklist options the mapping names are created in HubSpot and written', async () => {
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot, { ...FAST_CONNECTOR, createMissingProperties: true });
    const companies = project.objects.find((entry) => entry.source === 'companies')!;
    // The source's industries go into HubSpot's own picklist unmapped (new options), and into a new property.
    companies.fields = [...companies.fields.filter((field) => field.target !== 'industry'), copy('industry'), copy('industry', 'legacy_industry')];
    expect(hubspot.store.property('companies', 'legacy_industry')).toBeUndefined();
    const result = await withSession(dir, project, (session) => session.engine.migrate());
    expect(result.counts.companies).toMatchObject({ failed: 0 });
    expect(hubspot.store.property('companies', 'legacy_industry')).toMatchObject({ type: 'string', groupName: 'ferry' });
    const industries = new Set(sourceRows(dir, 'SELECT DISTINCT industry FROM companies WHERE industry IS NOT NULL').map((row) => String(row.industry)));
    const options = new Set((hubspot.store.property('companies', 'industry')?.options ?? []).map((option) => option.value));
    for (const industry of industries) expect(options.has(industry), industry).toBe(true);
    const written = [...hubspot.store.table('companies').values()].filter((record) => record.properties.get('ferry_source_id') !== undefined);
    expect(written.length).toBeGreaterThan(0);
    for (const record of written) expect(record.properties.get('legacy_industry')).toBe(record.properties.get('industry'));
  });

  it('without createMissingProperties, a mapping to a property HubSpot lacks is refused before anything is written', async () => {
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot);
    project.objects.find((entry) => entry.source === 'companies')!.fields.push(copy('industry', 'legacy_industry'));
    await expect(withSession(dir, project, (session) => session.engine.migrate())).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(bySourceId(hubspot, 'companies').size).toBe(0);
  });

  it('a create-new-only delta creates the new records and leaves changed records in HubSpot untouched', async () => {
    const project = await migrated();
    const at = new Date(Date.now() + 60_000).toISOString();
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 6, changedRecords: 8, at });
    const linked = await changedTargets(project, changes.changed);
    expect(linked.length).toBeGreaterThanOrEqual(4);
    const before = linked.map(({ object: name, targetId }) => snapshot(name, targetId));

    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: false }));
    expect(delta.status).not.toBe('failed');
    for (const name of OBJECTS) expect(delta.counts[name]?.updated ?? 0, `${name} updated`).toBe(0);
    expect(delta.counts.companies!.created).toBe(changes.created.companies.length);
    expect(delta.counts.deals!.created).toBe(changes.created.deals.length);
    expect(delta.counts.notes!.created).toBe(changes.created.notes.length);
    // The changed records keep every value they had in HubSpot.
    expect(linked.map(({ object: name, targetId }) => snapshot(name, targetId))).toEqual(before);
    await withSession(dir, project, async ({ ledger }) => {
      // Every new source record is in HubSpot once (or failed with its reason), nothing duplicated.
      for (const name of ['companies', 'deals', 'notes'] as const) {
        const stamped = bySourceId(hubspot, name);
        for (const id of changes.created[name]) expect(stamped.get(String(id)), `${name} ${id}`).toHaveLength(1);
      }
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS);
    });
  });

  it('an update-changed-only delta updates the changed records and creates none of the new ones', async () => {
    const project = await migrated();
    const at = new Date(Date.now() + 60_000).toISOString();
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 6, changedRecords: 8, at });
    const linked = await changedTargets(project, changes.changed);
    const counts = Object.fromEntries(OBJECTS.map((name) => [name, liveCount(hubspot, name)]));

    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: false, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    for (const name of OBJECTS) expect(delta.counts[name]?.created ?? 0, `${name} created`).toBe(0);
    expect(Object.fromEntries(OBJECTS.map((name) => [name, liveCount(hubspot, name)]))).toEqual(counts);
    expect(delta.counts.contacts!.updated).toBeGreaterThan(0);
    await withSession(dir, project, async ({ ledger }) => {
      for (const name of ['companies', 'contacts', 'deals', 'notes'] as const) {
        const stamped = bySourceId(hubspot, name);
        for (const id of changes.created[name]) {
          expect(stamped.has(String(id)), `new ${name} ${id} was created`).toBe(false);
          expect((await ledger.getLink(name, String(id)))?.targetId ?? null).toBeNull();
        }
        for (const ids of stamped.values()) expect(ids).toHaveLength(1);
      }
      // The changed contacts carry the source's new values.
      const failed = new Set((await ledger.listFailures({ runId: delta.runId, object: 'contacts' })).map((failure) => failure.sourceId));
      let checked = 0;
      for (const { object: name, sourceId, targetId } of linked) {
        if (name !== 'contacts' || failed.has(sourceId)) continue;
        const row = sourceRows(dir, `SELECT job_title FROM contacts WHERE id = ${Number(sourceId)}`)[0]!;
        const expected = row.job_title === null || String(row.job_title).trim() === '' ? null : String(row.job_title);
        const actual = hubspot.store.get('contacts', targetId)!.properties.get('jobtitle');
        expect(actual === undefined || actual === '' ? null : actual, `contact ${sourceId}`).toBe(expected);
        checked += 1;
      }
      expect(checked).toBeGreaterThan(0);
    });
  });

  it('match links contacts already in HubSpot by e-mail, and the migration after it creates no duplicate', async () => {
    rmSync(join(dir, 'source.db'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 60 });
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    addOwners();
    // Five source contacts whose (valid, unique) e-mail is already in HubSpot, written differently.
    const rows = sourceRows(dir, `SELECT id, email FROM contacts WHERE email IS NOT NULL GROUP BY lower(trim(email)) HAVING COUNT(*) = 1 ORDER BY id`)
      .filter((row) => /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(String(row.email).trim()))
      .slice(0, 5);
    expect(rows).toHaveLength(5);
    const existing = new Map(rows.map((row) => [String(row.id), hubspot.store.createRecord('contacts', { email: String(row.email).trim().toUpperCase(), firstname: 'Already', lastname: 'There' }).id]));
    const project = sqlToHubspotProject(dir, hubspot);

    const match = await withSession(dir, project, (session) => session.engine.match());
    expect(match.status).toBe('completed');
    expect(match.counts.contacts).toMatchObject({ matched: 5 });
    expect(liveCount(hubspot, 'contacts')).toBe(5); // match writes nothing
    await withSession(dir, project, async ({ ledger }) => {
      for (const [sourceId, targetId] of existing) expect(await ledger.getLink('contacts', sourceId)).toMatchObject({ targetId, origin: 'matched', state: 'linked' });
    });

    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    await withSession(dir, project, async ({ ledger }) => {
      for (const [sourceId, targetId] of existing) expect((await ledger.getLink('contacts', sourceId))?.targetId).toBe(targetId);
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS, { contacts: 5 });
    });
    // No e-mail is on two HubSpot contacts.
    const emails = [...hubspot.store.table('contacts').values()].filter((record) => !record.archived).map((record) => record.properties.get('email')).filter(Boolean);
    expect(new Set(emails).size).toBe(emails.length);
  });

  it('the daily limit stops the run with a resumable RATE_LIMITED before it is spent; the same command after the reset finishes it, with no duplicate', async () => {
    rmSync(join(dir, 'source.db'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 60 });
    // Enough for the schema reads, the match and some writes, not for the whole run.
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS, dailyLimit: DAILY_LIMIT });
    addOwners();
    const project = sqlToHubspotProject(dir, hubspot, { ...FAST_CONNECTOR, dailyReserve: DAILY_RESERVE });
    const stopped = withSession(dir, project, (session) => session.engine.migrate());
    await expect(stopped).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(stopped).rejects.toThrow(/HubSpot daily API budget reached.*before the budget is spent.*running the same command again.*resumes the run/);
    // Stopped before the limit: no request was refused, and the reserve is left for the account's other integrations.
    expect(hubspot.store.requests.filter((request) => request.status === 429)).toHaveLength(0);
    expect(hubspot.limits.usedToday()).toBe(DAILY_LIMIT - DAILY_RESERVE);
    const interrupted = await withSession(dir, project, async ({ ledger }) => {
      const runs = await ledger.unfinishedRuns();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ kind: 'full', status: 'interrupted' });
      expect(runs[0]!.error).toMatch(/RATE_LIMITED/);
      return runs[0]!;
    });
    const writtenBefore = OBJECTS.reduce((sum, name) => sum + liveCount(hubspot, name), 0);
    expect(writtenBefore).toBeGreaterThan(0); // it stopped in the middle of the writes

    hubspot.limits.resetDaily(250_000); // midnight
    const resumed = await withSession(dir, project, (session) => session.engine.migrate());
    expect(resumed).toMatchObject({ runId: interrupted.id, resumed: true });
    expect(['completed', 'completed_with_failures']).toContain(resumed.status);
    await withSession(dir, project, async ({ ledger }) => {
      expect(await ledger.unfinishedRuns()).toHaveLength(0);
      await expectAccountedFor(dir, hubspot, ledger, OBJECTS);
    });
    expect(OBJECTS.reduce((sum, name) => sum + liveCount(hubspot, name), 0)).toBeGreaterThan(writtenBefore);
  });
});

/** A HubSpot account into the sample "new CRM" schema (src/sample TARGET_SQLITE_DDL). */
function hubspotToSqlProject(dir: string, hubspot: HubspotEmulator, objects: string[] = ['owners', 'companies', 'contacts', 'deals', 'notes']): ProjectFile {
  const all: ObjectMapping[] = [
    object({ source: 'owners', target: 'users', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
    object({
      source: 'companies',
      target: 'companies',
      matchKeys: [{ source: 'domain', target: 'domain', kind: 'domain' }],
      fields: [copy('name'), copy('domain'), copy('industry'), copy('hubspot_owner_id', 'owner_id')],
    }),
    object({
      source: 'contacts',
      target: 'contacts',
      matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
      fields: [copy('firstname'), copy('lastname'), copy('email'), copy('phone'), copy('jobtitle'), copy('lifecyclestage', 'lifecycle_stage'), copy('primary_company', 'company_id'), copy('hubspot_owner_id', 'owner_id')],
    }),
    object({
      source: 'deals',
      target: 'deals',
      fields: [
        copy('dealname'),
        copy('amount'),
        copy('deal_currency_code', 'currency'),
        { source: ['dealstage'], target: 'dealstage', transform: { kind: 'map', values: { decisionmakerboughtin: 'contractsent' }, unmapped: 'keep' } },
        copy('closedate'),
        copy('primary_company', 'company_id'),
        copy('associated_contacts', 'contacts'),
        copy('hubspot_owner_id', 'owner_id'),
      ],
    }),
    object({
      source: 'notes',
      target: 'notes',
      fields: [copy('hs_note_body', 'body'), copy('associated_contacts', 'contact_id'), copy('associated_companies', 'company_id'), copy('associated_deals', 'deal_id'), copy('hubspot_owner_id', 'owner_id')],
    }),
  ];
  return {
    version: 1,
    source: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST_CONNECTOR },
    target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: 100, lookbackMs: 0 },
    objects: all.filter((mapping) => objects.includes(mapping.source)),
  };
}

function createTargetDb(dir: string, users: string[]): SqliteDatabase.Database {
  const db = new SqliteDatabase(join(dir, 'target.db'));
  for (const table of TARGET_TABLES) db.exec(TARGET_SQLITE_DDL[table]);
  const insert = db.prepare('INSERT INTO users (email, name) VALUES (?, ?)');
  for (const email of users) insert.run(email, email);
  return db;
}

describe('HubSpot -> SQL, through the engine', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  let target: SqliteDatabase.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-hubspot-src-'));
  });
  afterEach(async () => {
    target?.close();
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = (sql: string, ...params: unknown[]) => target.prepare(sql).all(...params) as Record<string, unknown>[];

  it('migrates the sample HubSpot account with its associations, then a delta picks up edits made in HubSpot', async () => {
    const time = virtualTime(Date.UTC(2026, 1, 1, 9));
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS, clock: time.now, seed: { sample: { seed: 5, contacts: 60 } } });
    const seeded = hubspot.seeded!;
    target = createTargetDb(dir, hubspot.store.owners.map((owner) => owner.email));
    const project = hubspotToSqlProject(dir, hubspot);
    const full = await withSession(dir, project, (session) => session.engine.migrate(), time.clock);
    expect(full.status).toBe('completed');
    expect(full.counts.owners).toMatchObject({ matched: seeded.owners });
    expect(full.counts.companies).toMatchObject({ created: seeded.companies, failed: 0 });
    expect(full.counts.contacts).toMatchObject({ created: seeded.contacts, failed: 0 });
    expect(full.counts.deals).toMatchObject({ created: seeded.deals, failed: 0 });
    expect(full.counts.notes).toMatchObject({ created: seeded.notes, failed: 0 });
    expect(rows('SELECT COUNT(*) AS n FROM contacts')[0]!.n).toBe(seeded.contacts);

    await withSession(dir, project, async ({ ledger }) => {
      const sqlId = async (name: string, hubspotId: string) => Number((await ledger.getLink(name, hubspotId))?.targetId);
      // Every contact's primary company, every deal's contacts and every note's parent arrived as SQL references.
      for (const record of hubspot.store.table('contacts').values()) {
        const [company] = associated(hubspot, 'contacts', record.id, 'companies');
        const row = rows('SELECT company_id, owner_id FROM contacts WHERE id = ?', await sqlId('contacts', record.id))[0]!;
        expect(row.company_id).toBe(await sqlId('companies', company!));
        const owner = hubspot.store.owners.find((candidate) => candidate.id === record.properties.get('hubspot_owner_id'))!;
        expect(rows('SELECT email FROM users WHERE id = ?', row.owner_id)[0]!.email).toBe(owner.email);
      }
      for (const record of hubspot.store.table('deals').values()) {
        const expected = await Promise.all(associated(hubspot, 'deals', record.id, 'contacts').map((id) => sqlId('contacts', id)));
        const actual = rows('SELECT contact_id FROM deal_contacts WHERE deal_id = ? ORDER BY contact_id', await sqlId('deals', record.id)).map((row) => row.contact_id);
        expect(actual).toEqual(expected.sort((a, b) => a - b));
      }
      let notesWithParent = 0;
      for (const record of hubspot.store.table('notes').values()) {
        const row = rows('SELECT contact_id, company_id, deal_id FROM notes WHERE id = ?', await sqlId('notes', record.id))[0]!;
        const parents = [row.contact_id, row.company_id, row.deal_id].filter((value) => value !== null);
        expect(parents).toHaveLength(1);
        notesWithParent += 1;
      }
      expect(notesWithParent).toBe(seeded.notes);
    });

    // ---- edits in HubSpot (one second later, all in the same millisecond), and a SQL-side edit.
    time.set(time.now() + 60_000);
    const contacts = [...hubspot.store.table('contacts').values()];
    const edited = contacts.slice(0, 5);
    for (const record of edited) hubspot.store.updateRecord('contacts', record.id, { jobtitle: `Edited in HubSpot ${record.id}` });
    const created = hubspot.store.createRecord('contacts', { email: 'new.person@example.com', firstname: 'New', lastname: 'Person' });
    const sqlEdited = await withSession(dir, project, async ({ ledger }) => Number((await ledger.getLink('contacts', edited[1]!.id))!.targetId));
    target.prepare('UPDATE contacts SET jobtitle = ?, phone = ? WHERE id = ?').run('Edited in SQL', '+1 555 0000', sqlEdited);
    time.set(time.now() + 60_000);

    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true, onConflict: 'target-wins' }), time.clock);
    expect(delta.status).toBe('completed');
    // Four edited contacts are updated; the fifth changed on both sides and target-wins keeps the SQL value,
    // so nothing is left to write to it.
    expect(delta.counts.contacts).toMatchObject({ created: 1, updated: 4, conflicts: 1, failed: 0 });
    expect(delta.counts.companies).toMatchObject({ created: 0, updated: 0 });
    await withSession(dir, project, async ({ ledger }) => {
      for (const record of edited) {
        const row = rows('SELECT jobtitle, phone FROM contacts WHERE id = ?', Number((await ledger.getLink('contacts', record.id))!.targetId))[0]!;
        if (record === edited[1]) expect(row).toEqual({ jobtitle: 'Edited in SQL', phone: '+1 555 0000' }); // target-wins, and the SQL-only edit kept
        else expect(row.jobtitle).toBe(`Edited in HubSpot ${record.id}`);
      }
      expect((await ledger.getLink('contacts', created.id))?.origin).toBe('created');
      expect(await ledger.listConflicts(delta.runId)).toEqual([expect.objectContaining({ sourceId: edited[1]!.id, field: 'jobtitle', resolution: 'target-wins' })]);
    });
    expect(rows('SELECT COUNT(*) AS n FROM contacts')[0]!.n).toBe(seeded.contacts + 1);
  });

  it('a delta picks up more than 10,000 records changed in the same millisecond, each exactly once', async () => {
    // Limits raised (this test is about the search cap and ties, not pacing) and the clock pinned, so
    // every edit below carries the very same hs_lastmodifieddate.
    const time = virtualTime(Date.UTC(2026, 1, 1, 9));
    const total = 10_050;
    hubspot = await startHubspotEmulator({
      ...FAST_LIMITS,
      clock: time.now,
      seed: (store) => {
        for (let index = 0; index < total; index++) store.createRecord('contacts', { email: `bulk${index}@example.com`, firstname: 'Bulk', lastname: String(index) });
      },
    });
    target = createTargetDb(dir, []);
    const project = hubspotToSqlProject(dir, hubspot, ['contacts']);
    project.objects[0]!.fields = project.objects[0]!.fields.filter((field) => ['firstname', 'lastname', 'email', 'jobtitle'].includes(field.target));
    project.objects[0]!.matchKeys = [];
    const full = await withSession(dir, project, (session) => session.engine.migrate({ noMatch: true }), time.clock);
    expect(full.counts.contacts).toMatchObject({ created: total, failed: 0 });

    time.set(time.now() + 60_000);
    for (const record of hubspot.store.table('contacts').values()) hubspot.store.updateRecord('contacts', record.id, { jobtitle: `Bulk edit ${record.id}` });
    time.set(time.now() + 60_000);
    const searchesBefore = hubspot.stats.byPath['POST /crm/v3/objects/contacts/search'] ?? 0;
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true, noMatch: true }), time.clock);
    expect(delta.status).toBe('completed');
    expect(delta.counts.contacts).toMatchObject({ read: total, updated: total, created: 0, unchanged: 0, failed: 0 });
    // Read by keyset pages of ~100 inside the tie, never past the 10,000 cap.
    const searches = (hubspot.stats.byPath['POST /crm/v3/objects/contacts/search'] ?? 0) - searchesBefore;
    expect(searches).toBeLessThan(total / 50);
    expect(hubspot.store.requests.filter((request) => request.status === 400)).toHaveLength(0);
    expect(rows(`SELECT COUNT(*) AS n FROM contacts WHERE jobtitle LIKE 'Bulk edit %'`)[0]!.n).toBe(total);
    expect(rows('SELECT COUNT(*) AS n FROM contacts')[0]!.n).toBe(total);
  });
});


describe('custom objects: SQL -> HubSpot custom object -> SQL, through the engine', () => {
  let dir: string;
  let hubspot: HubspotEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-hubspot-custom-'));
  });
  afterEach(async () => {
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const T0 = '2026-01-10T10:00:00.000Z';

  /** The source: companies and the projects that refer to them (a plain foreign key). */
  function writeSource(): void {
    const db = new SqliteDatabase(join(dir, 'source.db'));
    db.exec(`CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain TEXT, updated_at TEXT);
      CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, budget REAL, status TEXT, company_id INTEGER REFERENCES companies(id), updated_at TEXT);`);
    const company = db.prepare('INSERT INTO companies (id, name, domain, updated_at) VALUES (?, ?, ?, ?)');
    company.run(1, 'Acme', 'acme.example', T0);
    company.run(2, 'Globex', 'globex.example', T0);
    company.run(3, 'Initech', 'initech.example', T0);
    const project = db.prepare('INSERT INTO projects (id, name, budget, status, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    project.run(10, 'Apollo', 1200.5, 'active', 1, T0);
    project.run(11, 'Gemini', 300, 'planned', 2, T0);
    project.run(12, 'Mercury', null, 'done', null, T0);
    project.run(13, 'Skylab', 99.99, 'active', 1, T0);
    db.close();
  }

  /** The custom object `projects`, created in HubSpot beforehand through the schemas API, associated with companies. */
  async function createProjectsObject(): Promise<string> {
    const response = await fetch(`${hubspot.url}/crm/v3/schemas`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hubspot.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'projects',
        labels: { singular: 'Project', plural: 'Projects' },
        primaryDisplayProperty: 'name',
        requiredProperties: ['name'],
        searchableProperties: ['name'],
        secondaryDisplayProperties: ['status'],
        properties: [
          { name: 'name', label: 'Name', type: 'string', fieldType: 'text' },
          { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
          {
            name: 'status',
            label: 'Status',
            type: 'enumeration',
            fieldType: 'select',
            options: ['planned', 'active', 'done'].map((value, index) => ({ label: value, value, displayOrder: index })),
          },
        ],
        associatedObjects: ['COMPANY'],
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { objectTypeId: string }).objectTypeId;
  }

  function toHubspot(): ProjectFile {
    return {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST_CONNECTOR },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'companies', target: 'companies', fields: [copy('name'), copy('domain')] }),
        object({ source: 'projects', target: 'projects', fields: [copy('name'), copy('budget'), copy('status'), copy('company_id', 'associated_companies')] }),
      ],
    };
  }

  function toSql(): ProjectFile {
    return {
      version: 1,
      source: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST_CONNECTOR },
      target: { connector: 'sql', dialect: 'sqlite', path: 'back.db' },
      state: join(dir, 'state-back.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100, lookbackMs: 0 },
      objects: [
        object({ source: 'companies', target: 'companies', fields: [copy('name'), copy('domain')] }),
        object({ source: 'projects', target: 'projects', fields: [copy('name'), copy('budget'), copy('status'), copy('associated_companies', 'company_id')] }),
      ],
    };
  }

  it('migrates a SQL table into a custom object with its company association, a delta carries a change and a new row, and the custom object migrates back into SQL', async () => {
    writeSource();
    hubspot = await startHubspotEmulator({ ...FAST_LIMITS });
    const projectsType = await createProjectsObject();
    const project = toHubspot();

    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).toBe('completed');
    expect(full.counts.companies).toMatchObject({ created: 3, failed: 0 });
    expect(full.counts.projects).toMatchObject({ created: 4, failed: 0 });

    const hubspotProject = async (sourceId: number) => {
      const targetId = await withSession(dir, project, async ({ ledger }) => (await ledger.getLink('projects', String(sourceId)))?.targetId);
      return hubspot.store.get(projectsType, targetId!)!;
    };
    const companyTarget = (sourceId: number) => withSession(dir, project, async ({ ledger }) => (await ledger.getLink('companies', String(sourceId)))?.targetId);
    const apollo = await hubspotProject(10);
    expect(Object.fromEntries(['name', 'budget', 'status', 'ferry_source_id'].map((name) => [name, apollo.properties.get(name)]))).toEqual({ name: 'Apollo', budget: '1200.5', status: 'active', ferry_source_id: '10' });
    expect(associated(hubspot, projectsType, apollo.id, 'companies')).toEqual([await companyTarget(1)]);
    expect(associated(hubspot, projectsType, (await hubspotProject(11)).id, 'companies')).toEqual([await companyTarget(2)]);
    const mercury = await hubspotProject(12);
    expect(mercury.properties.has('budget')).toBe(false);
    expect(associated(hubspot, projectsType, mercury.id, 'companies')).toEqual([]);
    // Both directions are stored, as HubSpot does: the company lists its projects.
    expect(associated(hubspot, 'companies', (await companyTarget(1))!, projectsType)).toEqual([apollo.id, (await hubspotProject(13)).id].sort());

    // ---- the source changes (after the run's high-water mark): Gemini moves to Initech with a new budget, a new project appears.
    const T1 = new Date(Date.now() + 60_000).toISOString();
    const db = new SqliteDatabase(join(dir, 'source.db'));
    db.prepare('UPDATE projects SET budget = ?, status = ?, company_id = ?, updated_at = ? WHERE id = ?').run(450, 'active', 3, T1, 11);
    db.prepare('INSERT INTO projects (id, name, budget, status, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(14, 'Voyager', 10, 'planned', 3, T1);
    db.close();
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.projects).toMatchObject({ created: 1, updated: 1, failed: 0 });
    const gemini = await hubspotProject(11);
    expect([gemini.properties.get('budget'), gemini.properties.get('status')]).toEqual(['450', 'active']);
    expect(associated(hubspot, projectsType, gemini.id, 'companies')).toEqual([await companyTarget(3)]);
    const voyager = await hubspotProject(14);
    expect(voyager.properties.get('name')).toBe('Voyager');
    expect(associated(hubspot, projectsType, voyager.id, 'companies')).toEqual([await companyTarget(3)]);
    // No duplicate: one live record per source row.
    const stamped = bySourceId(hubspot, projectsType);
    expect([...stamped.keys()].sort()).toEqual(['10', '11', '12', '13', '14']);
    for (const ids of stamped.values()) expect(ids).toHaveLength(1);
    expect(liveCount(hubspot, projectsType)).toBe(5);
    expect(liveCount(hubspot, 'companies')).toBe(3);
    // Every request named the custom object by its objectTypeId.
    expect(hubspot.store.requests.filter((request) => request.path.includes('/objects/projects'))).toHaveLength(0);

    // ---- and back: HubSpot (companies and the custom object) into a new SQL database.
    const back = new SqliteDatabase(join(dir, 'back.db'));
    back.exec(`CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, domain TEXT);
      CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, budget REAL, status TEXT, company_id INTEGER REFERENCES companies(id));`);
    back.close();
    const reverse = toSql();
    const out = await withSession(dir, reverse, (session) => session.engine.migrate());
    expect(out.status).toBe('completed');
    expect(out.counts.companies).toMatchObject({ created: 3, failed: 0 });
    expect(out.counts.projects).toMatchObject({ created: 5, failed: 0 });
    const result = new SqliteDatabase(join(dir, 'back.db'), { readonly: true });
    try {
      const rows = result
        .prepare('SELECT p.name, p.budget, p.status, c.name AS company FROM projects p LEFT JOIN companies c ON c.id = p.company_id ORDER BY p.name')
        .all() as Record<string, unknown>[];
      expect(rows).toEqual([
        { name: 'Apollo', budget: 1200.5, status: 'active', company: 'Acme' },
        { name: 'Gemini', budget: 450, status: 'active', company: 'Initech' },
        { name: 'Mercury', budget: null, status: 'done', company: null },
        { name: 'Skylab', budget: 99.99, status: 'active', company: 'Acme' },
        { name: 'Voyager', budget: 10, status: 'planned', company: 'Initech' },
      ]);
      expect((result.prepare('SELECT COUNT(*) AS n FROM companies').get() as { n: number }).n).toBe(3);
    } finally {
      result.close();
    }
  });
});
