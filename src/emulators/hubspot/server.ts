import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubspotHttpError, correlationId } from './errors.js';
import { FaultInjector } from './faults.js';
import { RateLimiter, rateLimitBody } from './limits.js';
import { addAttachmentProperties, DOWNLOAD_PREFIX, FileStore, handleFilesRequest, isFilesPath } from './routes-files.js';
import { dispatch, isBatchWritePath, isSearchPath, type HandlerResult } from './routes.js';
import { seedSample, type SeedCounts } from './seed.js';
import { HubspotStore } from './store.js';

export interface HubspotEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The private app's bearer token (default `emulator-token`). */
  token?: string;
  /**
   * A second accepted token, standing for an OAuth app installed in the same account: it has its own burst
   * window (HubSpot counts per app), no daily limit and no -Daily headers (community thread m-p/399520).
   */
  oauthToken?: string;
  /** `sample` loads the small sample CRM; a function fills the store itself. */
  seed?: 'sample' | { sample: { seed?: number; contacts?: number } } | ((store: HubspotStore) => void);
  /** Rolling burst window per token: default 100 per 10 s (190 or 250 for bigger subscriptions). */
  burstLimit?: { requests: number; intervalMs: number };
  /** Search endpoints' own limit, requests per second (default 5). */
  searchPerSecond?: number;
  /** Requests per day (default 250,000), reset at UTC midnight of the clock. */
  dailyLimit?: number;
  /** How long a write takes to show up in search results (default 0). */
  searchIndexDelayMs?: number;
  /** Epoch milliseconds; tests pin time with it. Default Date.now. */
  clock?: () => number;
  /** Seed of the fault injector's PRNG (default 1). */
  faultSeed?: number;
  /** The account id, part of custom objects' fullyQualifiedName `p{portalId}_{name}` (default 7878787). */
  portalId?: number;
  /** Largest file the Files API accepts, in bytes (default 2 GiB; see docs/connectors/hubspot-emulator.md). */
  maxFileBytes?: number;
}

export interface HubspotEmulatorStats {
  requests: number;
  status429: number;
  /** `METHOD /path` -> count. */
  byPath: Record<string, number>;
}

export interface HubspotEmulatorLimits {
  /** Forgets today's requests, as the reset at midnight does; optionally sets a new daily limit. */
  resetDaily(dailyLimit?: number): void;
  /** Requests counted against the daily limit so far today. */
  usedToday(): number;
}

export interface HubspotEmulator {
  url: string;
  token: string;
  close(): Promise<void>;
  faults: FaultInjector;
  store: HubspotStore;
  stats: HubspotEmulatorStats;
  /** The token's rate limits: `resetDaily()` starts the daily count afresh (HubSpot's midnight reset). */
  limits: HubspotEmulatorLimits;
  /** What `--seed sample` loaded, when it did. */
  seeded?: SeedCounts;
  /** The file manager (Files API): contents on disk in a temporary folder, removed on close. */
  files: FileStore;
}

const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Every response carries `X-HubSpot-Correlation-Id` (the one in the body when it has one), as HubSpot's do: even
 * search responses, which carry no rate-limit headers, have it
 * (https://community.hubspot.com/t5/Developer-Announcements/Rate-limit-headers-will-now-appear-for-OAuth-authenticated-calls/m-p/399520).
 */
function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed) return;
  const bodyId = typeof body === 'object' && body !== null ? (body as { correlationId?: unknown }).correlationId : undefined;
  headers = { 'X-HubSpot-Correlation-Id': typeof bodyId === 'string' ? bodyId : correlationId(), ...headers };
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  if (typeof body === 'string') {
    response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
    response.end(body);
    return;
  }
  response.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * 5xx answers. 502/504 usually come from HubSpot's edge (Cloudflare), not the API, so they carry an HTML page,
 * not a JSON error: a client must not assume JSON on a 5xx.
 */
