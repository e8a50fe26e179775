import { FerryError } from '../../core/errors.js';
import type { Clock, RouteInfo } from '../../core/http.js';
import { ApiClient, RefreshingToken, RequestBudget, headerNumber, type AuthSpec } from '../kit/index.js';
import type { PipedriveSettings } from './config.js';

/**
 * Pipedrive's HTTP side on the connector kit. Facts relied on, with their sources:
 *
 * - Auth: `x-api-token` header for API tokens, `Authorization: Bearer` for OAuth access tokens (v2 OpenAPI
 *   security schemes; https://pipedrive.readme.io/docs/marketplace-oauth-authorization).
 * - Burst: per token, a rolling 2-second window (20/40/100/120 API-token requests by plan, 4x for OAuth);
 *   headers `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset`; 429 when over; integrations
 *   that keep sending after 429s get a 403 HTML page from the CDN.
 *   https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting
 * - Daily budget: 30,000 tokens x plan multiplier x seats per company, shared by every token; each endpoint
 *   costs tokens (`x-token-cost` in the OpenAPI files: v2 list 10, get 1, write 5, delete 3; v1 list 20 …);
 *   `x-daily-ratelimit-token-remaining` is sent by the live API as Pipedrive staff describe it (not on the
 *   rate limiting page: when absent, `dailyTokenBudget` in the settings is counted down instead).
 */

const BURST_INTERVAL_MS = 2000;
/**
 * Pipedrive counts a request in its window when it arrives, the pacer when it is sent: a request that travels
 * longer than the next one lets Pipedrive see N + 1 in its 2 s. The window is paced a little longer than it is
 * so latency jitter up to this much costs no 429 (measured by `npm run bench -- --scenarios api-pipedrive`).
 */
const JITTER_ALLOWANCE_MS = 150;

const V2_RECORDS = 'persons|organizations|deals|activities|products|pipelines|stages';
const V2_FIELDS = 'personFields|organizationFields|dealFields|productFields|activityFields';

