import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubspotConnector, type HubspotConnector } from '../hubspot/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import type { HubspotObject, HubspotPage } from '../hubspot/transport.js';
import { parseInstant } from '../../core/time.js';
import { readWindow, windowStart, type WindowCursor, type WindowSource } from './window.js';

/**
 * Evidence for moving HubSpot onto the connector kit (docs/development.md): the kit's window, fed by the same
 * HubSpot searches the connector sends, pages a delta exactly as HubspotConnector.read does today (same
 * records per page, same cursors), across ties longer than a page. HubSpot now reads its deltas through this window (see docs/development.md).
 */
let hubspot: HubspotEmulator;
let connector: HubspotConnector;

beforeAll(async () => {
  hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });
  // 23 companies over 4 modified times, 9 of them tied at one time (more than a page of 4).
  const times = [...Array(5).fill(1000), ...Array(9).fill(2000), ...Array(6).fill(3000), ...Array(3).fill(4000)] as number[];
  for (const [index, offset] of times.entries()) {
    const record = hubspot.store.createRecord('companies', { name: `Company ${index}` });
    const millis = Date.UTC(2095, 0, 1) + offset;
    record.updatedAt = millis;
    for (const name of ['hs_lastmodifieddate', 'lastmodifieddate']) if (record.properties.has(name)) record.properties.set(name, String(millis));
    record.searchableAt = 0;
    record.indexed = undefined;
  }
});
afterAll(async () => {
  await connector?.close();
  await hubspot?.close();
});

/** The kit's WindowSource over HubSpot's search, as the move would write it (docs/development.md, step 2). */
function hubspotWindow(): WindowSource<HubspotObject> {
  const modified = 'hs_lastmodifieddate';
  const search = async (filters: { propertyName: string; operator: string; value: string }[], sortBy: string, limit: number) =>
    (
      await connector.client.post<HubspotPage<HubspotObject>>('/crm/v3/objects/companies/search', {
        filterGroups: [{ filters }],
        sorts: [{ propertyName: sortBy, direction: 'ASCENDING' }],
        properties: [modified, 'hs_object_id', 'name'],
        limit,
      })
    ).body.results ?? [];
  return {
    time: (row) => Date.parse(parseInstant(row.properties[modified] ?? undefined) ?? ''),
    range: (since, exclusive, limit) => search([{ propertyName: modified, operator: exclusive ? 'GT' : 'GTE', value: String(since) }], modified, limit),
    tie: async (at, after, limit) => {
      const filters = [{ propertyName: modified, operator: 'EQ', value: String(at) }];
      if (after !== undefined) filters.push({ propertyName: 'hs_object_id', operator: 'GT', value: after });
      const rows = await search(filters, 'hs_object_id', limit + 1);
      return rows.length > limit ? { rows: rows.slice(0, limit), after: rows[limit - 1]!.id } : { rows };
    },
  };
}

describe('the kit window against HubspotConnector.read (delta reads)', () => {
  it('gives the same pages and the same cursors', async () => {
    const since = new Date(Date.UTC(2095, 0, 1) + 1000).toISOString();
    const limit = 4;
    const viaConnector: { ids: string[]; cursor?: unknown }[] = [];
    let after: string | undefined;
    do {
      const page = await connector.read('companies', { modifiedSince: since, limit, after });
      viaConnector.push({ ids: page.records.map((record) => record.id), cursor: page.next ? JSON.parse(Buffer.from(page.next, 'base64url').toString('utf8')) : undefined });
      after = page.next;
    } while (after);
    const viaKit: { ids: string[]; cursor?: unknown }[] = [];
    let cursor: WindowCursor | undefined = windowStart(Date.parse(since));
    while (cursor) {
      const page: { rows: HubspotObject[]; next?: WindowCursor } = await readWindow(hubspotWindow(), cursor, limit);
      viaKit.push({ ids: page.rows.map((row) => row.id), cursor: page.next });
      cursor = page.next;
    }
    expect(viaKit).toEqual(viaConnector);
    expect(viaKit.flatMap((page) => page.ids)).toHaveLength(23);
    expect(viaKit.some((page) => (page.cursor as { p?: string } | undefined)?.p === 't')).toBe(true);
  });
});
