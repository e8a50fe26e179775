import { afterEach, describe, expect, it } from 'vitest';
import { startPipedriveEmulator, type PipedriveEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('Pipedrive emulator: v2 search', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('finds a record by a custom field value (the idempotency lookup), exact or by substring, after the index delay', async () => {
    const clock = manualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, searchIndexDelayMs: 2000, burstLimit: { requests: 1000, intervalMs: 2000 }, searchLimit: { requests: 1000, intervalMs: 2000 } });
    const sourceId = pipedrive.store.addCustomField('persons', { field_name: 'Ferry source id', field_type: 'varchar' });
    const org = pipedrive.store.create('organizations', { name: 'Acme' });
    pipedrive.store.create('persons', { name: 'Ada Lovelace', org_id: org.id, emails: [{ value: 'ada@acme.example' }], custom_fields: { [sourceId.field_code]: 'contacts:17' } });
    pipedrive.store.create('persons', { name: 'Adam Smith', custom_fields: { [sourceId.field_code]: 'contacts:170' } });
    const path = `/api/v2/persons/search?term=contacts:17&fields=custom_fields&exact_match=true`;
    expect((await call(pipedrive, 'GET', path)).body).toEqual({ success: true, data: { items: [] }, additional_data: { next_cursor: null } });
    clock.advance(2000);
    const found = await call(pipedrive, 'GET', path);
    expect(found.body.data.items).toEqual([
      {
        result_score: 1,
        item: { id: 1, type: 'person', name: 'Ada Lovelace', phones: [], emails: ['ada@acme.example'], visible_to: 3, owner: { id: 1 }, custom_fields: ['contacts:17'], notes: [], organization: { id: org.id, name: 'Acme', address: null } },
      },
    ]);
    const loose = await call(pipedrive, 'GET', '/api/v2/persons/search?term=ada&limit=1');
    expect(loose.body.data.items.map((hit: { item: { id: number } }) => hit.item.id)).toEqual([1]);
    const next = await call(pipedrive, 'GET', `/api/v2/persons/search?term=ada&limit=1&cursor=${loose.body.additional_data.next_cursor}`);
    expect(next.body.data.items.map((hit: { item: { id: number }; result_score: number }) => [hit.item.id, hit.result_score])).toEqual([[2, 0.5]]);
    expect(next.body.additional_data.next_cursor).toBeNull();
    expect((await call(pipedrive, 'GET', '/api/v2/persons/search?term=a')).body.error).toBe('"term" must be at least 2 characters long.');
    expect((await call(pipedrive, 'GET', '/api/v2/persons/search?term=ada&fields=title')).status).toBe(400);
    // Six searches, the two refused with a 400 included: a request spends its cost once admitted.
    expect(pipedrive.stats.tokensByPath['GET /api/v2/persons/search']).toBe(20 * 6);
  });

  it('searches deals by title with person, organization and status filters, and limits search to 10 per 2 s', async () => {
    const clock = manualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, seed: { sample: { seed: 4, persons: 9 } } });
    const deal = pipedrive.store.create('deals', { title: 'Zeppelin fleet', person_id: 1, status: 'won' });
    const hit = await call(pipedrive, 'GET', '/api/v2/deals/search?term=zeppelin&person_id=1&status=won');
    expect(hit.body.data.items.map((item: { item: { id: number; type: string; status: string } }) => [item.item.id, item.item.type, item.item.status])).toEqual([[deal.id, 'deal', 'won']]);
    expect((await call(pipedrive, 'GET', '/api/v2/deals/search?term=zeppelin&status=open')).body.data.items).toEqual([]);
    for (let index = 0; index < 8; index++) expect((await call(pipedrive, 'GET', '/api/v2/organizations/search?term=oy')).status).toBe(200);
    const refused = await call(pipedrive, 'GET', '/api/v2/products/search?term=crm');
    expect([refused.status, refused.headers.get('x-ratelimit-limit'), refused.headers.get('x-ratelimit-remaining')]).toEqual([429, '10', '0']);
    expect((await call(pipedrive, 'GET', '/api/v2/products')).status).toBe(200); // other endpoints still pass
    clock.advance(2000);
    expect((await call(pipedrive, 'GET', '/api/v2/products/search?term=crm')).body.data.items[0].item).toMatchObject({ type: 'product', name: 'CRM seat' });
  });
});
