import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('HubSpot emulator: records, properties, associations', () => {
  let hubspot: HubspotEmulator;
  const clock = manualClock();

  beforeEach(async () => {
    clock.set(Date.UTC(2026, 2, 1, 12));
    hubspot = await startHubspotEmulator({ clock: clock.now, burstLimit: { requests: 10_000, intervalMs: 10_000 } });
  });
  afterEach(async () => {
    await hubspot.close();
  });

  it('refuses a missing or wrong token with 401 INVALID_AUTHENTICATION', async () => {
    const wrong = await call(hubspot, 'GET', '/crm/v3/objects/contacts', undefined, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(typeof wrong.body.correlationId).toBe('string');
    const missing = await fetch(`${hubspot.url}/crm/v3/objects/contacts`);
    expect(missing.status).toBe(401);
  });

  it('pages a list with after cursors and returns every record exactly once', async () => {
    for (let index = 0; index < 257; index++) hubspot.store.createRecord('companies', { name: `Company ${index}`, domain: `c${index}.example` });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await call(hubspot, 'GET', `/crm/v3/objects/companies?limit=100&properties=name${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      pages++;
      for (const record of page.body.results) {
        expect(typeof record.properties.name).toBe('string');
        expect(record.archived).toBe(false);
        seen.push(record.id);
      }
      after = page.body.paging?.next?.after;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(257);
    expect(new Set(seen).size).toBe(257);
    const tooBig = await call(hubspot, 'GET', '/crm/v3/objects/companies?limit=101');
    expect(tooBig.status).toBe(400);
  });

  it('sets server-side fields: hs_object_id, createdate, hs_lastmodifieddate as strings, createdAt/updatedAt ISO', async () => {
    const created = await call(hubspot, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'Big one', dealstage: 'qualifiedtobuy', amount: 1200 } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.properties.hs_object_id).toBe(id);
    expect(created.body.properties.amount).toBe('1200');
    expect(created.body.createdAt).toBe('2026-03-01T12:00:00.000Z');
    clock.advance(60_000);
    hubspot.store.updateRecord('deals', id, { amount: '1300' }); // a person edits it in the UI
    const read = await call(hubspot, 'GET', `/crm/v3/objects/deals/${id}?properties=amount,pipeline`);
    expect(read.body.properties).toMatchObject({ amount: '1300', pipeline: 'default', hs_lastmodifieddate: '2026-03-01T12:01:00.000Z', createdate: '2026-03-01T12:00:00.000Z' });
    expect(read.body.updatedAt).toBe('2026-03-01T12:01:00.000Z');
    const readOnly = await call(hubspot, 'PATCH', `/crm/v3/objects/deals/${id}`, { properties: { hs_lastmodifieddate: '1' } });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.message).toContain('READ_ONLY_VALUE');
  });

  it('validates values like HubSpot: unknown property, e-mail, number, date at midnight, enumeration options', async () => {
    const unknown = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'a@b.example', favourite_colour: 'blue' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.category).toBe('VALIDATION_ERROR');
    expect(unknown.body.message).toMatch(/^Property values were not valid: /);
    expect(unknown.body.message).toContain('PROPERTY_DOESNT_EXIST');
    const email = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'not-an-email' } });
    expect(email.body.message).toContain('INVALID_EMAIL');
    const midnight = Date.UTC(1990, 4, 17);
    const notMidnight = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'x@y.example', date_of_birth: String(midnight + 3_600_000) } });
    expect(notMidnight.status).toBe(400);
    expect(notMidnight.body.message).toContain('not midnight');
    const option = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'x@y.example', lifecyclestage: 'prospect' } });
    expect(option.body.message).toContain('INVALID_OPTION');
    const stage = await call(hubspot, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'D', dealstage: 'Closed Won' } });
    expect(stage.body.message).toContain('INVALID_OPTION');
    const amount = await call(hubspot, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'D', dealstage: 'closedwon', amount: 'lots' } });
    expect(amount.status).toBe(400);
    const ok = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: ' Mixed.Case@Example.COM ', date_of_birth: '1990-05-17' } });
    expect(ok.status).toBe(201);
    expect(ok.body.properties.email).toBe('mixed.case@example.com');
    expect(ok.body.properties.date_of_birth).toBe('1990-05-17');
    const note = await call(hubspot, 'POST', '/crm/v3/objects/notes', { properties: { hs_note_body: 'no timestamp' } });
    expect(note.status).toBe(400);
    expect(hubspot.store.count('contacts')).toBe(1);
  });

  it('attributes a 207 partial failure to inputs by objectWriteTraceId and writes the good ones', async () => {
    const response = await call(hubspot, 'POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [
        { properties: { email: 'good1@example.com' }, objectWriteTraceId: 'src-1' },
        { properties: { email: 'broken' }, objectWriteTraceId: 'src-2' },
        { properties: { email: 'good3@example.com', nope: 'x' }, objectWriteTraceId: 'src-3' },
        { properties: { email: 'good4@example.com' }, objectWriteTraceId: 'src-4' },
      ],
    });
    expect(response.status).toBe(207);
    expect(response.body.status).toBe('COMPLETE');
    expect(response.body.numErrors).toBe(2);
    expect(response.body.results.map((record: { objectWriteTraceId: string }) => record.objectWriteTraceId)).toEqual(['src-1', 'src-4']);
    const failed = response.body.errors.map((error: { context: { objectWriteTraceId: string[] }; category: string }) => [error.context.objectWriteTraceId[0], error.category]);
    expect(failed).toEqual([
      ['src-2', 'VALIDATION_ERROR'],
      ['src-3', 'VALIDATION_ERROR'],
    ]);
    expect(hubspot.store.count('contacts')).toBe(2);
  });

  it('fails a whole batch without objectWriteTraceId, refuses more than 100 inputs', async () => {
    const response = await call(hubspot, 'POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [{ properties: { email: 'fine@example.com' } }, { properties: { email: 'broken' } }],
    });
    expect(response.status).toBe(400);
    expect(hubspot.store.count('contacts')).toBe(0);
    const tooMany = await call(hubspot, 'POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: Array.from({ length: 101 }, (_, index) => ({ properties: { email: `c${index}@example.com` } })),
    });
    expect(tooMany.status).toBe(400);
    expect(hubspot.store.count('contacts')).toBe(0);
  });

  it('enforces unique values: duplicate e-mail and a hasUniqueValue property answer 409 CONFLICT with the existing id', async () => {
    const first = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'dup@example.com' } });
    const again = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'DUP@example.com' } });
    expect(again.status).toBe(409);
    expect(again.body.category).toBe('CONFLICT');
    expect(again.body.message).toBe(`Contact already exists. Existing ID: ${first.body.id}`);

    const property = await call(hubspot, 'POST', '/crm/v3/properties/companies', {
      name: 'ferry_source_id',
      label: 'Ferry source id',
      type: 'string',
      fieldType: 'text',
      groupName: 'companyinformation',
      hasUniqueValue: true,
    });
    expect(property.status).toBe(201);
    expect(property.body).toMatchObject({ name: 'ferry_source_id', hasUniqueValue: true, hubspotDefined: false, modificationMetadata: { readOnlyValue: false } });
    const company = await call(hubspot, 'POST', '/crm/v3/objects/companies', { properties: { name: 'A', ferry_source_id: 'src-9' } });
    expect(company.status).toBe(201);
    const duplicate = await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/create', {
      inputs: [{ properties: { name: 'B', ferry_source_id: 'src-9' }, objectWriteTraceId: 't1' }],
    });
    expect(duplicate.status).toBe(207);
    expect(duplicate.body.errors[0]).toMatchObject({ category: 'CONFLICT', context: { objectWriteTraceId: ['t1'] } });
    // The lost-response recovery path: find the record by its unique property.
    const found = await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/read', { idProperty: 'ferry_source_id', inputs: [{ id: 'src-9' }], properties: ['name'] });
    expect(found.body.results[0].id).toBe(company.body.id);
    const upsert = await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/upsert', {
      inputs: [
        { id: 'src-9', idProperty: 'ferry_source_id', properties: { name: 'A renamed' } },
        { id: 'src-10', idProperty: 'ferry_source_id', properties: { name: 'C' } },
      ],
    });
    expect(upsert.status).toBe(200);
    expect(upsert.body.results.map((record: { new: boolean }) => record.new)).toEqual([false, true]);
    const nonUnique = await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/upsert', { inputs: [{ id: 'x', idProperty: 'name', properties: {} }] });
    expect(nonUnique.status).toBe(400);
    expect(nonUnique.body.message).toContain('non-unique');
  });

  it('creates properties in batch and lists them with types, options and read-only flags', async () => {
    const batch = await call(hubspot, 'POST', '/crm/v3/properties/deals/batch/create', {
      inputs: [
        { name: 'source_region', label: 'Region', type: 'enumeration', fieldType: 'select', groupName: 'dealinformation', options: [{ label: 'EMEA', value: 'emea' }] },
        { name: 'Bad Name', label: 'x', type: 'string', fieldType: 'text', groupName: 'dealinformation' },
      ],
    });
    expect(batch.status).toBe(207);
    expect(batch.body.results).toHaveLength(1);
    const listed = await call(hubspot, 'GET', '/crm/v3/properties/deals');
    const byName = new Map(listed.body.results.map((property: { name: string }) => [property.name, property]));
    expect(byName.get('source_region')).toMatchObject({ type: 'enumeration', options: [{ value: 'emea', hidden: false }] });
    expect(byName.get('hs_lastmodifieddate')).toMatchObject({ type: 'datetime', modificationMetadata: { readOnlyValue: true } });
    expect(byName.get('amount')).toMatchObject({ type: 'number', fieldType: 'number' });
    const patched = await call(hubspot, 'PATCH', '/crm/v3/properties/deals/source_region', { options: [{ label: 'EMEA', value: 'emea' }, { label: 'APAC', value: 'apac' }] });
    expect(patched.body.options).toHaveLength(2);
    const deal = await call(hubspot, 'POST', '/crm/v3/objects/deals', { properties: { dealname: 'D', dealstage: 'closedwon', source_region: 'apac' } });
    expect(deal.status).toBe(201);
    const exists = await call(hubspot, 'POST', '/crm/v3/properties/deals', { name: 'source_region', label: 'x', type: 'string', fieldType: 'text', groupName: 'dealinformation' });
    expect(exists.status).toBe(409);
  });

  it('round-trips associations: v3 create with associations, v4 batch create/read/archive, labels, default', async () => {
    const company = hubspot.store.createRecord('companies', { name: 'Acme' });
    const contact = await call(hubspot, 'POST', '/crm/v3/objects/contacts', {
      properties: { email: 'jane@acme.example' },
      associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }],
    });
    expect(contact.status).toBe(201);
    const withAssociations = await call(hubspot, 'GET', `/crm/v3/objects/contacts/${contact.body.id}?associations=companies`);
    expect(withAssociations.body.associations.companies.results).toEqual([
      { id: company.id, type: 'contact_to_company' },
      { id: company.id, type: 'contact_to_company_unlabeled' },
    ]);
    const deal = hubspot.store.createRecord('deals', { dealname: 'Deal', dealstage: 'closedwon' });
    const created = await call(hubspot, 'POST', '/crm/v4/associations/deals/contacts/batch/create', {
      inputs: [
        { from: { id: deal.id }, to: { id: contact.body.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] },
        { from: { id: deal.id }, to: { id: '999' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] },
      ],
    });
    expect(created.status).toBe(207);
    expect(created.body.results[0]).toMatchObject({ fromObjectTypeId: '0-3', toObjectTypeId: '0-1', toObjectId: Number(contact.body.id) });
    const defaults = await call(hubspot, 'POST', '/crm/v4/associations/deals/companies/batch/associate/default', { inputs: [{ from: { id: deal.id }, to: { id: company.id } }] });
    expect(defaults.status).toBe(200);
    expect(defaults.body.results[0].associationSpec).toEqual({ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 341 });
    const read = await call(hubspot, 'POST', '/crm/v4/associations/contacts/deals/batch/read', { inputs: [{ id: contact.body.id }] });
    expect(read.status).toBe(200);
    expect(read.body.results[0].to).toEqual([{ toObjectId: Number(deal.id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }] }]);
    const labels = await call(hubspot, 'GET', '/crm/v4/associations/contacts/companies/labels');
    expect(labels.body.results.map((label: { typeId: number }) => label.typeId).sort()).toEqual([1, 279]);
    const archived = await call(hubspot, 'POST', '/crm/v4/associations/deals/contacts/batch/archive', { inputs: [{ from: { id: deal.id }, to: [{ id: contact.body.id }] }] });
    expect(archived.status).toBe(204);
    const after = await call(hubspot, 'POST', '/crm/v4/associations/deals/contacts/batch/read', { inputs: [{ id: deal.id }] });
    expect(after.status).toBe(207);
    expect(after.body.results).toEqual([]);
  });

  it('serves the default deal pipeline and owners filtered by e-mail', async () => {
    const pipelines = await call(hubspot, 'GET', '/crm/v3/pipelines/deals');
    expect(pipelines.body.results[0].id).toBe('default');
    expect(pipelines.body.results[0].stages.map((stage: { id: string }) => stage.id)).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
    hubspot.store.addOwner({ email: 'ann@corp.example', firstName: 'Ann' });
    const owner = hubspot.store.addOwner({ email: 'bob@corp.example', firstName: 'Bob' });
    const found = await call(hubspot, 'GET', '/crm/v3/owners?email=BOB@corp.example');
    expect(found.body.results).toHaveLength(1);
    expect(found.body.results[0]).toMatchObject({ id: owner.id, email: 'bob@corp.example', type: 'PERSON', archived: false });
    const bad = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'o@x.example', hubspot_owner_id: '123' } });
    expect(bad.status).toBe(400);
    const good = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'o@x.example', hubspot_owner_id: owner.id } });
    expect(good.status).toBe(201);
    // The owner property says it refers to owners, so a client maps it as a reference, not a plain picklist.
    const property = await call(hubspot, 'GET', '/crm/v3/properties/contacts/hubspot_owner_id');
    expect(property.body).toMatchObject({ name: 'hubspot_owner_id', type: 'enumeration', referencedObjectType: 'OWNER', externalOptions: true });
  });

  it('archives records: gone from lists and reads, listed with archived=true, batch read reports missing ids', async () => {
    const record = hubspot.store.createRecord('companies', { name: 'Gone' });
    expect((await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/archive', { inputs: [{ id: record.id }] })).status).toBe(204);
    expect((await call(hubspot, 'GET', `/crm/v3/objects/companies/${record.id}`)).status).toBe(404);
    const archived = await call(hubspot, 'GET', '/crm/v3/objects/companies?archived=true');
    expect(archived.body.results.map((item: { id: string }) => item.id)).toEqual([record.id]);
    const read = await call(hubspot, 'POST', '/crm/v3/objects/companies/batch/read', { inputs: [{ id: record.id }], properties: ['name'] });
    expect(read.status).toBe(207);
    expect(read.body.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: [record.id] } });
  });
});

describe('HubSpot emulator: sample seed', () => {
  it('loads the same sample CRM for the same seed', async () => {
    const first = await startHubspotEmulator({ seed: 'sample', clock: () => Date.UTC(2026, 0, 20) });
    const second = await startHubspotEmulator({ seed: 'sample', clock: () => Date.UTC(2026, 0, 20) });
    try {
      expect(first.seeded).toEqual({ owners: 3, companies: 10, contacts: 40, deals: 13, notes: 20, tasks: 13, calls: 10, meetings: 8, emails: 10 });
      const a = await call(first, 'GET', '/crm/v3/objects/contacts?limit=100&properties=email,firstname&associations=companies');
      const b = await call(second, 'GET', '/crm/v3/objects/contacts?limit=100&properties=email,firstname&associations=companies');
      expect(a.body.results).toEqual(b.body.results);
      expect(a.body.results.every((contact: { associations?: unknown }) => contact.associations !== undefined)).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
