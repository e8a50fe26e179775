import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/http.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { createHubspotConnector } from './index.js';

/**
 * The connector's write paths that need a real HubSpot-like server: creating missing properties and
 * enumeration options (createMissingProperties), and recovering creates whose answer was lost, against
 * the emulator (in-process, limits raised, no real waiting).
 */

const FAST = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };

/** Backoff and pacing "sleep" by moving this clock: no real waiting. */
function virtualClock(): Clock {
  let now = Date.UTC(2026, 5, 1, 9);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

let hubspot: HubspotEmulator | undefined;
afterEach(async () => {
  await hubspot?.close();
  hubspot = undefined;
});

function connect(emulator: HubspotEmulator, settings: Record<string, unknown> = {}) {
  return createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, burstLimit: 1000, searchPerSecond: 50, ...settings }, { clock: virtualClock() });
}

/** Each source id is on exactly one HubSpot contact, and the results name those contacts, in order. */
function expectCreatedOnce(emulator: HubspotEmulator, results: unknown[], sourceIds: string[]): void {
  const stored = [...emulator.store.table('contacts').values()];
  expect(stored).toHaveLength(sourceIds.length);
  const idOf = (sourceId: string) => stored.find((record) => record.properties.get('ferry_source_id') === sourceId)!.id;
  expect(results).toEqual(sourceIds.map((sourceId) => ({ ok: true, id: idOf(sourceId) })));
}

describe('createMissingProperties', () => {
  it('creates missing properties (typed from the values, in a "ferry" group) and enumeration options, then writes', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot, { createMissingProperties: true });
    const lifecycleBefore = hubspot.store.property('contacts', 'lifecyclestage')!.options.map((option) => option.value);
    expect(lifecycleBefore).not.toContain('partner');
    const results = await connector.create('contacts', [
      {
        ref: 'a',
        fields: {
          email: 'ada@example.com',
          favourite_colour: 'green',
          loyalty_points: 42,
          vip_customer: true,
          first_order_date: '2024-03-05',
          last_seen_at: '2024-03-05T10:11:12.000Z',
          lifecyclestage: 'partner',
        },
      },
      { ref: 'b', fields: { email: 'bob@example.com', loyalty_points: null, lifecyclestage: 'lead' } },
    ]);
    expect(results).toEqual([
      { ok: true, id: expect.any(String) },
      { ok: true, id: expect.any(String) },
    ]);

    expect(hubspot.store.propertyGroups.get('contacts')!.get('ferry')).toMatchObject({ name: 'ferry', label: 'Ferry' });
    const definition = (name: string) => hubspot!.store.property('contacts', name);
    expect(definition('favourite_colour')).toMatchObject({ type: 'string', fieldType: 'text', groupName: 'ferry', label: 'Favourite colour' });
    expect(definition('loyalty_points')).toMatchObject({ type: 'number', fieldType: 'number', groupName: 'ferry', label: 'Loyalty points' });
    expect(definition('vip_customer')).toMatchObject({ type: 'bool', fieldType: 'booleancheckbox', groupName: 'ferry' });
    expect(definition('first_order_date')).toMatchObject({ type: 'date', fieldType: 'date', groupName: 'ferry' });
    expect(definition('last_seen_at')).toMatchObject({ type: 'datetime', fieldType: 'date', groupName: 'ferry' });
    // The options PATCH sends the whole list: the earlier options stay, in their order, and the new one follows.
    expect(definition('lifecyclestage')!.options.map((option) => option.value)).toEqual([...lifecycleBefore, 'partner']);
    expect(hubspot.stats.byPath['PATCH /crm/v3/properties/contacts/lifecyclestage']).toBe(1);

    const [record] = await connector.readByIds('contacts', [(results[0] as { id: string }).id]);
    expect(record!.fields).toMatchObject({
      favourite_colour: 'green',
      loyalty_points: 42,
      vip_customer: true,
      first_order_date: '2024-03-05',
      last_seen_at: '2024-03-05T10:11:12.000Z',
      lifecyclestage: 'partner',
    });

    // Updates too, and a second write that needs nothing new asks for no schema change.
    const schemaWrites = () => hubspot!.store.requests.filter((request) => request.path.startsWith('/crm/v3/properties') && request.method !== 'GET').length;
    const before = schemaWrites();
    expect(await connector.update('contacts', [{ id: (results[1] as { id: string }).id, fields: { nickname: 'Bobby', favourite_colour: 'blue' } }])).toEqual([{ ok: true, id: expect.any(String) }]);
    expect(definition('nickname')).toMatchObject({ type: 'string', groupName: 'ferry' });
    expect(schemaWrites()).toBe(before + 1);
    await connector.update('contacts', [{ id: (results[1] as { id: string }).id, fields: { nickname: 'Rob', lifecyclestage: 'partner' } }]);
    expect(schemaWrites()).toBe(before + 1);
  });

  it('off (the default): an unknown property is UNKNOWN_FIELD and an unknown option INVALID_VALUE, naming field and value; nothing is created', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot);
    const results = await connector.create('contacts', [
      { ref: 'a', fields: { email: 'ada@example.com', favourite_colour: 'green' } },
      { ref: 'b', fields: { email: 'bob@example.com', lifecyclestage: 'partner' } },
    ]);
    expect(results[0]).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNKNOWN_FIELD', field: 'favourite_colour', value: 'green' }) });
    expect(results[1]).toEqual({ ok: false, error: expect.objectContaining({ code: 'INVALID_VALUE', field: 'lifecyclestage', value: 'partner' }) });
    expect(hubspot.store.property('contacts', 'favourite_colour')).toBeUndefined();
    expect(hubspot.store.propertyGroups.get('contacts')!.has('ferry')).toBe(false);
    expect(hubspot.store.property('contacts', 'lifecyclestage')!.options.map((option) => option.value)).not.toContain('partner');
  });

  it('a property HubSpot refuses to create fails the record as UNKNOWN_FIELD with HubSpot\'s reason', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot, { createMissingProperties: true });
    // Upper-case letters are not allowed in an internal name: the connector leaves such names alone.
    const [result] = await connector.create('contacts', [{ ref: 'a', fields: { email: 'ada@example.com', FavColour: 'green' } }]);
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNKNOWN_FIELD', field: 'FavColour', value: 'green' }) });
  });
});

