import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerryError, type ErrorCode } from './errors.js';

/**
 * The one HTTP layer every API connector uses (HubSpot now, Pipedrive and Salesforce later): JSON in and
 * out, an auth header, timeouts, bounded retries with exponential backoff and jitter, `Retry-After`, and a
 * pacer that keeps requests under the vendor's published limits before the vendor has to say 429.
 *
 * Vendor knowledge stays in the connector: which routes have their own limit (`PacerRule.route`), how to
 * read the vendor's rate-limit headers (`HttpClientOptions.onResponse`), and which errors must not be
 * retried (`HttpClientOptions.classify`, e.g. a daily limit that only resets at midnight).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a request is, as the pacer and the callbacks see it. */
export interface RouteInfo {
  method: HttpMethod;
  /** Path without the query string, e.g. `/crm/v3/objects/contacts/search`. */
  path: string;
  /** A request to an absolute URL the API handed out (a signed download link), not to the API itself. */
  absolute?: boolean;
}

// ------------------------------------------------------------------------------------------ pacing

/** N requests per interval (a rolling window), for every request or only for the routes it matches. */
export interface PacerRule {
  name: string;
  limit: number;
  intervalMs: number;
  /** Routes the rule applies to; all routes when absent. */
  route?: (route: RouteInfo) => boolean;
}

/** What a vendor's rate-limit headers said about one rule's window. */
export interface RateLimitObservation {
  rule: string;
  /** Requests still allowed in the current window. */
  remaining?: number;
  /** The window's size as the server sees it (adopted when lower than the configured limit). */
  limit?: number;
  intervalMs?: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface RuleState {
  rule: PacerRule;
  /** Grant times inside the current window, oldest first. */
  grants: number[];
  /** No grant before this instant (the server said the window is used up). */
  blockedUntil: number;
}

/**
 * Rolling-window pacer: before each request it waits until every rule that applies has room, then
 * records the grant. Works with concurrent callers (each re-checks after its wait).
 */
/** Added to a rolling window's expiry computed from our own send times: the server stamped them a little later. */
const ROLL_MARGIN_MS = 100;
/** How much later than our grant a request may reach the server and be stamped there. */
const OWN_TOLERANCE_MS = 1000;

/**
 * Pacing shared by several processes that use the same account (`ferry worker` processes, docs/workers.md):
 * before a request, one token of the account's bucket for each rule that applies. A vendor's limit is per
 * account, not per process; each process's own pacer still keeps its own requests inside the windows.
 */
export interface SharedPacing {
  /** Waits for a token of `identity`'s bucket for `rule`; resolves with the milliseconds waited. */
  take(identity: string, rule: PacerRule): Promise<number>;
}

let sharedPacing: SharedPacing | undefined;

/** Makes every pacer of this process (with a connection identity) take its tokens from `pacing` too; undefined stops it. */
export function useSharedPacing(pacing: SharedPacing | undefined): void {
  sharedPacing = pacing;
}

export class RollingWindowPacer {
  private readonly states: RuleState[];
  private pausedUntil = 0;
  /** Total milliseconds callers waited for a slot. */
  waitedMs = 0;

  /**
   * `identity` names the account the requests count against (never a secret: a digest of the connection),
   * for shared pacing (useSharedPacing).
   */
  constructor(
    rules: PacerRule[],
    private readonly identity?: string,
  ) {
    this.states = rules.map((rule) => ({ rule: { ...rule }, grants: [], blockedUntil: 0 }));
  }

  get rules(): readonly PacerRule[] {
    return this.states.map((state) => state.rule);
  }

