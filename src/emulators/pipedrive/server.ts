import { bearerToken, findRoute, headerToken, OAuthApp, queryToken, startKitServer, type FaultInjector, type KitRequest, type KitResponse, type RequestLogEntry, type RequestStats } from '../kit/index.js';
import { PipedriveHttpError, UNAUTHORIZED_BODY, errorBody } from './errors.js';
import { PipedriveLimits, blockPage, rateLimitBody, type Plan, type Principal } from './limits.js';
import { ROUTES } from './routes.js';
import { seedSample, type SeedCounts } from './seed.js';
import { PipedriveStore } from './store.js';

export interface PipedriveEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The API token accepted in `x-api-token` or `?api_token=` (default `emulator-token`). */
  token?: string;
  /** The OAuth access token accepted as `Authorization: Bearer` (default `emulator-oauth-token`). */
  oauthToken?: string;
  /**
   * An OAuth app (Marketplace app) installed in the company: `POST /oauth/token` (HTTP Basic of client id and
   * secret, form `grant_type=refresh_token&refresh_token=…`) trades its refresh token for access tokens of
   * `accessTokenLifetimeMs` (default 3,599 s) that act as OAuth tokens; an expired one gets 401. The live service
   * serves this on oauth.pipedrive.com; the emulator on its own origin.
   */
  oauthApp?: { clientId: string; clientSecret: string; refreshToken: string; accessTokenLifetimeMs?: number };
  /** `sample` loads the sample company; a function fills the store itself (after the new company's user and pipeline). */
  seed?: 'sample' | { sample: { seed?: number; persons?: number } } | ((store: PipedriveStore) => void);
  /** The company's plan: burst limits and budget multiplier (default `growth`). */
  plan?: Plan;
  /** Seats, for the daily budget 30,000 x multiplier x seats (default 1). */
  seats?: number;
  /** Overrides the daily token budget. */
  dailyBudget?: number;
  /** Overrides the plan's burst window. */
  burstLimit?: { requests: number; intervalMs: number };
  /** Search endpoints' window per token (default 10 per 2 s). */
  searchLimit?: { requests: number; intervalMs: number };
  /** How long after its creation a record shows up in search results (default 0). */
  searchIndexDelayMs?: number;
  /** 429s in a row before the 403 block page, and how long it lasts (default 20 and 60 s; false: never). */
  abuseBlock?: { after: number; forMs: number } | false;
  /** Epoch milliseconds; tests pin time with it. Default Date.now. */
  clock?: () => number;
  /** Seed of the fault injector's PRNG (default 1). */
  faultSeed?: number;
}

export interface PipedriveEmulatorLimits {
  /** Starts the day's token count afresh (the midnight reset), optionally with a new budget. */
  resetDaily(budget?: number): void;
  /** Tokens spent today by the company. */
  usedToday(): number;
}

export interface PipedriveEmulator {
  url: string;
  token: string;
  oauthToken: string;
  store: PipedriveStore;
  faults: FaultInjector;
  stats: RequestStats;
  log: RequestLogEntry[];
  limits: PipedriveEmulatorLimits;
  /** What `--seed sample` loaded, when it did. */
  seeded?: SeedCounts;
  /** The OAuth app, when `oauthApp` was given: its grants, the tokens it issued, revocation. */
  oauth?: OAuthApp;
  close(): Promise<void>;
}

const TOKEN_PATH = '/oauth/token';

/** Where the request's credential is: `x-api-token`, then `?api_token=`, then an OAuth bearer token. */
function credential(request: KitRequest): { token: string; via: 'header' | 'query' | 'bearer' } | undefined {
  const header = headerToken(request.headers, 'x-api-token');
  if (header !== undefined) return { token: header, via: 'header' };
  const query = queryToken(request.query, 'api_token');
  if (query !== undefined) return { token: query, via: 'query' };
  const bearer = bearerToken(request.headers);
  return bearer === undefined ? undefined : { token: bearer, via: 'bearer' };
}

function serverError(status: number): KitResponse {
  // 502/504 come from the CDN in front of the API as an HTML page; 500/503 from the API as its JSON error.
  if (status === 502 || status === 504) return { status, body: `<html><head><title>${status} ${status === 502 ? 'Bad Gateway' : 'Gateway Timeout'}</title></head><body><center><h1>${status}</h1></center><hr><center>cloudflare</center></body></html>` };
  return { status, body: errorBody(status === 503 ? 'Service Unavailable' : 'Internal server error') };
}

/**
 * Starts a Pipedrive API emulator (v2 and the v1 endpoints v2 lacks) on 127.0.0.1, on the emulator kit. It
 * follows Pipedrive's OpenAPI files and API reference for the endpoints a migration connector uses; every
 * endpoint, behaviour, source and known difference is in docs/connectors/pipedrive-emulator.md.
 *
 * @example
 * const pipedrive = await startPipedriveEmulator({ seed: 'sample', clock: () => fixedMillis });
 * const response = await fetch(`${pipedrive.url}/api/v2/persons?limit=500`, { headers: { 'x-api-token': pipedrive.token } });
 * await pipedrive.close();
 */
