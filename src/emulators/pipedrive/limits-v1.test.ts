import { afterEach, describe, expect, it } from 'vitest';
import { startPipedriveEmulator, type PipedriveEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('Pipedrive emulator: auth modes', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('accepts the API token in x-api-token or api_token, the OAuth token as a bearer, and answers the gateway 401 otherwise', async () => {
    pipedrive = await startPipedriveEmulator({ token: 'tok', oauthToken: 'oauth' });
    expect((await call(pipedrive, 'GET', '/api/v1/users/me', undefined, { apiToken: 'tok' })).body.data).toMatchObject({ id: 1, is_you: true, company_domain: 'emulated-company' });
    expect((await call(pipedrive, 'GET', '/api/v2/persons', undefined, { queryToken: 'tok' })).status).toBe(200);
    expect((await call(pipedrive, 'GET', '/api/v2/persons', undefined, { bearer: 'oauth' })).status).toBe(200);
    const refusals = [{ apiToken: 'wrong' }, { bearer: 'tok' }, { apiToken: 'oauth' }, { none: true as const }];
    for (const auth of refusals) {
      const refused = await call(pipedrive, 'GET', '/api/v2/persons', undefined, auth);
      expect([refused.status, refused.body]).toEqual([401, { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com' }]);
    }
    // The OAuth token has its own, larger burst window (growth: 160 per 2 s, API token 40).
    expect((await call(pipedrive, 'GET', '/api/v2/persons', undefined, { bearer: 'oauth' })).headers.get('x-ratelimit-limit')).toBe('160');
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).headers.get('x-ratelimit-limit')).toBe('40');
  });
});

describe('Pipedrive emulator: token budget and burst window', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('spends each endpoint\'s token cost from the company budget and answers 429 when it is spent, until the next UTC day', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 1, 23, 59, 0));
    pipedrive = await startPipedriveEmulator({ clock: clock.now, dailyBudget: 40, burstLimit: { requests: 100, intervalMs: 2000 } });
    const steps: [string, string, unknown, number][] = [
      ['GET', '/api/v2/persons', undefined, 10],
      ['POST', '/api/v2/persons', { name: 'A' }, 5],
      ['GET', '/api/v2/persons/1', undefined, 1],
      ['PATCH', '/api/v2/persons/1', { name: 'B' }, 5],
      ['GET', '/api/v2/pipelines', undefined, 5],
      ['DELETE', '/api/v2/persons/1', undefined, 3],
      ['GET', '/api/v1/users/1', undefined, 2],
    ];
    let used = 0;
    for (const [method, path, body, cost] of steps) {
      const response = await call(pipedrive, method, path, body);
      expect(response.status).toBe(200);
      used += cost;
      expect(response.headers.get('x-daily-ratelimit-token-remaining')).toBe(String(40 - used));
    }
    expect(used).toBe(31);
    expect(pipedrive.limits.usedToday()).toBe(31);
    expect(pipedrive.stats.tokens).toBe(31);
    expect(pipedrive.stats.tokensByPath['GET /api/v2/persons']).toBe(10);
    // 9 tokens left: a v1 notes list (20) is refused, a v2 get (1) still passes.
    const refused = await call(pipedrive, 'GET', '/api/v1/notes');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ success: false, errorCode: 429 });
    expect(Number(refused.headers.get('retry-after'))).toBe(60);
    expect((await call(pipedrive, 'GET', '/api/v2/stages/1')).status).toBe(200);
    expect(pipedrive.limits.usedToday()).toBe(32);
    clock.advance(60_000);
    expect((await call(pipedrive, 'GET', '/api/v1/notes')).status).toBe(200);
    expect(pipedrive.limits.usedToday()).toBe(20);
  });

  it('limits each token to its plan\'s requests per rolling 2 s with x-ratelimit headers, and blocks with a 403 HTML page after repeated 429s', async () => {
    const clock = manualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, plan: 'lite', abuseBlock: { after: 3, forMs: 60_000 } });
    for (let index = 0; index < 20; index++) {
      const response = await call(pipedrive, 'GET', '/api/v2/deals/1');
      expect(response.status).toBe(404); // no deal 1, but the request counts
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(19 - index));
      if (index === 0) clock.advance(1500);
    }
    const limited = await call(pipedrive, 'GET', '/api/v2/persons');
    expect(limited.status).toBe(429);
    expect([limited.headers.get('x-ratelimit-limit'), limited.headers.get('x-ratelimit-remaining'), limited.headers.get('x-ratelimit-reset')]).toEqual(['20', '0', '1']);
    clock.advance(500); // the first request leaves the window
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).status).toBe(200);
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).status).toBe(429);
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).status).toBe(429);
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).status).toBe(429);
    clock.advance(10_000);
    const blocked = await call(pipedrive, 'GET', '/api/v2/persons');
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(blocked.body).toContain('Sorry, you have been blocked');
    expect(pipedrive.stats.status429).toBe(4);
    clock.advance(60_000);
    expect((await call(pipedrive, 'GET', '/api/v2/persons')).status).toBe(200);
  });

  it('sends x-daily-requests-left on POST/PUT answers to API-token requests only', async () => {
    pipedrive = await startPipedriveEmulator();
    const post = await call(pipedrive, 'POST', '/api/v2/organizations', { name: 'Org' });
    expect(post.headers.get('x-daily-requests-left')).toBe('9999');
    expect((await call(pipedrive, 'GET', '/api/v2/organizations')).headers.get('x-daily-requests-left')).toBeNull();
    expect((await call(pipedrive, 'POST', '/api/v2/organizations', { name: 'Org' }, { bearer: pipedrive.oauthToken })).headers.get('x-daily-requests-left')).toBeNull();
  });
});