  async acquire(route: RouteInfo, clock: Clock): Promise<void> {
    for (;;) {
      const now = clock.now();
      let wait = Math.max(0, this.pausedUntil - now);
      for (const state of this.applicable(route)) {
        const windowStart = now - state.rule.intervalMs;
        // Grants are kept a little past the window: observe() matches them with the server's count.
        while (state.grants.length > 0 && state.grants[0]! <= windowStart - OWN_TOLERANCE_MS) state.grants.shift();
        if (state.blockedUntil > now) wait = Math.max(wait, state.blockedUntil - now);
        const first = state.grants.findIndex((grant) => grant > windowStart);
        const inWindow = first < 0 ? 0 : state.grants.length - first;
        if (inWindow >= state.rule.limit) {
          const oldest = state.grants[state.grants.length - state.rule.limit]!;
          wait = Math.max(wait, oldest + state.rule.intervalMs - now);
        }
      }
      if (wait <= 0) {
        const shared = sharedPacing;
        if (shared && this.identity !== undefined) {
          // The account's share first; this process's own windows are checked again after the wait.
          let waited = 0;
          for (const state of this.applicable(route)) waited += await shared.take(this.identity, state.rule);
          this.waitedMs += waited;
          if (waited > 0 && !this.hasRoom(route, clock.now())) continue;
        }
        for (const state of this.applicable(route)) state.grants.push(clock.now());
        return;
      }
      this.waitedMs += wait;
      await clock.sleep(wait);
    }
  }

  /** Adapts to what the server reported: a lower limit is adopted, an exhausted window blocks until it rolls. */
  observe(observation: RateLimitObservation, clock: Clock): void {
    const state = this.states.find((candidate) => candidate.rule.name === observation.rule);
    if (!state) return;
    if (observation.intervalMs !== undefined && observation.intervalMs > 0) state.rule.intervalMs = observation.intervalMs;
    if (observation.limit !== undefined && observation.limit > 0 && observation.limit < state.rule.limit) state.rule.limit = observation.limit;
    if (observation.remaining !== undefined && observation.remaining <= 0) {
      // A rolling window: when the server counts what we sent, a slot frees as our oldest request in the
      // window leaves it (plus a margin for the time it took to arrive). When it counts more than ours,
      // someone else spends the same quota and we cannot know when: wait a whole window.
      // Our grants are stamped before sending, the server's a little later: ours from slightly more than
      // a window ago may still count there.
      const now = clock.now();
      const mine = state.grants.filter((grant) => grant > now - state.rule.intervalMs - OWN_TOLERANCE_MS);
      const until = mine.length >= state.rule.limit ? mine[mine.length - state.rule.limit]! + state.rule.intervalMs + ROLL_MARGIN_MS : now + state.rule.intervalMs;
      state.blockedUntil = Math.max(state.blockedUntil, until);
    }
  }

  /** Holds every request until `until` (a 429 with Retry-After: nobody should knock before then). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  private hasRoom(route: RouteInfo, now: number): boolean {
    if (this.pausedUntil > now) return false;
    for (const state of this.applicable(route)) {
      if (state.blockedUntil > now) return false;
      if (state.grants.filter((grant) => grant > now - state.rule.intervalMs).length >= state.rule.limit) return false;
    }
    return true;
  }

  private applicable(route: RouteInfo): RuleState[] {
    return this.states.filter((state) => !state.rule.route || state.rule.route(route));
  }
}

// ------------------------------------------------------------------------------------------ errors

/** An HTTP failure after retries, with the status and (cut) body for the caller to interpret. */
export class HttpError extends FerryError {
  readonly status: number;
  readonly body: unknown;

