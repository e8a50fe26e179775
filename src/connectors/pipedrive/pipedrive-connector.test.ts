import { afterEach, describe, expect, it } from 'vitest';
import { readAll, type CrmRecord } from '../../core/connector.js';
import { isFerryError } from '../../core/errors.js';
import { findObject } from '../../core/schema.js';
import { startPipedriveEmulator, type PipedriveEmulator, type PipedriveEmulatorOptions } from '../../emulators/pipedrive/index.js';
import { createPipedriveConnector, type PipedriveConnector } from './index.js';

/**
 * The Pipedrive connector against the emulator over real HTTP: paging, the modified window with ties,
 * token accounting and the budget stop, lost creates, per-record errors, and the value shapes.
 */
const FAST = { burstLimit: { requests: 100_000, intervalMs: 2000 } } satisfies PipedriveEmulatorOptions;

let emulator: PipedriveEmulator | undefined;
let connector: PipedriveConnector | undefined;

async function start(options: PipedriveEmulatorOptions = {}, settings: Record<string, unknown> = {}): Promise<{ pipedrive: PipedriveEmulator; pd: PipedriveConnector }> {
  emulator = await startPipedriveEmulator({ port: 0, ...FAST, ...options });
  connector = createPipedriveConnector({ apiToken: emulator.token, baseUrl: emulator.url, burstLimit: 10_000, ...settings });
  return { pipedrive: emulator, pd: connector };
}

afterEach(async () => {
  await connector?.close();
  await emulator?.close();
  emulator = undefined;
  connector = undefined;
});

async function pagesOf(pd: PipedriveConnector, object: string, options: { modifiedSince?: string; limit: number }): Promise<{ records: CrmRecord[]; pages: number }> {
  const records: CrmRecord[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await pd.read(object, { ...options, after });
    records.push(...page.records);
    after = page.next;
    pages += 1;
  } while (after);
  return { records, pages };
}

function okIds(results: { ok: boolean; id?: string; error?: unknown }[]): string[] {
  return results.map((result) => {
    if (!result.ok) throw new Error(`write failed: ${JSON.stringify(result)}`);
    return result.id!;
  });
}

