import { sign } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { OAuth2, type TokenResponse } from 'jsforce/lib/oauth2.js';
import { Transport } from 'jsforce/lib/transport.js';
import type { HttpRequest, HttpResponse as JsforceResponse } from 'jsforce/lib/types/common.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import { FerryError, isFerryError } from '../../core/errors.js';
import { HttpClient, type Clock, type RouteInfo } from '../../core/http.js';
import { ApiClient, RequestBudget } from '../kit/index.js';
import type { SalesforceSettings } from './config.js';

/**
 * Salesforce's HTTP side. jsforce 3 does the OAuth 2.0 token requests of a connected app (its OAuth2 class:
 * the refresh token grant and the JWT bearer grant's form post and answer), with its transport replaced by
 * Ferry's HTTP client, so token requests are retried, timed out and redacted like every other request. The
 * REST calls themselves go through the connector kit (src/connectors/kit): the daily allocation counted from
 * `Sforce-Limit-Info`, stops before the user's share is spent, retries of 5xx and network errors, and the error
 * mapping below. Facts relied on:
 *
 * - `Sforce-Limit-Info: api-usage=N/M` on REST answers: N calls made of the org's M in the last 24 hours
 *   (REST API Developer Guide, "Response Headers" / "Limit Info Header").
 * - There is no 429: an org over its allocation answers 403 `REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit
 *   exceeded."; too many long-running requests at once answer the same code with "ConcurrentRequests
 *   (Concurrent API Requests) Limit exceeded." (API Request Limits and Allocations; "Status Codes and Error
 *   Responses"; help article 000389067: by default 25 long-running calls of 20 seconds or more). Both are
 *   RATE_LIMITED and resumable, the concurrent one after retries; neither is an auth failure.
 * - 401 `INVALID_SESSION_ID` when the access token expired or was revoked: a new one is asked for once.
 * - JWT bearer flow: RS256 over `{iss: client id, sub: username, aud: login URL, exp}`, posted as
 *   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…` to `/services/oauth2/token`
 *   (help article "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration").
 */

export interface SalesforceTransportOptions {
  configPath?: string;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

/** jsforce's transport, sending through Ferry's HttpClient (retries, timeouts, redaction). */
class FerryTransport extends Transport {
  constructor(private readonly http: HttpClient) {
    super();
  }

  override httpRequest(request: HttpRequest): StreamPromise<JsforceResponse> {
    const promise = (async (): Promise<JsforceResponse> => {
      const body = typeof request.body === 'string' ? request.body : '';
      const response = await this.http.request<unknown>(request.method.toUpperCase() as 'POST', request.url, {
        absolute: true,
        upload: { contentType: String(request.headers?.['content-type'] ?? 'application/x-www-form-urlencoded'), open: async () => once(Buffer.from(body, 'utf8')) },
        accept: [400, 401, 403],
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => (headers[key] = value));
      return { statusCode: response.status, headers, body: typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '') };
    })();
    return StreamPromise.create(() => ({ stream: new PassThrough(), promise }));
  }
}

async function* once(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** The JWT bearer assertion, signed RS256 with the connected app's private key, valid three minutes. */
export function jwtAssertion(clientId: string, username: string, audience: string, privateKey: string, nowMs: number): string {
  const header = base64url(JSON.stringify({ alg: 'RS256' }));
  const claims = base64url(JSON.stringify({ iss: clientId, sub: username, aud: audience, exp: Math.floor(nowMs / 1000) + 180 }));
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), privateKey).toString('base64url');
  return `${header}.${claims}.${signature}`;
}

interface Session {
  accessToken: string;
  instanceUrl: string;
}

/** The access token and instance URL, asked for when first needed and again after a 401. */
export class SalesforceSession {
  private current: Promise<Session> | undefined;
  private readonly oauth: OAuth2 | undefined;
  readonly secrets: string[];