/** Token cost of one request (the OpenAPI files' `x-token-cost`, which the emulator's table follows). */
export function tokenCost(route: RouteInfo): number {
  const { method, path } = route;
  const p = path.replace(/^\/api/, '');
  if (method === 'GET' && p === '/v2/deals/archived') return 20;
  if (method === 'GET' && new RegExp(`^/v2/(${V2_RECORDS})/search$`).test(p)) return 20;
  if (method === 'GET' && new RegExp(`^/v1/(${V2_FIELDS})$`).test(p)) return 20;
  if (new RegExp(`^/v2/(${V2_RECORDS})$`).test(p)) {
    if (method === 'GET') return /pipelines|stages/.test(p) ? 5 : 10;
    return 5;
  }
  if (new RegExp(`^/v2/(${V2_RECORDS})/\\d+$`).test(p)) return method === 'GET' ? 1 : method === 'DELETE' ? 3 : 5;
  if (new RegExp(`^/v2/(${V2_FIELDS})$`).test(p)) return method === 'GET' ? 10 : 5;
  if (new RegExp(`^/v2/(${V2_FIELDS})/`).test(p)) return 1;
  if (p === '/v1/notes') return method === 'GET' ? 20 : 10;
  if (/^\/v1\/notes\/\d+$/.test(p)) return method === 'GET' ? 2 : method === 'DELETE' ? 6 : 10;
  if (p === '/v1/users' || p === '/v1/activityTypes') return 20;
  if (/^\/v1\/users\//.test(p)) return 2;
  if (/^\/v1\/deals\/\d+\/participants/.test(p)) return method === 'DELETE' ? 6 : 10;
  return 10;
}

export interface PipedriveTransportOptions {
  configPath?: string;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

/** `{success: false, error, error_info}` as text. */
export function pipedriveErrorText(body: unknown): string | undefined {
  if (typeof body === 'string') return /<html/i.test(body) ? 'an HTML page from Pipedrive\'s CDN' : body.slice(0, 300);
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'string' ? error : undefined;
}

export function createPipedriveClient(settings: PipedriveSettings, options: PipedriveTransportOptions = {}): ApiClient {
  const prefix = options.configPath ? `${options.configPath}.` : '';
  const tokenKey = settings.auth.kind === 'apiToken' ? 'apiToken' : 'accessToken';
  const budget = new RequestBudget({
    vendor: 'Pipedrive',
    unit: 'tokens',
    cost: tokenCost,
    reserve: settings.tokenReserve,
    limit: settings.dailyTokenBudget,
    resetsWhen: 'at midnight, Pipedrive server time',
  });
  return new ApiClient({
    vendor: 'Pipedrive',
    baseUrl: settings.baseUrl,
    auth: pipedriveAuth(settings, prefix, options),
    pacerRules: [{ name: 'burst', limit: settings.burstLimit, intervalMs: BURST_INTERVAL_MS + JITTER_ALLOWANCE_MS }],
    budget,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    clock: options.clock,
    random: options.random,
    fetch: options.fetch,
    urlSetting: `${prefix}baseUrl`,
    localServerHint: 'the Pipedrive emulator runs while `ferry emulator pipedrive` does',
    describeError: (body) => pipedriveErrorText(body),
    readHeaders: (headers) => {
      const limit = headerNumber(headers, 'x-ratelimit-limit');
      const remaining = headerNumber(headers, 'x-ratelimit-remaining');
      const observations = limit === undefined && remaining === undefined ? [] : [{ rule: 'burst', limit, remaining }];
      return {
        observations,
        budgetRemaining: headerNumber(headers, 'x-daily-ratelimit-token-remaining'),
        budgetLimit: headerNumber(headers, 'x-daily-ratelimit-token-limit'),
      };
    },
    classify: ({ status, headers, body, route }) => {
      if (status === 401) {
        return new FerryError(
          'AUTH_FAILED',
          settings.auth.kind === 'oauth' && settings.auth.refresh
            ? `Pipedrive rejected the OAuth access token (401), also after a refresh: the app may lack a scope or have been uninstalled. Check ${prefix}oauth in ferry.yaml.`
            : `Pipedrive rejected the ${settings.auth.kind === 'apiToken' ? 'API token' : 'OAuth access token'} (401). Check ${prefix}${tokenKey} in ferry.yaml (e.g. \${PIPEDRIVE_TOKEN})${settings.auth.kind === 'oauth' ? '; an OAuth access token expires after an hour: give oauth (client id, secret, refresh token) so Ferry refreshes it' : ''}.`,
          { status, path: route.path },
        );
      }
      if (status === 403 && (typeof body === 'string' || body === undefined)) {
        return new FerryError(
          'RATE_LIMITED',
          'Pipedrive blocked this token for a while (403 page from its CDN after repeated 429 answers). The run stops here and is resumable: run the same command again in a few minutes.',
          { status, path: route.path, resumable: true },
        );
      }
      if (status === 403) {
        return new FerryError('AUTH_FAILED', `Pipedrive refused ${route.method} ${route.path} (403): ${pipedriveErrorText(body) ?? 'the user lacks a permission'}. The token's user needs the permission (an admin user for field changes; OAuth apps the scopes listed in docs/connectors/pipedrive.md).`, { status, path: route.path });
      }
      const left = headerNumber(headers, 'x-daily-ratelimit-token-remaining');
      if (status === 429 && left !== undefined && left < tokenCost(route)) {
        budget.observe(left, undefined);
        return budget.exhausted(route);
      }
      if (status === 410) return new FerryError('NOT_FOUND', `Pipedrive: the record was deleted (410 on ${route.method} ${route.path})`, { status, path: route.path });
      return undefined;
    },
  });
}

/** How requests authenticate: the API token header, a fixed OAuth token, or the app's refresh-token grant. */
function pipedriveAuth(settings: PipedriveSettings, prefix: string, options: PipedriveTransportOptions): AuthSpec {
  const auth = settings.auth;
  if (auth.kind === 'apiToken') return { kind: 'header', header: 'x-api-token', token: auth.token };
  if (!auth.refresh) return { kind: 'bearer', token: auth.token! };
  return {
    kind: 'oauth-refresh',
    grant: new RefreshingToken({ vendor: 'Pipedrive', ...auth.refresh, clientAuth: 'basic', accessToken: auth.token, setting: prefix ? `${prefix.slice(0, -1)}.oauth` : 'oauth', clock: options.clock, fetch: options.fetch }),
  };
}
