import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from './errors.js';
import { HttpClient, parseRetryAfter, RollingWindowPacer, type Clock, type HttpClientOptions, type RateLimitObservation } from './http.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** A fake clock: sleeping advances time at once, so tests never really wait. */
function fakeClock(start = 1_700_000_000_000): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

let server: Server;
let baseUrl: string;
let handlers: Handler[] = [];
let seen: { method: string; url: string; authorization?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body });
      const handler = handlers.shift();
      if (!handler) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
        return;
      }
      handler(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  handlers = [];
  seen = [];
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_request, _body, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

const hangUp: Handler = (request) => request.socket.destroy();

function client(overrides: Partial<HttpClientOptions> = {}): { http: HttpClient; clock: ReturnType<typeof fakeClock> } {
  const clock = fakeClock();
  const http = new HttpClient({ baseUrl, vendor: 'Acme', authorization: () => 'Bearer secret-token-123', clock, random: () => 0.5, ...overrides });
  return { http, clock };
}

describe('HttpClient', () => {
  it('sends JSON with the auth header and returns the parsed body', async () => {
    handlers.push(json(200, { results: [1, 2] }));
    const { http } = client();
    const response = await http.post<{ results: number[] }>('/things/search', { a: 1 }, { query: { limit: 10, properties: ['x', 'y'] } });
    expect(response.body.results).toEqual([1, 2]);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/things/search?limit=10&properties=x%2Cy', authorization: 'Bearer secret-token-123', body: '{"a":1}' });
    expect(http.stats.requests).toBe(1);
  });

  it('retries 429 honouring Retry-After in seconds, then succeeds', async () => {
    handlers.push(json(429, { message: 'slow down' }, { 'retry-after': '3' }), json(200, { ok: 1 }));
    const { http, clock } = client();
    const response = await http.get('/x');
    expect(response.body).toEqual({ ok: 1 });
    expect(clock.sleeps).toContain(3000);
    expect(http.stats).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
  });

  it('honours Retry-After given as an HTTP date', () => {
    const now = Date.parse('2024-03-01T10:00:00.000Z');
    expect(parseRetryAfter('Fri, 01 Mar 2024 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries 5xx with growing backoff and gives TRANSIENT after the bounded retries', async () => {
    for (let index = 0; index < 4; index += 1) handlers.push(json(503, { message: 'down' }));
    const { http, clock } = client({ maxRetries: 3, backoffBaseMs: 100 });
    const error = await http.get('/x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('TRANSIENT');
    expect(http.stats.requests).toBe(4);
    // random() = 0.5: 75% of 100, 200, 400
    expect(clock.sleeps).toEqual([75, 150, 300]);
  });

  it('retries a dropped connection (socket hang up) and succeeds', async () => {
    handlers.push(hangUp, json(200, { ok: true }));
    const { http } = client();
    expect((await http.get('/x')).body).toEqual({ ok: true });
    expect(http.stats.retries).toBe(1);
  });

  it('a refused connection is retried, then names the URL and the setting to check', async () => {
    // A port nothing listens on: a server started and closed again.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { http } = client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2, urlSetting: 'target.baseUrl', localServerHint: 'start the emulator' });
    const error = (await http.get('/x').catch((caught: unknown) => caught)) as FerryError;
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(error.message).toContain(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED`);
    expect(error.message).toContain('check target.baseUrl in ferry.yaml, and that the server is still running there (start the emulator)');
    expect(http.stats.retries).toBe(2);
  });

  it('a host that does not exist fails at once, naming the setting', async () => {
    // `.invalid` never resolves (RFC 2606), so no network is needed to get ENOTFOUND.
    const { http } = client({ baseUrl: 'http://ferry-test.invalid', maxRetries: 3, urlSetting: 'source.baseUrl' });
    const error = (await http.get('/x').catch((caught: unknown) => caught)) as FerryError;
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(error.message).toMatch(/cannot reach http:\/\/ferry-test\.invalid \((ENOTFOUND|EAI_AGAIN)/);
    expect(error.message).toContain('check source.baseUrl in ferry.yaml');
    if (error.message.includes('ENOTFOUND')) expect(http.stats.retries).toBe(0);
  });

  it('reads a vendor error body through describeError', async () => {
    handlers.push(json(400, { message: 'raw [{"x":1}]', category: 'VALIDATION_ERROR' }));
    const { http } = client({ describeError: (body) => `readable: ${(body as { category: string }).category}` });
    const error = (await http.post('/x', {}).catch((caught: unknown) => caught)) as FerryError;
    expect(error.message).toBe('Acme answered 400 on POST /x: readable: VALIDATION_ERROR');
  });

  it('does not retry other 4xx and reports status and body', async () => {
    handlers.push(json(400, { message: 'Property values were not valid', category: 'VALIDATION_ERROR' }));
    const { http } = client();
    const error = (await http.post('/x', {}).catch((caught: unknown) => caught)) as FerryError & { status: number };
    expect(error.code).toBe('VALIDATION');
    expect(error.status).toBe(400);
    expect(error.message).toContain('Property values were not valid');
    expect(http.stats.requests).toBe(1);
  });

  it('gives AUTH_FAILED on 401 without retry, and never shows the token', async () => {
    handlers.push(json(401, { message: 'token secret-token-123 is expired' }));
    const { http } = client();
    const error = (await http.get('/x').catch((caught: unknown) => caught)) as FerryError;
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).not.toContain('secret-token-123');
    expect(JSON.stringify(error.toJSON())).not.toContain('secret-token-123');
    expect(http.stats.requests).toBe(1);
  });

  it('gives RATE_LIMITED when 429 persists', async () => {
    for (let index = 0; index < 3; index += 1) handlers.push(json(429, { message: 'no' }));
    const { http } = client({ maxRetries: 2 });
    await expect(http.get('/x')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('returns accepted non-2xx statuses to the caller', async () => {
    handlers.push(json(404, { message: 'nope' }));
    const { http } = client();
    const response = await http.get('/x', { accept: [404] });
    expect(response.status).toBe(404);
  });

  it('lets a vendor callback stop retries with its own error', async () => {
    handlers.push(json(429, { policyName: 'DAILY' }));
    const { http } = client({
      classify: ({ body }) => ((body as { policyName?: string }).policyName === 'DAILY' ? new FerryError('RATE_LIMITED', 'daily limit reached') : undefined),
    });
    await expect(http.get('/x')).rejects.toMatchObject({ code: 'RATE_LIMITED', message: 'daily limit reached' });
    expect(http.stats.requests).toBe(1);
  });

  it('times out a slow response and retries it', async () => {
    handlers.push((_request, _body, response) => setTimeout(() => response.end('{}'), 500), json(200, { fast: true }));
    const { http } = client({ timeoutMs: 50 });
    expect((await http.get('/x')).body).toEqual({ fast: true });
    expect(http.stats.retries).toBe(1);
  });
});

describe('RollingWindowPacer', () => {
  it('keeps requests under N per interval without the server having to say 429', async () => {
    const pacer = new RollingWindowPacer([{ name: 'burst', limit: 3, intervalMs: 1000 }]);
    const { http, clock } = client({ pacer });
    const start = clock.now();
    const times: number[] = [];
    for (let index = 0; index < 7; index += 1) {
      await http.get('/x');
      times.push(clock.now() - start);
    }
    expect(times).toEqual([0, 0, 0, 1000, 1000, 1000, 2000]);
    expect(http.stats.pacedMs).toBe(2000);
  });

  it('applies a per-route limit only to its routes', async () => {
    const pacer = new RollingWindowPacer([
      { name: 'burst', limit: 100, intervalMs: 10_000 },
      { name: 'search', limit: 2, intervalMs: 1000, route: (route) => route.path.endsWith('/search') },
    ]);
    const { http, clock } = client({ pacer });
    const start = clock.now();
    await http.post('/a/search', {});
    await http.post('/a/search', {});
    await http.get('/a');
    expect(clock.now()).toBe(start);
    await http.post('/a/search', {});
    expect(clock.now() - start).toBe(1000);
  });

  /** Reports the `x-remaining` header of a response as the burst rule's remaining requests. */
  const remainingHeader = ({ headers }: { headers: Headers }): RateLimitObservation[] => {
    const remaining = headers.get('x-remaining');
    return remaining === null ? [] : [{ rule: 'burst', remaining: Number(remaining) }];
  };

  it('adapts to rate-limit headers: an exhausted window blocks until it rolls', async () => {
    const pacer = new RollingWindowPacer([{ name: 'burst', limit: 100, intervalMs: 10_000 }]);
    handlers.push(json(200, {}, { 'x-remaining': '0' }));
    const { http, clock } = client({ pacer, onResponse: remainingHeader });
    const start = clock.now();
    await http.get('/x');
    await http.get('/x');
    expect(clock.now() - start).toBe(10_000);
  });

  it('an exhausted window the server counts like us frees when our oldest request leaves it, not a whole window later', async () => {
    const pacer = new RollingWindowPacer([{ name: 'burst', limit: 2, intervalMs: 10_000 }]);
    handlers.push(json(200, {}, { 'x-remaining': '1' }), json(200, {}, { 'x-remaining': '0' }), json(200, {}, { 'x-remaining': '1' }));
    const { http, clock } = client({ pacer, onResponse: remainingHeader });
    const start = clock.now();
    await http.get('/x');
    await clock.sleep(4000);
    await http.get('/x');
    await http.get('/x');
    // The first request leaves the window at start + 10 s; a whole window after the exhausted answer would be start + 14 s.
    expect(clock.now() - start).toBe(10_100);
  });

  it('adopts a lower limit reported by the server', async () => {
    const pacer = new RollingWindowPacer([{ name: 'burst', limit: 100, intervalMs: 10_000 }]);
    pacer.observe({ rule: 'burst', limit: 2, intervalMs: 1000 }, fakeClock());
    expect(pacer.rules[0]).toMatchObject({ limit: 2, intervalMs: 1000 });
  });

  it('pauses all requests after a 429 with Retry-After', async () => {
    const pacer = new RollingWindowPacer([{ name: 'burst', limit: 100, intervalMs: 10_000 }]);
    handlers.push(json(429, {}, { 'retry-after': '2' }));
    const { http, clock } = client({ pacer });
    const start = clock.now();
    await http.get('/x');
    expect(clock.now() - start).toBeGreaterThanOrEqual(2000);
  });
});
