import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { ledgerKeys } from '../../src/project/routing.js';
import type { ProjectFile } from '../../src/project/types.js';
import { sampleToHubspotObjects, writeSampleSqlite } from '../../src/sample/index.js';
import { recordFigures, SCALE } from '../reliability/figures.js';
import { deletedTwice, random, runChild } from '../support/child.js';

/**
 * SQL activities into HubSpot calls, meetings and e-mails, killed (SIGKILL) right after HubSpot answered a
 * write and before the ledger recorded it, again and again until a run finishes: every activity ends up as
 * exactly one engagement of its type, associated with its parent, and a delta afterwards has nothing to do.
 * And the undo of such a run, killed before and after its deletes and restores (FERRY_TEST_KILL_AT) until it
 * finishes: nothing deleted twice (FERRY_TEST_WRITE_LOG), the target as it was before the run.
 * The emulator runs in this process; each run is a child process (test/support/engine-child.ts).
 */
const ENGAGEMENTS = ['calls', 'meetings', 'emails'];

describe('crash and resume: SQL activities -> HubSpot engagements', () => {
  let dir: string | undefined;
  let hubspot: HubspotEmulator | undefined;
  afterEach(async () => {
    await hubspot?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The sample CRM (its activities, notes left out) and an emulator with its owners; the project as a file for the children. */
  async function prepare(existing?: (first: { domain: string }) => void) {
    dir = mkdtempSync(join(tmpdir(), 'ferry-engagements-crash-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 41, size: 30 * SCALE });
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    const db = new SqliteDatabase(join(dir, 'source.db'), { readonly: true });
    const owners = db.prepare('SELECT email FROM owners').all() as { email: string }[];
    const activities = db.prepare('SELECT id, type, contact_id, company_id, deal_id FROM activities').all() as Record<string, number | string | null>[];
    const first = db.prepare('SELECT domain FROM companies WHERE domain IS NOT NULL ORDER BY id LIMIT 1').get() as { domain: string };
    db.close();
    for (const owner of owners) hubspot.store.addOwner({ email: owner.email });
    existing?.(first);
    const objects = sampleToHubspotObjects().filter((mapping) => mapping.source !== 'notes');
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 6 },
      objects,
    };
    const projectPath = join(dir, 'project.json');
    writeFileSync(projectPath, JSON.stringify(project));
    return { project, projectPath, objects, activities };
  }

  it('a migration killed after engagement writes, before the ledger records them, resumes with every activity once and associated', async () => {
    const { project, projectPath, objects, activities } = await prepare();

    // Each run gets a little further (its kill point counts from its own start), so kills land among every object's writes.
    const next = random(43);
    let kills = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      const result = await runChild(projectPath, dir!, 'migrate', { FERRY_TEST_KILL_AFTER_WRITES: String(2 + Math.floor(next() * 8)), FERRY_TEST_BATCH_SIZE: '2' });
      if (result.signal === 'SIGKILL') {
        kills += 1;
        continue;
      }
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toMatchObject({ resumed: true });
      break;
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    // Some of the kills hit the engagements' own writes: more batch creates were sent than the records need.
    const typeOf = (row: Record<string, unknown>) => String(row.type).trim().toLowerCase().replace('e-mail', 'email');
    const needed = ENGAGEMENTS.reduce((sum, object) => sum + Math.ceil(activities.filter((row) => `${typeOf(row)}s` === object).length / 2), 0);
    const sent = ENGAGEMENTS.reduce((sum, object) => sum + (hubspot!.stats.byPath[`POST /crm/v3/objects/${object}/batch/create`] ?? 0), 0);
    expect(sent).toBeGreaterThan(needed);

    const ledger = await Ledger.open(project.state!, { baseDir: dir });
    try {
      const keys = ledgerKeys(objects);
      const keyOf = (target: string) => keys[objects.findIndex((mapping) => mapping.target === target)]!;
      let checked = 0;
      for (const object of ENGAGEMENTS) {
        // No source id twice among the live engagements: nothing was created twice.
        const stamped = new Map<string, number>();
        for (const record of hubspot!.store.table(object).values()) {
          if (record.archived) continue;
          const sourceId = record.properties.get('ferry_source_id')!;
          stamped.set(sourceId, (stamped.get(sourceId) ?? 0) + 1);
        }
        for (const [sourceId, times] of stamped) expect(times, `${object} ${sourceId}`).toBe(1);
        const mapping = objects.find((candidate) => candidate.target === object)!;
        const taken = activities.filter((row) => mapping.where!.type!.includes(String(row.type).trim().toLowerCase()));
        expect(stamped.size, object).toBe(taken.length);
        for (const row of taken) {
          const link = await ledger.getLink(keyOf(object), String(row.id));
          expect(link?.targetId, `${object} ${String(row.id)}`).toBeTruthy();
          const [parentObject, parentId] = row.contact_id !== null ? ['contacts', row.contact_id] : row.company_id !== null ? ['companies', row.company_id] : ['deals', row.deal_id];
          const parent = (await ledger.getLink(parentObject!, String(parentId)))?.targetId;
          if (parent) expect(hubspot!.store.associationsOf(object, link!.targetId!, parentObject!).map(([id]) => id)).toEqual([parent]);
          checked += 1;
        }
      }
      expect(checked).toBe(activities.length);
      recordFigures('crash after engagement writes (HubSpot)', { killPoints: kills, recordsChecked: checked, lost: 0, duplicated: 0 });
    } finally {
      await ledger.close();
    }
    const delta = await runChild(projectPath, dir!, 'delta', {});
    const counts = JSON.parse(delta.stdout) as { counts: Record<string, { created: number; updated: number }> };
    for (const object of ENGAGEMENTS) expect(counts.counts[object], object).toMatchObject({ created: 0, updated: 0 });
  });

  it('an undo of a run with calls, meetings and e-mails killed before and after its deletes and restores resumes to the target as before, deleting nothing twice', async () => {
    // A company the target had before Ferry (matched by domain): undo must restore it, not delete it.
    let existingId = '';
    const { projectPath } = await prepare((first) => {
      existingId = hubspot!.store.createRecord('companies', { name: 'Already here', domain: first.domain }).id;
    });
    const before = snapshot(hubspot!, existingId);
    const full = await runChild(projectPath, dir!, 'migrate', {});
    expect(full.stderr).toBe('');
    const run = JSON.parse(full.stdout) as { runId: number; counts: Record<string, { created: number; matched: number }> };
    for (const object of ENGAGEMENTS) expect(run.counts[object]!.created, object).toBeGreaterThan(0);
    expect(run.counts.companies!.matched).toBe(1);
    const migrated = snapshot(hubspot!, existingId);
    // The run left its marks on the company the target had: associations to its new contacts, deals and engagements.
    expect(migrated).not.toEqual(before);
    expect((migrated.associations as unknown[][]).flat().length).toBeGreaterThan(0);
    const log = join(dir!, 'writes.jsonl');
    const next = random(47);
    let kills = 0;
    let finished: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 60 && !finished; attempt++) {
      // Engagements are deleted first (they hang on the others), the matched company restored last.
      const op = attempt % 4 === 3 ? 'update' : 'delete';
      const point = `${op}:${1 + Math.floor(next() * (op === 'delete' ? 6 : 1))}:${next() < 0.5 ? 'before' : 'after'}`;
      const result = await runChild(projectPath, dir!, 'undo', { FERRY_TEST_KILL_AT: point, FERRY_TEST_BATCH_SIZE: '3', FERRY_TEST_WRITE_LOG: log }, [String(run.runId)]);
      if (result.signal === 'SIGKILL') {
        kills += 1;
        continue;
      }
      expect(result.stderr).toBe('');
      finished = JSON.parse(result.stdout) as Record<string, unknown>;
    }
    expect(finished).toMatchObject({ status: 'completed', resumed: true });
    expect(kills).toBeGreaterThanOrEqual(4);
    // Every engagement the run created was deleted, each by exactly one answered call.
    expect(deletedTwice(log)).toEqual([]);
    const deleted = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { op: string; object: string });
    for (const object of ENGAGEMENTS) expect(deleted.some((entry) => entry.op === 'delete' && entry.object === object), object).toBe(true);
    expect(snapshot(hubspot!, existingId)).toEqual(before);
    recordFigures('crash in undo of engagements (HubSpot)', { killPoints: kills, lost: 0, duplicated: 0 });
  });
});

/**
 * The emulator's live records per object (id and properties, without the times HubSpot stamps on each write and
 * with empty values left out: an undo restores a value Ferry filled in to empty) and the pre-existing company's
 * live associations.
 */
function snapshot(hubspot: HubspotEmulator, existingId: string) {
  const stamped = new Set(['hs_lastmodifieddate', 'lastmodifieddate', 'hs_object_id', 'createdate', 'hs_createdate']);
  const out: Record<string, unknown> = {};
  for (const object of ['companies', 'contacts', 'deals', ...ENGAGEMENTS]) {
    out[object] = [...hubspot.store.table(object).values()]
      .filter((record) => !record.archived)
      .map((record) => ({ id: record.id, properties: Object.fromEntries([...record.properties].filter(([name, value]) => !stamped.has(name) && value !== '' && value !== null).sort()) }));
  }
  out.associations = ['contacts', 'deals', ...ENGAGEMENTS].map((type) => hubspot.store.associationsOf('companies', existingId, type));
  return out;
}
