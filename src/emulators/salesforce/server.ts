import type { KeyObject } from 'node:crypto';
import { RollingWindow, bearerToken, startKitServer, type FaultInjector, type KitRequest, type KitResponse, type RequestLogEntry, type RequestStats, type TriggeredFaults } from '../kit/index.js';
import { BulkJobs } from './bulk.js';
import { CONCURRENT_LIMIT_EXCEEDED, INVALID_SESSION, LIMIT_EXCEEDED, NOT_FOUND, RecordFailure, SalesforceHttpError } from './errors.js';
import { OAuthServer } from './oauth.js';
import { QueryCursors, dispatch, isRawRoute, type Principal } from './routes.js';
import type { CustomFieldSpec, CustomObjectSpec } from './schema.js';
import { seedSample, type SeedCounts } from './seed.js';
import { SalesforceStore, type IntegrationUserPermissions, type ValidationRule } from './store.js';
import { sfDateTime } from './values.js';

export interface SalesforceEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The newest API version served (default `62.0`); `/services/data/` lists 20.0 up to it. */
  latestVersion?: string;
  /** A ready access token acting as the integration user (default `emulator-access-token`). */
  accessToken?: string;
  /** The integration user's username (default `integration@emulator.example`): the JWT `sub` to use. */
  username?: string;
  /** The connected app: client id and secret, and the certificate's public key for the JWT bearer flow. */
  connectedApp?: { clientId: string; clientSecret: string; publicKey?: string | KeyObject };
  /** Refresh tokens the connected app has issued, -> username. */
  refreshTokens?: Record<string, string>;
  /** Accepted JWT `aud` values (default: the emulator's URL, https://login.salesforce.com, https://test.salesforce.com). */
  audiences?: string[];
  /** `sample` loads the sample org; a function fills the store itself (after the integration user). */
  seed?: 'sample' | { sample: { seed?: number; contacts?: number } } | ((store: SalesforceStore) => void);
  customObjects?: CustomObjectSpec[];
  customFields?: Record<string, CustomFieldSpec[]>;
  validationRules?: ValidationRule[];
  /**
   * The integration user's Setup permissions (default both true): without `customizeApplication` the Tooling
   * API's CustomField create is refused, without `managePermissionSets` FieldPermissions writes are.
   */
  integrationUser?: Partial<IntegrationUserPermissions>;
  /** API names of the org's permission sets (default `['Ferry_Integration']`), all taken as assigned to the integration user. */
  permissionSets?: string[];
  /** The org's daily API allocation over a rolling 24 hours (default 100,000, an Enterprise org's base). */
  dailyApiRequests?: number;
  /**
   * Concurrent long-running requests: while `limit` requests that arrived `thresholdMs` ago or earlier (by the
   * clock) are still running, a new request is refused (default 25 of 20 s, a production org's).
   */
  concurrentLongRunning?: { limit: number; thresholdMs: number };
  /** Bulk API 2.0 job states moved per GET of the job info (default 1; 0: only `bulk.advance()` moves them). */
  bulkStepsPerPoll?: number;
  /** Epoch milliseconds; tests pin time with it. Default Date.now. */
  clock?: () => number;
  /** Seed of the fault injector's PRNG (default 1). */
  faultSeed?: number;
}

