import { OAuthApp, startKitServer, type KitRequest, type KitResponse } from '../kit/index.js';
import { HubspotHttpError, correlationId } from './errors.js';
import type { FaultInjector } from './faults.js';
import { RateLimiter, policyMessage, rateLimitBody } from './limits.js';
import { addAttachmentProperties, DOWNLOAD_PREFIX, fileDownload, FileStore, handleFilesRequest, isFilesPath } from './routes-files.js';
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
  /**
   * An OAuth app whose refresh token the token endpoint (`POST /oauth/v1/token` and `/oauth/v3/token`, form
   * fields `client_id`, `client_secret`) trades for access tokens of `accessTokenLifetimeMs` (default 30 minutes,
   * as HubSpot's). Issued tokens act as the OAuth app (its own burst window, no daily limit); an expired one
   * gets HubSpot's 401 `EXPIRED_AUTHENTICATION`.
   */
  oauthApp?: { clientId: string; clientSecret: string; refreshToken: string; accessTokenLifetimeMs?: number };
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
  /** The OAuth app, when `oauthApp` was given: its grants, the tokens it issued, revocation. */
  oauth?: OAuthApp;
}

/** HubSpot's token endpoints: v1 (deprecated on 2027-02-16) and v3 take the same form fields. */
const TOKEN_PATHS = new Set(['/oauth/v1/token', '/oauth/v3/token']);