function serverErrorBody(status: number): unknown {
  if (status === 502 || status === 504) {
    return `<html><head><title>${status} ${status === 502 ? 'Bad Gateway' : 'Gateway Timeout'}</title></head><body><center><h1>${status}</h1></center><hr><center>cloudflare</center></body></html>`;
  }
  if (status === 503) return { status: 'error', message: 'Service Unavailable. Please try again later.', correlationId: correlationId(), category: 'SERVICE_UNAVAILABLE' };
  return { status: 'error', message: 'internal error', correlationId: correlationId(), category: 'INTERNAL_ERROR' };
}

/**
 * Every error item of a 207 has `links` (`{}` when there are none), as the error items in HubSpot's batch
 * reference examples do (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/objects/batch/create-objects).
 */
function withErrorLinks(result: HandlerResult): unknown {
  const body = result.body as { errors?: unknown } | undefined;
  if (result.status !== 207 || !body || !Array.isArray(body.errors)) return result.body;
  return { ...body, errors: body.errors.map((error: Record<string, unknown>) => ({ ...error, links: error.links ?? {} })) };
}

/**
 * Starts a HubSpot CRM API emulator on 127.0.0.1. It follows HubSpot's published API for the endpoints a
 * migration connector uses; every known difference is listed in docs/connectors/hubspot-emulator.md.
 *
 * @example
 * const hubspot = await startHubspotEmulator({ seed: 'sample', clock: () => fixedMillis });
 * const response = await fetch(`${hubspot.url}/crm/v3/objects/contacts?limit=100`, {
 *   headers: { Authorization: `Bearer ${hubspot.token}` },
 * });
 * await hubspot.close();
 */