export interface SalesforceEmulator {
  url: string;
  accessToken: string;
  username: string;
  userId: string;
  orgId: string;
  latestVersion: string;
  store: SalesforceStore;
  bulk: BulkJobs;
  oauth: OAuthServer;
  faults: FaultInjector;
  stats: RequestStats;
  log: RequestLogEntry[];
  limits: { used(): number; max(): number; setMax(max: number): void; reset(): void };
  seeded?: SeedCounts;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const SEASONS = ['Winter', 'Spring', 'Summer'];

/** `Winter '24` for 59.0: three releases a year, 20.0 being Winter '11. */
export function releaseLabel(version: number): string {
  const step = version - 59;
  return `${SEASONS[((step % 3) + 3) % 3]} '${24 + Math.floor(step / 3)}`;
}

function serverError(status: number): KitResponse {
  if (status === 502 || status === 504) return { status, body: `<html><head><title>${status}</title></head><body><h1>${status === 502 ? 'Bad Gateway' : 'Gateway Timeout'}</h1></body></html>` };
  if (status === 503) return { status, body: [{ message: 'Server temporarily unavailable. Please try again later.', errorCode: 'SERVER_UNAVAILABLE' }] };
  return { status, body: [{ message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)', errorCode: 'UNKNOWN_EXCEPTION' }] };
}

/**
 * Starts a Salesforce REST API emulator on 127.0.0.1, on the emulator kit: OAuth token endpoint, versions,
 * describe, SOQL query/queryAll, records, sObject Collections, upsert by external id, Bulk API 2.0, limits.
 * Every endpoint, behaviour, source and known difference is in docs/connectors/salesforce-emulator.md.
 *
 * @example
 * const salesforce = await startSalesforceEmulator({ seed: 'sample' });
 * const response = await fetch(`${salesforce.url}/services/data/v62.0/query?q=SELECT+Id+FROM+Account`, { headers: { Authorization: `Bearer ${salesforce.accessToken}` } });
 * await salesforce.close();
 */
export async function startSalesforceEmulator(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  const clock = options.clock ?? Date.now;
  const latestVersion = options.latestVersion ?? '62.0';
  const latest = Number(latestVersion);
  const accessToken = options.accessToken ?? 'emulator-access-token';
  const username = options.username ?? 'integration@emulator.example';
  const store = new SalesforceStore(clock, { customObjects: options.customObjects, customFields: options.customFields, validationRules: options.validationRules, integrationUser: options.integrationUser });
  const admin = store.create('User', { Username: username, Email: username, FirstName: 'Integration', LastName: 'User', Alias: 'integ' }, '');
  store.defaultUserId = admin.id;
  admin.row.data.CreatedById = admin.id;
  admin.row.data.LastModifiedById = admin.id;
  for (const name of options.permissionSets ?? ['Ferry_Integration']) store.create('PermissionSet', { Name: name, Label: name.replace(/_/g, ' ') });
  let seeded: SeedCounts | undefined;
  if (options.seed === 'sample') seeded = seedSample(store);
  else if (typeof options.seed === 'function') options.seed(store);
  else if (options.seed) seeded = seedSample(store, options.seed.sample);

  let baseUrl = '';
  const userByName = (name: string) => {
    const record = store.records(store.requireObject('User')).find((each) => String(each.row.data.Username).toLowerCase() === name.toLowerCase());
    return record ? { id: record.id, active: record.row.data.IsActive === true } : undefined;
  };
  const oauth = new OAuthServer(
    { clientId: options.connectedApp?.clientId ?? 'emulator-client-id', clientSecret: options.connectedApp?.clientSecret ?? 'emulator-client-secret', publicKey: options.connectedApp?.publicKey },
    () => options.audiences ?? [baseUrl, 'https://login.salesforce.com', 'https://test.salesforce.com'],
    clock,
    userByName,
    (userId) => `${baseUrl}/id/${store.orgId}/${userId}`,
    () => baseUrl,
  );
  for (const [token, name] of Object.entries(options.refreshTokens ?? {})) oauth.refreshTokens.set(token, name);
  oauth.tokens.set(accessToken, { username, accessToken, issuedAt: clock() });

  let max = options.dailyApiRequests ?? 100_000;
  const window = new RollingWindow({ requests: max, intervalMs: DAY });
  const limitInfo = () => ({ 'Sforce-Limit-Info': `api-usage=${window.state('org', clock()).used}/${max}` });
  const bulk = new BulkJobs(store, clock, options.bulkStepsPerPoll ?? 1);
  const cursors = new QueryCursors();

  // Requests being answered, to count the long-running ones (a request dropped before it ran never finishes).
  const running = new Set<RequestLogEntry>();
  const longRunning = options.concurrentLongRunning ?? { limit: 25, thresholdMs: 20_000 };
  const longRunningNow = (now: number, self: RequestLogEntry) => {
    let count = 0;
    for (const entry of running) {
      if (entry.fault === 'drop-connection') running.delete(entry);
      else if (entry === self) continue;
      else if (entry.at <= now - longRunning.thresholdMs) count++;
    }
    return count;
  };
  const versioned = (path: string) => /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(path);
  const isPublic = (request: KitRequest) => request.path === '/services/oauth2/token' || request.path === '/services/data';
  const authenticate = (request: KitRequest): { principal: Principal } | { refusal: KitResponse } => {
    if (isPublic(request)) return { principal: { kind: 'anonymous', userId: '' } };
    const grant = oauth.tokens.get(bearerToken(request.headers) ?? '');
    const user = grant ? userByName(grant.username) : undefined;
    if (!grant || !user?.active) return { refusal: { status: 401, body: INVALID_SESSION } };
    return { principal: { kind: 'user', userId: user.id } };
  };

  const route = (request: KitRequest, principal: Principal, body: unknown, faults?: TriggeredFaults, injector?: FaultInjector): KitResponse => {
    if (request.path === '/services/oauth2/token') {
      if (request.method !== 'POST') return { status: 405, body: { error: 'invalid_request', error_description: 'must use HTTP POST' } };
      const answer = oauth.token(new URLSearchParams(request.raw));
      return { status: answer.status, body: answer.body };
    }
    if (request.path === '/services/data') {
      const versions = [];
      for (let version = 20; version <= latest; version++) versions.push({ label: releaseLabel(version), url: `/services/data/v${version}.0`, version: `${version}.0` });
      return { status: 200, body: versions };
    }
    const identity = /^\/id\/([a-zA-Z0-9]{15,18})\/([a-zA-Z0-9]{15,18})$/.exec(request.path);
    if (identity && request.method === 'GET') {
      const user = store.find(identity[2]!);
      if (!user || user.object.name !== 'User' || identity[1] !== store.orgId) throw NOT_FOUND();
      const data = user.row.data;
      const rest = `${baseUrl}/services/data/v{version}/`;
      return { status: 200, body: { id: `${baseUrl}/id/${store.orgId}/${user.id}`, asserted_user: true, user_id: user.id, organization_id: store.orgId, username: data.Username, nick_name: data.Alias, display_name: data.Name, email: data.Email, active: data.IsActive, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0, last_modified_date: sfDateTime(user.row.updateTime), urls: { rest, sobjects: `${rest}sobjects/`, query: `${rest}query/`, limits: `${rest}limits/` } } };
    }
    const match = versioned(request.path);
    if (!match || Number(match[1]) > latest || Number(match[1]) < 20) throw NOT_FOUND();
    const version = match[1]!;
    const rest = match[2] ?? '';
    if (rest === '') {
      const base = `/services/data/v${version}`;
      const names = ['sobjects', 'query', 'queryAll', 'limits', 'composite', 'jobs', 'tooling'];
      return { status: 200, body: Object.fromEntries(names.map((name) => [name, `${base}/${name}`])) };
    }
    return dispatch(
      {
        store,
        bulk,
        cursors,
        version,
        method: request.method,
        query: request.query,
        headers: request.headers,
        body,
        raw: request.raw,
        principal,
        now: clock(),
        limits: () => {
          const state = window.state('org', clock());
          return { max, remaining: state.remaining };
        },
        faults,
        injector,
      },
      rest,
    );
  };
  const guarded = (work: () => KitResponse): KitResponse => {
    try {
      return work();
    } catch (error) {
      return toAnswer(error);
    }
  };
  const toAnswer = (error: unknown): KitResponse => {
    if (error instanceof SalesforceHttpError) return { status: error.status, body: error.body, headers: error.headers };
    if (error instanceof RecordFailure) {
      const http = error.asHttp();
      return { status: http.status, body: http.body };
    }
    return serverError(500);
  };
  const counted = (request: KitRequest) => versioned(request.path) !== null;

  const server = await startKitServer<Principal>({
    clock,
    faultSeed: options.faultSeed,
    jsonContentType: 'application/json;charset=UTF-8',
    hooks: {
      before: (request) => {
        running.add(request.log);
        return undefined;
      },
      after: (request) => {
        running.delete(request.log);
      },
      authenticate,
      partialEligible: (request) => request.path.endsWith('/composite/sobjects') || /\/composite\/sobjects\/[^/]+\/[^/]+$/.test(request.path),
      serverError: (status) => serverError(status),
      // Salesforce has no 429: a spent allocation is a 403 REQUEST_LIMIT_EXCEEDED, and so is the concurrent
      // long-running limit (policyName `ConcurrentRequests`), with its own message.
      rateLimitFault: (rule) => ({ status: 403, body: rule.policyName === 'ConcurrentRequests' ? CONCURRENT_LIMIT_EXCEEDED : LIMIT_EXCEEDED, headers: limitInfo() }),
      admit: (request) => {
        if (!counted(request)) return { headers: {} };
        const now = clock();
        if (longRunningNow(now, request.log) >= longRunning.limit) return { headers: limitInfo(), refusal: { status: 403, body: CONCURRENT_LIMIT_EXCEEDED } };
        if (window.full('org', now)) return { headers: limitInfo(), refusal: { status: 403, body: LIMIT_EXCEEDED } };
        window.record('org', now);
        return { headers: limitInfo(), cost: 1 };
      },
      // The token endpoint's form body and Bulk CSV uploads are not JSON: the route reads `raw` itself.
      bodyMode: (request) => {
        const match = versioned(request.path);
        return request.path === '/services/oauth2/token' || (match && isRawRoute(request.method, match[2] ?? '')) ? 'text' : 'json';
      },
      invalidJson: () => ({ status: 400, body: [{ message: 'Unexpected character in the JSON request body', errorCode: 'JSON_PARSER_ERROR' }] }),
      handle: ({ request, principal, body, faults, injector }) => {
        return guarded(() => route(request, principal, body, faults, injector));
      },
      error: (error) => toAnswer(error),
    },
  });
  baseUrl = server.url;
  return {
    url: server.url,
    accessToken,
    username,
    userId: admin.id,
    orgId: store.orgId,
    latestVersion,
    store,
    bulk,
    oauth,
    faults: server.faults,
    stats: server.stats,
    log: server.log,
    limits: {
      used: () => window.state('org', clock()).used,
      max: () => max,
      setMax: (value) => {
        max = value;
        window.limit = { requests: value, intervalMs: DAY };
      },
      reset: () => window.clear(),
    },
    seeded,
    close: () => server.close(),
  };
}
