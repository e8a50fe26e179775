import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { withEngine } from '../support/engine-session.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';

/**
 * Pipedrive -> HubSpot through the engine, both emulators in-process: the sample Pipedrive company's users
 * matched to HubSpot owners by e-mail, organizations, persons (name split into first and last), deals with
 * stages and participants, and notes pinned to deals, persons and organizations; then a delta of edits made in
 * Pipedrive. Activities (routed by type into calls and tasks), deltas in every mode, conflicts, retry and undo
 * under faults: pipedrive-hubspot-deltas.test.ts.
 */
const STAGES: Record<string, string> = { '1': 'appointmentscheduled', '2': 'qualifiedtobuy', '3': 'presentationscheduled', '4': 'decisionmakerboughtin', '5': 'contractsent' };

describe('Pipedrive -> HubSpot, through the engine', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator;
  let hubspot: HubspotEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pd-hs-'));
  });
  afterEach(async () => {
    await pipedrive?.close();
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates the sample company with relations and owners, then a delta of Pipedrive edits, with nothing doubled', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    pipedrive = await startPipedriveEmulator({ port: 0, seed: 'sample', clock: () => now, burstLimit: { requests: 100_000, intervalMs: 2000 } });
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    for (const user of pipedrive.store.users.all()) hubspot.store.addOwner({ email: user.data.email });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000, dealParticipants: true },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'users', target: 'owners', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
        object({ source: 'organizations', target: 'companies', fields: [copy('name'), copy('address', 'city'), copy('owner_id', 'hubspot_owner_id')] }),
        object({
          source: 'persons',
          target: 'contacts',
          fields: [
            { source: ['name'], target: 'firstname', transform: { kind: 'split', separator: ' ', part: 'first' } },
            { source: ['name'], target: 'lastname', transform: { kind: 'split', separator: ' ', part: 'rest' } },
            copy('email'),
            copy('phone'),
            copy('org_id', 'primary_company'),
            copy('owner_id', 'hubspot_owner_id'),
          ],
        }),
        object({
          source: 'deals',
          target: 'deals',
          fields: [
            copy('title', 'dealname'),
            copy('value', 'amount'),
            { source: ['stage_id'], target: 'dealstage', transform: { kind: 'map', values: STAGES, unmapped: 'fail' } },
            copy('org_id', 'primary_company'),
            copy('participants', 'associated_contacts'),
            copy('owner_id', 'hubspot_owner_id'),
          ],
        }),
        object({
          source: 'notes',
          target: 'notes',
          fields: [copy('content', 'hs_note_body'), copy('add_time', 'hs_timestamp'), copy('deal_id', 'associated_deals'), copy('person_id', 'associated_contacts'), copy('org_id', 'associated_companies'), copy('user_id', 'hubspot_owner_id')],
        }),
      ],
    };
    const run = <T>(work: (engine: Engine, ledger: Ledger) => Promise<T>): Promise<T> => withEngine(dir, project, work);
    const full = await run((engine) => engine.migrate());
    await run(async (_engine, ledger) => expect(await ledger.listFailures({ runId: full.runId })).toEqual([]));
    expect(full.status).toBe('completed');
    const seeded = pipedrive.seeded!;
    const live = (type: string) => [...hubspot.store.table(type).values()].filter((record) => !record.archived);
    expect(live('companies')).toHaveLength(seeded.organizations);
    expect(live('contacts')).toHaveLength(seeded.persons);
    expect(live('deals')).toHaveLength(seeded.deals);
    expect(live('notes')).toHaveLength(seeded.notes);

    await run(async (_engine, ledger) => {
      const hubspotId = async (name: string, id: unknown): Promise<string | undefined> => (id === null || id === undefined ? undefined : ((await ledger.getLink(name, String(id)))?.targetId ?? undefined));
      const associated = (from: string, id: string, to: string) => hubspot.store.associationsOf(from, id, to).map(([other]) => other).sort();
      for (const person of pipedrive.store.table('persons').all()) {
        const contact = (await hubspotId('persons', person.id))!;
        const company = await hubspotId('organizations', person.data.org_id);
        expect(associated('contacts', contact, 'companies')).toEqual(company ? [company] : []);
        const owner = pipedrive.store.users.get(person.data.owner_id as number)!;
        const hubspotOwner = [...hubspot.store.owners.values()].find((candidate) => candidate.email === owner.data.email);
        expect(hubspot.store.get('contacts', contact)!.properties.get('hubspot_owner_id')).toBe(hubspotOwner?.id);
      }
      for (const deal of pipedrive.store.table('deals').all()) {
        const target = (await hubspotId('deals', deal.id))!;
        expect(hubspot.store.get('deals', target)!.properties.get('dealstage')).toBe(STAGES[String(deal.data.stage_id)]);
        const participants = pipedrive.store.participants.liveRows().filter((row) => row.data.deal_id === deal.id);
        const expected = (await Promise.all(participants.map((row) => hubspotId('persons', row.data.person_id)))).filter((id): id is string => id !== undefined).sort();
        expect(associated('deals', target, 'contacts')).toEqual(expected);
      }
      for (const note of pipedrive.store.notes.all()) {
        const target = (await hubspotId('notes', note.id))!;
        const deal = await hubspotId('deals', note.data.deal_id);
        if (deal) expect(associated('notes', target, 'deals')).toEqual([deal]);
      }
    });

    // ---- edits in Pipedrive, then a delta.
    now += 3_600_000;
    const person = pipedrive.store.table('persons').all()[0]!;
    pipedrive.store.update('persons', person.id, { name: 'Renamed Person' });
    pipedrive.store.create('organizations', { name: 'New Org' });
    const delta = await run((engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.persons).toMatchObject({ updated: 1, failed: 0 });
    expect(delta.counts.organizations).toMatchObject({ created: 1, failed: 0 });
    expect(live('contacts')).toHaveLength(seeded.persons);
    expect(live('companies')).toHaveLength(seeded.organizations + 1);
    const renamed = live('contacts').filter((record) => record.properties.get('firstname') === 'Renamed');
    expect(renamed.map((record) => record.properties.get('lastname'))).toEqual(['Person']);
  });
});