describe('a create whose answer was lost and whose retry failed', () => {
  it('a dropped answer then a 5xx: the records are found by ferry_source_id and reported created', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot, { maxRetries: 1 });
    expect(await connector.ensureExternalId('contacts')).toBe('ferry_source_id');
    hubspot.faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    hubspot.faults.serverError(503, { path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { email: 'one@example.com' } },
      { ref: 's2', externalId: 's2', fields: { email: 'two@example.com' } },
    ]);
    expectCreatedOnce(hubspot, results, ['s1', 's2']);
    // Exactly: the write, the 503, one look-up.
    expect(hubspot.stats.byPath['POST /crm/v3/objects/contacts/batch/create']).toBe(2);
    expect(hubspot.stats.byPath['POST /crm/v3/objects/contacts/batch/read']).toBe(1);
  });

  it('a 5xx with nothing written still stops the write (the run is resumable)', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot, { maxRetries: 1 });
    await connector.ensureExternalId('contacts');
    hubspot.faults.serverError(503, { path: '/crm/v3/objects/contacts/batch/create', count: 2 });
    await expect(connector.create('contacts', [{ ref: 's1', externalId: 's1', fields: { email: 'one@example.com' } }])).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect(hubspot.store.table('contacts').size).toBe(0);
  });

  it('a dropped answer then a 207 INTERNAL_ERROR on the retry: found and reported created, never duplicated', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot);
    await connector.ensureExternalId('contacts');
    hubspot.faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    // skip: 1 — the partial failure hits the retry, not the first attempt (whose answer is lost).
    hubspot.faults.partialBatch(1, { path: '/crm/v3/objects/contacts/batch/create', skip: 1, count: 1 });
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { email: 'one@example.com' } },
      { ref: 's2', externalId: 's2', fields: { email: 'two@example.com' } },
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(hubspot.store.table('contacts').size).toBe(2);
    expect(new Set(results.map((result) => (result.ok ? result.id : '')))).toEqual(new Set(hubspot.store.table('contacts').keys()));
    expect(hubspot.stats.byPath['POST /crm/v3/objects/contacts/batch/create']).toBe(2);
  });

  it('a 207 INTERNAL_ERROR for a record that was never written stays a failure', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot);
    await connector.ensureExternalId('contacts');
    hubspot.faults.partialBatch(1, { path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    const [result] = await connector.create('contacts', [{ ref: 's1', externalId: 's1', fields: { email: 'one@example.com' } }]);
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'WRITE_FAILED' }) });
    expect(hubspot.store.table('contacts').size).toBe(0);
  });
});

