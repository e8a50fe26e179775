import { afterEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('HubSpot emulator: rate limits', () => {
  let hubspot: HubspotEmulator | undefined;
  afterEach(async () => {
    await hubspot?.close();
    hubspot = undefined;
  });

  it('answers 429 TEN_SECONDLY_ROLLING past the burst limit, with rate-limit headers, and recovers after the window', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, burstLimit: { requests: 5, intervalMs: 10_000 }, dailyLimit: 1000 });
    for (let index = 0; index < 5; index++) {
      const ok = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-hubspot-ratelimit-remaining')).toBe(String(4 - index));
      clock.advance(1000);
    }
    const refused = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
    expect(refused.headers.get('x-hubspot-ratelimit-max')).toBe('5');
    expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(refused.headers.get('x-hubspot-ratelimit-daily')).toBe('1000');
    expect(refused.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('995');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The Date header follows the injected clock (clients take their high-water mark from it).
    expect(Date.parse(refused.headers.get('date')!)).toBe(Math.floor(clock.now() / 1000) * 1000);
    clock.advance(5001); // the first request leaves the rolling window
    expect((await call(hubspot, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
    expect(hubspot.stats.status429).toBe(1);
    expect(hubspot.stats.byPath['GET /crm/v3/objects/contacts']).toBe(7);
  });

  it('answers like live HubSpot: 429 body with requestId and no category, X-HubSpot-Correlation-Id on every response, no rate-limit headers on search, no daily ones for OAuth', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, burstLimit: { requests: 3, intervalMs: 10_000 }, oauthToken: 'oauth-token', dailyLimit: 1 });
    const correlation = (response: { headers: Headers }) => response.headers.get('x-hubspot-correlation-id');
    const list = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
    expect(list.status).toBe(200);
    expect(correlation(list)).toMatch(/^[0-9a-f-]{36}$/);
    expect(list.headers.get('x-hubspot-ratelimit-daily')).toBe('1');
    const unauthorised = await call(hubspot, 'GET', '/crm/v3/objects/contacts', undefined, 'wrong');
    expect(unauthorised.status).toBe(401);
    expect(correlation(unauthorised)).toBe(unauthorised.body.correlationId);
    // The private app's daily limit (1) is used up; the OAuth app has none, and no -Daily headers.
    const daily = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
    expect(daily.status).toBe(429);
    expect(daily.body).toEqual({ status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: correlation(daily), policyName: 'DAILY', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const oauth = await call(hubspot, 'GET', '/crm/v3/objects/contacts', undefined, 'oauth-token');
    expect(oauth.status).toBe(200);
    expect(oauth.headers.get('x-hubspot-ratelimit-max')).toBe('3');
    expect(oauth.headers.get('x-hubspot-ratelimit-daily')).toBeNull();
    expect(oauth.headers.get('x-hubspot-ratelimit-daily-remaining')).toBeNull();
    const search = await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', {}, 'oauth-token');
    expect(search.status).toBe(200);
    expect([...search.headers.keys()].filter((name) => name.startsWith('x-hubspot-ratelimit'))).toEqual([]);
    expect(correlation(search)).toMatch(/^[0-9a-f-]{36}$/);
    // Search requests still count against the burst window: the OAuth app's third request fills it.
    expect((await call(hubspot, 'GET', '/crm/v3/owners', undefined, 'oauth-token')).status).toBe(200);
    const burst = await call(hubspot, 'GET', '/crm/v3/owners', undefined, 'oauth-token');
    expect(burst.status).toBe(429);
    expect(burst.body).not.toHaveProperty('category');
    expect(burst.body.policyName).toBe('TEN_SECONDLY_ROLLING');
  });

  it('gives every error item of a 207 its links', async () => {
    hubspot = await startHubspotEmulator();
    const created = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com' } });
    const read = await call(hubspot, 'POST', '/crm/v3/objects/contacts/batch/read', { inputs: [{ id: created.body.id }, { id: '999' }], properties: ['email'], propertiesWithHistory: [] });
    expect(read.status).toBe(207);
    expect(read.body.errors).toEqual([expect.objectContaining({ category: 'OBJECT_NOT_FOUND', links: {}, context: { ids: ['999'] } })]);
    const batch = await call(hubspot, 'POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [
        { properties: { email: 'a@example.com' }, objectWriteTraceId: 't1' },
        { properties: { email: 'b@example.com' }, objectWriteTraceId: 't2' },
      ],
    });
    expect(batch.status).toBe(207);
    expect(batch.body.errors).toEqual([
      { status: 'error', category: 'CONFLICT', message: `Contact already exists. Existing ID: ${created.body.id}`, correlationId: expect.any(String), context: { objectWriteTraceId: ['t1'] }, errors: [], links: {} },
    ]);
  });

  it('limits search to its own requests per second', async () => {
    const clock = manualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, searchPerSecond: 2 });
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', {})).status).toBe(200);
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', {})).status).toBe(200);
    const refused = await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', {});
    expect(refused.status).toBe(429);
    expect((await call(hubspot, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
    clock.advance(1000);
    expect((await call(hubspot, 'POST', '/crm/v3/objects/contacts/search', {})).status).toBe(200);
  });

  it('answers 429 DAILY once the daily limit is used up, until the next UTC day', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 1, 23, 59));
    hubspot = await startHubspotEmulator({ clock: clock.now, dailyLimit: 2 });
    await call(hubspot, 'GET', '/crm/v3/owners');
    await call(hubspot, 'GET', '/crm/v3/owners');
    const refused = await call(hubspot, 'GET', '/crm/v3/owners');
    expect(refused.status).toBe(429);
    expect(refused.body.policyName).toBe('DAILY');
    clock.advance(60_000);
    expect((await call(hubspot, 'GET', '/crm/v3/owners')).status).toBe(200);
  });
});

