import { afterEach, describe, expect, it } from 'vitest';
import { DailyBudget, RateLimiter, RollingWindow, bearerToken, startKitServer, type KitServer } from './index.js';

/** A toy vendor on the kit: bearer auth, a 1-request window, cost 2 per request, an echo route. */
async function toy(clock: () => number): Promise<{ server: KitServer; seen: number[] }> {
  const limiter = new RateLimiter({ burst: new RollingWindow({ requests: 2, intervalMs: 1000 }) }, new DailyBudget(4), clock);
  const seen: number[] = [];
  const server = await startKitServer<{ token: string }>({
    clock,
    hooks: {
      authenticate: (request) => {
        const token = bearerToken(request.headers);
        return token === 'good' ? { principal: { token } } : { refusal: { status: 401, body: { error: 'unauthorized' } } };
      },
      serverError: (status) => ({ status, body: status === 502 ? '<html>bad gateway</html>' : { error: 'server' } }),
      rateLimitFault: (rule) => ({ status: 429, body: { error: `storm ${rule.policyName ?? ''}`.trim() } }),
      admit: (_request, principal) => {
        const decision = limiter.admit({ budgetKey: 'company', windowKey: principal.token, cost: 2, windows: ['burst'] });
        const headers = { 'x-left': String(decision.windows.burst!.remaining) };
        return decision.allowed ? { headers, cost: 2 } : { headers, refusal: { status: 429, body: { error: decision.refusedBy } } };
      },
      invalidJson: () => ({ status: 400, body: { error: 'bad json' } }),
      handle: ({ request, body }) => {
        if (request.path === '/boom') throw new Error('boom');
        if (request.method === 'POST') seen.push(1);
        return { status: 200, body: { path: request.path, body: body ?? null } };
      },
      error: () => ({ status: 500, body: { error: 'internal' } }),
      after: (_request, status) => seen.push(status),
      responseHeaders: (answer) => ({ 'x-answer-id': `answer-${answer.status}`, 'x-left': 'overridden by admit' }),
    },
  });
  return { server, seen };
}

async function call(server: KitServer, method: string, path: string, options: { token?: string; body?: string } = {}) {
  const response = await fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${options.token ?? 'good'}` }, body: options.body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

describe('emulator kit: HTTP server life cycle', () => {
  let server: KitServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('runs auth, limits, JSON parsing and handler through the vendor hooks, counting stats and costs', async () => {
    let now = Date.UTC(2026, 2, 1, 12);
    const made = await toy(() => now);
    server = made.server;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(server, 'GET', '/x', { token: 'bad' })).status).toBe(401);
    const ok = await call(server, 'POST', '/echo/', { body: '{"a":1}' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ path: '/echo', body: { a: 1 } });
    expect(ok.headers.get('x-left')).toBe('1');
    expect(ok.headers.get('x-answer-id')).toBe('answer-200');
    expect(Date.parse(ok.headers.get('date')!)).toBe(now);
    expect((await call(server, 'POST', '/echo', { body: '{nope' })).text).toContain('bad json');
    const limited = await call(server, 'GET', '/echo');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-left')).toBe('0');
    now += 1000;
    const broke = await call(server, 'GET', '/echo');
    expect(JSON.parse(broke.text)).toEqual({ error: 'budget' });
    expect(server.stats).toMatchObject({ requests: 5, status429: 2, tokens: 4, byPath: { 'GET /x': 1, 'POST /echo': 2, 'GET /echo': 2 }, tokensByPath: { 'POST /echo': 4 } });
    expect(server.log.map((entry) => [entry.method, entry.path, entry.status, entry.cost])).toEqual([
      ['GET', '/x', 401, undefined],
      ['POST', '/echo', 200, 2],
      ['POST', '/echo', 400, 2],
      ['GET', '/echo', 429, undefined],
      ['GET', '/echo', 429, undefined],
    ]);
    expect(made.seen).toEqual([401, 1, 200, 400, 429, 429]);
  });

  it('injects drops before and after the handler ran, 5xx bodies, storms, and maps thrown errors', async () => {
    const made = await toy(() => Date.UTC(2026, 2, 1, 12));
    server = made.server;
    server.faults.dropConnection({ method: 'POST', count: 1 });
    await expect(call(server, 'POST', '/w', { body: '{}' })).rejects.toThrow();
    expect(made.seen).toEqual([]);
    server.faults.dropConnection({ method: 'POST', count: 1, afterWrite: true });
    await expect(call(server, 'POST', '/w', { body: '{}' })).rejects.toThrow();
    expect(made.seen).toEqual([1]); // the handler ran, the answer was lost
    expect(server.log.map((entry) => entry.fault)).toEqual(['drop-connection', 'drop-connection after write']);
    server.faults.serverError(502, { count: 1 });
    const gateway = await call(server, 'GET', '/r');
    expect([gateway.status, gateway.headers.get('content-type')]).toEqual([502, 'text/html; charset=utf-8']);
    server.faults.rateLimitStorm({ count: 1, policyName: 'burst' });
    expect(JSON.parse((await call(server, 'GET', '/r')).text)).toEqual({ error: 'storm burst' });
    expect((await call(server, 'GET', '/boom')).status).toBe(500);
  });
});