describe('pipedrive connector: reading', () => {
  it('pages persons past the 500-per-page cap, each once, ordered by update time, and counts the tokens Pipedrive charged', async () => {
    let now = Date.UTC(2026, 2, 1, 12);
    const { pipedrive, pd } = await start({ clock: () => now });
    for (let index = 0; index < 1100; index += 1) {
      if (index % 7 === 0) now += 1000;
      pipedrive.store.create('persons', { name: `Person ${index}` });
    }
    const { records, pages } = await pagesOf(pd, 'persons', { limit: 499 });
    expect(records).toHaveLength(1100);
    expect(new Set(records.map((record) => record.id)).size).toBe(1100);
    expect(pages).toBeGreaterThanOrEqual(3);
    for (let index = 1; index < records.length; index += 1) expect(Date.parse(records[index]!.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(records[index - 1]!.updatedAt!));
    // Our own count equals the emulator's (the OpenAPI x-token-cost table), and the header's remaining wins.
    expect(pd.usage().spent).toBe(pipedrive.stats.tokens);
    expect(pd.usage().remaining).toBe(60_000 - pipedrive.stats.tokens);
  });

  it('a run of records sharing one second that fills pages is read by the tie cursor, each once, then the window goes on after it', async () => {
    let now = Date.UTC(2026, 2, 1, 12);
    const { pipedrive, pd } = await start({ clock: () => now });
    const before = pipedrive.store.create('organizations', { name: 'Before' }).id;
    now += 1000;
    const tied = Array.from({ length: 230 }, (_, index) => pipedrive.store.create('organizations', { name: `Tied ${index}` }).id);
    now += 1000;
    const after = pipedrive.store.create('organizations', { name: 'After' }).id;
    const since = new Date(Date.UTC(2026, 2, 1, 12, 0, 1)).toISOString();
    const { records, pages } = await pagesOf(pd, 'organizations', { modifiedSince: since, limit: 50 });
    const ids = records.map((record) => Number(record.id));
    expect(ids).not.toContain(before);
    for (const id of [...tied, after]) expect(ids.filter((candidate) => candidate === id)).toHaveLength(1);
    expect(ids[ids.length - 1]).toBe(after);
    expect(pages).toBeGreaterThanOrEqual(5);
    // The bound is inclusive and a bound inside a second reads that whole second (Pipedrive filters by seconds).
    const inside = await pagesOf(pd, 'organizations', { modifiedSince: new Date(Date.UTC(2026, 2, 1, 12, 0, 1, 500)).toISOString(), limit: 500 });
    expect(inside.records).toHaveLength(231);
  });

  it('notes come from v1 with offset paging, in update order with ties, pinned flags as booleans and v1 times as ISO', async () => {
    let now = Date.UTC(2026, 2, 1, 12);
    const { pipedrive, pd } = await start({ clock: () => now });
    const person = pipedrive.store.create('persons', { name: 'Noted' }).id;
    for (let index = 0; index < 30; index += 1) {
      if (index % 10 === 0) now += 1000;
      pipedrive.store.writeNote({ content: `<p>Note ${index}</p>`, person_id: person, pinned_to_person_flag: index % 2 });
    }
    const { records, pages } = await pagesOf(pd, 'notes', { limit: 4, modifiedSince: new Date(Date.UTC(2026, 2, 1, 12, 0, 1)).toISOString() });
    expect(records).toHaveLength(30);
    expect(new Set(records.map((record) => record.id)).size).toBe(30);
    expect(pages).toBeGreaterThan(7);
    const first = records.find((record) => record.fields.content === '<p>Note 0</p>')!;
    expect(first.fields).toMatchObject({ person_id: String(person), pinned_to_person_flag: false, deal_id: null, update_time: '2026-03-01T12:00:01.000Z' });
    expect(records.find((record) => record.fields.content === '<p>Note 1</p>')!.fields.pinned_to_person_flag).toBe(true);
    // v1 answers times as `YYYY-MM-DD HH:MM:SS`, but its updated_since is RFC 3339 (v1 OpenAPI `GET /notes`).
    const sinceSent = pipedrive.log.filter((entry) => entry.path === '/api/v1/notes').map((entry) => new URLSearchParams(entry.query).get('updated_since'));
    expect(sinceSent.length).toBeGreaterThan(7);
    for (const since of sinceSent) expect(since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('leaves deleted records out and reads archived deals only from archived_deals', async () => {
    const { pipedrive, pd } = await start();
    const kept = pipedrive.store.create('deals', { title: 'Kept' }).id;
    const deleted = pipedrive.store.create('deals', { title: 'Deleted' }).id;
    const archived = pipedrive.store.create('deals', { title: 'Archived', is_archived: true }).id;
    pipedrive.store.remove('deals', deleted);
    const deals = await collectAll(pd, 'deals');
    expect(deals.map((record) => Number(record.id))).toEqual([kept]);
    const archivedDeals = await collectAll(pd, 'archived_deals');
    expect(archivedDeals.map((record) => Number(record.id))).toEqual([archived]);
    expect(archivedDeals[0]!.fields.is_archived).toBe(true);
    expect((await pd.readByIds('deals', [String(kept), String(deleted), String(archived)])).map((record) => Number(record.id))).toEqual([kept, archived]);
    // Deal participants cost a request per deal: a field only with dealParticipants: true.
    expect(findObject(await pd.describe(), 'deals')?.fields.some((field) => field.name === 'participants')).toBe(false);
    const withParticipants = createPipedriveConnector({ apiToken: pipedrive.token, baseUrl: pipedrive.url, dealParticipants: true });
    expect(findObject(await withParticipants.describe(), 'deals')?.fields.find((field) => field.name === 'participants')?.type).toBe('reference-list');
  });
});

async function collectAll(pd: PipedriveConnector, object: string): Promise<CrmRecord[]> {
  const records: CrmRecord[] = [];
  for await (const record of readAll(pd, object)) records.push(record);
  return records;
}

describe('pipedrive connector: schema and values', () => {
  it('leaves a stage or pipeline a list answers with is_deleted out of the deal value maps and of reads', async () => {
    const { pipedrive } = await start();
    // The emulator leaves deleted stages out of its lists; should Pipedrive answer one ("marks a stage as
    // deleted", with `is_deleted`), it must not become an option.
    const withTombstones: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const path = new URL(String(input)).pathname;
      if (path !== '/api/v2/stages' && path !== '/api/v2/pipelines') return response;
      const body = (await response.json()) as { data: Record<string, unknown>[] };
      const stamp = { add_time: '2020-01-01T00:00:00Z', update_time: '2020-01-02T00:00:00Z', is_deleted: true };
      body.data.push(path === '/api/v2/stages' ? { id: 99, name: 'Gone', pipeline_id: 1, order_nr: 9, ...stamp } : { id: 98, name: 'Old pipeline', order_nr: 9, ...stamp });
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      return new Response(JSON.stringify(body), { status: response.status, headers });
    };
    const pd = createPipedriveConnector({ apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000 }, { fetch: withTombstones });
    const deals = findObject(await pd.describe(), 'deals')!;
    const options = (name: string) => deals.fields.find((field) => field.name === name)!.options!.map((option) => option.value);
    expect(options('stage_id')).toEqual(['1', '2', '3', '4', '5']);
    expect(options('pipeline_id')).toEqual(['1']);
    expect((await collectAll(pd, 'stages')).map((record) => record.id)).toEqual(['1', '2', '3', '4', '5']);
    expect((await collectAll(pd, 'pipelines')).map((record) => record.id)).toEqual(['1']);
  });

  it('describes custom fields by field code with their names, option sets, monetary pairs, and pipelines/stages as deal value maps', async () => {
    const { pipedrive, pd } = await start({ seed: 'sample' });
    const schema = await pd.describe();
    const deals = findObject(schema, 'deals')!;
    const contract = pipedrive.store.custom('deals').find((field) => field.field_name === 'Contract value')!;
    expect(deals.fields.find((field) => field.name === contract.field_code)).toMatchObject({ label: 'Contract value', type: 'number' });
    expect(deals.fields.find((field) => field.name === `${contract.field_code}_currency`)).toMatchObject({ type: 'string' });
    const stage = deals.fields.find((field) => field.name === 'stage_id')!;
    expect(stage.type).toBe('enum');
    expect(stage.options?.map((option) => option.label)).toContain('Pipeline / Qualified');
    expect(deals.fields.find((field) => field.name === 'status')?.options?.map((option) => option.value)).toEqual(['open', 'won', 'lost']);
    const tier = findObject(schema, 'organizations')!.fields.find((field) => field.label === 'Tier')!;
    expect(tier).toMatchObject({ type: 'enum' });
    expect(tier.options?.map((option) => option.label)).toEqual(['Gold', 'Silver', 'Bronze']);
    expect(findObject(schema, 'activities')!.fields.find((field) => field.name === 'type')!.options?.map((option) => option.value)).toContain('call');
    // Pipelines and stages (no documented update-time filter) are read whole and windowed by the connector.
    const stages = await collectAll(pd, 'stages');
    expect(stages.map((stage) => stage.fields.name)).toEqual(['Qualified', 'Contact Made', 'Demo Scheduled', 'Proposal Made', 'Negotiations Started']);
    expect(new Set(stages.map((stage) => stage.fields.pipeline_id))).toEqual(new Set(['1']));
    expect((await pd.read('pipelines', { modifiedSince: '2999-01-01T00:00:00.000Z' })).records).toEqual([]);
    const users = findObject(schema, 'users')!;
    expect(users.fields.every((field) => field.readOnly)).toBe(true);
    expect(users.modifiedField).toBe('modified');
  });

  it('round-trips labelled e-mails with their primary, monetary custom values, option sets, dates, activity and deal participants', async () => {
    const { pipedrive, pd } = await start({}, { dealParticipants: true });
    const renewal = pipedrive.store.addCustomField('deals', { field_name: 'Renewal', field_type: 'date' });
    const money = pipedrive.store.addCustomField('deals', { field_name: 'Contract value', field_type: 'monetary' });
    const products = pipedrive.store.addCustomField('deals', { field_name: 'Products', field_type: 'set', options: [{ label: 'A' }, { label: 'B' }, { label: 'C' }] });
    const [a, , c] = products.options!.map((option) => String(option.id));
    await pd.describe();
    const [org] = okIds(await pd.create('organizations', [{ ref: 'o', fields: { name: 'Acme', address: '1 Road, Town' } }]));
    const emails = JSON.stringify([
      { value: 'home@example.com', label: 'home', primary: false },
      { value: 'work@example.com', label: 'work', primary: true },
    ]);
    const [ann, bob] = okIds(await pd.create('persons', [
      { ref: 'p1', fields: { name: 'Ann', emails, org_id: org! } },
      { ref: 'p2', fields: { name: 'Bob', email: 'bob@example.com' } },
    ]));
    const [annRecord] = await pd.readByIds('persons', [ann!]);
    expect(annRecord!.fields).toMatchObject({ email: 'work@example.com', org_id: org, name: 'Ann' });
    expect(JSON.parse(annRecord!.fields.emails as string)).toEqual(JSON.parse(emails));
    // Changing only the primary e-mail keeps the other one.
    okIds(await pd.update('persons', [{ id: ann!, fields: { email: 'new@example.com' } }]));
    const [annAfter] = await pd.readByIds('persons', [ann!]);
    expect(JSON.parse(annAfter!.fields.emails as string)).toEqual([
      { value: 'new@example.com', label: 'work', primary: true },
      { value: 'home@example.com', label: 'home', primary: false },
    ]);
    const [deal] = okIds(await pd.create('deals', [
      { ref: 'd', fields: { title: 'Big', value: 1000, currency: 'EUR', status: 'lost', lost_reason: 'Price', person_id: ann!, org_id: org!, [renewal.field_code]: '2027-01-31', [money.field_code]: 250.5, [`${money.field_code}_currency`]: 'USD', [products.field_code]: `${c};${a}`, participants: [bob!] } },
    ]));
    const [dealRecord] = await pd.readByIds('deals', [deal!], ['title', 'status', 'lost_reason', renewal.field_code, money.field_code, `${money.field_code}_currency`, products.field_code, 'participants', 'stage_id']);
    expect(dealRecord!.fields).toMatchObject({ status: 'lost', lost_reason: 'Price', [renewal.field_code]: '2027-01-31', [money.field_code]: 250.5, [`${money.field_code}_currency`]: 'USD', [products.field_code]: `${a};${c}`, participants: [bob] });
    expect(typeof dealRecord!.fields.stage_id).toBe('string');
    okIds(await pd.update('deals', [{ id: deal!, fields: { participants: [ann!] } }]));
    expect((await pd.readByIds('deals', [deal!], ['participants']))[0]!.fields.participants).toEqual([ann]);
    const [activity] = okIds(await pd.create('activities', [{ ref: 'a', fields: { subject: 'Call', type: 'call', deal_id: deal!, person_id: bob!, participants: [ann!, bob!], due_date: '2026-04-01', done: true } }]));
    const [activityRecord] = await pd.readByIds('activities', [activity!]);
    expect(activityRecord!.fields).toMatchObject({ person_id: bob, participants: [ann, bob].sort((x, y) => Number(x) - Number(y)), due_date: '2026-04-01', done: true, deal_id: deal });
    const [note] = okIds(await pd.create('notes', [{ ref: 'n', fields: { content: 'Hello', deal_id: deal!, pinned_to_deal_flag: true, add_time: '2025-01-02T03:04:05.000Z' } }]));
    expect((await pd.readByIds('notes', [note!]))[0]!.fields).toMatchObject({ content: 'Hello', deal_id: deal, pinned_to_deal_flag: true, add_time: '2025-01-02T03:04:05.000Z' });
  });

  it('writes products (a create Pipedrive answers 201) with their prices, and reads them back', async () => {
    const { pipedrive, pd } = await start();
    const [id] = okIds(await pd.create('products', [{ ref: 'p', fields: { name: 'Pencil', code: 'P-1', prices: JSON.stringify([{ price: 5, currency: 'EUR' }]) } }]));
    expect(pipedrive.log.find((entry) => entry.method === 'POST' && entry.path === '/api/v2/products')!.status).toBe(201);
    const [read] = await pd.readByIds('products', [id!]);
    expect(read!.fields).toMatchObject({ name: 'Pencil', code: 'P-1' });
    expect(JSON.parse(String(read!.fields.prices))).toMatchObject([{ price: 5, currency: 'EUR' }]);
  });

  it('an update of a deal archived in Pipedrive fails that record with Pipedrive\'s reason; unarchiving it is written', async () => {
    const { pipedrive, pd } = await start();
    const archived = pipedrive.store.create('deals', { title: 'Archived', is_archived: true }).id;
    const open = pipedrive.store.create('deals', { title: 'Open' }).id;
    const results = await pd.update('deals', [
      { id: String(archived), fields: { title: 'Renamed' } },
      { id: String(open), fields: { title: 'Renamed too' } },
    ]);
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('Archived deals can not be edited') } });
    expect(results[1]).toMatchObject({ ok: true, id: String(open) });
    expect(pipedrive.store.table('deals').get(archived)!.data.title).toBe('Archived');
    expect(await pd.update('deals', [{ id: String(archived), fields: { is_archived: false, title: 'Renamed' } }])).toMatchObject([{ ok: true }]);
    expect(pipedrive.store.table('deals').get(archived)!.data).toMatchObject({ title: 'Renamed', is_archived: false });
  });

  it('names record, field and value in errors, before sending when it can and from Pipedrive\'s 400 otherwise', async () => {
    const { pipedrive, pd } = await start();
    const second = pipedrive.store.create('pipelines', { name: 'Second' }).id;
    const foreignStage = pipedrive.store.create('stages', { name: 'Elsewhere', pipeline_id: second }).id;
    const firstPipeline = pipedrive.store.table('pipelines').all()[0]!.id;
    const results = await pd.create('deals', [
      { ref: 'ok', fields: { title: 'Fine' } },
      { ref: 'status', fields: { title: 'Bad status', status: 'maybe' } },
      { ref: 'value', fields: { title: 'Bad value', value: 'a lot' } },
      { ref: 'stage', fields: { title: 'Wrong pipeline', pipeline_id: String(firstPipeline), stage_id: String(foreignStage) } },
      { ref: 'missing', fields: { value: 10 } },
      { ref: 'unknown', fields: { title: 'x', colour: 'red' } },
    ]);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'status', value: 'maybe' } });
    expect(results[2]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'value', value: 'a lot' } });
    expect(results[3]).toMatchObject({ ok: false, error: { field: 'stage_id', value: String(foreignStage) } });
    expect(results[4]).toMatchObject({ ok: false, error: { code: 'REQUIRED_MISSING', field: 'title', value: null } });
    expect(results[5]).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FIELD', field: 'colour', value: 'red' } });
    for (const result of results.slice(1)) if (!result.ok) expect(result.error.message.length).toBeGreaterThan(5);
    expect(pipedrive.store.table('deals').all().map((row) => row.data.title)).toEqual(['Fine']);
  });
});

