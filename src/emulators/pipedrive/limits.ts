import { DailyBudget, RateLimiter, RollingWindow, type LimitDecision } from '../kit/index.js';

/**
 * Pipedrive's limits (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting and
 * https://pipedrive.readme.io/docs/guide-for-optimizing-api-usage):
 * - a company-wide daily token budget, 30,000 x plan multiplier x seats, shared by every token of the company;
 *   each request spends its endpoint's token cost (`x-token-cost` in the OpenAPI files); when it is spent,
 *   every request is answered 429 until the budget resets at the server's midnight (UTC here);
 * - a burst limit per token over a rolling 2-second window, by plan and by kind of token (API token or OAuth),
 *   and for search endpoints 10 requests per 2 s on every plan;
 * - headers `x-ratelimit-limit`, `-remaining`, `-reset` on every answer, `x-daily-requests-left` on POST/PUT
 *   answers to API-token requests;
 * - integrations that keep sending after 429s are blocked with a 403 HTML page from the CDN (not JSON).
 */
export type Plan = 'lite' | 'growth' | 'premium' | 'ultimate';

/** Requests per 2 s per token, and the budget multiplier, by plan (rate-limiting page, 2025 plan names). */
export const PLANS: Record<Plan, { apiToken: number; oauth: number; multiplier: number }> = {
  lite: { apiToken: 20, oauth: 80, multiplier: 1 },
  growth: { apiToken: 40, oauth: 160, multiplier: 2 },
  premium: { apiToken: 100, oauth: 400, multiplier: 5 },
  ultimate: { apiToken: 120, oauth: 480, multiplier: 7 },
};

export const BASE_DAILY_TOKENS = 30_000;
export const BURST_INTERVAL_MS = 2000;
/** The 2019 fair-usage count of POST/PUT requests per user per day behind `x-daily-requests-left` (not enforced). */
export const DAILY_WRITE_REQUESTS = 10_000;

export interface PipedriveLimitOptions {
  plan: Plan;
  seats: number;
  /** Overrides 30,000 x multiplier x seats. */
  dailyBudget?: number;
  /** Overrides the plan's burst window (both token kinds). */
  burstLimit?: { requests: number; intervalMs: number };
  /** Search endpoints' own window per token (default 10 per 2 s, every plan). */
  searchLimit?: { requests: number; intervalMs: number };
  /** After this many 429s in a row to one token, a 403 block page for `forMs` (false: never). */
  abuseBlock: { after: number; forMs: number } | false;
}

export type TokenKind = 'api_token' | 'oauth';

export interface Principal {
  token: string;
  kind: TokenKind;
}

/**
 * The 429 body. The rate-limiting page shows a JSON error body; its exact text is not in the OpenAPI files,
 * so the emulator answers in the form the gateway gives its 401 (`errorCode`, short `error_info`); clients
 * must key on the status, not the text.
 */
export function rateLimitBody(): Record<string, unknown> {
  return { success: false, error: 'Request over limit', errorCode: 429, error_info: 'Please check developers.pipedrive.com' };
}

/** The CDN's block page for clients that ignore 429s: HTML, status 403. */
export function blockPage(): string {
  return '<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body><h1>Sorry, you have been blocked</h1><p>You are unable to access api.pipedrive.com</p></body></html>';
}

export class PipedriveLimits {
  readonly limiter: RateLimiter;
  private readonly streaks = new Map<string, number>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly writes = new Map<string, { day: number; count: number }>();

  constructor(
    readonly options: PipedriveLimitOptions,
    private readonly clock: () => number,
  ) {
    const plan = PLANS[options.plan];
    const apiToken = options.burstLimit ?? { requests: plan.apiToken, intervalMs: BURST_INTERVAL_MS };
    const oauth = options.burstLimit ?? { requests: plan.oauth, intervalMs: BURST_INTERVAL_MS };
    const budget = options.dailyBudget ?? BASE_DAILY_TOKENS * plan.multiplier * options.seats;
    const search = options.searchLimit ?? { requests: 10, intervalMs: BURST_INTERVAL_MS };
    this.limiter = new RateLimiter({ api_token: new RollingWindow(apiToken), oauth: new RollingWindow(oauth), search: new RollingWindow(search) }, new DailyBudget(budget), clock);
  }

  /** Counts a request against the company's budget and the token's window (refused requests count nowhere). */
  admit(principal: Principal, cost: number, isSearch = false): LimitDecision {
    return this.limiter.admit({ budgetKey: 'company', windowKey: principal.token, cost, windows: isSearch ? [principal.kind, 'search'] : [principal.kind] });
  }

  peek(principal: Principal): LimitDecision {
    return this.limiter.peek({ budgetKey: 'company', windowKey: principal.token, windows: [principal.kind] });
  }

  /**
   * The headers tell the token's burst window, or, on a search request refused by the search window, that
   * window (assumption: the rate-limiting page names no separate search headers).
   */
  headers(principal: Principal, decision: LimitDecision, method: string): Record<string, string> {
    const window = decision.refusedBy === 'search' ? decision.windows.search! : decision.windows[principal.kind]!;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(window.limit),
      'x-ratelimit-remaining': String(window.remaining),
      'x-ratelimit-reset': String(Math.max(1, Math.ceil((window.resetInMs || window.intervalMs) / 1000))),
      // Daily token headers: not on the rate-limiting page, named by Pipedrive staff in the developer community
      // (see docs/connectors/pipedrive-emulator.md); clients must treat them as optional.
      'x-daily-ratelimit-token-limit': String(decision.budget.budget),
      'x-daily-ratelimit-token-remaining': String(decision.budget.remaining),
    };
    if (principal.kind === 'api_token' && (method === 'POST' || method === 'PUT')) {
      headers['x-daily-requests-left'] = String(Math.max(0, DAILY_WRITE_REQUESTS - this.writesToday(principal.token)));
    }
    return headers;
  }

  /** Counts a POST/PUT for `x-daily-requests-left`. */
  countWrite(principal: Principal, method: string): void {
    if (method !== 'POST' && method !== 'PUT') return;
    const day = Math.floor(this.clock() / 86_400_000);
    const entry = this.writes.get(principal.token);
    if (!entry || entry.day !== day) this.writes.set(principal.token, { day, count: 1 });
    else entry.count++;
  }

  private writesToday(token: string): number {
    const entry = this.writes.get(token);
    return entry && entry.day === Math.floor(this.clock() / 86_400_000) ? entry.count : 0;
  }

  blocked(token: string | undefined): boolean {
    if (token === undefined) return false;
    const until = this.blockedUntil.get(token);
    if (until === undefined) return false;
    if (this.clock() < until) return true;
    this.blockedUntil.delete(token);
    this.streaks.delete(token);
    return false;
  }

  /** Watches answers: a run of 429s to one token ends in a block. */
  observe(token: string | undefined, status: number): void {
    if (token === undefined || this.options.abuseBlock === false) return;
    if (status !== 429) {
      if (status !== 403) this.streaks.delete(token);
      return;
    }
    const streak = (this.streaks.get(token) ?? 0) + 1;
    this.streaks.set(token, streak);
    if (streak >= this.options.abuseBlock.after) this.blockedUntil.set(token, this.clock() + this.options.abuseBlock.forMs);
  }

  resetDaily(budget?: number): void {
    this.limiter.budget.reset(budget);
  }

  usedToday(): number {
    return this.limiter.budget.state('company', this.clock()).used;
  }
}
