import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { CALL_OUTCOMES } from '../../emulators/hubspot/schema.js';
import { createHubspotConnector } from './index.js';

/**
 * The connector on HubSpot's engagement objects (calls, meetings, e-mails), against the emulator: what
 * describe() says of them, writes with associations read back as lists, and delta reads by each object's
 * modified property.
 */
describe('HubSpot connector: calls, meetings and e-mails', () => {
  let hubspot: HubspotEmulator;
  let now = Date.UTC(2026, 2, 1, 12);
  beforeEach(async () => {
    now = Date.UTC(2026, 2, 1, 12);
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000, clock: () => now });
  });
  afterEach(async () => {
    await hubspot.close();
  });
  const connect = () => createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });

  it('describes each engagement: required hs_timestamp, typed properties, associations to contacts, companies and deals, created and modified fields', async () => {
    const connector = connect();
    try {
      const schema = await connector.describe();
      for (const name of ['calls', 'meetings', 'emails']) {
        const object = schema.objects.find((candidate) => candidate.name === name);
        expect(object, name).toBeDefined();
        const field = (fieldName: string) => object!.fields.find((candidate) => candidate.name === fieldName);
        expect(field('hs_timestamp'), name).toMatchObject({ type: 'datetime', required: true });
        expect(object).toMatchObject({ createdField: 'hs_createdate', modifiedField: 'hs_lastmodifieddate' });
        for (const [association, to] of [
          ['associated_contacts', 'contacts'],
          ['associated_companies', 'companies'],
          ['associated_deals', 'deals'],
        ] as const) {
          expect(field(association), `${name}.${association}`).toMatchObject({ type: 'reference-list', reference: { object: to } });
        }
        expect(field('hubspot_owner_id')).toMatchObject({ type: 'reference', reference: { object: 'owners' } });
      }
      const calls = schema.objects.find((candidate) => candidate.name === 'calls')!;
      expect(calls.fields.find((field) => field.name === 'hs_call_duration')?.type).toBe('number');
      const outcome = calls.fields.find((field) => field.name === 'hs_call_disposition');
      expect(outcome?.type).toBe('enum');
      expect(outcome?.options?.map((option) => [option.value, option.label])).toEqual(CALL_OUTCOMES);
      const emails = schema.objects.find((candidate) => candidate.name === 'emails')!;
      expect(emails.fields.find((field) => field.name === 'hs_email_direction')?.options?.map((option) => option.value)).toEqual(['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL']);
      expect(emails.fields.find((field) => field.name === 'hs_email_from_email')?.readOnly).toBe(true);
    } finally {
      await connector.close();
    }
  });

  it('writes engagements with their associations, reads them back as lists, and a delta read finds the changed one', async () => {
    const contact = hubspot.store.createRecord('contacts', { email: 'ann@acme.test' });
    const company = hubspot.store.createRecord('companies', { name: 'Acme' });
    const deal = hubspot.store.createRecord('deals', { dealname: 'Renewal', dealstage: 'qualifiedtobuy' });
    const connector = connect();
    try {
      const [call] = await connector.create('calls', [
        { ref: 'c', fields: { hs_timestamp: '2026-02-01T10:00:00.000Z', hs_call_title: 'Intro', hs_call_duration: 120_000, associated_contacts: [contact.id], associated_deals: [deal.id] } },
      ]);
      const [meeting] = await connector.create('meetings', [
        { ref: 'm', fields: { hs_timestamp: '2026-02-02T09:00:00.000Z', hs_meeting_start_time: '2026-02-02T09:00:00.000Z', hs_meeting_end_time: '2026-02-02T10:00:00.000Z', associated_companies: [company.id] } },
      ]);
      const [email, missing] = await connector.create('emails', [
        { ref: 'e', fields: { hs_timestamp: '2026-02-03T08:00:00.000Z', hs_email_subject: 'Quote', hs_email_direction: 'INCOMING_EMAIL', associated_contacts: [contact.id], associated_companies: [company.id] } },
        { ref: 'x', fields: { hs_email_subject: 'No time' } },
      ]);
      expect([call?.ok, meeting?.ok, email?.ok]).toEqual([true, true, true]);
      expect(missing).toMatchObject({ ok: false, error: { field: 'hs_timestamp' } });
      const [readCall] = await connector.readByIds('calls', [call!.ok ? call!.id : ''], ['hs_call_duration', 'associated_contacts', 'associated_companies', 'associated_deals']);
      expect(readCall?.fields).toMatchObject({ hs_call_duration: 120_000, associated_contacts: [contact.id], associated_companies: [], associated_deals: [deal.id] });
      const [readEmail] = await connector.readByIds('emails', [email!.ok ? email!.id : ''], ['hs_email_direction', 'associated_contacts', 'associated_companies']);
      expect(readEmail?.fields).toMatchObject({ hs_email_direction: 'INCOMING_EMAIL', associated_contacts: [contact.id], associated_companies: [company.id] });

      now += 60_000;
      const since = new Date(now).toISOString();
      now += 60_000;
      hubspot.store.updateRecord('meetings', meeting!.ok ? meeting!.id : '', { hs_meeting_outcome: 'COMPLETED' });
      for (const [object, expected] of [
        ['calls', []],
        ['meetings', [meeting!.ok ? meeting!.id : '']],
        ['emails', []],
      ] as const) {
        const page = await connector.read(object, { modifiedSince: since, limit: 100 });
        expect(page.records.map((record) => record.id), object).toEqual(expected);
      }
    } finally {
      await connector.close();
    }
  });
});
