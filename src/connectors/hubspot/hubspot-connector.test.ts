import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/http.js';
import { readAll } from '../../core/connector.js';
import { createHubspotConnector, REQUIRED_SCOPES, type HubspotConnector } from './index.js';
import { fromHubspotValue, toHubspotValue } from './values.js';

/**
 * A small fake of the HubSpot endpoints the connector uses, enough to pin the connector's own logic:
 * window splitting in delta reads (with the 10,000-results cap enforced), 207 attribution by
 * objectWriteTraceId, and error mapping. The full behaviour is checked by the contract suite against
 * the emulator (test/contract/hubspot.test.ts).
 */
interface FakeRecord {
  id: number;
  properties: Record<string, string>;
}

const TOKEN = 'pat-na1-test-token-0000';
let server: Server;
let baseUrl: string;
let records: FakeRecord[] = [];
let searches = 0;
let override: ((request: IncomingMessage, body: unknown, response: ServerResponse) => boolean) | undefined;

const PROPERTIES = [
  { name: 'hs_object_id', type: 'number', fieldType: 'number', modificationMetadata: { readOnlyValue: true } },
  { name: 'hs_lastmodifieddate', type: 'datetime', fieldType: 'date', modificationMetadata: { readOnlyValue: true } },
  { name: 'createdate', type: 'datetime', fieldType: 'date', modificationMetadata: { readOnlyValue: true } },
  { name: 'name', type: 'string', fieldType: 'text' },
  { name: 'email', type: 'string', fieldType: 'text' },
  { name: 'employees', type: 'number', fieldType: 'number' },
  { name: 'founded', type: 'date', fieldType: 'date' },
  { name: 'active', type: 'bool', fieldType: 'booleancheckbox' },
  { name: 'tier', type: 'enumeration', fieldType: 'select', options: [{ value: 'gold', label: 'Gold' }, { value: 'old', label: 'Old', hidden: true }] },
];

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', date: new Date('2030-01-02T03:04:05Z').toUTCString() });
  response.end(body === undefined ? '' : JSON.stringify(body));
}

function publicRecord(record: FakeRecord, properties: string[]): unknown {
  return { id: String(record.id), properties: Object.fromEntries(properties.map((name) => [name, record.properties[name] ?? null])), archived: false };
}

type Filter = { propertyName: string; operator: string; value: string };

function matches(record: FakeRecord, filter: Filter): boolean {
  const value = Number(filter.propertyName === 'hs_object_id' ? record.id : record.properties[filter.propertyName]);
  const bound = Number(filter.value);
  switch (filter.operator) {
    case 'EQ':
      return value === bound;
    case 'GT':
      return value > bound;
    case 'GTE':
      return value >= bound;
    default:
      throw new Error(`operator ${filter.operator}`);
  }
}

function handle(request: IncomingMessage, body: unknown, response: ServerResponse): void {
  if (request.headers.authorization !== `Bearer ${TOKEN}`) return send(response, 401, { status: 'error', message: 'Authentication credentials not found', category: 'INVALID_AUTHENTICATION' });
  if (override?.(request, body, response)) return;
  const url = new URL(request.url ?? '/', 'http://x');
  const path = url.pathname;
  if (path === '/crm/v3/properties/companies') return send(response, 200, { results: PROPERTIES });
  if (path === '/crm/v3/objects/companies' && request.method === 'GET') {
    const limit = Number(url.searchParams.get('limit') ?? 10);
    const after = Number(url.searchParams.get('after') ?? 0);
    const properties = (url.searchParams.get('properties') ?? '').split(',');
    const page = records.filter((record) => record.id > after).slice(0, limit);
    const more = records.some((record) => record.id > (page[page.length - 1]?.id ?? Infinity));
    return send(response, 200, { results: page.map((record) => publicRecord(record, properties)), ...(more ? { paging: { next: { after: String(page[page.length - 1]!.id) } } } : {}) });
  }
  if (path === '/crm/v3/objects/companies/search') {
    searches += 1;
    const search = body as { filterGroups: { filters: Filter[] }[]; sorts: { propertyName: string }[]; properties: string[]; limit: number; after?: string };
    if (search.limit > 200) return send(response, 400, { status: 'error', message: 'limit too high', category: 'VALIDATION_ERROR' });
    const sort = search.sorts[0]!.propertyName;
    const key = (record: FakeRecord): number => (sort === 'hs_object_id' ? record.id : Number(record.properties[sort]));
    const found = records.filter((record) => search.filterGroups.some((group) => group.filters.every((filter) => matches(record, filter)))).sort((a, b) => key(a) - key(b) || a.id - b.id);
    const offset = Number(search.after ?? 0);
    if (offset + search.limit > 10_000) return send(response, 400, { status: 'error', message: 'Cannot page beyond 10,000 results', category: 'VALIDATION_ERROR' });
    return send(response, 200, { total: found.length, results: found.slice(offset, offset + search.limit).map((record) => publicRecord(record, search.properties)) });
  }
  if (path === '/crm/v3/objects/companies/batch/create') {
    const inputs = (body as { inputs: { properties: Record<string, string>; objectWriteTraceId: string }[] }).inputs;
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      if (input.properties.email !== undefined && !input.properties.email.includes('@')) {
        errors.push({
          status: 'error',
          category: 'VALIDATION_ERROR',
          message: `Property values were not valid: [{"isValid":false,"message":"Email address ${input.properties.email} is invalid","error":"INVALID_EMAIL","name":"email"}]`,
          context: { objectWriteTraceId: [input.objectWriteTraceId] },
        });
        continue;
      }
      const record = { id: 1000 + records.length, properties: { ...input.properties, hs_lastmodifieddate: '1700000000000' } };
      records.push(record);
      results.push({ ...(publicRecord(record, Object.keys(record.properties)) as object), objectWriteTraceId: input.objectWriteTraceId });
    }
    // Results come back in no particular order: attribution must use the trace ids.
    results.reverse();
    return send(response, errors.length ? 207 : 201, { status: 'COMPLETE', results, ...(errors.length ? { numErrors: errors.length, errors } : {}) });
  }
  send(response, 404, { status: 'error', message: `no route ${request.method} ${path}`, category: 'OBJECT_NOT_FOUND' });
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => handle(request, text ? (JSON.parse(text) as unknown) : undefined, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  records = [];
  searches = 0;
  override = undefined;
});

