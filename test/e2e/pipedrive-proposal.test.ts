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

  it('pairs the objects: users to owners by e-mail (link only), organizations, persons, deals, activities to tasks, notes', () => {
    expect(Object.fromEntries(objects.map((mapping) => [mapping.source, mapping.target]))).toEqual({ users: 'owners', organizations: 'companies', persons: 'contacts', deals: 'deals', activities: 'tasks', notes: 'notes' });
    expect(pairs('users').mapping).toMatchObject({ matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }] });
    expect(notes.some((note) => note.startsWith('products: no matching target object'))).toBe(true);
  });

  it('pairs fields, references and owners', () => {
    expect(pairs('persons').fields).toMatchObject({ first_name: 'firstname', last_name: 'lastname', email: 'email', phone: 'phone', org_id: 'primary_company', owner_id: 'hubspot_owner_id' });
    expect(pairs('persons').mapping.matchKeys).toEqual([{ source: 'email', target: 'email', kind: 'email' }]);
    expect(pairs('organizations').fields).toMatchObject({ name: 'name', website: 'website', annual_revenue: 'annualrevenue', owner_id: 'hubspot_owner_id' });
    expect(pairs('deals').fields).toMatchObject({ title: 'dealname', value: 'amount', 'status+stage_id': 'dealstage', org_id: 'primary_company', expected_close_date: 'closedate' });
    expect(pairs('notes').fields).toMatchObject({ content: 'hs_note_body', deal_id: 'associated_deals', person_id: 'associated_contacts', org_id: 'associated_companies', user_id: 'hubspot_owner_id' });
    expect(pairs('activities').fields).toMatchObject({ subject: 'hs_task_subject', deal_id: 'associated_deals', participants: 'associated_contacts' });
  });

  it('says what it cannot map: stage ids have no HubSpot option until the value map is filled in', () => {
    expect(notes.some((note) => note.includes('stage_id → deals.dealstage: no target option for "1"'))).toBe(true);
  });
});
