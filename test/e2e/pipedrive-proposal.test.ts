import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { createPipedriveConnector } from '../../src/connectors/pipedrive/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { proposeMapping } from '../../src/project/propose-mapping.js';
import type { ObjectMapping } from '../../src/project/types.js';

/**
 * `ferry map` from Pipedrive to HubSpot: the proposal pairs Pipedrive's objects and fields with HubSpot's from
 * the connector's schema (names, types, references and the meanings the connector declares), with nothing
 * Pipedrive-specific in the proposer.
 */
describe('proposed mapping Pipedrive -> HubSpot', () => {
  let pipedrive: PipedriveEmulator;
  let hubspot: HubspotEmulator;
  let objects: ObjectMapping[];
  let notes: string[];

  beforeAll(async () => {
    pipedrive = await startPipedriveEmulator({ port: 0, seed: 'sample' });
    hubspot = await startHubspotEmulator({});
    const source = createPipedriveConnector({ apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 1000 });
    const target = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url });
    const proposal = await proposeMapping({ sourceSchema: await source.describe(), targetSchema: await target.describe(), source: { connector: 'pipedrive' }, target: { connector: 'hubspot' } });
    objects = proposal.project.objects;
    notes = proposal.notes;
  });
  afterAll(async () => {
    await pipedrive?.close();
    await hubspot?.close();
  });

  const pairs = (source: string) => {
    const mapping = objects.find((candidate) => candidate.source === source)!;
    return { target: mapping.target, fields: Object.fromEntries(mapping.fields.map((field) => [field.source.join('+'), field.target])), mapping };
  };

  it('pairs the objects: users to owners by e-mail (link only), organizations, persons, deals, activities by type, notes', () => {
    const targets = (source: string) => objects.filter((mapping) => mapping.source === source).map((mapping) => mapping.target);
    expect({ users: targets('users'), organizations: targets('organizations'), persons: targets('persons'), deals: targets('deals'), notes: targets('notes') }).toEqual({ users: ['owners'], organizations: ['companies'], persons: ['contacts'], deals: ['deals'], notes: ['notes'] });
    expect(targets('activities')).toEqual(expect.arrayContaining(['calls', 'meetings']));
    expect(pairs('users').mapping).toMatchObject({ matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }] });
    expect(notes.some((note) => note.startsWith('products: no matching target object'))).toBe(true);
  });

  it('pairs fields, references and owners', () => {
    expect(pairs('persons').fields).toMatchObject({ first_name: 'firstname', last_name: 'lastname', email: 'email', phone: 'phone', org_id: 'primary_company', owner_id: 'hubspot_owner_id' });
    expect(pairs('persons').mapping.matchKeys).toEqual([{ source: 'email', target: 'email', kind: 'email' }]);
    expect(pairs('organizations').fields).toMatchObject({ name: 'name', website: 'website', annual_revenue: 'annualrevenue', owner_id: 'hubspot_owner_id' });
    expect(pairs('deals').fields).toMatchObject({ title: 'dealname', value: 'amount', 'status+stage_id': 'dealstage', org_id: 'primary_company', expected_close_date: 'closedate' });
    expect(pairs('notes').fields).toMatchObject({ content: 'hs_note_body', deal_id: 'associated_deals', person_id: 'associated_contacts', org_id: 'associated_companies', user_id: 'hubspot_owner_id' });
    // Activities are routed by their type into HubSpot's engagements (one mapping per target, `where: {type}`).
    const calls = objects.find((mapping) => mapping.source === 'activities' && mapping.target === 'calls')!;
    expect(calls.where).toEqual({ type: ['call'] });
    expect(Object.fromEntries(calls.fields.map((field) => [field.source.join('+'), field.target]))).toMatchObject({ subject: 'hs_call_title', deal_id: 'associated_deals', participants: 'associated_contacts', note: 'hs_call_body' });
  });

  it('maps stage ids by their stage names (pipelines and stages are the value map of deals), and says which are guesses', () => {
    const stage = pairs('deals').mapping.fields.find((field) => field.target === 'dealstage')!;
    expect(stage.transform).toMatchObject({ kind: 'map', unmapped: 'fail' });
    const values = (stage.transform as { values: Record<string, string> }).values;
    // The emulator's default pipeline: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started.
    expect(values).toMatchObject({ '1': 'qualifiedtobuy', '5': 'contractsent', won: 'closedwon', lost: 'closedlost' });
    for (const id of ['2', '3', '4']) expect(values[id], id).toBeDefined();
    expect(notes.some((note) => note.includes('no target option for "1"'))).toBe(false);
    expect(notes.some((note) => /guessed .*"2" \(Pipeline \/ Contact Made\) → /.test(note))).toBe(true);
  });
});