describe('pipedrive connector: limits and faults', () => {
  it('stops before the daily budget is spent, resumable, with a clear message, and goes on after the reset', async () => {
    const { pipedrive, pd } = await start({ dailyBudget: 300 }, { tokenReserve: 40, writeConcurrency: 1 });
    const inputs = Array.from({ length: 60 }, (_, index) => ({ ref: `r${index}`, fields: { name: `Person ${index}` } }));
    const error = await pd.create('persons', inputs).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    if (!isFerryError(error)) return;
    expect(error.details.resumable).toBe(true);
    expect(error.message).toMatch(/daily API budget reached .*left of 300, 40 kept in reserve.*resumable/);
    // Pipedrive never had to refuse anything, and the reserve was left.
    expect(pipedrive.stats.status429).toBe(0);
    expect(pipedrive.limits.usedToday()).toBeLessThanOrEqual(300 - 40);
    const created = pipedrive.store.table('persons').all().length;
    expect(created).toBeGreaterThan(30);
    // The next day a resumed run (a new connection) learns the renewed budget from the first answer.
    pipedrive.limits.resetDaily();
    connector = createPipedriveConnector({ apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000, tokenReserve: 40 });
    okIds(await connector.create('persons', inputs.slice(created)));
    expect(pipedrive.store.table('persons').all()).toHaveLength(60);
  });

  it('a create whose answer was lost is found by its external id and not created twice', async () => {
    const { pipedrive, pd } = await start();
    const field = await pd.ensureExternalId('persons');
    expect(field).toMatch(/^[0-9a-f]{40}$/);
    expect(await pd.ensureExternalId('persons')).toBe(field);
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v2/persons', method: 'POST', count: 2 });
    pipedrive.faults.serverError(503, { path: '/api/v2/persons', method: 'POST', skip: 3, count: 1 });
    const inputs = Array.from({ length: 6 }, (_, index) => ({ ref: `s${index}`, externalId: `src-${index}`, fields: { name: `Person ${index}` } }));
    const ids = okIds(await pd.create('persons', inputs));
    const rows = pipedrive.store.table('persons').all();
    expect(rows).toHaveLength(6);
    for (const [index, id] of ids.entries()) expect(rows.find((row) => row.id === Number(id))!.data.custom[field!]).toBe(`src-${index}`);
    const found = await pd.findByExternalIds('persons', ['src-1', 'src-4', 'src-9']);
    expect(Object.fromEntries(found)).toEqual({ 'src-1': ids[1], 'src-4': ids[4] });
  });

  it('a lost note create (no custom fields to stamp) is found as the note just written, not created twice', async () => {
    const { pipedrive, pd } = await start();
    const deal = pipedrive.store.create('deals', { title: 'D' }).id;
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v1/notes', method: 'POST', count: 1 });
    const ids = okIds(await pd.create('notes', [{ ref: 'n', fields: { content: 'Only once', deal_id: String(deal) } }]));
    expect(pipedrive.store.notes.all()).toHaveLength(1);
    expect(ids[0]).toBe(String(pipedrive.store.notes.all()[0]!.id));
  });

  it('a lost note create is found again although Pipedrive sanitised its HTML, and two identical notes stay two', async () => {
    const { pipedrive, pd } = await start();
    const deal = String(pipedrive.store.create('deals', { title: 'D' }).id);
    // Sanitised by Pipedrive (the handler and script go): still recognised as the note just sent.
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v1/notes', method: 'POST', count: 1 });
    const html = '<p onclick="x()">Called <b>Ann</b></p><script>alert(1)</script>';
    const [cleaned] = okIds(await pd.create('notes', [{ ref: 'n', fields: { content: html, deal_id: deal, pinned_to_deal_flag: true } }]));
    expect(pipedrive.store.notes.all()).toHaveLength(1);
    expect(pipedrive.store.notes.all()[0]!.data.content).not.toContain('script');
    // Two source notes with the same text on the same deal, written in one batch, each answer lost once: two notes,
    // two ids, neither taken for the other (nor for the note above).
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v1/notes', method: 'POST', count: 2 });
    const twins = okIds(await pd.create('notes', [1, 2].map((n) => ({ ref: `t${n}`, fields: { content: 'Left a voicemail', deal_id: deal } }))));
    expect(new Set(twins).size).toBe(2);
    expect(twins).not.toContain(cleaned);
    expect(pipedrive.store.notes.all().filter((row) => !row.deleted).map((row) => row.data.content)).toEqual([expect.stringContaining('Called'), 'Left a voicemail', 'Left a voicemail']);
    // A third identical note later, answer lost: the two earlier ones are not its twin, so it is written once more.
    pipedrive.faults.dropConnection({ afterWrite: true, path: '/api/v1/notes', method: 'POST', count: 1 });
    const [third] = okIds(await pd.create('notes', [{ ref: 't3', fields: { content: 'Left a voicemail', deal_id: deal } }]));
    expect([cleaned, ...twins]).not.toContain(third);
    expect(pipedrive.store.notes.all()).toHaveLength(4);
  });

  it('adopts the lower burst limit Pipedrive announces, retries a 429 storm, and refuses a wrong token without echoing it', async () => {
    const { pipedrive, pd } = await start({ burstLimit: { requests: 4, intervalMs: 2000 } }, { burstLimit: 50, writeConcurrency: 4 });
    okIds(await pd.create('organizations', Array.from({ length: 5 }, (_, index) => ({ ref: `o${index}`, fields: { name: `Org ${index}` } }))));
    // The first answer's x-ratelimit-limit (4) replaced the configured 50: Pipedrive never had to say 429.
    expect(pipedrive.stats.status429).toBe(0);
    expect(pd.client.pacer.rules[0]!.limit).toBe(4);
    pipedrive.faults.rateLimitStorm({ path: '/api/v2/organizations', method: 'POST', count: 2 });
    okIds(await pd.create('organizations', [{ ref: 'late', fields: { name: 'Late' } }]));
    expect(pipedrive.stats.status429).toBe(2);
    expect(pipedrive.store.table('organizations').all()).toHaveLength(6);
    const wrong = createPipedriveConnector({ apiToken: 'wrong-token-123', baseUrl: pipedrive.url });
    const error = await wrong.check().catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).not.toContain('wrong-token-123');
    expect(String((error as Error).message)).toContain('apiToken');
  });
});