describe('Pipedrive emulator: fault injection', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('drops connections before and after a write, answers injected 5xx and 429 storms', async () => {
    pipedrive = await startPipedriveEmulator();
    pipedrive.faults.dropConnection({ method: 'POST', path: '/api/v2/persons', count: 1 });
    await expect(call(pipedrive, 'POST', '/api/v2/persons', { name: 'Lost' })).rejects.toThrow();
    expect(pipedrive.store.table('persons').size).toBe(0);
    pipedrive.faults.dropConnection({ method: 'POST', path: '/api/v2/persons', count: 1, afterWrite: true });
    await expect(call(pipedrive, 'POST', '/api/v2/persons', { name: 'Written' })).rejects.toThrow();
    expect(pipedrive.store.table('persons').liveRows().map((row) => row.data.name)).toEqual(['Written']);
    pipedrive.faults.serverError(502, { path: '/api/v2/*', count: 1 });
    pipedrive.faults.serverError(503, { path: '/api/v2/*', count: 1 });
    const gateway = await call(pipedrive, 'GET', '/api/v2/persons');
    expect([gateway.status, typeof gateway.body]).toEqual([502, 'string']);
    const unavailable = await call(pipedrive, 'GET', '/api/v2/persons');
    expect([unavailable.status, unavailable.body.success]).toEqual([503, false]);
    pipedrive.faults.rateLimitStorm({ count: 2 });
    const statuses = [];
    for (let index = 0; index < 3; index++) statuses.push((await call(pipedrive, 'GET', '/api/v2/persons')).status);
    expect(statuses).toEqual([429, 429, 200]);
    expect(pipedrive.log.filter((entry) => entry.fault).map((entry) => entry.fault)).toEqual(['drop-connection', 'drop-connection after write', 'server-error 502', 'server-error 503', 'rate-limit', 'rate-limit']);
  });

  it('fires the same faults for the same fault seed', async () => {
    const runs: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const emulator = await startPipedriveEmulator({ faultSeed: 5 });
      try {
        emulator.faults.serverError(500, { probability: 0.4 });
        const statuses: number[] = [];
        for (let index = 0; index < 15; index++) statuses.push((await call(emulator, 'GET', '/api/v2/pipelines')).status);
        expect(statuses).toContain(500);
        expect(statuses).toContain(200);
        runs.push(statuses);
      } finally {
        await emulator.close();
      }
    }
    expect(runs[0]).toEqual(runs[1]);
  });
});