describe('HubSpot emulator: fault injection', () => {
  let hubspot: HubspotEmulator | undefined;
  afterEach(async () => {
    await hubspot?.close();
    hubspot = undefined;
  });

  it('injects 5xx answers for matching paths a given number of times', async () => {
    hubspot = await startHubspotEmulator();
    hubspot.faults.serverError(502, { path: '/crm/v3/objects/*', count: 1 });
    hubspot.faults.serverError(503, { path: '/crm/v3/objects/*', count: 1 });
    const first = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
    expect(first.status).toBe(502);
    expect(typeof first.body).toBe('string'); // an HTML page from the edge, not JSON
    const second = await call(hubspot, 'GET', '/crm/v3/objects/contacts');
    expect(second.status).toBe(503);
    expect(second.body.status).toBe('error');
    expect((await call(hubspot, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
    expect((await call(hubspot, 'GET', '/crm/v3/owners')).status).toBe(200);
  });

  it('drops connections, before the request runs or after it ran (the response is lost, the write is not)', async () => {
    hubspot = await startHubspotEmulator();
    hubspot.faults.dropConnection({ path: '/crm/v3/objects/contacts', method: 'POST', count: 1 });
    await expect(call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com' } })).rejects.toThrow();
    expect(hubspot.store.count('contacts')).toBe(0);
    hubspot.faults.dropConnection({ path: '/crm/v3/objects/contacts', method: 'POST', count: 1, afterWrite: true });
    await expect(call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com' } })).rejects.toThrow();
    expect(hubspot.store.count('contacts')).toBe(1);
    const retry = await call(hubspot, 'POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com' } });
    expect(retry.status).toBe(409);
  });

  it('adds latency and 429 storms', async () => {
    hubspot = await startHubspotEmulator();
    hubspot.faults.latency(120, { path: '/crm/v3/owners', count: 1 });
    const started = performance.now();
    expect((await call(hubspot, 'GET', '/crm/v3/owners')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    hubspot.faults.rateLimitStorm({ count: 3 });
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await call(hubspot, 'GET', '/crm/v3/owners')).status);
    expect(statuses).toEqual([429, 429, 429, 200]);
    expect(hubspot.stats.status429).toBe(3);
  });

  it('fails a seeded, repeatable fraction of a batch as a 207 attributed by objectWriteTraceId', async () => {
    const outcomes: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const emulator = await startHubspotEmulator({ faultSeed: 7 });
      try {
        emulator.faults.partialBatch(0.3, { path: '/crm/v3/objects/*/batch/create' });
        const response = await call(emulator, 'POST', '/crm/v3/objects/contacts/batch/create', {
          inputs: Array.from({ length: 20 }, (_, index) => ({ properties: { email: `p${index}@example.com` }, objectWriteTraceId: `t${index}` })),
        });
        expect(response.status).toBe(207);
        const failed = response.body.errors.map((error: { context: { objectWriteTraceId: string[] } }) => error.context.objectWriteTraceId[0]);
        expect(failed.length).toBeGreaterThan(0);
        expect(failed.length + response.body.results.length).toBe(20);
        expect(emulator.store.count('contacts')).toBe(response.body.results.length);
        outcomes.push(failed);
      } finally {
        await emulator.close();
      }
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
  });
});