describe('pipedrive connector: the CDN block after repeated 429s', () => {
  it('stops with RATE_LIMITED, resumable, at the 403 HTML page instead of insisting', async () => {
    // Pipedrive: "integrations that keep sending after a 429 get a 403 with a Cloudflare HTML page".
    const { pipedrive } = await start({ abuseBlock: { after: 3, forMs: 60_000 } });
    const instant = { now: () => Date.now(), sleep: async () => {} };
    const pd = createPipedriveConnector({ apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000, maxRetries: 10 }, { clock: instant });
    await pd.describe();
    const before = pipedrive.log.length;
    pipedrive.faults.rateLimitStorm({ path: '/api/v2/persons', method: 'GET', count: 100 });
    const error = await pd.read('persons', { limit: 10 }).catch((caught: unknown) => caught);
    expect(isFerryError(error) && [error.code, error.details.resumable]).toEqual(['RATE_LIMITED', true]);
    expect(String((error as Error).message)).toContain('403 page from its CDN');
    // Three 429s (retried after Retry-After), then the block page: nothing is sent after it.
    expect(pipedrive.log.slice(before).map((entry) => entry.status)).toEqual([429, 429, 429, 403]);
  });
});

describe('pipedrive connector: settings and auth', () => {
  it('refuses bad settings naming each key, never the token, and derives the URL from the company domain', () => {
    const error = (() => {
      try {
        createPipedriveConnector({ apiToken: 'secret-token-1', accessToken: 'secret-token-2', colour: 'red' }, { configPath: 'target' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isFerryError(error) && error.code).toBe('CONFIG_INVALID');
    const message = (error as Error).message;
    expect(message).toContain('target.colour: unknown setting');
    expect(message).not.toContain('secret-token');
    expect(() => createPipedriveConnector({}, { configPath: 'source' })).toThrow(/source\.apiToken: needs exactly one of apiToken/);
    const byDomain = createPipedriveConnector({ apiToken: 't', companyDomain: 'acme' });
    expect(byDomain.capabilities().requestsPerSecond).toBe(10); // lite: 20 per 2 s
    expect(() => createPipedriveConnector({ apiToken: 't', companyDomain: 'acme.pipedrive.com' })).toThrow(/companyDomain: must be the subdomain only/);
  });

  it('authenticates with an OAuth access token as a bearer token (4x the burst window of an API token)', async () => {
    const { pipedrive } = await start();
    const oauth = createPipedriveConnector({ accessToken: pipedrive.oauthToken, baseUrl: pipedrive.url, plan: 'growth' });
    await oauth.check();
    expect(oauth.capabilities().requestsPerSecond).toBe(80);
    // The API token sent as a bearer is refused, as Pipedrive refuses it.
    await expect(createPipedriveConnector({ accessToken: pipedrive.token, baseUrl: pipedrive.url }).check()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});