describe('Pipedrive emulator: v1 notes, users and deal participants', () => {
  let pipedrive: PipedriveEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    pipedrive = undefined;
  });

  it('pins notes to deals, persons and organizations with v1 times and 0/1 flags, and pages them with start/limit', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
    pipedrive = await startPipedriveEmulator({ clock: clock.now, burstLimit: { requests: 1000, intervalMs: 2000 } });
    const deal = (await call(pipedrive, 'POST', '/api/v2/deals', { title: 'Deal' })).body.data;
    const note = await call(pipedrive, 'POST', '/api/v1/notes', { content: '<p onclick="x()">Hi<script>bad()</script></p>', deal_id: deal.id, pinned_to_deal_flag: 1 });
    expect(note.body.data).toMatchObject({ id: 1, content: '<p>Hi</p>', deal_id: deal.id, deal: { title: 'Deal' }, pinned_to_deal_flag: true, add_time: '2026-03-01 12:00:00', update_time: '2026-03-01 12:00:00', user_id: 1, active_flag: true });
    expect((await call(pipedrive, 'POST', '/api/v1/notes', { content: 'x', person_id: 1, pinned_to_person_flag: 2 })).body.error).toBe('"person_id" refers to person 1, which does not exist.');
    expect((await call(pipedrive, 'POST', '/api/v1/notes', { content: 'x', deal_id: deal.id, pinned_to_person_flag: 1 })).body.error).toBe('"pinned_to_person_flag" requires "person_id".');
    for (let index = 0; index < 4; index++) {
      clock.advance(1000);
      await call(pipedrive, 'POST', '/api/v1/notes', { content: `n${index}`, deal_id: deal.id, add_time: `2026-02-0${index + 1} 08:00:00` });
    }
    const first = await call(pipedrive, 'GET', `/api/v1/notes?deal_id=${deal.id}&start=0&limit=2&sort=add_time ASC`);
    expect(first.body.data.map((item: { content: string }) => item.content)).toEqual(['n0', 'n1']);
    expect(first.body.additional_data).toEqual({ pagination: { start: 0, limit: 2, more_items_in_collection: true, next_start: 2 } });
    const last = await call(pipedrive, 'GET', `/api/v1/notes?deal_id=${deal.id}&start=4&limit=2&sort=add_time ASC`);
    expect(last.body.data.map((item: { content: string }) => item.content)).toEqual(['<p>Hi</p>']);
    expect(last.body.additional_data).toEqual({ pagination: { start: 4, limit: 2, more_items_in_collection: false } });
    // updated_since is RFC 3339 (the v1 OpenAPI parameter), not the v1 answer format.
    const since = await call(pipedrive, 'GET', '/api/v1/notes?updated_since=2026-03-01T12:00:03Z');
    expect(since.body.data.map((item: { content: string }) => item.content)).toEqual(['n2', 'n3']);
    const v1Form = await call(pipedrive, 'GET', '/api/v1/notes?updated_since=2026-03-01 12:00:03');
    expect([v1Form.status, v1Form.body.error]).toEqual([400, '"updated_since" must be a date and time in RFC 3339 format (e.g. 2025-01-01T10:20:00Z), got "2026-03-01 12:00:03".']);
    clock.advance(1000);
    const edited = await call(pipedrive, 'PUT', '/api/v1/notes/2', { content: 'n0 edited', pinned_to_deal_flag: 1 });
    expect(edited.body.data).toMatchObject({ content: 'n0 edited', pinned_to_deal_flag: true, add_time: '2026-02-01 08:00:00', update_time: '2026-03-01 12:00:05' });
    expect((await call(pipedrive, 'DELETE', '/api/v1/notes/2')).body).toEqual({ success: true, data: true });
    expect((await call(pipedrive, 'GET', '/api/v1/notes/2')).status).toBe(404);
  });

  it('lists users, and adds, lists and removes deal participants', async () => {
    pipedrive = await startPipedriveEmulator({ seed: { sample: { seed: 3, persons: 6 } } });
    const users = await call(pipedrive, 'GET', '/api/v1/users');
    expect(users.body.data.map((user: { email: string; is_you: boolean }) => [user.email, user.is_you])).toEqual([
      ['alex.admin@example.com', true],
      ['sam.seller@example.com', false],
      ['robin.rep@example.com', false],
    ]);
    expect(users.body.data[0].created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const deal = (await call(pipedrive, 'POST', '/api/v2/deals', { title: 'Team deal', person_id: 1 })).body.data;
    const added = await call(pipedrive, 'POST', `/api/v1/deals/${deal.id}/participants`, { person_id: 2 });
    expect(added.body.data).toMatchObject({ person_id: { value: 2 }, related_item_type: 'deal', related_item_id: deal.id, active_flag: true });
    expect((await call(pipedrive, 'POST', `/api/v1/deals/${deal.id}/participants`, { person_id: 2 })).status).toBe(400);
    expect((await call(pipedrive, 'POST', `/api/v1/deals/${deal.id}/participants`, {})).body.error).toBe('"person_id" is required.');
    const listed = await call(pipedrive, 'GET', `/api/v1/deals/${deal.id}/participants`);
    expect(listed.body.data.map((item: { person: { id: number } }) => item.person.id)).toEqual([2]);
    expect(listed.body.additional_data.pagination).toEqual({ start: 0, limit: 100, more_items_in_collection: false });
    expect((await call(pipedrive, 'DELETE', `/api/v1/deals/${deal.id}/participants/${added.body.data.id}`)).body).toEqual({ success: true, data: { id: added.body.data.id } });
    expect((await call(pipedrive, 'GET', `/api/v1/deals/${deal.id}/participants`)).body.data).toEqual([]);
    expect((await call(pipedrive, 'GET', '/api/v1/deals/999/participants')).status).toBe(404);
  });

  it('seeds the same sample company for the same seed', async () => {
    const snapshot = async (seed: number) => {
      const emulator = await startPipedriveEmulator({ seed: { sample: { seed, persons: 8 } }, clock: () => Date.UTC(2026, 2, 1) });
      try {
        return JSON.stringify([emulator.seeded, (await call(emulator, 'GET', '/api/v2/deals?limit=500')).body.data, (await call(emulator, 'GET', '/api/v1/notes?limit=500')).body.data]);
      } finally {
        await emulator.close();
      }
    };
    expect(await snapshot(7)).toBe(await snapshot(7));
    expect(await snapshot(7)).not.toBe(await snapshot(8));
  });
});
