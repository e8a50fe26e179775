import { FerryError } from '../../core/errors.js';
import type { Clock, RateLimitObservation, RequestOptions, RouteInfo } from '../../core/http.js';
import { ApiClient, RefreshingToken, RequestBudget, collect, cursorPages, headerNumber, type HeaderReading } from '../kit/index.js';
import type { HubspotSettings } from './config.js';
import { readableMessage } from './write-errors.js';

/**
 * HTTP, auth, pacing and paging for HubSpot: the operations (hubspot-connector.ts) never build a request
 * by hand. Facts relied on, with their sources:
 *
 * - Burst limit per 10 s per app: 100 (Free/Starter), 190 (Pro/Enterprise), 250 (API limit increase); daily
 *   limit per account; headers X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds and
 *   -Daily / -Daily-Remaining; a 429 body names `policyName` (DAILY or the secondly/ten-secondly window).
 *   https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
 *   https://developers.hubspot.com/changelog/increasing-our-api-limits
 * - Search has its own limit: 4 requests per second per token (raised from 1).
 *   https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase
 * - 401 invalid auth, 403 missing scopes, 429 rate limit, 502/504 "pause a few seconds and retry", 503
 *   temporarily unavailable, 477 account migration with Retry-After.
 *   https://developers.hubspot.com/docs/api/error-handling
 */

const BURST_INTERVAL_MS = 10_000;

/**
 * The scope of HubSpot's Files API (upload, read, delete files: attachments, docs/attachments.md). Ferry calls
 * the Files API only when it copies files, so a token without it works for a project that copies none;
 * when the Files API refuses, the 403 message names this scope. Name from HubSpot's scope list
 * (https://developers.hubspot.com/docs/apps/legacy-apps/authentication/scopes: `files`, "File Manager").
 */
export const FILES_SCOPE = 'files';

/** Scopes a private app needs for everything Ferry does (read and write); names from HubSpot's scope list. */
export const REQUIRED_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.objects.owners.read',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
  'crm.schemas.companies.read',
  'crm.schemas.companies.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.objects.custom.read',
  'crm.objects.custom.write',
  'crm.schemas.custom.read',
  FILES_SCOPE,
];

export interface HubspotPage<T> {
  results: T[];
  paging?: { next?: { after?: string } };
}

/** A CRM object record as the v3 objects API returns it. */
export interface HubspotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
}

/** One entry of `errors` in a batch (207) or error body. */
export interface HubspotError {
  status?: string;
  category?: string;
  subCategory?: unknown;
  message?: string;
  context?: Record<string, unknown>;
  errors?: { message?: string; code?: string; context?: Record<string, unknown> | string; in?: string }[];
  correlationId?: string;
}

export interface HubspotBatchResponse<T = HubspotObject> {
  status?: string;
  results?: T[];
  numErrors?: number;
  errors?: HubspotError[];
}

