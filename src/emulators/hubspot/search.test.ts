import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('HubSpot emulator: search', () => {
  let hubspot: HubspotEmulator | undefined;
  afterEach(async () => {
    await hubspot?.close();
    hubspot = undefined;
  });

  const deltaQuery = (since: number, after?: string, limit = 200) => ({
    filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(since) }] }],
    sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
    properties: ['name', 'hs_lastmodifieddate'],
    limit,
    ...(after ? { after } : {}),
  });

  it('finds records modified since a time, ascending by hs_lastmodifieddate, ties in a stable id order', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now });
    const base = clock.now();
    const ids: string[] = [];
    for (let index = 0; index < 30; index++) {
      // three records share each millisecond
      clock.set(base + Math.floor(index / 3) * 1000);
      ids.push(hubspot.store.createRecord('companies', { name: `C${index}` }).id);
    }
    clock.set(base + 60_000);
    // a person edits the first record: it moves to the end of the order
    hubspot.store.updateRecord('companies', ids[0]!, { name: 'C0 edited' });
    const seen: { id: string; modified: string }[] = [];
    let after: string | undefined;
    do {
      clock.advance(250); // stay under the search per-second limit
      const page = await call(hubspot, 'POST', '/crm/v3/objects/companies/search', deltaQuery(base + 5000, after, 4));
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(16);
      for (const record of page.body.results) seen.push({ id: record.id, modified: record.properties.hs_lastmodifieddate });
      after = page.body.paging?.next?.after;
    } while (after);
    expect(seen.map((entry) => entry.id)).toEqual([...ids.slice(15), ids[0]]);
    const times = seen.map((entry) => Date.parse(entry.modified));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('contacts: a filter on hs_lastmodifieddate misses updated contacts (as live HubSpot does), lastmodifieddate finds them', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, searchPerSecond: 100 });
    const base = clock.now();
    const old = hubspot.store.createRecord('contacts', { email: 'old@example.com' });
    clock.set(base + 60_000);
    const fresh = hubspot.store.createRecord('contacts', { email: 'new@example.com' });
    hubspot.store.updateRecord('contacts', old.id, { firstname: 'Edited' });
    const since = base + 30_000;
    const query = (property: string) => ({
      filterGroups: [{ filters: [{ propertyName: property, operator: 'GTE', value: String(since) }] }],
      sorts: [{ propertyName: property, direction: 'ASCENDING' }],
      properties: ['email', 'hs_lastmodifieddate', 'lastmodifieddate'],
    });
    const bad = await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query('hs_lastmodifieddate'));
    expect(bad.body.results.map((record: { id: string }) => record.id)).toEqual([fresh.id]);
    // The record itself shows the true value: only the search filter misses it.
    const read = await call(hubspot, 'GET', `/crm/v3/objects/contacts/${old.id}?properties=hs_lastmodifieddate,lastmodifieddate`);
    expect(Date.parse(read.body.properties.hs_lastmodifieddate)).toBe(base + 60_000);
    expect(read.body.properties.lastmodifieddate).toBe(read.body.properties.hs_lastmodifieddate);
    const good = await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query('lastmodifieddate'));
    expect(good.body.results.map((record: { id: string }) => record.id).sort()).toEqual([old.id, fresh.id].sort());
    // Other objects are found by hs_lastmodifieddate.
    const company = hubspot.store.createRecord('companies', { name: 'Acme' });
    clock.set(base + 120_000);
    hubspot.store.updateRecord('companies', company.id, { name: 'Acme Inc' });
    const companies = await call(hubspot, 'POST', '/crm/v3/objects/companies/search', { ...query('hs_lastmodifieddate'), properties: ['name'] });
    expect(companies.body.results.map((record: { id: string }) => record.id)).toEqual([company.id]);
  });

  it('supports EQ, IN, BETWEEN, HAS_PROPERTY and NOT_HAS_PROPERTY across filter groups (OR of ANDs)', async () => {
    hubspot = await startHubspotEmulator({ searchPerSecond: 100 });
    hubspot.store.createRecord('deals', { dealname: 'Small', dealstage: 'closedwon', amount: '100' });
    hubspot.store.createRecord('deals', { dealname: 'Medium', dealstage: 'closedlost', amount: '5000' });
    hubspot.store.createRecord('deals', { dealname: 'Unpriced', dealstage: 'qualifiedtobuy' });
    const names = async (filterGroups: unknown) => {
      const response = await call(hubspot!, 'POST', '/crm/v3/objects/deals/search', { filterGroups, properties: ['dealname'], sorts: ['dealname'] });
      expect(response.status).toBe(200);
      return response.body.results.map((record: { properties: { dealname: string } }) => record.properties.dealname);
    };
    expect(await names([{ filters: [{ propertyName: 'dealstage', operator: 'IN', values: ['closedwon', 'closedlost'] }] }])).toEqual(['Medium', 'Small']);
    expect(await names([{ filters: [{ propertyName: 'amount', operator: 'BETWEEN', value: '50', highValue: '1000' }] }])).toEqual(['Small']);
    expect(await names([{ filters: [{ propertyName: 'amount', operator: 'NOT_HAS_PROPERTY' }] }])).toEqual(['Unpriced']);
    expect(
      await names([{ filters: [{ propertyName: 'dealname', operator: 'EQ', value: 'small' }] }, { filters: [{ propertyName: 'amount', operator: 'GT', value: '1000' }] }]),
    ).toEqual(['Medium', 'Small']);
    const unknown = await call(hubspot, 'POST', '/crm/v3/objects/deals/search', { filterGroups: [{ filters: [{ propertyName: 'nope', operator: 'EQ', value: '1' }] }] });
    expect(unknown.status).toBe(400);
    const tooBig = await call(hubspot, 'POST', '/crm/v3/objects/deals/search', { limit: 201 });
    expect(tooBig.status).toBe(400);
  });

  it('caps a query at 10,000 results: total counts them all, paging past 10,000 answers 400', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, burstLimit: { requests: 1000, intervalMs: 10_000 } });
    const sameInstant = clock.now();
    for (let index = 0; index < 10_050; index++) hubspot.store.createRecord('companies', { name: `C${index}` });
    let after: string | undefined;
    let returned = 0;
    let last: { status: number; body: { total: number; paging?: { next?: { after: string } } } } | undefined;
    for (;;) {
      clock.advance(250);
      last = await call(hubspot, 'POST', '/crm/v3/objects/companies/search', deltaQuery(sameInstant, after));
      if (last.status !== 200) break;
      expect(last.body.total).toBe(10_050);
      returned += (last.body as unknown as { results: unknown[] }).results.length;
      after = last.body.paging?.next?.after;
      if (!after) break;
    }
    expect(returned).toBe(10_000);
    expect(after).toBe('10000');
    expect(last?.status).toBe(400);
    expect((last?.body as unknown as { category: string }).category).toBe('VALIDATION_ERROR');
  });

  it('shows writes in search only after the index delay', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, searchIndexDelayMs: 2000 });
    const record = hubspot.store.createRecord('contacts', { email: 'late@example.com', firstname: 'Old' });
    const query = { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'late@example.com' }] }], properties: ['firstname'] };
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query)).body.total).toBe(0);
    clock.advance(2000);
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query)).body.results[0].properties.firstname).toBe('Old');
    hubspot.store.updateRecord('contacts', record.id, { firstname: 'New' });
    clock.advance(1000);
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query)).body.results[0].properties.firstname).toBe('Old');
    clock.advance(1000);
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', query)).body.results[0].properties.firstname).toBe('New');
  });
});