export async function startHubspotEmulator(options: HubspotEmulatorOptions = {}): Promise<HubspotEmulator> {
  const clock = options.clock ?? Date.now;
  const token = options.token ?? 'emulator-token';
  const store = new HubspotStore(clock, { searchIndexDelayMs: options.searchIndexDelayMs ?? 0, portalId: options.portalId });
  addAttachmentProperties(store);
  const faults = new FaultInjector(options.faultSeed ?? 1);
  const limiter = new RateLimiter(
    {
      burstLimit: options.burstLimit ?? { requests: 100, intervalMs: 10_000 },
      searchPerSecond: options.searchPerSecond ?? 5,
      dailyLimit: options.dailyLimit ?? 250_000,
    },
    clock,
  );
  const stats: HubspotEmulatorStats = { requests: 0, status429: 0, byPath: {} };
  const files = new FileStore({ clock, maxFileBytes: options.maxFileBytes });
  let seeded: SeedCounts | undefined;
  if (options.seed === 'sample') seeded = seedSample(store);
  else if (typeof options.seed === 'function') options.seed(store);
  else if (options.seed) seeded = seedSample(store, options.seed.sample);
  let baseUrl = '';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = (request.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const log = { method, path, query: url.search, status: 0, at: clock() } as (typeof store.requests)[number];
    store.requests.push(log);
    stats.requests++;
    const key = `${method} ${path}`;
    stats.byPath[key] = (stats.byPath[key] ?? 0) + 1;
    const finish = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      if (status === 429) stats.status429++;
      // The Date header tells the emulator's time (the injected clock), as HubSpot's tells its own: clients
      // take a run's high-water mark from it, so it must agree with the hs_lastmodifieddate values.
      send(response, status, body, { Date: new Date(clock()).toUTCString(), ...headers });
    };

    if (isFilesPath(path)) {
      // Streamed (uploads and downloads of any size): the body is never read into memory here.
      const download = path.startsWith(`${DOWNLOAD_PREFIX}/`);
      if (!download && request.headers.authorization !== `Bearer ${token}`) {
        request.resume();
        finish(401, { status: 'error', message: AUTH_MESSAGE, correlationId: correlationId(), category: 'INVALID_AUTHENTICATION' });
        return;
      }
      const admitted = download ? undefined : limiter.admit(token, false);
      if (admitted && !admitted.allowed) {
        request.resume();
        finish(429, admitted.body, { ...admitted.headers, 'Retry-After': String(admitted.retryAfterSeconds ?? 1) });
        return;
      }
      // Faults apply here too: a 5xx, or a dropped connection before the upload or after it was stored.
      const fault: Partial<ReturnType<typeof faults.evaluate>> = download ? {} : faults.evaluate(method, path, false);
      if (fault.terminal?.kind === 'server-error') {
        request.resume();
        finish(fault.terminal.status, serverErrorBody(fault.terminal.status));
        return;
      }
      if (fault.terminal?.kind === 'drop-connection' && !fault.terminal.afterWrite) {
        log.fault = 'drop-connection';
        request.socket.destroy();
        return;
      }
      const lost = fault.terminal?.kind === 'drop-connection';
      await handleFilesRequest(files, {
        request,
        response,
        method,
        path,
        query: url.searchParams,
        baseUrl,
        finish: (status, body) => {
          if (!lost) return finish(status, body, admitted?.headers ?? {});
          log.fault = 'drop-connection after write';
          log.status = status;
          request.socket.destroy();
        },
      });
      return;
    }

    const raw = await readBody(request);
    const authorization = request.headers.authorization ?? '';
    const oauth = options.oauthToken !== undefined && authorization === `Bearer ${options.oauthToken}`;
    if (authorization !== `Bearer ${token}` && !oauth) {
      // 401 with category INVALID_AUTHENTICATION: https://developers.hubspot.com/docs/api-reference/error-handling
      finish(401, { status: 'error', message: AUTH_MESSAGE, correlationId: correlationId(), category: 'INVALID_AUTHENTICATION' });
      return;
    }

    const triggered = faults.evaluate(method, path, isBatchWritePath(method, path));
    if (triggered.latencyMs > 0) await sleep(triggered.latencyMs);
    const terminal = triggered.terminal;
    if (terminal?.kind === 'drop-connection' && !terminal.afterWrite) {
      log.fault = 'drop-connection';
      request.socket.destroy();
      return;
    }
    if (terminal?.kind === 'server-error') {
      log.fault = `server-error ${terminal.status}`;
      finish(terminal.status, serverErrorBody(terminal.status));
      return;
    }
    const app = oauth ? options.oauthToken! : token;
    const search = isSearchPath(method, path);
    // Search responses carry no rate-limit headers, OAuth calls no -Daily ones (community thread m-p/399520).
    const rateHeaders = (headers: Record<string, string>): Record<string, string> => (search ? {} : headers);
    if (terminal?.kind === 'rate-limit') {
      log.fault = 'rate-limit';
      const policy = terminal.policyName ?? 'TEN_SECONDLY_ROLLING';
      const message = policy === 'DAILY' ? 'You have reached your daily limit.' : policy === 'SECONDLY' ? 'You have reached your secondly limit.' : 'You have reached your ten_secondly_rolling limit.';
      finish(429, rateLimitBody(policy, message), { ...rateHeaders(limiter.headers(app, !oauth)), 'Retry-After': '1' });
      return;
    }

    const decision = limiter.admit(app, search, !oauth);
    if (!decision.allowed) {
      finish(429, decision.body, { ...rateHeaders(decision.headers), 'Retry-After': String(decision.retryAfterSeconds ?? 1) });
      return;
    }

    let result: HandlerResult;
    try {
      let body: unknown;
      if (raw.trim() !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HubspotHttpError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1: the request body is not valid JSON.');
        }
      }
      result = dispatch({ method, path, query: url.searchParams, body, store, baseUrl, faults: triggered, injector: faults });
    } catch (error) {
      if (error instanceof HubspotHttpError) result = { status: error.status, body: error.body };
      else result = { status: 500, body: serverErrorBody(500) };
    }
    if (terminal?.kind === 'drop-connection') {
      // The write happened; only the answer is lost (the case idempotent creates must survive).
      log.fault = 'drop-connection after write';
      log.status = result.status;
      request.socket.destroy();
      return;
    }
    finish(result.status, withErrorLinks(result), rateHeaders(decision.headers));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, serverErrorBody(500));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  return {
    url: baseUrl,
    token,
    faults,
    store,
    stats,
    limits: {
      resetDaily: (dailyLimit) => limiter.resetDaily(dailyLimit),
      usedToday: () => limiter.usedToday(token),
    },
    seeded,
    files,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          files.close();
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
