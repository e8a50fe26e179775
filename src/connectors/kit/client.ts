import { HttpClient, RollingWindowPacer, type ClassifyDecision, type Clock, type HttpMethod, type HttpResponse, type PacerRule, type RateLimitObservation, type RequestOptions, type RouteInfo } from '../../core/http.js';
import { createHash } from 'node:crypto';
import { authOptions, type AuthSpec } from './auth.js';
import type { RequestBudget } from './budget.js';

/** What a vendor's headers said after one response. */
export interface HeaderReading {
  /** For the pacer's rules (a window's limit, what is left, its length). */
  observations?: RateLimitObservation[];
  /** The daily budget as the vendor counts it. */
  budgetRemaining?: number;
  budgetLimit?: number;
}

export interface ApiClientOptions {
  vendor: string;
  baseUrl: string;
  auth: AuthSpec;
  /** Rolling windows the vendor publishes (the pacer keeps requests inside them before any 429). */
  pacerRules: PacerRule[];
  budget?: RequestBudget;
  /** Vendor hook: reads its rate-limit headers. */
  readHeaders?: (headers: Headers, route: RouteInfo) => HeaderReading;
  /**
   * Vendor hook: maps an error answer to a FerryError (thrown at once), 'retry', `{ retry: error }` (retried,
   * and `error` when the retries run out or the request is sent once), or undefined (the default mapping).
   */
  classify?: (response: { status: number; headers: Headers; body: unknown; route: RouteInfo }) => ClassifyDecision;
  /** Vendor hook: readable text of an error body. */
  describeError?: (body: unknown, status: number) => string | undefined;
  timeoutMs?: number;
  maxRetries?: number;
  /** The settings key holding baseUrl (e.g. `source.baseUrl`), named when the server cannot be reached. */
  urlSetting?: string;
  localServerHint?: string;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

/**
 * One API connection as every API connector needs it: auth headers from the settings, the shared pacer fed
 * by the vendor's rate-limit headers, the daily budget checked before and charged after each request, the
 * vendor's error mapping, and the server's clock from the Date header. `request` retries what is safe to
 * retry (src/core/http.ts); `requestOnce` never retries, for creates that are not idempotent (a retried POST
 * whose first answer was lost would create the record twice): the caller looks the record up first.
 */
export class ApiClient {
  readonly http: HttpClient;
  /** The same connection without retries. */
  readonly once: HttpClient;
  readonly pacer: RollingWindowPacer;
  readonly budget: RequestBudget | undefined;
  private serverDate: { server: number; local: number } | undefined;

  constructor(private readonly options: ApiClientOptions) {
    this.pacer = new RollingWindowPacer(options.pacerRules, connectionIdentity(options));
    this.budget = options.budget;
    const common = {
      baseUrl: options.baseUrl,
      vendor: options.vendor,
      ...authOptions(options.auth),
      timeoutMs: options.timeoutMs,
      pacer: this.pacer,
      clock: options.clock,
      random: options.random,
      fetch: options.fetch,
      urlSetting: options.urlSetting,
      localServerHint: options.localServerHint,
      describeError: options.describeError,
      onResponse: ({ status, headers, route }: { status: number; headers: Headers; route: RouteInfo }) => this.observe(status, headers, route),
      classify: options.classify,
    };
    this.http = new HttpClient({ ...common, maxRetries: options.maxRetries });
    this.once = new HttpClient({ ...common, maxRetries: 0 });
  }

  private observe(status: number, headers: Headers, route: RouteInfo): RateLimitObservation[] {
    const date = headers.get('date');
    if (date) {
      const server = Date.parse(date);
      if (!Number.isNaN(server)) this.serverDate = { server, local: Date.now() };
    }
    this.budget?.charge(route, status);
    const reading = this.options.readHeaders?.(headers, route) ?? {};
    this.budget?.observe(reading.budgetRemaining, reading.budgetLimit);
    return reading.observations ?? [];
  }

  request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.send(this.http, method, path, options);
  }

  requestOnce<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.send(this.once, method, path, options);
  }

  private async send<T>(client: HttpClient, method: HttpMethod, path: string, options: RequestOptions): Promise<HttpResponse<T>> {
    const release = this.budget?.reserve(options.absolute ? { method, path, absolute: true } : { method, path });
    try {
      return await client.request<T>(method, path, options);
    } finally {
      release?.();
    }
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.request<T>('PATCH', path, { ...options, body });
  }

  redact(text: string): string {
    return this.http.redact(text);
  }

  /** Server time (ms) estimated from the last Date header, or undefined before any response. */
  serverNow(): number | undefined {
    if (!this.serverDate) return undefined;
    return this.serverDate.server + (Date.now() - this.serverDate.local);
  }

  /** Requests sent, retries, 429s and waits of both clients. */
  stats(): { requests: number; retries: number; throttled: number; pacedMs: number; backoffMs: number } {
    const a = this.http.stats;
    const b = this.once.stats;
    return { requests: a.requests + b.requests, retries: a.retries + b.retries, throttled: a.throttled + b.throttled, pacedMs: a.pacedMs + b.pacedMs, backoffMs: a.backoffMs + b.backoffMs };
  }
}

/** A header's number, or undefined when absent or not a number. */
export function headerNumber(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * The account a connection's requests count against, for pacing shared across worker processes: the
 * vendor, the server and a digest of the token (the token itself is never stored or shown).
 */
export function connectionIdentity(options: Pick<ApiClientOptions, 'vendor' | 'baseUrl' | 'auth'>): string {
  const auth = options.auth;
  // An OAuth app's access tokens change every refresh: its install (client id and first refresh token) is the account.
  const token = auth.kind === 'oauth-refresh' ? auth.grant.installIdentity : typeof auth.token === 'string' ? auth.token : '';
  const digest = createHash('sha256').update(`${options.vendor}\u0000${options.baseUrl}\u0000${token}`).digest('hex').slice(0, 24);
  return `${options.vendor}:${digest}`;
}