export interface HubspotTransportOptions {
  /** Where the connection sits in ferry.yaml (`source` / `target`), for messages naming its settings. */
  configPath?: string;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

function isSearch(route: RouteInfo): boolean {
  return route.method === 'POST' && route.path.endsWith('/search');
}

/**
 * HubSpot's connection on the connector kit (src/connectors/kit/client.ts): the kit owns auth, pacing, retries,
 * the Date-header clock and the daily budget; HubSpot declares its windows, headers, costs and error classes.
 * Every API request costs 1 of the account's daily limit (search included; a 429 costs nothing), a signed
 * download link nothing. The budget learns the limit and what is left from X-HubSpot-RateLimit-Daily /
 * -Daily-Remaining and stops a run, resumably, before a request would eat into `dailyReserve`. OAuth calls
 * carry no -Daily headers (they have no daily limit), so nothing is checked for them.
 */
export function createHubspotClient(settings: HubspotSettings, options: HubspotTransportOptions = {}): ApiClient {
  const budget = new RequestBudget({
    vendor: 'HubSpot',
    unit: 'requests',
    cost: () => 1,
    reserve: settings.dailyReserve,
    resetsWhen: "at midnight in the HubSpot account's time zone",
  });
  const client: ApiClient = new ApiClient({
    vendor: 'HubSpot',
    baseUrl: settings.baseUrl,
    auth: settings.oauth
      ? {
          kind: 'oauth-refresh',
          grant: new RefreshingToken({
            vendor: 'HubSpot',
            ...settings.oauth,
            clientAuth: 'body',
            accessToken: settings.accessToken,
            setting: options.configPath ? `${options.configPath}.oauth` : 'oauth',
            clock: options.clock,
            fetch: options.fetch,
          }),
        }
      : { kind: 'bearer', token: settings.accessToken! },
    pacerRules: [
      { name: 'burst', limit: settings.burstLimit, intervalMs: BURST_INTERVAL_MS },
      { name: 'search', limit: settings.searchPerSecond, intervalMs: 1000, route: isSearch },
    ],
    budget,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    clock: options.clock,
    random: options.random,
    fetch: options.fetch,
    urlSetting: `${options.configPath ? `${options.configPath}.` : ''}baseUrl`,
    localServerHint: 'the HubSpot emulator runs while `ferry emulator hubspot` or `ferry demo --target hubspot --keep` does',
    describeError: (body, status) => (typeof body === 'object' && body !== null ? readableMessage(body as HubspotError, status) : undefined),
    readHeaders,
    classify: ({ status, body, route }) => {
      const error = (typeof body === 'object' && body !== null ? body : {}) as HubspotError & { policyName?: string };
      if (status === 429 && String(error.policyName ?? '').toUpperCase() === 'DAILY') {
        // Spent by others (the limit is the account's), or unknown to the budget (no -Daily headers seen).
        budget.observe(0, undefined);
        return new FerryError(
          'RATE_LIMITED',
          "HubSpot daily API limit reached: the account's daily API limit is used up. The run stops here and is resumable: running the same command again after the limit resets (midnight in the HubSpot account's time zone) resumes the run where it stopped.",
          { policyName: 'DAILY', path: route.path, resumable: true },
        );
      }
      if (status === 401) {
        return new FerryError(
          'AUTH_FAILED',
          settings.oauth
            ? `HubSpot rejected the OAuth access token (401), also after a refresh: the app may have been uninstalled or lack the scopes ${REQUIRED_SCOPES.join(', ')}.`
            : `HubSpot rejected the access token (401). Check the token in ferry.yaml (accessToken: \${HUBSPOT_TOKEN}); a private app needs the scopes ${REQUIRED_SCOPES.join(', ')}; an OAuth app's token expires after 30 minutes: give oauth (client id, secret, refresh token) so Ferry refreshes it.`,
          { status, path: route.path },
        );
      }
      if (status === 403) {
        const message = client.redact(String(error.message ?? ''));
        if (route.path.startsWith('/files/')) {
          return new FerryError(
            'AUTH_FAILED',
            `HubSpot refused ${route.method} ${route.path} (403)${message ? `: ${message}` : ''}. Copying files (attachments) needs the \`${FILES_SCOPE}\` scope: add it to the private app, or set options.attachments: false to copy no files.`,
            { status, path: route.path, scope: FILES_SCOPE },
          );
        }
        return new FerryError(
          'AUTH_FAILED',
          `HubSpot refused ${route.method} ${route.path} (403: the token lacks a scope)${message ? `: ${message}` : ''}. Add the missing scope to the private app (Ferry uses ${REQUIRED_SCOPES.join(', ')}).`,
          { status, path: route.path },
        );
      }
      // 477: the account is being moved between data centres; HubSpot sends Retry-After.
      if (status === 477) return 'retry';
      return undefined;
    },
  });
  return client;
}

/** The burst window's and the daily limit's headers (search answers carry none). */
function readHeaders(headers: Headers): HeaderReading {
  const observation: RateLimitObservation = { rule: 'burst' };
  const max = headerNumber(headers, 'x-hubspot-ratelimit-max');
  const remaining = headerNumber(headers, 'x-hubspot-ratelimit-remaining');
  const interval = headerNumber(headers, 'x-hubspot-ratelimit-interval-milliseconds');
  if (max !== undefined) observation.limit = max;
  if (remaining !== undefined) observation.remaining = remaining;
  if (interval !== undefined) observation.intervalMs = interval;
  const observed = max !== undefined || remaining !== undefined || interval !== undefined;
  return {
    observations: observed ? [observation] : [],
    budgetRemaining: headerNumber(headers, 'x-hubspot-ratelimit-daily-remaining'),
    budgetLimit: headerNumber(headers, 'x-hubspot-ratelimit-daily'),
  };
}

/** Every page of a GET list endpoint (`results` + `paging.next.after`). */
export function listAll<T>(client: ApiClient, path: string, query: RequestOptions['query'] = {}): Promise<T[]> {
  return collect(
    cursorPages<T>(async (after) => {
      const response = await client.get<HubspotPage<T>>(path, { query: { ...query, after } });
      return { items: response.body.results ?? [], next: response.body.paging?.next?.after };
    }),
  );
}
