import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startPipedriveEmulator, type PipedriveEmulator } from './index.js';
import { allPages, call, manualClock } from './test-support.js';

describe('Pipedrive emulator: v2 records', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('creates, reads, updates and soft-deletes a person with server-set ids and times in RFC 3339', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 1, 12, 0, 0, 400));
    pipedrive = await startPipedriveEmulator({ clock: clock.now });
    const created = await call(pipedrive, 'POST', '/api/v2/persons', { name: 'Ada Lovelace', emails: [{ value: 'ada@example.com' }, { value: 'ada@home.example', label: 'home' }] });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(created.body.success).toBe(true);
    expect(created.body.data).toMatchObject({
      id: 1,
      name: 'Ada Lovelace',
      first_name: 'Ada',
      last_name: 'Lovelace',
      owner_id: 1,
      emails: [
        { value: 'ada@example.com', primary: true, label: 'work' },
        { value: 'ada@home.example', primary: false, label: 'home' },
      ],
      phones: [],
      add_time: '2026-03-01T12:00:00Z',
      update_time: '2026-03-01T12:00:00Z',
      is_deleted: false,
      custom_fields: {},
    });
    clock.advance(61_000);
    const patched = await call(pipedrive, 'PATCH', '/api/v2/persons/1', { phones: [{ value: '+1 555', primary: true, label: 'mobile' }] });
    expect(patched.body.data).toMatchObject({ name: 'Ada Lovelace', phones: [{ value: '+1 555', primary: true, label: 'mobile' }], add_time: '2026-03-01T12:00:00Z', update_time: '2026-03-01T12:01:01Z' });
    const deleted = await call(pipedrive, 'DELETE', '/api/v2/persons/1');
    expect(deleted.body).toEqual({ success: true, data: { id: 1 } });
    expect((await call(pipedrive, 'GET', '/api/v2/persons/1')).body.data.is_deleted).toBe(true);
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).body.data).toEqual([]);
    expect((await call(pipedrive, 'PATCH', '/api/v2/persons/1', { name: 'x' })).status).toBe(410);
    clock.advance(30 * 86_400_000);
    const purged = await call(pipedrive, 'GET', '/api/v2/persons/1');
    expect(purged.status).toBe(404);
    expect(purged.body).toEqual({ success: false, error: 'Entity was not found', error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.', data: null, additional_data: null });
  });

  it('answers a product create 201 and the other creates 200, as the v2 OpenAPI operations do', async () => {
    pipedrive = await startPipedriveEmulator({});
    const product = await call(pipedrive, 'POST', '/api/v2/products', { name: 'Pencil', prices: [{ price: 5, currency: 'EUR' }] });
    expect([product.status, product.body.success, product.body.data.name]).toEqual([201, true, 'Pencil']);
    expect((await call(pipedrive, 'PATCH', `/api/v2/products/${product.body.data.id}`, { code: 'P-1' })).status).toBe(200);
    for (const [path, body] of [['persons', { name: 'P' }], ['organizations', { name: 'O' }], ['deals', { title: 'D' }], ['activities', { type: 'call' }], ['pipelines', { name: 'Q' }]] as const) {
      expect((await call(pipedrive, 'POST', `/api/v2/${path}`, body)).status).toBe(200);
    }
  });

  it('answers validation errors in Pipedrive\'s envelope naming the field', async () => {
    pipedrive = await startPipedriveEmulator();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v2/deals', { value: 10 }, '"title" is required.'],
      ['POST', '/api/v2/persons', { emails: [] }, '"name" is required.'],
      ['POST', '/api/v2/persons', { name: 'A', emails: [{ value: 'a@x', primary: true }, { value: 'b@x', primary: true }] }, '"emails" can have only one primary item, got 2.'],
      ['POST', '/api/v2/persons', { name: 'A', org_id: 999 }, '"org_id" refers to organization 999, which does not exist.'],
      ['POST', '/api/v2/persons', { name: 'A', visible_to: '3' }, '"visible_to" must be one of [1, 3, 5, 7], got "3".'],
      ['POST', '/api/v2/persons', { name: 'A', favourite: 1 }, '"favourite" is not allowed.'],
      ['POST', '/api/v2/deals', { title: 'D', status: 'maybe' }, '"status" must be one of [open, won, lost], got "maybe".'],
      ['POST', '/api/v2/deals', { title: 'D', lost_reason: 'x' }, '"lost_reason" can only be set if the deal status is lost.'],
      ['POST', '/api/v2/deals', { title: 'D', value: '100' }, '"value" must be a number, got "100".'],
      ['POST', '/api/v2/activities', { type: 'dance' }, '"type" must be an activity type key [call, meeting, task, deadline, email, lunch], got "dance".'],
      ['POST', '/api/v2/activities', { type: 'call', person_id: 1 }, '"person_id" is read-only; link a person with participants [{person_id, primary}].'],
      ['POST', '/api/v2/stages', { name: 'S' }, '"pipeline_id" is required.'],
      ['POST', '/api/v1/notes', { content: '<p>x</p>' }, '"deal_id" or "person_id" or "org_id" is required: a note must be attached to a deal, person or organization.'],
      ['GET', '/api/v2/persons?limit=501', undefined, '"limit" must be less than or equal to 500, got 501.'],
      ['GET', '/api/v2/persons?updated_since=2026-03-01', undefined, '"updated_since" must be a date and time in RFC 3339 format (e.g. 2025-01-01T10:20:00Z), got "2026-03-01".'],
      ['GET', '/api/v2/persons?sort_by=name', undefined, '"sort_by" must be one of [id, update_time, add_time], got "name".'],
    ];
    for (const [method, path, body, error] of cases) {
      const response = await call(pipedrive, method, path, body);
      expect({ path, status: response.status, body: response.body }).toEqual({ path, status: 400, body: { success: false, error, error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.', data: null, additional_data: null } });
    }
    const raw = await fetch(`${pipedrive.url}/api/v2/persons`, { method: 'POST', headers: { 'x-api-token': pipedrive.token }, body: '{"name":' });
    expect([raw.status, ((await raw.json()) as { error: string }).error]).toEqual([400, 'Request body is not valid JSON.']);
    expect((await call(pipedrive, 'GET', '/api/v2/leads')).status).toBe(404);
    expect((await call(pipedrive, 'PUT', '/api/v2/persons/1')).status).toBe(405);
  });

  it('keeps deals in their pipeline and stage, and sets status times, lost reason and archive', async () => {
    const clock = manualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now });
    const second = (await call(pipedrive, 'POST', '/api/v2/pipelines', { name: 'Partners' })).body.data;
    expect(second).toMatchObject({ name: 'Partners', order_nr: 2, is_deleted: false });
    const partnerStage = (await call(pipedrive, 'POST', '/api/v2/stages', { name: 'Signed', pipeline_id: second.id })).body.data;
    const deal = (await call(pipedrive, 'POST', '/api/v2/deals', { title: 'Big one', value: 5000, currency: 'EUR' })).body.data;
    expect(deal).toMatchObject({ pipeline_id: 1, stage_id: 1, status: 'open', won_time: null, owner_id: 1, creator_user_id: 1 });
    const mismatch = await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { pipeline_id: 1, stage_id: partnerStage.id });
    expect(mismatch.body.error).toBe(`"stage_id" refers to stage ${partnerStage.id} of pipeline ${second.id}, not of pipeline 1.`);
    clock.advance(5000);
    const moved = (await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { stage_id: partnerStage.id })).body.data;
    expect(moved).toMatchObject({ pipeline_id: second.id, stage_id: partnerStage.id, stage_change_time: '2026-03-01T12:00:05Z' });
    const lost = (await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { status: 'lost', lost_reason: 'No budget' })).body.data;
    expect(lost).toMatchObject({ status: 'lost', lost_reason: 'No budget', lost_time: '2026-03-01T12:00:05Z', close_time: '2026-03-01T12:00:05Z', won_time: null });
    const reopened = (await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { status: 'open' })).body.data;
    expect(reopened).toMatchObject({ status: 'open', lost_reason: null, lost_time: null, close_time: null });
    await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { is_archived: true });
    expect((await call(pipedrive, 'GET', '/api/v2/deals')).body.data).toEqual([]);
    const archived = await call(pipedrive, 'GET', '/api/v2/deals/archived');
    expect(archived.body.data.map((item: { id: number; is_archived: boolean; archive_time: string }) => [item.id, item.is_archived, item.archive_time])).toEqual([[deal.id, true, '2026-03-01T12:00:05Z']]);
    // Archived deals are not editable through the API, except to unarchive them (changelog, 15 July 2025).
    const edit = await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { title: 'Edited while archived' });
    expect([edit.status, edit.body.error]).toEqual([400, 'Archived deals can not be edited through the API: unarchive the deal first (is_archived: false).']);
    expect((await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { is_archived: false, title: 'Back' })).body.data).toMatchObject({ is_archived: false, archive_time: null, title: 'Back' });
    await call(pipedrive, 'PATCH', `/api/v2/deals/${deal.id}`, { is_archived: true });
    await call(pipedrive, 'DELETE', `/api/v2/deals/${deal.id}`);
    expect((await call(pipedrive, 'GET', '/api/v2/deals/archived')).body.data).toEqual([]);
    const deleted = await call(pipedrive, 'GET', '/api/v2/deals/archived?status=deleted');
    expect(deleted.body.data.map((item: { id: number; is_deleted: boolean }) => [item.id, item.is_deleted])).toEqual([[deal.id, true]]);
  });

  it('validates custom fields by type: 40-hex keys, monetary objects, option ids, set arrays', async () => {
    pipedrive = await startPipedriveEmulator();
    const tier = (await call(pipedrive, 'POST', '/api/v2/dealFields', { field_name: 'Tier', field_type: 'enum', options: [{ label: 'Gold' }, { label: 'Silver' }] })).body.data;
    expect(tier.field_code).toMatch(/^[0-9a-f]{40}$/);
    expect(tier).toMatchObject({ field_name: 'Tier', field_type: 'enum', is_custom_field: true, options: [{ id: 1, label: 'Gold' }, { id: 2, label: 'Silver' }] });
    const tags = (await call(pipedrive, 'POST', '/api/v2/dealFields', { field_name: 'Tags', field_type: 'set', options: [{ label: 'A' }, { label: 'B' }] })).body.data;
    const amount = (await call(pipedrive, 'POST', '/api/v2/dealFields', { field_name: 'Amount', field_type: 'monetary' })).body.data;
    const good = await call(pipedrive, 'POST', '/api/v2/deals', { title: 'D', custom_fields: { [tier.field_code]: 2, [tags.field_code]: [3, 4, 3], [amount.field_code]: { value: 12.5, currency: 'EUR' } } });
    expect(good.body.data.custom_fields).toEqual({ [tier.field_code]: 2, [tags.field_code]: [3, 4], [amount.field_code]: { value: 12.5, currency: 'EUR' } });
    const cleared = await call(pipedrive, 'PATCH', `/api/v2/deals/${good.body.data.id}`, { custom_fields: { [tags.field_code]: null } });
    expect(cleared.body.data.custom_fields).toEqual({ [tier.field_code]: 2, [tags.field_code]: null, [amount.field_code]: { value: 12.5, currency: 'EUR' } });
    const only = await call(pipedrive, 'GET', `/api/v2/deals/${good.body.data.id}?custom_fields=${tier.field_code}`);
    expect(only.body.data.custom_fields).toEqual({ [tier.field_code]: 2 });
    const labelled = await call(pipedrive, 'GET', `/api/v2/deals?include_option_labels=true`);
    expect(labelled.body.data[0].custom_fields).toEqual({ [tier.field_code]: { id: 2, label: 'Silver' }, [tags.field_code]: null, [amount.field_code]: { value: 12.5, currency: 'EUR' } });
    const bad: [unknown, string][] = [
      [{ [tier.field_code]: 9 }, `"custom_fields.${tier.field_code}" (Tier) must be one of the field's option ids [1, 2], got 9.`],
      [{ [tags.field_code]: [] }, `"custom_fields.${tags.field_code}" (Tags) must be a non-empty array of option ids (null clears it), got [].`],
      [{ [amount.field_code]: 12 }, `"custom_fields.${amount.field_code}" must be an object, got 12.`],
      [{ ['f'.repeat(40)]: 'x' }, `"custom_fields.${'f'.repeat(40)}" is not a custom field of deals.`],
    ];
    for (const [custom, error] of bad) expect((await call(pipedrive, 'POST', '/api/v2/deals', { title: 'D', custom_fields: custom })).body.error).toBe(error);
    const fields = await allPages(pipedrive, '/api/v2/dealFields?limit=5');
    expect(fields.pages).toBe(Math.ceil(fields.items.length / 5));
    expect(fields.items.filter((field) => field.is_custom_field).map((field) => field.field_name)).toEqual(['Tier', 'Tags', 'Amount']);
    expect((await call(pipedrive, 'GET', `/api/v2/dealFields/${tier.field_code}`)).body.data.field_name).toBe('Tier');
    // Subfields of complex types, as in the v2 OpenAPI field examples; null for simple ones.
    expect((await call(pipedrive, 'GET', `/api/v2/dealFields/${amount.field_code}`)).body.data.subfields).toEqual([
      { field_code: 'value', field_name: 'Amount of Amount', field_type: 'double' },
      { field_code: 'currency', field_name: 'Currency of Amount', field_type: 'varchar' },
    ]);
    expect(tier.subfields).toBeNull();
    const address = (await call(pipedrive, 'POST', '/api/v2/organizationFields', { field_name: 'Office', field_type: 'address' })).body.data;
    expect(address.subfields.map((subfield: { field_code: string }) => subfield.field_code)).toEqual(['value', 'street_number', 'route', 'subpremise', 'locality', 'admin_area_level_1', 'admin_area_level_2', 'country', 'postal_code', 'formatted_address']);
    expect(address.subfields[0]).toEqual({ field_code: 'value', field_name: 'Address value of Office', field_type: 'varchar' });
  });
});

