import { afterEach, describe, expect, it } from 'vitest';
import { RENEWAL_STAGES } from './seed.js';
import { OPPORTUNITY_STAGES } from './schema.js';
import { startSalesforceEmulator, type SalesforceEmulator } from './index.js';
import { call, queryAllPages } from './test-support.js';

const MASTER = '012000000000000AAA';
let salesforce: SalesforceEmulator | undefined;

afterEach(async () => {
  await salesforce?.close();
  salesforce = undefined;
});

async function recordTypeId(name: string): Promise<string> {
  const { records } = await queryAllPages(salesforce!, `SELECT Id, Name FROM RecordType WHERE SobjectType = 'Opportunity'`);
  const found = records.find((record) => record.Name === name);
  if (!found) throw new Error(`no record type ${name}`);
  return found.Id as string;
}

describe('Salesforce emulator: record types and their picklist values', () => {
  it('serves describe/layouts with a mapping per record type, Master last, and the values each makes available', async () => {
    salesforce = await startSalesforceEmulator({ seed: 'sample' });
    const renewal = await recordTypeId('Renewal');
    const answer = await call(salesforce, 'GET', '/sobjects/Opportunity/describe/layouts/');
    expect(answer.status).toBe(200);
    // More than one record type: no layouts section (REST API Developer Guide, "sObject Layouts").
    expect(answer.body.layouts).toBeNull();
    const mappings = answer.body.recordTypeMappings as { name: string; master: boolean; recordTypeId: string; defaultRecordTypeMapping: boolean; picklistsForRecordType: { picklistName: string; picklistValues: { value: string; active: boolean; label: string; defaultValue: boolean; validFor: unknown }[] }[] }[];
    expect(mappings.map((each) => [each.name, each.master, each.defaultRecordTypeMapping])).toEqual([
      ['New Business', false, true],
      ['Renewal', false, false],
      ['Master', true, false],
    ]);
    expect(mappings[2]!.recordTypeId).toBe(MASTER);
    const stagesOf = (name: string) => mappings.find((each) => each.name === name)!.picklistsForRecordType.find((each) => each.picklistName === 'StageName')!.picklistValues.map((value) => value.value);
    expect(stagesOf('Renewal')).toEqual(RENEWAL_STAGES);
    expect(stagesOf('Renewal')).not.toContain('Prospecting');
    expect(stagesOf('New Business')).toEqual(OPPORTUNITY_STAGES.map((stage) => stage.name));
    expect(stagesOf('Master')).toEqual(OPPORTUNITY_STAGES.map((stage) => stage.name));
    const entry = mappings[1]!.picklistsForRecordType[0]!.picklistValues[0]!;
    expect(Object.keys(entry).sort()).toEqual(['active', 'defaultValue', 'label', 'validFor', 'value']);
    // The describe's recordTypeInfos agree, and its layout links lead somewhere.
    const describe = await call(salesforce, 'GET', '/sobjects/Opportunity/describe');
    const infos = describe.body.recordTypeInfos as { recordTypeId: string; urls: { layout: string } }[];
    expect(infos.map((info) => info.recordTypeId)).toEqual(mappings.map((each) => each.recordTypeId));
    const layout = await call(salesforce, 'GET', infos.find((info) => info.recordTypeId === renewal)!.urls.layout);
    expect(layout.status).toBe(200);
    expect((await call(salesforce, 'GET', '/sobjects/Opportunity/describe/layouts/012000000000999AAA')).status).toBe(404);
    // An object with Master only has its layout and one mapping.
    const contact = await call(salesforce, 'GET', '/sobjects/Contact/describe/layouts');
    expect(contact.body.layouts).toHaveLength(1);
    expect(contact.body.recordTypeMappings.map((each: { recordTypeId: string }) => each.recordTypeId)).toEqual([MASTER]);
  });

  it('refuses a restricted picklist value the record type lacks, for creates, updates and the default record type', async () => {
    salesforce = await startSalesforceEmulator({ seed: 'sample' });
    const renewal = await recordTypeId('Renewal');
    const newBusiness = await recordTypeId('New Business');
    const base = { Name: 'RT deal', CloseDate: '2026-12-31' };
    const created = await call(salesforce, 'POST', '/composite/sobjects', {
      allOrNone: false,
      records: [
        { attributes: { type: 'Opportunity' }, ...base, StageName: 'Prospecting', RecordTypeId: renewal },
        { attributes: { type: 'Opportunity' }, ...base, StageName: 'Negotiation/Review', RecordTypeId: renewal },
        // No record type: the default (New Business), which has Prospecting.
        { attributes: { type: 'Opportunity' }, ...base, StageName: 'Prospecting' },
        // Type is unrestricted: a value Renewal does not offer is stored anyway.
        { attributes: { type: 'Opportunity' }, ...base, StageName: 'Closed Won', RecordTypeId: renewal, Type: 'New Customer' },
        // A record type of another object.
        { attributes: { type: 'Opportunity' }, ...base, StageName: 'Closed Won', RecordTypeId: (await queryAllPages(salesforce, `SELECT Id FROM RecordType WHERE SobjectType = 'Account'`)).records[0]!.Id },
      ],
    });
    expect(created.status).toBe(200);
    const results = created.body as { success: boolean; id: string | null; errors: { statusCode: string; message: string; fields: string[] }[] }[];
    expect(results.map((each) => each.success)).toEqual([false, true, true, true, false]);
    expect(results[0]!.errors[0]).toEqual({ statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message: 'Stage: bad value for restricted picklist field: Prospecting', fields: ['StageName'] });
    expect(results[4]!.errors[0]!.fields).toEqual(['RecordTypeId']);
    const stored = await call(salesforce, 'GET', `/sobjects/Opportunity/${results[2]!.id}`);
    expect(stored.body.RecordTypeId).toBe(newBusiness);
    expect((await call(salesforce, 'GET', `/sobjects/Opportunity/${results[3]!.id}`)).body.Type).toBe('New Customer');

    const id = results[1]!.id!;
    const refused = await call(salesforce, 'PATCH', `/sobjects/Opportunity/${id}`, { StageName: 'Qualification' });
    expect(refused.status).toBe(400);
    expect(refused.body[0].errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    // Moving the record to New Business along with the stage is allowed.
    const moved = await call(salesforce, 'PATCH', `/sobjects/Opportunity/${id}`, { StageName: 'Qualification', RecordTypeId: newBusiness });
    expect(moved.status).toBe(204);
  });

  it('seeds no record with a stage its record type lacks', async () => {
    salesforce = await startSalesforceEmulator({ seed: 'sample' });
    const renewal = await recordTypeId('Renewal');
    const { records } = await queryAllPages(salesforce, 'SELECT Id, StageName, RecordTypeId FROM Opportunity');
    const renewals = records.filter((record) => record.RecordTypeId === renewal);
    expect(renewals.length).toBeGreaterThan(0);
    for (const record of renewals) expect(RENEWAL_STAGES).toContain(record.StageName);
  });
});
