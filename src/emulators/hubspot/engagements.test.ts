import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from './index.js';
import { CALL_OUTCOMES } from './schema.js';
import { call, manualClock } from './test-support.js';

/** Calls, meetings and e-mails: the objects, their properties, what a create needs, their associations. */
describe('HubSpot emulator: engagements (calls, meetings, e-mails)', () => {
  let hubspot: HubspotEmulator;
  const clock = manualClock();

  beforeEach(async () => {
    clock.set(Date.UTC(2026, 2, 1, 12));
    hubspot = await startHubspotEmulator({ clock: clock.now, burstLimit: { requests: 10_000, intervalMs: 10_000 } });
  });
  afterEach(async () => {
    await hubspot.close();
  });

  const CONNECTED = CALL_OUTCOMES.find(([, label]) => label === 'Connected')![0];

  it('describes the properties of each engagement with HubSpot types (duration a number, outcome an id enumeration)', async () => {
    const calls = await call(hubspot, 'GET', '/crm/v3/properties/calls');
    const byName = new Map<string, { type: string; options: { value: string; label: string }[]; modificationMetadata: { readOnlyValue: boolean } }>(
      calls.body.results.map((property: { name: string }) => [property.name, property]),
    );
    expect(byName.get('hs_call_duration')?.type).toBe('number');
    expect(byName.get('hs_call_direction')?.options.map((option) => option.value)).toEqual(['INBOUND', 'OUTBOUND']);
    expect(byName.get('hs_call_disposition')?.options.find((option) => option.value === CONNECTED)?.label).toBe('Connected');
    expect(byName.get('hs_timestamp')?.type).toBe('datetime');
    const meetings = await call(hubspot, 'GET', '/crm/v3/properties/meetings');
    expect(meetings.body.results.map((property: { name: string }) => property.name)).toEqual(expect.arrayContaining(['hs_meeting_title', 'hs_meeting_start_time', 'hs_meeting_end_time', 'hs_meeting_outcome']));
    const emails = await call(hubspot, 'GET', '/crm/v3/properties/emails');
    const emailProperties = new Map<string, { type: string; options: { value: string }[]; modificationMetadata: { readOnlyValue: boolean } }>(
      emails.body.results.map((property: { name: string }) => [property.name, property]),
    );
    expect(emailProperties.get('hs_email_direction')?.options.map((option) => option.value)).toEqual(['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL']);
    expect(emailProperties.get('hs_email_status')?.options.map((option) => option.value)).toEqual(['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT']);
    expect(emailProperties.get('hs_email_from_email')?.modificationMetadata.readOnlyValue).toBe(true);
    // The object type id resolves like the name does.
    const byTypeId = await call(hubspot, 'GET', '/crm/v3/objects/0-49');
    expect(byTypeId.status).toBe(200);
  });

  it('creates and reads each engagement, with values as HubSpot returns them', async () => {
    const created = await call(hubspot, 'POST', '/crm/v3/objects/calls', {
      properties: { hs_timestamp: '2026-02-10T09:30:00Z', hs_call_title: 'Intro', hs_call_duration: 90_000, hs_call_direction: 'OUTBOUND', hs_call_disposition: CONNECTED },
    });
    expect(created.status).toBe(201);
    const read = await call(hubspot, 'GET', `/crm/v3/objects/calls/${created.body.id}?properties=hs_timestamp,hs_call_duration,hs_call_disposition,hs_call_direction`);
    expect(read.body.properties).toMatchObject({ hs_timestamp: '2026-02-10T09:30:00.000Z', hs_call_duration: '90000', hs_call_disposition: CONNECTED, hs_call_direction: 'OUTBOUND' });
    const meeting = await call(hubspot, 'POST', '/crm/v3/objects/meetings', {
      properties: { hs_timestamp: 1_770_000_000_000, hs_meeting_title: 'Kick-off', hs_meeting_start_time: 1_770_000_000_000, hs_meeting_end_time: 1_770_003_600_000, hs_meeting_outcome: 'COMPLETED' },
    });
    expect(meeting.status).toBe(201);
    expect(meeting.body.properties.hs_meeting_end_time).toBe(new Date(1_770_003_600_000).toISOString());
    const email = await call(hubspot, 'POST', '/crm/v3/objects/emails', {
      properties: { hs_timestamp: '2026-02-11T08:00:00Z', hs_email_subject: 'Quote', hs_email_text: 'Attached.', hs_email_direction: 'INCOMING_EMAIL', hs_email_status: 'SENT' },
    });
    expect(email.status).toBe(201);
    // Reads without properties give the engagement defaults.
    const list = await call(hubspot, 'GET', '/crm/v3/objects/emails');
    expect(Object.keys(list.body.results[0].properties).sort()).toEqual(['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id']);
  });

  it('requires hs_timestamp on create of a call, a meeting and an e-mail, and reports every bad value at once', async () => {
    for (const [object, properties] of [
      ['calls', { hs_call_title: 'No time' }],
      ['meetings', { hs_meeting_title: 'No time' }],
      ['emails', { hs_email_subject: 'No time' }],
    ] as const) {
      const refused = await call(hubspot, 'POST', `/crm/v3/objects/${object}`, { properties });
      expect(refused.status, object).toBe(400);
      expect(refused.body.category).toBe('VALIDATION_ERROR');
      expect(refused.body.message).toContain('REQUIRED_PROPERTY');
      expect(refused.body.message).toContain('hs_timestamp');
    }
    const bad = await call(hubspot, 'POST', '/crm/v3/objects/calls', {
      properties: { hs_timestamp: 'yesterday', hs_call_duration: '5 min', hs_call_disposition: 'Connected', hs_call_direction: 'outbound' },
    });
    expect(bad.status).toBe(400);
    const codes = bad.body.errors.map((error: { code: string; context: { propertyName: string[] } }) => `${error.context.propertyName[0]}:${error.code}`).sort();
    expect(codes).toEqual(['hs_call_direction:INVALID_OPTION', 'hs_call_disposition:INVALID_OPTION', 'hs_call_duration:INVALID_DECIMAL', 'hs_timestamp:INVALID_DATETIME']);
    const readOnly = await call(hubspot, 'POST', '/crm/v3/objects/emails', { properties: { hs_timestamp: '2026-02-11T08:00:00Z', hs_email_from_email: 'a@b.test' } });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.message).toContain('READ_ONLY_VALUE');
    expect(hubspot.store.count('calls') + hubspot.store.count('meetings') + hubspot.store.count('emails')).toBe(0);
  });

  it('associates engagements with contacts, companies and deals by the HubSpot-defined type ids, both directions', async () => {
    const contact = hubspot.store.createRecord('contacts', { email: 'ann@acme.test' });
    const company = hubspot.store.createRecord('companies', { name: 'Acme' });
    const deal = hubspot.store.createRecord('deals', { dealname: 'Renewal', dealstage: 'qualifiedtobuy' });
    const expected: Record<string, Record<string, [number, number]>> = {
      calls: { contacts: [194, 193], companies: [182, 181], deals: [206, 205] },
      meetings: { contacts: [200, 199], companies: [188, 187], deals: [212, 211] },
      emails: { contacts: [198, 197], companies: [186, 185], deals: [210, 209] },
    };
    const parents: Record<string, string> = { contacts: contact.id, companies: company.id, deals: deal.id };
    for (const [object, pairs] of Object.entries(expected)) {
      for (const [toObject, [typeId, inverse]] of Object.entries(pairs)) {
        const labels = await call(hubspot, 'GET', `/crm/v4/associations/${object}/${toObject}/labels`);
        expect(labels.body.results, `${object}/${toObject}`).toEqual([{ category: 'HUBSPOT_DEFINED', typeId, label: null }]);
        const created = await call(hubspot, 'POST', `/crm/v3/objects/${object}`, {
          properties: { hs_timestamp: '2026-02-01T00:00:00Z' },
          associations: [{ to: { id: parents[toObject] }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] }],
        });
        expect(created.status, `${object} -> ${toObject}`).toBe(201);
        const back = await call(hubspot, 'POST', `/crm/v4/associations/${toObject}/${object}/batch/read`, { inputs: [{ id: parents[toObject] }] });
        const to = back.body.results[0].to.find((entry: { toObjectId: number | string }) => String(entry.toObjectId) === created.body.id);
        expect(to.associationTypes.map((type: { typeId: number }) => type.typeId)).toEqual([inverse]);
      }
    }
    // The type id of another pair is refused.
    const wrong = await call(hubspot, 'POST', '/crm/v3/objects/emails', {
      properties: { hs_timestamp: '2026-02-01T00:00:00Z' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }] }],
    });
    expect(wrong.status).toBe(400);
  });

  it('seeds calls, meetings and e-mails, each associated with a record', async () => {
    const seeded = await startHubspotEmulator({ seed: 'sample', clock: () => Date.UTC(2026, 0, 20) });
    try {
      expect(seeded.seeded).toMatchObject({ calls: 10, meetings: 8, emails: 10 });
      for (const object of ['calls', 'meetings', 'emails']) {
        const list = await call(seeded, 'GET', `/crm/v3/objects/${object}?limit=100&properties=hs_timestamp&associations=contacts,companies,deals`);
        expect(list.body.results.length).toBeGreaterThan(0);
        for (const record of list.body.results) {
          expect(record.properties.hs_timestamp, object).not.toBeNull();
          expect(Object.keys(record.associations ?? {}).length, `${object} ${record.id}`).toBe(1);
        }
      }
    } finally {
      await seeded.close();
    }
  });
});