describe('Pipedrive emulator: v2 cursor paging and the updated_since/until window', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('pages every record exactly once in every sort order, and filters updated_since inclusive / updated_until exclusive at the second', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 1, 12));
    // The clock stands still while the property pages, so the burst window and budget are lifted here.
    pipedrive = await startPipedriveEmulator({ clock: clock.now, burstLimit: { requests: 1_000_000, intervalMs: 2000 }, dailyBudget: 100_000_000 });
    const emulator = pipedrive;
    // 30 persons over 10 seconds: several per second (ties), some a fraction into a second.
    const times: number[] = [];
    for (let index = 0; index < 30; index++) {
      clock.set(Date.UTC(2026, 2, 1, 12) + Math.floor(index / 3) * 1000 + (index % 3) * 300);
      emulator.store.create('persons', { name: `P${index}` });
      times.push(Math.floor(clock.now() / 1000));
    }
    // Some updates move update_time later and change the update order.
    for (const id of [2, 7, 19]) {
      clock.advance(700);
      emulator.store.update('persons', id, { name: `P${id - 1} edited` });
      times[id - 1] = Math.floor(clock.now() / 1000);
    }
    const iso = (seconds: number) => `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('id', 'update_time', 'add_time'),
        fc.constantFrom('asc', 'desc'),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        async (sortBy, direction, limit, fromOffset, length) => {
          const start = times[0]! + fromOffset;
          const end = start + length;
          const { items } = await allPages(emulator, `/api/v2/persons?sort_by=${sortBy}&sort_direction=${direction}&limit=${limit}&updated_since=${iso(start)}&updated_until=${iso(end)}`);
          const ids = items.map((item) => item.id as number);
          const expected = times.map((seconds, index) => ({ id: index + 1, seconds })).filter((entry) => entry.seconds >= start && entry.seconds < end);
          expect([...ids].sort((a, b) => a - b)).toEqual(expected.map((entry) => entry.id));
          expect(new Set(ids).size).toBe(ids.length);
          const keys = items.map((item) => [sortBy === 'id' ? (item.id as number) : Date.parse(item[sortBy] as string), item.id as number] as const);
          const sign = direction === 'asc' ? 1 : -1;
          for (let index = 1; index < keys.length; index++) {
            const [a, b] = [keys[index - 1]!, keys[index]!];
            expect(sign * (b[0] - a[0]) > 0 || (b[0] === a[0] && sign * (b[1] - a[1]) > 0)).toBe(true);
          }
        },
      ),
      { seed: 14, numRuns: 40 },
    );
  });

  it('ends with next_cursor null, refuses a cursor made for another sort, and moves an edited record later instead of skipping others', async () => {
    const clock = manualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now });
    for (let index = 0; index < 5; index++) {
      pipedrive.store.create('organizations', { name: `O${index}` });
      clock.advance(1000);
    }
    const first = await call(pipedrive, 'GET', '/api/v2/organizations?sort_by=update_time&limit=2');
    expect(first.body.data.map((item: { name: string }) => item.name)).toEqual(['O0', 'O1']);
    const cursor = first.body.additional_data.next_cursor as string;
    expect(JSON.parse(Buffer.from(cursor, 'base64url').toString())).toEqual({ field: 'update_time', fieldValue: Math.floor(Date.UTC(2026, 2, 1, 12, 0, 2) / 1000), sortDirection: 'asc', id: 3 });
    expect((await call(pipedrive, 'GET', `/api/v2/organizations?sort_by=id&limit=2&cursor=${cursor}`)).body.error).toBe('"cursor" was made for sort_by=update_time&sort_direction=asc, not id asc.');
    pipedrive.store.update('organizations', 1, { name: 'O0 again' });
    const rest = await call(pipedrive, 'GET', `/api/v2/organizations?sort_by=update_time&limit=10&cursor=${cursor}`);
    expect(rest.body.data.map((item: { name: string }) => item.name)).toEqual(['O2', 'O3', 'O4', 'O0 again']);
    expect(rest.body.additional_data).toEqual({ next_cursor: null });
  });

  it('filters by ids, owner, organization, deal persons, status and done', async () => {
    pipedrive = await startPipedriveEmulator({ seed: 'sample' });
    const deals = (await allPages(pipedrive, '/api/v2/deals?limit=500')).items;
    const won = (await allPages(pipedrive, '/api/v2/deals?status=won')).items;
    expect(won.length).toBe(deals.filter((deal) => deal.status === 'won').length);
    expect(won.length).toBeGreaterThan(0);
    const deal = deals.find((candidate) => candidate.org_id !== null)!;
    const byOrg = (await allPages(pipedrive, `/api/v2/deals?org_id=${deal.org_id}`)).items;
    expect(byOrg.every((candidate) => candidate.org_id === deal.org_id)).toBe(true);
    const persons = (await allPages(pipedrive, `/api/v2/persons?deal_id=${deal.id}`)).items.map((person) => person.id);
    expect(persons).toContain(deal.person_id);
    expect((await call(pipedrive, 'GET', '/api/v2/persons?ids=1,3')).body.data.map((person: { id: number }) => person.id)).toEqual([1, 3]);
    const done = (await allPages(pipedrive, '/api/v2/activities?done=true')).items;
    expect(done.every((activity) => activity.done === true && activity.marked_as_done_time !== null)).toBe(true);
    const types = new Set((await allPages(pipedrive, '/api/v2/activities?limit=500')).items.map((activity) => activity.type));
    expect([...types].sort()).toEqual(['call', 'email', 'meeting', 'task']);
  });
});

describe('Pipedrive emulator: v1 field definitions', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('lists the same fields in the v1 form: key (the 40-hex code of custom fields), edit_flag, mandatory_flag, start/limit', async () => {
    pipedrive = await startPipedriveEmulator({ seed: 'sample' });
    const v2 = (await allPages(pipedrive, '/api/v2/personFields')).items;
    const first = await call(pipedrive, 'GET', '/api/v1/personFields?start=0&limit=3');
    expect(first.body.additional_data.pagination).toEqual({ start: 0, limit: 3, more_items_in_collection: true, next_start: 3 });
    const all = (await call(pipedrive, 'GET', '/api/v1/personFields?limit=500')).body.data;
    expect(all.map((field: { key: string }) => field.key)).toEqual(v2.map((field) => field.field_code));
    expect(all.find((field: { key: string }) => field.key === 'name')).toMatchObject({ name: 'Name', edit_flag: false, mandatory_flag: true });
    const source = all.find((field: { name: string }) => field.name === 'Lead source');
    expect(source).toMatchObject({ field_type: 'enum', edit_flag: true, mandatory_flag: false });
    expect(source.key).toMatch(/^[0-9a-f]{40}$/);
    expect(source.options.map((option: { label: string }) => option.label)).toEqual(['Web', 'Referral', 'Event']);
    expect(pipedrive.stats.tokensByPath['GET /api/v1/personFields']).toBe(40);
  });
});
