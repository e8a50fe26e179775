import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { FieldMapping, ProjectFile } from '../../src/project/types.js';
import { withEngine } from '../support/engine-session.js';

/**
 * Pipedrive -> HubSpot deltas in all three modes, with edits in HubSpot and conflicts, retry and undo, under
 * injected faults on both sides (Pipedrive: 5xx, a dropped connection and 429 storms on reads, a tight burst
 * window; HubSpot: a batch create whose answer is lost, a 502) — the Pipedrive -> SQL test of
 * pipedrive-deltas.test.ts with HubSpot as the target, and activities routed into calls and tasks by type.
 * After every run: nothing in HubSpot twice, nothing lost (every live Pipedrive record is linked to one live
 * HubSpot record or listed as failed).
 */
const SEED = 11;
const BURST = { requests: 60, intervalMs: 2000 };

/** A clock from a fixed epoch that runs with the wall clock, plus jumps (the burst window must free up). */
function movingClock(epoch: number): { now: () => number; jump: (ms: number) => void } {
  const started = Date.now();
  let offset = 0;
  return { now: () => epoch + offset + (Date.now() - started), jump: (ms) => (offset += ms) };
}

const datetime = (source: string, target: string): FieldMapping => ({ source: [source], target, transform: { kind: 'datetime' } });