/** Pacer waits advance this clock instead of real time. */
let fakeNow = Date.now();
const instantClock: Clock = {
  now: () => fakeNow,
  sleep: async (ms) => {
    fakeNow += ms;
  },
};

function connector(settings: Record<string, unknown> = {}): HubspotConnector {
  return createHubspotConnector({ accessToken: TOKEN, baseUrl, ...settings }, { clock: instantClock });
}

function seed(count: number, modifiedAt: (index: number) => number): void {
  for (let index = 0; index < count; index += 1) {
    records.push({ id: records.length + 1, properties: { name: `c${records.length + 1}`, hs_lastmodifieddate: String(modifiedAt(index)) } });
  }
}

describe('HubSpot values', () => {
  it('converts HubSpot strings to Ferry values and back', () => {
    expect(fromHubspotValue('datetime', '1572480000000')).toBe('2019-10-31T00:00:00.000Z');
    expect(fromHubspotValue('datetime', '2019-10-30T03:30:17.883Z')).toBe('2019-10-30T03:30:17.883Z');
    expect(fromHubspotValue('date', '1572480000000')).toBe('2019-10-31');
    expect(fromHubspotValue('date', '2019-10-31')).toBe('2019-10-31');
    expect(fromHubspotValue('number', '17.5')).toBe(17.5);
    expect(fromHubspotValue('boolean', 'false')).toBe(false);
    expect(fromHubspotValue('string', '')).toBeNull();
    expect(toHubspotValue('date', '2019-10-31')).toEqual({ ok: true, value: '1572480000000' });
    expect(toHubspotValue('datetime', '2019-10-30T03:30:17.883Z')).toEqual({ ok: true, value: '1572406217883' });
    expect(toHubspotValue('number', 'abc')).toMatchObject({ ok: false });
    expect(toHubspotValue('boolean', true)).toEqual({ ok: true, value: 'true' });
    expect(toHubspotValue('enum', null)).toEqual({ ok: true, value: '' });
  });
});