const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

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
  const limiter = new RateLimiter(
    {
      burstLimit: options.burstLimit ?? { requests: 100, intervalMs: 10_000 },
      searchPerSecond: options.searchPerSecond ?? 5,
      dailyLimit: options.dailyLimit ?? 250_000,
    },
    clock,
  );
  const files = new FileStore({ clock, maxFileBytes: options.maxFileBytes });
  let seeded: SeedCounts | undefined;
  if (options.seed === 'sample') seeded = seedSample(store);
  else if (typeof options.seed === 'function') options.seed(store);
  else if (options.seed) seeded = seedSample(store, options.seed.sample);

  /** The app a request authenticated as: its token keys the limits; the OAuth app has no daily limit. */
  interface App {
    token: string;
    oauth: boolean;
  }
  // 401 with category INVALID_AUTHENTICATION: https://developers.hubspot.com/docs/api-reference/error-handling
  const unauthorized = (): KitResponse => ({ status: 401, body: { status: 'error', message: AUTH_MESSAGE, correlationId: correlationId(), category: 'INVALID_AUTHENTICATION' } });
  // The live answer to an expired OAuth token (quoted in airbytehq/airbyte#74726 and ToolJet/ToolJet#17192).
  const expired = (): KitResponse => ({
    status: 401,
    body: { status: 'error', message: 'The OAuth token used to make this call expired 0 second(s) ago.', correlationId: correlationId(), category: 'EXPIRED_AUTHENTICATION' },
  });
  // Token endpoint errors: 400 with a status word (BAD_REFRESH_TOKEN "missing or invalid refresh token", as
  // reported in HGData/mk-node-hubspot#64 and supaglue-labs/supaglue#1935; BAD_CLIENT_ID for a wrong client).
  const oauth = options.oauthApp
    ? new OAuthApp(
        {
          clientId: options.oauthApp.clientId,
          clientSecret: options.oauthApp.clientSecret,
          refreshToken: options.oauthApp.refreshToken,
          accessTokenLifetimeMs: options.oauthApp.accessTokenLifetimeMs ?? 30 * 60_000,
          clientAuth: 'body',
          extra: () => ({ token_type: 'bearer' }),
          errorBody: (error, description) => ({
            status: error === 'invalid_client' ? 'BAD_CLIENT_ID' : error === 'invalid_grant' ? 'BAD_REFRESH_TOKEN' : 'BAD_REQUEST',
            message: error === 'invalid_grant' ? 'missing or invalid refresh token' : description,
            correlationId: correlationId(),
          }),
        },
        clock,
      )
    : undefined;
  const oauthPrincipal = options.oauthApp ? `oauth-app:${options.oauthApp.clientId}` : '';
  // Search responses carry no rate-limit headers, OAuth calls no -Daily ones (community thread m-p/399520).
  const rateHeaders = (request: KitRequest, headers: Record<string, string>) => (isSearchPath(request.method, request.path) ? {} : headers);

  const server = await startKitServer<App>({
    port: options.port,
    host: options.host,
    clock,
    faultSeed: options.faultSeed ?? 1,
    log: store.requests,
    hooks: {
      // Signed and public file URLs point at the live service's CDN: no Authorization, no limits, no faults.
      before: (request) => (request.path.startsWith(`${DOWNLOAD_PREFIX}/`) ? fileDownload(files, request.path) : undefined),
      // Files API uploads stream to disk, never read into memory or parsed here.
      bodyMode: (request) => (isFilesPath(request.path) ? 'stream' : TOKEN_PATHS.has(request.path) ? 'text' : 'json'),
      open: (request, baseUrl) => {
        if (!TOKEN_PATHS.has(request.path)) return undefined;
        if (!oauth) return { status: 404, body: { status: 'error', message: 'No OAuth app is installed in this emulator (start it with oauthApp).', correlationId: correlationId(), category: 'OBJECT_NOT_FOUND' } };
        if (request.method !== 'POST') return { status: 405, body: { status: 'error', message: `Method ${request.method} is not allowed`, correlationId: correlationId() } };
        const answer = oauth.token(request, baseUrl);
        return answer.status === 401 ? { ...answer, status: 400 } : answer;
      },
      authenticate: (request) => {
        // Exact comparisons, as before the kit (the scheme's case matters here); the Files API takes the private app only.
        const authorization = request.headers.authorization ?? '';
        if (authorization === `Bearer ${token}`) return { principal: { token, oauth: false } };
        if (options.oauthToken !== undefined && authorization === `Bearer ${options.oauthToken}` && !isFilesPath(request.path)) return { principal: { token: options.oauthToken, oauth: true } };
        if (oauth && authorization.startsWith('Bearer ')) {
          const state = oauth.check(authorization.slice('Bearer '.length));
          if (state === 'valid') return { principal: { token: oauthPrincipal, oauth: true } };
          if (state === 'expired') return { refusal: expired() };
        }
        return { refusal: unauthorized() };
      },
      partialEligible: (request) => isBatchWritePath(request.method, request.path),
      serverError: (status) => ({ status, body: serverErrorBody(status) }),
      rateLimitFault: (rule, request, app) => {
        const policy = rule.policyName ?? 'TEN_SECONDLY_ROLLING';
        return { status: 429, body: rateLimitBody(policy, policyMessage(policy)), headers: { ...rateHeaders(request, limiter.headers(app.token, !app.oauth)), 'Retry-After': '1' } };
      },
      admit: (request, app) => {
        const decision = limiter.admit(app.token, isSearchPath(request.method, request.path), !app.oauth);
        const headers = rateHeaders(request, decision.headers);
        if (decision.allowed) return { headers, cost: app.oauth ? 0 : 1 };
        return { headers, refusal: { status: 429, body: decision.body, headers: { 'Retry-After': String(decision.retryAfterSeconds ?? 1) } } };
      },
      invalidJson: () => {
        const error = new HubspotHttpError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1: the request body is not valid JSON.');
        return { status: error.status, body: error.body };
      },
      handle: async ({ request, body, baseUrl, faults, injector }) => {
        if (isFilesPath(request.path)) return handleFilesRequest(files, { request: request.incoming, method: request.method, path: request.path, baseUrl });
        const result = dispatch({ method: request.method, path: request.path, query: request.query, body, store, baseUrl, faults, injector });
        return { status: result.status, body: withErrorLinks(result) };
      },
      error: (error) => (error instanceof HubspotHttpError ? { status: error.status, body: error.body } : { status: 500, body: serverErrorBody(500) }),
      /**
       * Every response carries `X-HubSpot-Correlation-Id` (the one in the body when it has one), as HubSpot's do:
       * even search responses, which carry no rate-limit headers, have it
       * (https://community.hubspot.com/t5/Developer-Announcements/Rate-limit-headers-will-now-appear-for-OAuth-authenticated-calls/m-p/399520).
       */
      responseHeaders: (answer) => {
        const bodyId = typeof answer.body === 'object' && answer.body !== null ? (answer.body as { correlationId?: unknown }).correlationId : undefined;
        return { 'X-HubSpot-Correlation-Id': typeof bodyId === 'string' ? bodyId : correlationId() };
      },
    },
  });
  return {
    url: server.url,
    token,
    faults: server.faults,
    store,
    stats: server.stats,
    limits: {
      resetDaily: (dailyLimit) => limiter.resetDaily(dailyLimit),
      usedToday: () => limiter.usedToday(token),
    },
    seeded,
    files,
    oauth,
    close: () => server.close().finally(() => files.close()),
  };
}