export async function startPipedriveEmulator(options: PipedriveEmulatorOptions = {}): Promise<PipedriveEmulator> {
  const clock = options.clock ?? Date.now;
  const token = options.token ?? 'emulator-token';
  const oauthToken = options.oauthToken ?? 'emulator-oauth-token';
  const store = new PipedriveStore(clock);
  store.initCompany();
  let seeded: SeedCounts | undefined;
  if (options.seed === 'sample') seeded = seedSample(store);
  else if (typeof options.seed === 'function') options.seed(store);
  else if (options.seed) seeded = seedSample(store, options.seed.sample);
  const limits = new PipedriveLimits(
    { plan: options.plan ?? 'growth', seats: options.seats ?? 1, dailyBudget: options.dailyBudget, burstLimit: options.burstLimit, searchLimit: options.searchLimit, abuseBlock: options.abuseBlock ?? { after: 20, forMs: 60_000 } },
    clock,
  );
  // The refresh answer's fields are those of Pipedrive's OAuth reference (developers.pipedrive.com/docs/api/v1/Oauth):
  // access_token, token_type, refresh_token (unchanged), scope, expires_in, api_domain.
  const oauth = options.oauthApp
    ? new OAuthApp(
        {
          clientId: options.oauthApp.clientId,
          clientSecret: options.oauthApp.clientSecret,
          refreshToken: options.oauthApp.refreshToken,
          accessTokenLifetimeMs: options.oauthApp.accessTokenLifetimeMs ?? 3_599_000,
          clientAuth: 'basic',
          extra: (baseUrl) => ({ token_type: 'Bearer', scope: 'base deals:full contacts:full activities:full', api_domain: baseUrl }),
        },
        clock,
      )
    : undefined;
  const routeOf = (request: KitRequest) => {
    const found = findRoute(ROUTES, request.method, request.path);
    return typeof found === 'object' ? found.route : undefined;
  };

  const server = await startKitServer<Principal>({
    clock,
    faultSeed: options.faultSeed,
    jsonContentType: 'application/json; charset=utf-8',
    hooks: {
      before: (request) => (request.path !== TOKEN_PATH && limits.blocked(credential(request)?.token) ? { status: 403, body: blockPage() } : undefined),
      bodyMode: (request) => (request.path === TOKEN_PATH ? 'text' : 'json'),
      open: (request, baseUrl) => {
        if (request.path !== TOKEN_PATH) return undefined;
        if (!oauth) return { status: 404, body: errorBody('No OAuth app is installed in this emulator (start it with oauthApp).') };
        if (request.method !== 'POST') return { status: 405, body: errorBody(`Method ${request.method} is not allowed on ${request.path}`) };
        return oauth.token(request, baseUrl);
      },
      authenticate: (request) => {
        const given = credential(request);
        if (given && given.via !== 'bearer' && given.token === token) return { principal: { token, kind: 'api_token' } };
        if (given && given.via === 'bearer' && given.token === oauthToken) return { principal: { token: oauthToken, kind: 'oauth' } };
        // An issued token acts for the OAuth app; the limits count per token, as Pipedrive's burst window does.
        if (given && given.via === 'bearer' && oauth?.check(given.token) === 'valid') return { principal: { token: given.token, kind: 'oauth' } };
        return { refusal: { status: 401, body: UNAUTHORIZED_BODY } };
      },
      serverError: (status) => serverError(status),
      rateLimitFault: (_rule, request, principal) => ({ status: 429, body: rateLimitBody(), headers: limits.headers(principal, limits.peek(principal), request.method) }),
      admit: (request, principal) => {
        const route = routeOf(request);
        const cost = route?.cost ?? 0;
        const decision = limits.admit(principal, cost, route?.search === true);
        if (decision.allowed) limits.countWrite(principal, request.method);
        const headers = limits.headers(principal, decision, request.method);
        if (decision.allowed) return { headers, cost };
        // The budget's 429 lasts until the day starts again; the burst window's until its oldest request leaves.
        return { headers, refusal: { status: 429, body: rateLimitBody(), headers: { 'retry-after': String(Math.max(1, Math.ceil((decision.retryAfterMs ?? 1000) / 1000))) } } };
      },
      invalidJson: () => ({ status: 400, body: errorBody('Request body is not valid JSON.') }),
      handle: ({ request, body }) => {
        const found = findRoute(ROUTES, request.method, request.path);
        if (found === 'not-found') return { status: 404, body: errorBody(`Unknown endpoint ${request.method} ${request.path} (not emulated)`) };
        if (found === 'method-not-allowed') return { status: 405, body: errorBody(`Method ${request.method} is not allowed on ${request.path}`) };
        return found.route.handler({ method: request.method, query: request.query, body, store, searchIndexDelayMs: options.searchIndexDelayMs ?? 0 }, ...found.params);
      },
      error: (error) => (error instanceof PipedriveHttpError ? { status: error.status, body: error.body } : serverError(500)),
      after: (request, status, principal) => limits.observe(principal?.token ?? credential(request)?.token, status),
    },
  });
  return {
    url: server.url,
    token,
    oauthToken,
    store,
    faults: server.faults,
    stats: server.stats,
    log: server.log,
    limits: { resetDaily: (budget) => limits.resetDaily(budget), usedToday: () => limits.usedToday() },
    seeded,
    oauth,
    close: () => server.close(),
  };
}