describe('HubSpot connector (fake server)', () => {
  it('a wrong token stops with AUTH_FAILED naming the scopes, never the token', async () => {
    const bad = createHubspotConnector({ accessToken: 'pat-na1-wrong-token', baseUrl }, { clock: instantClock });
    const error = (await bad.check().catch((caught: unknown) => caught)) as Error & { code: string };
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('crm.objects.contacts.read');
    expect(error.message).not.toContain('pat-na1-wrong-token');
  });

  it('describe maps property types, options and read-only flags', async () => {
    const hubspot = connector({ objects: ['companies'] });
    const { objects } = await hubspot.describe();
    const companies = objects.find((object) => object.name === 'companies')!;
    const type = (name: string) => companies.fields.find((field) => field.name === name);
    expect(companies.modifiedField).toBe('hs_lastmodifieddate');
    expect(type('hs_lastmodifieddate')).toMatchObject({ type: 'datetime', readOnly: true });
    expect(type('email')?.type).toBe('email');
    expect(type('employees')?.type).toBe('number');
    expect(type('founded')?.type).toBe('date');
    expect(type('active')?.type).toBe('boolean');
    expect(type('tier')).toMatchObject({ type: 'enum', options: [{ value: 'gold', label: 'Gold' }] });
  });

  it('full reads page through the list endpoint with after cursors', async () => {
    seed(25, () => 1_700_000_000_000);
    const hubspot = connector({ objects: ['companies'] });
    const ids: string[] = [];
    for await (const record of readAll(hubspot, 'companies', { limit: 10 })) ids.push(record.id);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
  });

  it('delta reads keep every query under the 10,000 cap and read 10,500 records sharing one timestamp exactly once', async () => {
    const t = Date.parse('2030-01-01T00:00:00.000Z');
    seed(50, (index) => t - 1000 + index); // before and around the bound
    seed(10_500, () => t + 5000); // one crowded millisecond
    seed(120, (index) => t + 6000 + index);
    const hubspot = connector({ objects: ['companies'] });
    const seen = new Map<string, number>();
    let previous = -Infinity;
    for await (const record of readAll(hubspot, 'companies', { modifiedSince: new Date(t - 1000 + 10).toISOString(), limit: 100 })) {
      seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
      const time = Date.parse(record.updatedAt!);
      expect(time).toBeGreaterThanOrEqual(previous);
      previous = time;
    }
    expect(seen.size).toBe(40 + 10_500 + 120);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(searches).toBeLessThan(200);
  });

  it('batch create attributes a 207 by objectWriteTraceId: one result per input, in order', async () => {
    const hubspot = connector({ objects: ['companies'] });
    const results = await hubspot.create('companies', [
      { ref: 'a', fields: { name: 'A', email: 'a@example.com' } },
      { ref: 'b', fields: { name: 'B', email: 'not-an-email' } },
      { ref: 'c', fields: { name: 'C', email: 'c@example.com', founded: '2001-02-03', employees: 12 } },
    ]);
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'email', value: 'not-an-email' } });
    expect(results[2]).toMatchObject({ ok: true });
    const c = records.find((record) => record.properties.name === 'C')!;
    expect(results[2]).toEqual({ ok: true, id: String(c.id) });
    expect(c.properties).toMatchObject({ founded: String(Date.parse('2001-02-03T00:00:00Z')), employees: '12' });
  });

  it('unknown and read-only fields fail alone before any request', async () => {
    const hubspot = connector({ objects: ['companies'] });
    const results = await hubspot.create('companies', [
      { ref: 'a', fields: { nope: 1 } },
      { ref: 'b', fields: { hs_lastmodifieddate: '2020-01-01T00:00:00.000Z' } },
    ]);
    expect(results.map((result) => (result.ok ? 'ok' : result.error.code))).toEqual(['UNKNOWN_FIELD', 'INVALID_VALUE']);
  });

  it('a 403 from the Files API names the files scope; a 403 elsewhere lists the scopes Ferry uses', async () => {
    expect(REQUIRED_SCOPES).toContain('files');
    // HubSpot's answer to a token without a scope (category MISSING_SCOPES, the scopes it needs in context).
    override = (request, _body, response) => {
      send(response, 403, {
        status: 'error',
        message: "This app hasn't been granted all required scopes to make this call.",
        category: 'MISSING_SCOPES',
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: request.url!.startsWith('/files/') ? ['files'] : ['crm.objects.contacts.read'] } }],
      });
      return true;
    };
    const hubspot = connector();
    const files = (await hubspot.files.findUploaded('notes', { name: 'a.pdf', stamp: 'ferry-s1' }).catch((caught: unknown) => caught)) as Error & { code: string };
    expect(files.code).toBe('AUTH_FAILED');
    expect(files.message).toMatch(/^HubSpot refused GET \/files\/v3\/files\/stat\/.* \(403\).*needs the `files` scope.*options\.attachments: false/);
    const other = (await hubspot.check().catch((caught: unknown) => caught)) as Error & { code: string };
    expect(other.code).toBe('AUTH_FAILED');
    expect(other.message).toContain('the token lacks a scope');
    expect(other.message).not.toContain('Copying files');
  });

  it('a daily-limit 429 stops at once with a resumable RATE_LIMITED message', async () => {
    override = (_request, _body, response) => {
      send(response, 429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY' });
      return true;
    };
    const hubspot = connector();
    const error = (await hubspot.check().catch((caught: unknown) => caught)) as Error & { code: string };
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toMatch(/daily API limit reached.*resumable/i);
    expect(hubspot.client.http.stats.requests).toBe(1);
  });

  it('now() comes from the server Date header', async () => {
    const hubspot = connector();
    const now = await hubspot.now();
    expect(Math.abs(Date.parse(now) - Date.parse('2030-01-02T03:04:05Z'))).toBeLessThan(5000);
  });

  it('rejects bad settings naming the key', () => {
    expect(() => createHubspotConnector({ baseUrl }, { configPath: 'target' })).toThrow(/target\.accessToken/);
    expect(() => createHubspotConnector({ accessToken: TOKEN, burstLimit: 0 })).toThrow(/burstLimit/);
  });
});