describe('Pipedrive -> HubSpot: deltas in every mode, conflicts, retry and undo, under faults on both sides', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator | undefined;
  let hubspot: HubspotEmulator | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pd-hs-deltas-'));
  });
  afterEach(async () => {
    await pipedrive?.close();
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('full with faults and a broken stage map, retry, create-new, update-changed with skip-record, both with source-wins, undo', async () => {
    const clock = movingClock(Date.UTC(2030, 5, 1, 9));
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: BURST, clock: clock.now, abuseBlock: false, seed: { sample: { seed: SEED, persons: 30 } } });
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    const pd = pipedrive;
    const hs = hubspot;
    for (const user of pd.store.users.all()) hs.store.addOwner({ email: user.data.email });
    const stageIds = pd.store.table('stages').all().map((row) => String(row.id));
    const hubspotStages = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent'];
    const stageMap = (stages: string[]) => ({ ...Object.fromEntries(stages.map((id, index) => [id, hubspotStages[index % hubspotStages.length]!])), won: 'closedwon', lost: 'closedlost' });
    const activity = (key: string, target: string, types: string[], fields: FieldMapping[]) =>
      object({ key, source: 'activities', target, where: { type: types }, fields: [...fields, copy('owner_id', 'hubspot_owner_id'), copy('deal_id', 'associated_deals'), copy('participants', 'associated_contacts'), datetime('due_date', 'hs_timestamp')] });
    const project = (stages: string[]): ProjectFile => ({
      version: 1,
      source: { connector: 'pipedrive', apiToken: pd.token, baseUrl: pd.url, burstLimit: 200 },
      target: { connector: 'hubspot', accessToken: hs.token, baseUrl: hs.url, burstLimit: 1000, searchPerSecond: 50 },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 20 },
      objects: [
        object({ source: 'users', target: 'owners', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
        object({ source: 'organizations', target: 'companies', fields: [copy('name'), copy('owner_id', 'hubspot_owner_id')] }),
        object({ source: 'persons', target: 'contacts', fields: [copy('first_name', 'firstname'), copy('last_name', 'lastname'), copy('email'), copy('phone'), copy('org_id', 'primary_company'), copy('owner_id', 'hubspot_owner_id')] }),
        object({
          source: 'deals',
          target: 'deals',
          fields: [copy('title', 'dealname'), copy('value', 'amount'), { source: ['status', 'stage_id'], target: 'dealstage', transform: { kind: 'map', values: stageMap(stages), unmapped: 'fail' } }, copy('person_id', 'associated_contacts'), copy('org_id', 'primary_company'), copy('owner_id', 'hubspot_owner_id')],
        }),
        activity('activity_calls', 'calls', ['call'], [copy('subject', 'hs_call_title'), copy('note', 'hs_call_body')]),
        activity('activity_tasks', 'tasks', ['task', 'deadline', 'meeting', 'lunch', 'email'], [copy('subject', 'hs_task_subject'), copy('note', 'hs_task_body')]),
        object({ source: 'notes', target: 'notes', fields: [copy('content', 'hs_note_body'), copy('add_time', 'hs_timestamp'), copy('deal_id', 'associated_deals'), copy('person_id', 'associated_contacts'), copy('org_id', 'associated_companies'), copy('user_id', 'hubspot_owner_id')] }),
      ],
    });
    const session = <T>(stages: string[], work: (engine: Engine, ledger: Ledger) => Promise<T>): Promise<T> => withEngine(dir, project(stages), work);
    const liveHubspot = (type: string) => [...hs.store.table(type).values()].filter((record) => !record.archived);
    const livePipedrive = (entity: 'persons' | 'organizations' | 'deals' | 'activities' | 'notes'): { id: number; data: Record<string, unknown> }[] =>
      (entity === 'notes' ? pd.store.notes.all() : pd.store.table(entity).all()).filter((row) => !row.deleted) as unknown as { id: number; data: Record<string, unknown> }[];
    const contactOf = (ledger: Ledger, personId: number) => ledger.getLink('persons', String(personId)).then((link) => hs.store.get('contacts', link!.targetId!)!);

    /** Every live Pipedrive record linked to one live HubSpot record or failed; HubSpot holds exactly the linked ones. */
    async function expectNoDuplicateNothingLost(): Promise<void> {
      await session(stageIds, async (_engine, ledger) => {
        const checks: [ledgerName: string, rows: { id: number; data: Record<string, unknown> }[], types: string[]][] = [
          ['organizations', livePipedrive('organizations'), ['companies']],
          ['persons', livePipedrive('persons'), ['contacts']],
          ['deals', livePipedrive('deals'), ['deals']],
          ['activity_calls', livePipedrive('activities').filter((row) => row.data.type === 'call'), ['calls']],
          ['activity_tasks', livePipedrive('activities').filter((row) => row.data.type !== 'call'), ['tasks']],
          ['notes', livePipedrive('notes'), ['notes']],
        ];
        for (const [name, rows, types] of checks) {
          const failures = new Set((await ledger.listFailures({ object: name, unresolved: true, severity: 'error' })).map((failure) => failure.sourceId));
          const links = await ledger.getLinks(name, rows.map((row) => String(row.id)));
          const targets: string[] = [];
          for (const row of rows) {
            const id = links.get(String(row.id))?.targetId;
            if (id) targets.push(id);
            else expect(failures.has(String(row.id)), `${name} ${row.id}: neither linked nor failed`).toBe(true);
          }
          expect(new Set(targets).size, `${name}: two source records on one HubSpot record`).toBe(targets.length);
          const held = types.flatMap((type) => liveHubspot(type).map((record) => record.id));
          expect(held.sort(), `${name}: HubSpot holds exactly the linked records`).toEqual(targets.sort());
        }
      });
    }

    // ---- full: Pipedrive read faults, a lost HubSpot batch-create answer and a 502; the last stage missing from the map.
    pd.faults.serverError(502, { path: '/api/v2/persons', method: 'GET', count: 2 });
    pd.faults.dropConnection({ path: '/api/v1/notes', method: 'GET', count: 1 });
    pd.faults.rateLimitStorm({ path: '/api/v2/deals', method: 'GET', count: 3 });
    hs.faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    hs.faults.serverError(502, { path: '/crm/v3/objects/companies/batch/create', count: 1 });
    const full = await session(stageIds.slice(0, -1), (engine) => engine.migrate());
    expect(full.status).toBe('completed_with_failures');
    expect(Object.values(pd.faults.fired()).map((count) => count > 0)).toEqual([true, true, true]);
    expect(Object.values(hs.faults.fired()).map((count) => count > 0)).toEqual([true, true]);
    const lastStage = Number(stageIds.at(-1));
    const inLastStage = livePipedrive('deals').filter((row) => row.data.stage_id === lastStage && row.data.status === 'open').length;
    expect(inLastStage).toBeGreaterThan(0);
    expect(full.counts.deals!.failed).toBe(inLastStage);
    expect(full.counts.activity_calls!.created + full.counts.activity_tasks!.created).toBe(livePipedrive('activities').length);
    pd.faults.clear();
    hs.faults.clear();
    await expectNoDuplicateNothingLost();

    // ---- retry with the full stage map: only those deals, once.
    const retry = await session(stageIds, (engine) => engine.retry(full.runId));
    expect(retry.counts.deals).toMatchObject({ created: inLastStage, failed: 0 });
    await expectNoDuplicateNothingLost();

    // ---- in Pipedrive: a renamed person, a deal won, a new person; in HubSpot: that contact renamed too (a
    // conflict) and another contact's phone typed in (a HubSpot-only change).
    clock.jump(3_600_000);
    const [renamed, other] = livePipedrive('persons');
    const openDeal = livePipedrive('deals').find((row) => row.data.status === 'open')!;
    pd.store.update('persons', renamed!.id, { name: 'Renamed Pipedrive' });
    pd.store.update('deals', openDeal.id, { status: 'won' });
    pd.store.create('persons', { name: 'New Pipedrive', emails: [{ value: 'new.person@example.com', primary: true, label: 'work' }] });
    const [renamedContact, otherContact, dealId] = await session(stageIds, async (_engine, ledger) => [(await contactOf(ledger, renamed!.id)).id, (await contactOf(ledger, other!.id)).id, (await ledger.getLink('deals', String(openDeal.id)))!.targetId!]);
    hs.store.updateRecord('contacts', renamedContact, { firstname: 'RenamedIn' });
    hs.store.updateRecord('contacts', otherContact, { phone: '+1 555 0100' });
    clock.jump(60_000);

    const createNew = await session(stageIds, (engine) => engine.delta({ createNew: true, updateChanged: false }));
    expect(createNew.counts.persons).toMatchObject({ created: 1, updated: 0, failed: 0 });
    expect(liveHubspot('contacts').filter((record) => record.properties.get('firstname') === 'New')).toHaveLength(1);
    expect(hs.store.get('deals', dealId)!.properties.get('dealstage'), 'create-new leaves changed records alone').not.toBe('closedwon');

    pd.faults.serverError(503, { path: '/api/v2/deals', method: 'GET', count: 1 });
    hs.faults.serverError(502, { path: '/crm/v3/objects/deals/batch/update', count: 1 });
    const skip = await session(stageIds, (engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'skip-record' }));
    expect(skip.counts.persons).toMatchObject({ created: 0, conflicts: 1 });
    expect(skip.counts.deals).toMatchObject({ created: 0, updated: 1, failed: 0 });
    expect(hs.store.get('deals', dealId)!.properties.get('dealstage')).toBe('closedwon');
    expect(hs.store.get('contacts', renamedContact)!.properties.get('firstname'), 'skip-record writes nothing of the record').toBe('RenamedIn');
    expect(Object.values(hs.faults.fired())).toEqual([1]);
    hs.faults.clear();
    await expectNoDuplicateNothingLost();

    // ---- both people change again in Pipedrive: the combined delta settles the conflict by source-wins.
    clock.jump(3_600_000);
    pd.store.update('persons', renamed!.id, { name: 'Again Pipedrive' });
    pd.store.update('persons', other!.id, { name: 'Other Pipedrive' });
    pd.store.create('persons', { name: 'Second Pipedrive' });
    clock.jump(60_000);
    pd.faults.rateLimitStorm({ path: '/api/v2/persons', method: 'GET', count: 2 });
    const both = await session(stageIds, (engine) => engine.delta({ createNew: true, updateChanged: true, onConflict: 'source-wins' }));
    expect(both.status).toBe('completed');
    expect(both.counts.persons).toMatchObject({ created: 1, updated: 2, conflicts: 1, failed: 0 });
    expect(hs.store.get('contacts', renamedContact)!.properties.get('firstname')).toBe('Again');
    // Changed only in HubSpot: kept.
    expect(hs.store.get('contacts', otherContact)!.properties.get('firstname')).toBe('Other');
    expect(hs.store.get('contacts', otherContact)!.properties.get('phone')).toBe('+1 555 0100');
    await expectNoDuplicateNothingLost();

    // ---- undo the combined delta: its contact is archived, the names it wrote are back.
    const contactsBefore = liveHubspot('contacts').length;
    const undo = await session(stageIds, (engine) => engine.undo(both.runId));
    expect(undo.status).toBe('completed');
    expect(liveHubspot('contacts')).toHaveLength(contactsBefore - 1);
    expect(liveHubspot('contacts').filter((record) => record.properties.get('firstname') === 'Second')).toHaveLength(0);
    expect(hs.store.get('contacts', renamedContact)!.properties.get('firstname')).toBe('RenamedIn');
    expect(hs.store.get('contacts', otherContact)!.properties.get('firstname')).not.toBe('Other');
    expect(pd.stats.status429).toBeGreaterThan(0);
  }, 180_000);
});