/** Every request the connector sends and the answer it gets, through the connector's own fetch. */
function recordingFetch(rewrite: (body: Record<string, unknown>, url: string) => Record<string, unknown> = (body) => body) {
  const exchanges: { method: string; path: string; body?: Record<string, unknown>; status: number; answer: unknown }[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    let body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    if (body) body = rewrite(body, url);
    const entry: (typeof exchanges)[number] = { method: init?.method ?? 'GET', path: new URL(url).pathname, body, status: 0, answer: undefined };
    exchanges.push(entry);
    const response = await fetch(input, body ? { ...init, body: JSON.stringify(body) } : init);
    entry.status = response.status;
    const text = await response.clone().text();
    try {
      entry.answer = text ? JSON.parse(text) : undefined;
    } catch {
      entry.answer = text;
    }
    return response;
  };
  return { exchanges, fetch: wrapped };
}

async function uniqueProperty(emulator: HubspotEmulator, name: string): Promise<void> {
  const response = await fetch(`${emulator.url}/crm/v3/properties/contacts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${emulator.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, label: name, type: 'string', fieldType: 'text', groupName: 'contactinformation', hasUniqueValue: true }),
  });
  expect(response.status).toBe(201);
}

describe('lost-create recovery by ferry_source_id (conflicts answered in the live shape, no context)', () => {
  it('a lost create answer, then the retry conflicts: the records are found by batch read with idProperty=ferry_source_id, none is duplicated', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const recording = recordingFetch();
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 }, { clock: virtualClock(), fetch: recording.fetch });
    expect(await connector.ensureExternalId('contacts')).toBe('ferry_source_id');
    hubspot.faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { firstname: 'One' } },
      { ref: 's2', externalId: 's2', fields: { firstname: 'Two' } },
    ]);
    expectCreatedOnce(hubspot, results, ['s1', 's2']);
    // The retry was answered with per-input conflicts as HubSpot words them: no context naming the property,
    // no existingId; every error item has links.
    const retry = recording.exchanges.filter((exchange) => exchange.path === '/crm/v3/objects/contacts/batch/create').at(-1)!;
    expect(retry.status).toBe(207);
    const errors = (retry.answer as { errors: Record<string, unknown>[] }).errors;
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      expect(error).toMatchObject({ status: 'error', category: 'CONFLICT', links: {}, message: expect.stringMatching(/^Contact already exists\. Existing ID: \d+$/) });
      expect(Object.keys(error.context as object)).toEqual(['objectWriteTraceId']);
      expect(error).not.toHaveProperty('existingId');
    }
    // The look-up: one batch read by the unique property, in the shape of HubSpot's BatchReadInputSimplePublicObjectId.
    const reads = recording.exchanges.filter((exchange) => exchange.path === '/crm/v3/objects/contacts/batch/read');
    expect(reads).toHaveLength(1);
    expect(reads[0]!.body).toEqual({ idProperty: 'ferry_source_id', inputs: [{ id: 's1' }, { id: 's2' }], properties: ['ferry_source_id'], propertiesWithHistory: [] });
  });

  it('a conflict on a custom unique property (its wording names nothing) still recovers a create whose earlier attempt got through', async () => {
    hubspot = await startHubspotEmulator(FAST);
    await uniqueProperty(hubspot, 'legacy_code');
    const connector = connect(hubspot);
    expect(await connector.ensureExternalId('contacts')).toBe('ferry_source_id');
    // legacy_code is defined before ferry_source_id: the retry's conflict is on legacy_code.
    hubspot.faults.dropConnection({ afterWrite: true, path: '/crm/v3/objects/contacts/batch/create', count: 1 });
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { firstname: 'One', legacy_code: 'L-1' } },
      { ref: 's2', externalId: 's2', fields: { firstname: 'Two', legacy_code: 'L-2' } },
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(hubspot.store.table('contacts').size).toBe(2);
    expect(new Set(results.map((result) => (result.ok ? result.id : '')))).toEqual(new Set(hubspot.store.table('contacts').keys()));
  });

  it('a conflict with a record that is not ours fails alone, naming the unique property and value it collides with (found by look-up, not by wording)', async () => {
    hubspot = await startHubspotEmulator(FAST);
    await uniqueProperty(hubspot, 'legacy_code');
    const theirs = hubspot.store.createRecord('contacts', { email: 'taken@example.com' });
    const other = hubspot.store.createRecord('contacts', { firstname: 'Other', legacy_code: 'L-9' });
    const connector = connect(hubspot);
    await connector.ensureExternalId('contacts');
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { email: 'Taken@example.com' } },
      { ref: 's2', externalId: 's2', fields: { firstname: 'Two', legacy_code: 'L-9' } },
      { ref: 's3', externalId: 's3', fields: { firstname: 'Three', legacy_code: 'L-3' } },
    ]);
    expect(results[0]).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNIQUE_VIOLATION', field: 'email', value: 'Taken@example.com', message: expect.stringContaining(`HubSpot contacts ${theirs.id}`) }) });
    expect(results[1]).toEqual({ ok: false, error: expect.objectContaining({ code: 'UNIQUE_VIOLATION', field: 'legacy_code', value: 'L-9', message: expect.stringContaining(`HubSpot contacts ${other.id}`) }) });
    expect(results[2]).toEqual({ ok: true, id: expect.any(String) });
    expect(hubspot.store.table('contacts').size).toBe(3);
  });

  it('without multi-status (no trace ids: the whole batch answers 409), the records an earlier attempt created are found together and the rest are written', async () => {
    hubspot = await startHubspotEmulator(FAST);
    // A service that ignores objectWriteTraceId: batch creates fail or succeed as a whole.
    const recording = recordingFetch((body, url) =>
      url.endsWith('/batch/create') && Array.isArray(body.inputs) ? { ...body, inputs: (body.inputs as Record<string, unknown>[]).map(({ objectWriteTraceId: _trace, ...input }) => input) } : body,
    );
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 }, { clock: virtualClock(), fetch: recording.fetch });
    await connector.ensureExternalId('contacts');
    const [first] = await connector.create('contacts', [{ ref: 's1', externalId: 's1', fields: { firstname: 'One' } }]);
    const results = await connector.create('contacts', [
      { ref: 's1', externalId: 's1', fields: { firstname: 'One' } },
      { ref: 's2', externalId: 's2', fields: { firstname: 'Two' } },
    ]);
    expect(results[0]).toEqual(first);
    expect(results[1]).toEqual({ ok: true, id: expect.any(String) });
    expect(hubspot.store.table('contacts').size).toBe(2);
    const creates = recording.exchanges.filter((exchange) => exchange.path === '/crm/v3/objects/contacts/batch/create').map((exchange) => exchange.status);
    expect(creates).toEqual([201, 409, 201]);
    expect(recording.exchanges.filter((exchange) => exchange.path === '/crm/v3/objects/contacts/batch/read')).toHaveLength(1);
  });
});

describe('pacing when HubSpot sends no rate-limit headers', () => {
  it('search answers carry none and an OAuth app gets no daily ones: the pacer counts its own requests and stays inside the limits (no 429)', async () => {
    const clock = virtualClock();
    // HubSpot's defaults: 100 requests per 10 s, search 5/s; the token is an OAuth app's.
    hubspot = await startHubspotEmulator({ clock: clock.now, oauthToken: 'oauth-token', searchPerSecond: 5 });
    const emulator = hubspot;
    const start = clock.now();
    for (let index = 0; index < 450; index++) emulator.store.createRecord('companies', { name: `C${index}` });
    const connector = createHubspotConnector({ accessToken: 'oauth-token', baseUrl: emulator.url }, { clock });
    // Delta pages come from search (no rate-limit headers at all), interleaved with list reads (headers without -Daily).
    for (let round = 0; round < 3; round++) {
      let after: string | undefined;
      let read = 0;
      do {
        const page = await connector.read('companies', { modifiedSince: new Date(start).toISOString(), limit: 100, after, fields: ['name'] });
        read += page.records.length;
        after = page.next;
        for (let list = 0; list < 10; list++) await connector.read('companies', { limit: 1, fields: ['name'] });
      } while (after);
      expect(read).toBe(450);
    }
    expect(emulator.stats.status429).toBe(0);
    expect(emulator.stats.byPath['POST /crm/v3/objects/companies/search']).toBeGreaterThanOrEqual(15);
    expect(emulator.stats.requests).toBeGreaterThan(150);
    // No daily limit to keep inside: every request counted, nothing known of a limit or what is left.
    const usage = connector.usage();
    expect([usage.spent, usage.limit, usage.remaining]).toEqual([emulator.stats.requests, undefined, undefined]);
  });
});

describe('contact deltas', () => {
  it('read contacts modified since a time through lastmodifieddate: a contact updated after its creation is read (hs_lastmodifieddate would miss it)', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    hubspot = await startHubspotEmulator({ ...FAST, clock: () => now });
    const old = hubspot.store.createRecord('contacts', { email: 'old@example.com' });
    const untouched = hubspot.store.createRecord('contacts', { email: 'same@example.com' });
    const company = hubspot.store.createRecord('companies', { name: 'Acme' });
    now += 60_000;
    const since = new Date(now).toISOString();
    now += 1000;
    hubspot.store.updateRecord('contacts', old.id, { firstname: 'Edited' });
    hubspot.store.updateRecord('companies', company.id, { name: 'Acme Inc' });
    const fresh = hubspot.store.createRecord('contacts', { email: 'new@example.com' });
    const connector = connect(hubspot);
    const contacts = (await connector.describe()).objects.find((object) => object.name === 'contacts')!;
    expect(contacts.modifiedField).toBe('lastmodifieddate');
    const delta = await connector.read('contacts', { modifiedSince: since, fields: ['email', 'firstname'] });
    expect(delta.records.map((record) => record.id).sort()).toEqual([old.id, fresh.id].sort());
    expect(delta.records.map((record) => record.id)).not.toContain(untouched.id);
    expect(delta.records.find((record) => record.id === old.id)!.updatedAt).toBe(new Date(now).toISOString());
    const searches = hubspot.store.requests.filter((request) => request.path === '/crm/v3/objects/contacts/search');
    expect(searches.length).toBeGreaterThan(0);
    // Other objects keep hs_lastmodifieddate.
    const companies = await connector.read('companies', { modifiedSince: since, fields: ['name'] });
    expect(companies.records.map((record) => record.id)).toEqual([company.id]);
    expect((await connector.describe()).objects.find((object) => object.name === 'companies')!.modifiedField).toBe('hs_lastmodifieddate');
  });
});

describe('custom objects (schemas API)', () => {
  /** A `projects` custom object associated with companies, created the way a HubSpot admin's script would. */
  async function withProjects(emulator: HubspotEmulator): Promise<string> {
    const response = await fetch(`${emulator.url}/crm-object-schemas/v3/schemas`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emulator.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'projects',
        labels: { singular: 'Project', plural: 'Projects' },
        primaryDisplayProperty: 'name',
        requiredProperties: ['name'],
        searchableProperties: ['name'],
        secondaryDisplayProperties: [],
        properties: [
          { name: 'name', label: 'Name', type: 'string', fieldType: 'text' },
          { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
          { name: 'status', label: 'Status', type: 'enumeration', fieldType: 'select', options: [{ label: 'Planned', value: 'planned' }, { label: 'Active', value: 'active' }] },
        ],
        associatedObjects: ['COMPANY'],
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { objectTypeId: string }).objectTypeId;
  }

  it('describes a custom object with its properties and its company association, then creates, reads (full and delta) and updates its records', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    hubspot = await startHubspotEmulator({ ...FAST, clock: () => now });
    const objectTypeId = await withProjects(hubspot);
    const company = hubspot.store.createRecord('companies', { name: 'Acme', domain: 'acme.example' });
    const connector = connect(hubspot);

    const schema = (await connector.describe()).objects.find((object) => object.name === 'projects')!;
    expect(schema).toMatchObject({ label: 'Projects', modifiedField: 'hs_lastmodifieddate', createdField: 'hs_createdate' });
    const fields = new Map(schema.fields.map((field) => [field.name, field]));
    expect(fields.get('name')).toMatchObject({ type: 'string' });
    expect(fields.get('budget')).toMatchObject({ type: 'number' });
    expect(fields.get('status')).toMatchObject({ type: 'enum', options: [expect.objectContaining({ value: 'planned' }), expect.objectContaining({ value: 'active' })] });
    expect(fields.get('associated_companies')).toMatchObject({ type: 'reference-list', reference: { object: 'companies' } });

    expect(await connector.ensureExternalId('projects')).toBe('ferry_source_id');
    const created = await connector.create('projects', [
      { ref: 'p1', externalId: 'src-1', fields: { name: 'Apollo', budget: 1200.5, status: 'active', associated_companies: [company.id] } },
      { ref: 'p2', externalId: 'src-2', fields: { name: 'Gemini', budget: null, status: 'planned', associated_companies: [] } },
    ]);
    expect(created).toEqual([
      { ok: true, id: expect.any(String) },
      { ok: true, id: expect.any(String) },
    ]);
    const [first, second] = created.map((result) => (result.ok ? result.id : ''));
    expect(hubspot.store.associationsOf(objectTypeId, first!, 'companies').map(([id]) => id)).toEqual([company.id]);
    expect(await connector.findByExternalIds('projects', ['src-1', 'src-2'])).toEqual(new Map([['src-1', first], ['src-2', second]]));

    const full = await connector.read('projects', { fields: ['name', 'budget', 'status', 'associated_companies'] });
    expect(full.records.map((record) => [record.id, record.fields])).toEqual([
      [first, expect.objectContaining({ name: 'Apollo', budget: 1200.5, status: 'active', associated_companies: [company.id] })],
      [second, expect.objectContaining({ name: 'Gemini', budget: null, status: 'planned', associated_companies: [] })],
    ]);

    now += 60_000;
    const since = new Date(now).toISOString();
    const updated = await connector.update('projects', [{ id: second!, fields: { budget: 10, associated_companies: [company.id] } }]);
    expect(updated).toEqual([{ ok: true, id: second }]);
    const delta = await connector.read('projects', { modifiedSince: since, fields: ['name', 'budget', 'associated_companies'] });
    expect(delta.records.map((record) => [record.id, record.fields.budget, record.fields.associated_companies])).toEqual([[second, 10, [company.id]]]);
    // Requests name the object by its objectTypeId, never by its base name.
    expect(hubspot.store.requests.filter((request) => request.path.includes('/objects/projects'))).toHaveLength(0);
    expect(hubspot.store.requests.filter((request) => request.status >= 400 && request.status !== 404)).toEqual([]);
  });
});

describe('associations on create', () => {
  it('are sent inside batch/create (no association requests), with the Primary type for primary_company', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot);
    const [company] = await connector.create('companies', [{ ref: 'c', fields: { name: 'Initech', domain: 'initech.test' } }]);
    const [contact] = await connector.create('contacts', [{ ref: 'p', fields: { email: 'peter@initech.test' } }]);
    const companyId = (company as { id: string }).id;
    const contactId = (contact as { id: string }).id;
    const before = { ...hubspot.stats.byPath };
    const results = await connector.create('deals', [
      { ref: 'd1', fields: { dealname: 'Printers', dealstage: 'appointmentscheduled', primary_company: companyId, associated_contacts: [contactId] } },
      { ref: 'd2', fields: { dealname: 'Staplers', dealstage: 'appointmentscheduled', associated_contacts: [] } },
    ]);
    expect(results).toEqual([{ ok: true, id: expect.any(String) }, { ok: true, id: expect.any(String) }]);
    const requests = Object.entries(hubspot.stats.byPath).filter(([path, count]) => count !== (before[path] ?? 0)).map(([path]) => path);
    expect(requests.filter((path) => path.includes('/associations/') && !path.endsWith('/labels'))).toEqual([]);
    const dealId = (results[0] as { id: string }).id;
    expect(hubspot.store.associationsOf('deals', dealId, 'companies')).toEqual([[companyId, [5, 341]]]); // Primary comes with the unlabeled type, as in HubSpot
    expect(hubspot.store.associationsOf('deals', dealId, 'contacts')).toEqual([[contactId, [3]]]);
    expect(hubspot.store.associationsOf('deals', (results[1] as { id: string }).id, 'contacts')).toEqual([]);
    const read = await connector.readByIds('deals', [dealId], ['primary_company', 'associated_contacts']);
    expect(read[0]!.fields).toMatchObject({ primary_company: companyId, associated_contacts: [contactId] });
  });

  it('a create naming a record that does not exist fails alone with REFERENCE_MISSING and leaves nothing behind; the rest of the batch is created with its links', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = connect(hubspot);
    const [company] = await connector.create('companies', [{ ref: 'c', fields: { name: 'Initech', domain: 'initech.test' } }]);
    const companyId = (company as { id: string }).id;
    const results = await connector.create('contacts', [
      { ref: 'a', fields: { email: 'a@initech.test', primary_company: companyId } },
      { ref: 'b', fields: { email: 'b@initech.test', primary_company: '987654321' } },
      { ref: 'c', fields: { email: 'c@initech.test', primary_company: companyId } },
    ]);
    expect(results[0]).toEqual({ ok: true, id: expect.any(String) });
    expect(results[2]).toEqual({ ok: true, id: expect.any(String) });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'REFERENCE_MISSING', field: 'primary_company', value: '987654321' } });
    for (const result of [results[0], results[2]]) {
      expect(hubspot.store.associationsOf('contacts', (result as { id: string }).id, 'companies')).toEqual([[companyId, [1, 279]]]);
    }
    const emails = [...hubspot.store.table('contacts').values()].filter((record) => !record.archived).map((record) => record.properties.get('email'));
    expect(emails.sort()).toEqual(['a@initech.test', 'c@initech.test']);
  });
});

describe('owners', () => {
  it('readByIds lists the owners when asked for many (a request per 100), one by one when asked for a few', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const emulator = hubspot;
    const owners = Array.from({ length: 150 }, (_, index) => emulator.store.addOwner({ email: `owner${index}@owners.example`, firstName: `O${index}`, lastName: 'Wner' }));
    const connector = connect(emulator);
    await connector.describe();
    const wanted = [owners[140]!.id, owners[3]!.id, owners[77]!.id, '999999999', owners[3]!.id];
    const before = { ...emulator.stats.byPath };
    const many = await connector.readByIds('owners', wanted.map(String));
    expect(many.map((record) => record.id)).toEqual([owners[140]!.id, owners[3]!.id, owners[77]!.id].map(String));
    expect(many[0]!.fields.email).toBe('owner140@owners.example');
    expect((emulator.stats.byPath['GET /crm/v3/owners'] ?? 0) - (before['GET /crm/v3/owners'] ?? 0)).toBe(2);
    const few = await connector.readByIds('owners', [String(owners[5]!.id)]);
    expect(few.map((record) => record.fields.email)).toEqual(['owner5@owners.example']);
    expect(emulator.stats.byPath[`GET /crm/v3/owners/${owners[5]!.id}`]).toBe(1);
  });
});