  constructor(
    private readonly settings: SalesforceSettings,
    private readonly options: SalesforceTransportOptions,
  ) {
    const auth = settings.auth;
    this.secrets = auth.kind === 'accessToken' ? [auth.token] : auth.kind === 'refreshToken' ? [auth.refreshToken, ...(auth.clientSecret ? [auth.clientSecret] : [])] : [];
    if (auth.kind !== 'accessToken') {
      this.oauth = new OAuth2({ loginUrl: settings.loginUrl, clientId: auth.clientId, ...(auth.kind === 'refreshToken' && auth.clientSecret ? { clientSecret: auth.clientSecret } : {}) });
      this.oauth._transport = new FerryTransport(
        new HttpClient({
          baseUrl: settings.loginUrl,
          vendor: 'Salesforce',
          timeoutMs: settings.timeoutMs,
          maxRetries: settings.maxRetries,
          secrets: this.secrets,
          clock: options.clock,
          random: options.random,
          fetch: options.fetch,
          urlSetting: `${options.configPath ? `${options.configPath}.` : ''}loginUrl`,
          localServerHint: 'the Salesforce emulator runs while `ferry emulator salesforce` does',
        }),
      );
    }
  }

  get refreshable(): boolean {
    return this.oauth !== undefined;
  }

  get(): Promise<Session> {
    this.current ??= this.signIn().catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  /** Forgets the access token (a 401): the next request signs in again. */
  invalidate(): void {
    this.current = undefined;
  }

  private async signIn(): Promise<Session> {
    const auth = this.settings.auth;
    const prefix = this.options.configPath ? `${this.options.configPath}.` : '';
    if (auth.kind === 'accessToken') return { accessToken: auth.token, instanceUrl: this.settings.instanceUrl! };
    let answer: TokenResponse;
    try {
      if (auth.kind === 'refreshToken') answer = await this.oauth!.refreshToken(auth.refreshToken);
      else {
        const now = this.options.clock?.now() ?? Date.now();
        answer = await this.oauth!.requestToken({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(auth.clientId, auth.username, this.settings.loginUrl, auth.privateKey, now) });
      }
    } catch (error) {
      if (isFerryError(error)) throw error;
      const name = (error as Error).name;
      const description = (error as Error).message;
      const hint =
        auth.kind === 'jwt'
          ? `Check ${prefix}clientId (the connected app's consumer key), ${prefix}username, that the certificate of ${prefix}privateKey is uploaded to the app, that the user is pre-authorized (profile or permission set) and that ${prefix}loginUrl is right for the org (login, test or My Domain).`
          : `Check ${prefix}clientId, ${prefix}clientSecret and ${prefix}refreshToken (a refresh token is revoked when the app's policy or an admin says so).`;
      throw new FerryError('AUTH_FAILED', `Salesforce refused the ${auth.kind === 'jwt' ? 'JWT bearer' : 'refresh token'} sign-in at ${this.settings.loginUrl}: ${name}: ${description}. ${hint}`, { loginUrl: this.settings.loginUrl, error: name });
    }
    this.secrets.push(answer.access_token);
    return { accessToken: answer.access_token, instanceUrl: (this.settings.instanceUrl ?? answer.instance_url).replace(/\/+$/, '') };
  }
}

/** `api-usage=N/M` of a `Sforce-Limit-Info` header. */
export function parseLimitInfo(value: string | null): { used: number; max: number } | undefined {
  const match = /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(value ?? '');
  return match ? { used: Number(match[1]), max: Number(match[2]) } : undefined;
}

/** Salesforce's `[{message, errorCode, fields}]` as text. */
export function salesforceErrorText(body: unknown): string | undefined {
  if (Array.isArray(body)) {
    const parts = body.filter((item): item is { message?: unknown; errorCode?: unknown } => typeof item === 'object' && item !== null).map((item) => `${String(item.errorCode ?? 'ERROR')}: ${String(item.message ?? '')}`);
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  if (typeof body === 'string') return /<html/i.test(body) ? 'an HTML error page' : body.slice(0, 300);
  if (typeof body === 'object' && body !== null && 'error' in body) return `${String((body as { error: unknown }).error)}: ${String((body as { error_description?: unknown }).error_description ?? '')}`;
  return undefined;
}

function errorCodeOf(body: unknown): string | undefined {
  return Array.isArray(body) && typeof body[0] === 'object' && body[0] !== null ? String((body[0] as { errorCode?: unknown }).errorCode ?? '') : undefined;
}

/** The REST client on the connector kit: one request = one call of the daily allocation. */
export function createSalesforceClient(settings: SalesforceSettings, session: SalesforceSession, instanceUrl: string, budget: RequestBudget, options: SalesforceTransportOptions = {}): ApiClient {
  const prefix = options.configPath ? `${options.configPath}.` : '';
  let lastRefresh = Number.NEGATIVE_INFINITY;
  const now = (): number => options.clock?.now() ?? Date.now();
  return new ApiClient({
    vendor: 'Salesforce',
    baseUrl: instanceUrl,
    auth: { kind: 'bearer', token: async () => (await session.get()).accessToken },
    // Salesforce publishes no per-second limit; the allocation is daily (the budget) and concurrent
    // long-running requests are bounded by writeConcurrency.
    pacerRules: [],
    budget,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    clock: options.clock,
    random: options.random,
    fetch: options.fetch,
    urlSetting: `${prefix}instanceUrl`,
    localServerHint: 'the Salesforce emulator runs while `ferry emulator salesforce` does',
    describeError: (body) => salesforceErrorText(body),
    readHeaders: (headers) => {
      const info = parseLimitInfo(headers.get('sforce-limit-info'));
      return info ? { budgetRemaining: info.max - info.used, budgetLimit: info.max } : {};
    },
    classify: ({ status, body, route }) => {
      const code = errorCodeOf(body);
      if (status === 401) {
        // Signed in again at most once a minute: a token refused right after sign-in is not an expiry.
        if (session.refreshable && now() - lastRefresh > 60_000) {
          lastRefresh = now();
          session.invalidate();
          return 'retry';
        }
        return new FerryError('AUTH_FAILED', `Salesforce rejected the access token (401 ${code ?? ''}). ${settings.auth.kind === 'accessToken' ? `${prefix}accessToken has expired or was revoked: give a new one, or use the JWT bearer or refresh token flow, which sign in again by themselves.` : 'Signing in again did not help: check the connected app\'s policies.'}`, { status, path: route.path });
      }
      if (status === 403 && code === 'REQUEST_LIMIT_EXCEEDED') {
        const text = salesforceErrorText(body) ?? '';
        if (/Concurrent(Requests|PerOrgLongTxn)/i.test(text)) {
          // Too many long-running requests (20 s or more) in the org at once, ours and other integrations':
          // they end by themselves, so retried; when the retries run out (or a create was sent once), the
          // run stops resumably. Never AUTH_FAILED: nothing is wrong with the credentials.
          return {
            retry: new FerryError(
              'RATE_LIMITED',
              `Salesforce refused ${route.method} ${route.path}: too many long-running requests (20 seconds or more) are running in the org at once, this run's and other integrations' (403 REQUEST_LIMIT_EXCEEDED, ${text}). This is the concurrent request limit, not the daily allocation. The run stops here and is resumable: run the same command again once the long-running requests have finished (a lower ${prefix}writeConcurrency sends fewer at once).`,
              { status, path: route.path, resumable: true, limit: 'concurrent' },
            ),
          };
        }
        return new FerryError(
          'RATE_LIMITED',
          `Salesforce refused ${route.method} ${route.path}: the org's daily API allocation is spent (403 REQUEST_LIMIT_EXCEEDED, ${text}). The run stops here and is resumable: run the same command again when the rolling 24-hour allocation has room (or lower what other integrations use, or raise ${prefix}apiShare only if the org can spare it).`,
          { status, path: route.path, resumable: true, limit: 'daily' },
        );
      }
      if (status === 403) return new FerryError('AUTH_FAILED', `Salesforce refused ${route.method} ${route.path} (403): ${salesforceErrorText(body) ?? 'the integration user lacks a permission'}. The integration user needs the permission set listed in docs/connectors/salesforce.md.`, { status, path: route.path });
      if (status === 404) return new FerryError('NOT_FOUND', `Salesforce ${route.method} ${route.path}: ${salesforceErrorText(body) ?? 'not found'}`, { status, path: route.path });
      return undefined;
    },
  });
}

/** The budget of one connection: every request costs one call of the org's rolling 24-hour allocation. */
export function createSalesforceBudget(settings: SalesforceSettings): RequestBudget {
  return new RequestBudget({
    vendor: 'Salesforce',
    unit: 'API calls',
    cost: (_route: RouteInfo) => 1,
    reserve: (limit) => (limit === undefined ? 0 : Math.ceil(limit * (1 - settings.apiShare))),
    ...(settings.dailyApiRequests !== undefined ? { limit: settings.dailyApiRequests } : {}),
    resetsWhen: 'over a rolling 24 hours: calls made a day ago are given back hour by hour',
  });
}