  constructor(code: ErrorCode, message: string, status: number, body: unknown, route: RouteInfo) {
    super(code, message, { status, method: route.method, path: route.path, body });
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
  }
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

const NETWORK_ERROR = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|UND_ERR|socket hang up|fetch failed|other side closed|network|terminated/i;

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  const cause = (error as { cause?: unknown }).cause;
  const causeCode = typeof cause === 'object' && cause !== null ? String((cause as { code?: unknown }).code ?? '') : '';
  const causeMessage = cause instanceof Error ? cause.message : '';
  return NETWORK_ERROR.test(`${error.message} ${causeCode} ${causeMessage}`);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

// ------------------------------------------------------------------------------------------ client

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | (string | number)[]>;
  body?: unknown;
  /** A form body (`application/x-www-form-urlencoded`, e.g. an OAuth token request) instead of JSON. */
  form?: URLSearchParams;
  /** Headers of this request, besides the client's (e.g. HTTP Basic at a token endpoint). */
  headers?: Record<string, string>;
  /**
   * A streamed request body instead of JSON (a file upload): opened again for each attempt, so a retried
   * upload reads its source afresh. Never held in memory whole.
   */
  upload?: { contentType: string; open: () => Promise<AsyncIterable<Uint8Array>> };
  /** Return a 2xx body as a stream (a download) instead of reading it; the caller consumes it. */
  stream?: boolean;
  /** Per-attempt timeout for this request (uploads and downloads of large files), instead of the client's. */
  timeoutMs?: number;
  /** A URL on another host (a signed download link): sent without the Authorization header. */
  absolute?: boolean;
  /** Retries of this request instead of the client's (0: the caller decides, e.g. an upload that must not repeat). */
  maxRetries?: number;
  /** Statuses (besides 2xx) returned to the caller instead of thrown, e.g. 404 for "not there". */
  accept?: number[];
  signal?: AbortSignal;
}

export interface HttpStats {
  requests: number;
  retries: number;
  /** 429 responses seen (before retries). */
  throttled: number;
  /** Milliseconds spent in backoff after failures (pacer waits are separate). */
  backoffMs: number;
  /** Milliseconds waited for the pacer. */
  pacedMs: number;
  byRoute: Record<string, number>;
}

/** A vendor's `classify` answer (see HttpClientOptions.classify). */
export type ClassifyDecision = FerryError | 'retry' | { retry: FerryError } | undefined;

export interface HttpClientOptions {
  baseUrl: string;
  /** Vendor name for messages, e.g. `HubSpot`. */
  vendor: string;
  /** Value of the Authorization header, e.g. `Bearer pat-...` (called per request: tokens may be refreshed). */
  authorization?: () => string | Promise<string>;
  /**
   * Called once per request when the server answers 401 to the `authorization` it was sent (an OAuth access
   * token that expired early or was revoked): true when a new credential is ready, and the request is sent
   * again at once with it; false (or a second 401) is the AUTH_FAILED error.
   */
  onUnauthorized?: (rejected: string) => Promise<boolean>;
  headers?: Record<string, string>;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** Backoff base and cap in ms (default 500 ms doubling up to 30 s, full jitter). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After honoured inside a call; longer waits become an error (default 60 s). */
  maxRetryAfterMs?: number;
  pacer?: RollingWindowPacer;
  /** Reads the vendor's rate-limit headers after each response. */
  onResponse?: (response: { status: number; headers: Headers; route: RouteInfo }) => RateLimitObservation[] | void;
  /**
   * Vendor-specific error decision, before the generic one: return a FerryError to throw it at once
   * (no retry), `'retry'` to retry, `{ retry: error }` to retry and throw `error` when no retry is left (or
   * none is allowed, as for a create sent once), or undefined for the default handling.
   */
  classify?: (response: { status: number; headers: Headers; body: unknown; route: RouteInfo }) => ClassifyDecision;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
  /** Strings that must never appear in an error message (the token is always added). */
  secrets?: string[];
  /**
   * The project-file key that holds `baseUrl` (e.g. `target.baseUrl`): named when the server cannot be
   * reached, so the message says what to check.
   */
  urlSetting?: string;
  /** Said when a local URL (127.0.0.1, localhost) cannot be reached, e.g. how to start the vendor's emulator. */
  localServerHint?: string;
  /** Turns a vendor's error body into readable text for messages (default: the body, shortened). */
  describeError?: (body: unknown, status: number) => string | undefined;
}

const MAX_BODY_IN_MESSAGE = 500;

/** An attempt that did not succeed but may be sent again: after a wait, or with a new credential. */
interface AttemptFailure {
  retryAfterMs?: number;
  error: FerryError;
  /** The Authorization value a 401 refused (only when `onUnauthorized` can replace it). */
  rejectedAuthorization?: string;
}

function routeKey(route: RouteInfo): string {
  return `${route.method} ${route.path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
}

export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, throttled: 0, backoffMs: 0, pacedMs: 0, byRoute: {} };
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly baseUrl: string;
  private readonly secrets = new Set<string>();

  constructor(private readonly options: HttpClientOptions) {
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    for (const secret of options.secrets ?? []) if (secret) this.secrets.add(secret);
  }

  get now(): number {
    return this.clock.now();
  }

  get<T = unknown>(path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T = unknown>(path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  async request<T = unknown>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const route: RouteInfo = options.absolute ? { method, path: new URL(path).pathname, absolute: true } : { method, path };
    const url = this.url(path, options.query, options.absolute);
    const maxRetries = options.maxRetries ?? this.options.maxRetries ?? 5;
    let attempt = 0;
    let reauthorized = false;
    for (;;) {
      if (this.options.pacer) {
        const before = this.options.pacer.waitedMs;
        await this.options.pacer.acquire(route, this.clock);
        this.stats.pacedMs += this.options.pacer.waitedMs - before;
      }
      this.stats.requests += 1;
      const key = routeKey(route);
      this.stats.byRoute[key] = (this.stats.byRoute[key] ?? 0) + 1;
      let outcome: AttemptFailure | HttpResponse<T>;
      try {
        outcome = await this.attempt<T>(method, url, route, options);
      } catch (error) {
        if (error instanceof FerryError) throw error;
        if (!isNetworkError(error)) throw new FerryError('CONNECTION_FAILED', this.redact(`${this.options.vendor} ${method} ${path}: ${errorText(error)}`), { path }, { cause: error });
        const unreachable = unreachableCode(error);
        if (unreachable) {
          // No such host is a wrong URL, not a blip: no retry. A refused connection is retried (a server
          // restarting), then reported the same way.
          const fatal = new FerryError('CONNECTION_FAILED', this.redact(this.unreachableMessage(unreachable, method, path, errorText(error))), { method, path, baseUrl: this.baseUrl, cause: unreachable });
          if (unreachable === 'ENOTFOUND') throw fatal;
          outcome = { error: fatal };
        } else {
          outcome = { error: new FerryError('TRANSIENT', this.redact(`${this.options.vendor} ${method} ${path}: network error (${errorText(error)})`), { method, path }) };
        }
      }
      if (!('error' in outcome)) return outcome;
      if (outcome.rejectedAuthorization !== undefined) {
        // One fresh credential per request: a second 401 means the new one is refused too.
        if (reauthorized || !this.options.onUnauthorized || !(await this.options.onUnauthorized(outcome.rejectedAuthorization))) throw outcome.error;
        reauthorized = true;
        continue;
      }
      if (attempt >= maxRetries) throw outcome.error;
      attempt += 1;
      this.stats.retries += 1;
      const backoff = this.backoff(attempt);
      let wait = backoff;
      if (outcome.retryAfterMs !== undefined) {
        const limit = this.options.maxRetryAfterMs ?? 60_000;
        if (outcome.retryAfterMs > limit) throw outcome.error;
        wait = Math.max(outcome.retryAfterMs, Math.min(backoff, 1000));
        this.options.pacer?.pauseUntil(this.clock.now() + wait);
      }
      this.stats.backoffMs += wait;
      await this.clock.sleep(wait);
    }
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffBaseMs ?? 500;
    const cap = this.options.backoffMaxMs ?? 30_000;
    const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
    // "Full jitter" keeps several clients that failed together from retrying together.
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private url(path: string, query: RequestOptions['query'], absolute = false): string {
    const url = new URL(absolute ? path : this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    return url.toString();
  }

  private async attempt<T>(method: HttpMethod, url: string, route: RouteInfo, options: RequestOptions): Promise<HttpResponse<T> | AttemptFailure> {
    const headers: Record<string, string> = { accept: options.stream ? '*/*' : 'application/json', ...this.options.headers, ...options.headers };
    if (this.options.authorization && !options.absolute) {
      const value = await this.options.authorization();
      headers.authorization = value;
      const token = value.replace(/^\S+\s+/, '');
      if (token) this.secrets.add(token);
    }
    let body: string | undefined;
    if (options.upload) {
      headers['content-type'] = options.upload.contentType;
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = options.form.toString();
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const response = options.upload ? await sendStreamed(url, method, headers, await options.upload.open(), signal) : await this.fetchImpl(url, { method, headers, body, signal });
    if (options.stream && response.ok && response.body) {
      for (const observation of this.options.onResponse?.({ status: response.status, headers: response.headers, route }) ?? []) this.options.pacer?.observe(observation, this.clock);
      return { status: response.status, headers: response.headers, body: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>) as T };
    }
    const text = await response.text();
    let parsed: unknown = text;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    } else {
      parsed = undefined;
    }
    for (const observation of this.options.onResponse?.({ status: response.status, headers: response.headers, route }) ?? []) {
      this.options.pacer?.observe(observation, this.clock);
    }
    const ok = (response.status >= 200 && response.status < 300) || (options.accept ?? []).includes(response.status);
    if (ok) return { status: response.status, headers: response.headers, body: parsed as T };

    const decision = this.options.classify?.({ status: response.status, headers: response.headers, body: parsed, route });
    if (response.status === 401 && headers.authorization !== undefined && this.options.onUnauthorized) {
      return { error: decision instanceof FerryError ? decision : this.statusError(401, parsed, route), rejectedAuthorization: headers.authorization };
    }
    if (decision instanceof FerryError) throw decision;
    if (response.status === 429) this.stats.throttled += 1;
    const retryAs = typeof decision === 'object' && 'retry' in decision ? decision.retry : undefined;
    const retryable = decision === 'retry' || retryAs !== undefined || response.status === 429 || response.status >= 500;
    const error = retryAs ?? this.statusError(response.status, parsed, route);
    if (!retryable) throw error;
    return { retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.clock.now()), error };
  }

  /** `cannot reach <url> (ECONNREFUSED: nothing accepts connections there): check target.baseUrl ...`. */
  private unreachableMessage(code: UnreachableCode, method: string, path: string, detail: string): string {
    const why = code === 'ENOTFOUND' ? 'no such host' : code === 'EAI_AGAIN' ? 'the host name could not be looked up' : 'nothing accepts connections there';
    let local = false;
    try {
      local = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0'].includes(new URL(this.baseUrl).hostname);
    } catch {
      // not a URL: the setting itself is wrong, which the hint says
    }
    const setting = this.options.urlSetting ? `${this.options.urlSetting} in ferry.yaml` : 'the URL in ferry.yaml';
    return (
      `${this.options.vendor}: cannot reach ${this.baseUrl} (${code}: ${why}): check ${setting}` +
      (local ? `, and that the server is still running there${this.options.localServerHint ? ` (${this.options.localServerHint})` : ''}` : ', and that this machine can reach it (network, proxy, firewall)') +
      `. (${method} ${path}: ${detail})`
    );
  }

  private statusError(status: number, body: unknown, route: RouteInfo): HttpError {
    const vendor = this.options.vendor;
    const detail = this.redact(this.options.describeError?.(body, status) ?? bodyText(body));
    const where = `${route.method} ${route.path}`;
    let code: ErrorCode;
    let message: string;
    if (status === 401 || status === 403) {
      code = 'AUTH_FAILED';
      message = `${vendor} refused the credentials (${status}) on ${where}${detail ? `: ${detail}` : ''}`;
    } else if (status === 429) {
      code = 'RATE_LIMITED';
      message = `${vendor} kept answering 429 (rate limited) on ${where} after retries${detail ? `: ${detail}` : ''}`;
    } else if (status >= 500) {
      code = 'TRANSIENT';
      message = `${vendor} answered ${status} on ${where} after retries${detail ? `: ${detail}` : ''}`;
    } else {
      code = status === 404 ? 'NOT_FOUND' : status === 409 ? 'UNIQUE_VIOLATION' : 'VALIDATION';
      message = `${vendor} answered ${status} on ${where}${detail ? `: ${detail}` : ''}`;
    }
    return new HttpError(code, message, status, redactDeep(body, (text) => this.redact(text)), route);
  }

  /** A secret obtained after the client was made (a refreshed access token): never in a message. */
  addSecret(secret: string): void {
    if (secret) this.secrets.add(secret);
  }

  /** Removes every known secret from a text. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (secret.length >= 4) result = result.split(secret).join('[redacted]');
    return result;
  }
}

type UnreachableCode = 'ECONNREFUSED' | 'ENOTFOUND' | 'EAI_AGAIN';

/** The system error code of a failed connection that means "the URL does not lead to a server", if it is one. */
function unreachableCode(error: unknown): UnreachableCode | undefined {
  const codes: string[] = [];
  const collect = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 4) return;
    const { code, cause, errors } = value as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') codes.push(code);
    collect(cause, depth + 1);
    // Node's fetch reports a host with several addresses as an AggregateError of one error per address.
    if (Array.isArray(errors)) for (const entry of errors) collect(entry, depth + 1);
  };
  collect(error, 0);
  const text = `${codes.join(' ')} ${errorText(error)}`;
  return (['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED'] as const).find((code) => text.includes(code));
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== error.message ? `${error.message}: ${cause.message}` : error.message;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  let text: string;
  if (typeof body === 'string') text = body;
  else if (typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') text = (body as { message: string }).message;
  else text = JSON.stringify(body);
  return text.length > MAX_BODY_IN_MESSAGE ? `${text.slice(0, MAX_BODY_IN_MESSAGE - 1)}…` : text;
}

function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(redact(JSON.stringify(value))) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A request whose body streams from `body` with backpressure, through node:http(s). Node 20's fetch reads a
 * streamed request body into memory before it is sent (a 200 MB upload took 270 MB of RSS; node:http 76 MB,
 * docs/performance.md), so uploads take this path. The answer is a fetch Response, so the rest is shared.
 */
async function sendStreamed(url: string, method: string, headers: Record<string, string>, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<Response> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(target, { method, headers: { ...headers, 'transfer-encoding': 'chunked' }, signal });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  // A body that fails while it is sent (the engine's size limit, an unreadable source) is that failure; a
  // server that answers before reading all of the body (413, 401) is that answer.
  const sent = pipeline(Readable.from(body), request).then(
    () => undefined,
    (error: unknown) => error,
  );
  type Outcome = { message: IncomingMessage } | { error: unknown };
  const answer = answered.then((message): Outcome => ({ message }));
  const first: Outcome = await Promise.race([answer, sent.then((error): Outcome | Promise<Outcome> => (error === undefined ? answer : { error }))]);
  if ('error' in first) throw first.error;
  const { message } = first;
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    for (const each of Array.isArray(value) ? value : [value]) responseHeaders.append(name, each);
  }
  const status = message.statusCode ?? 0;
  const empty = status === 204 || status === 205 || status === 304;
  if (empty) message.resume();
  return new Response(empty ? null : (Readable.toWeb(message) as ReadableStream<Uint8Array>), { status, headers: responseHeaders });
}
