import { randomUUID } from 'node:crypto';
import { DailyBudget, RateLimiter as KitRateLimiter, RollingWindow, type LimitDecision } from '../kit/index.js';
import { correlationId } from './errors.js';

/**
 * HubSpot's rate limits, per app (the emulator's token stands for one private app, `oauthToken` for an OAuth app):
 * - burst: a rolling window, 100 requests per 10 s for Free/Starter private apps, 190 for Professional/Enterprise,
 *   250 with the API limit increase pack
 *   (https://developers.hubspot.com/changelog/increasing-our-api-limits,
 *   https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines.md);
 * - daily: 250,000 by default, reset at midnight (the account's time zone; UTC here); none for OAuth apps;
 * - search: its own per-second limit (4/s in https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase,
 *   5/s in the current search guide's limitations).
 * A refused request answers 429 with `{status, message, errorType:"RATE_LIMIT", correlationId, policyName, requestId}`
 * (policyName TEN_SECONDLY_ROLLING, SECONDLY or DAILY; format quoted from the usage guidelines in
 * https://community.hubspot.com/t5/APIs-Integrations/Hubspot-User-experience/m-p/511719).
 *
 * Built from the kit's parts: the kit checks the budget first, then the windows in order, which is HubSpot's
 * order (daily, burst, search); a refused request counts nowhere. src/emulators/kit/hubspot-equivalence.test.ts
 * checks this against the emulator's limiter from before the kit.
 */
export interface RateLimitOptions {
  burstLimit: { requests: number; intervalMs: number };
  searchPerSecond: number;
  dailyLimit: number;
}

export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
  retryAfterSeconds?: number;
}

const POLICIES: Record<string, { policyName: string; message: string }> = {
  budget: { policyName: 'DAILY', message: 'You have reached your daily limit.' },
  burst: { policyName: 'TEN_SECONDLY_ROLLING', message: 'You have reached your ten_secondly_rolling limit.' },
  search: { policyName: 'SECONDLY', message: 'You have reached your secondly limit.' },
};

/** The 429 message of a limit by HubSpot's policy name (a fault's `policyName`): the burst window's for any other. */
export function policyMessage(policyName: string): string {
  return (Object.values(POLICIES).find((policy) => policy.policyName === policyName) ?? POLICIES.burst!).message;
}

export class RateLimiter {
  private readonly limiter: KitRateLimiter;

  constructor(
    options: RateLimitOptions,
    private readonly clock: () => number,
  ) {
    this.limiter = new KitRateLimiter(
      { burst: new RollingWindow(options.burstLimit), search: new RollingWindow({ requests: options.searchPerSecond, intervalMs: 1000 }) },
      new DailyBudget(options.dailyLimit),
      clock,
    );
  }

  /**
   * Standard headers for a response, after this request was (or was not) counted. `daily: false` (OAuth apps)
   * leaves out -Daily and -Daily-Remaining: "OAuth authenticated calls will not include X-HubSpot-RateLimit-Daily
   * or X-HubSpot-RateLimit-Daily-Remaining because there is no daily limit for these calls"
   * (https://community.hubspot.com/t5/Developer-Announcements/Rate-limit-headers-will-now-appear-for-OAuth-authenticated-calls/m-p/399520).
   */
  headers(key: string, daily = true): Record<string, string> {
    return this.headersOf(key, this.limiter.peek({ budgetKey: key, windowKey: key, windows: ['burst'] }), daily);
  }

  private headersOf(key: string, state: LimitDecision, daily: boolean): Record<string, string> {
    const burst = state.windows.burst!;
    const perSecond = Math.max(1, Math.round((burst.limit * 1000) / burst.intervalMs));
    const usedThisSecond = this.limiter.windows.burst!.usedWithin(key, 1000, this.clock());
    // Header names: X-HubSpot-RateLimit-Daily / -Daily-Remaining
    // (https://developers.hubspot.com/changelog/2018-11-06-rate-limit-information-headers-will-be-included-in-http-responses)
    // and -Max / -Remaining / -Interval-Milliseconds / -Secondly / -Secondly-Remaining (usage guidelines page).
    const headers: Record<string, string> = {
      'X-HubSpot-RateLimit-Max': String(burst.limit),
      'X-HubSpot-RateLimit-Remaining': String(burst.remaining),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(burst.intervalMs),
      'X-HubSpot-RateLimit-Secondly': String(perSecond),
      'X-HubSpot-RateLimit-Secondly-Remaining': String(Math.max(0, perSecond - usedThisSecond)),
    };
    if (daily) {
      headers['X-HubSpot-RateLimit-Daily'] = String(state.budget.budget);
      headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(state.budget.remaining);
    }
    return headers;
  }

  /**
   * Starts the daily count afresh, as HubSpot does at midnight (tests: "the next day" without moving the
   * clock), optionally with a new daily limit.
   */
  resetDaily(dailyLimit?: number): void {
    this.limiter.budget.reset(dailyLimit);
  }

  /** Requests counted today for this token. */
  usedToday(key: string): number {
    return this.limiter.budget.state(key, this.clock()).used;
  }

  /** Counts the request if it is allowed; refused requests are not counted. `daily: false`: no daily limit (OAuth apps). */
  admit(key: string, isSearch: boolean, daily = true): RateDecision {
    const decision = this.limiter.admit({ budgetKey: key, windowKey: key, cost: daily ? 1 : 0, windows: isSearch ? ['burst', 'search'] : ['burst'] });
    const headers = this.headers(key, daily);
    if (decision.allowed) return { allowed: true, headers };
    const policy = POLICIES[decision.refusedBy!]!;
    // The day's Retry-After is the seconds to midnight; a window's is at least 1.
    const seconds = Math.ceil(decision.retryAfterMs! / 1000);
    return { allowed: false, headers, retryAfterSeconds: decision.refusedBy === 'budget' ? seconds : Math.max(1, seconds), body: rateLimitBody(policy.policyName, policy.message) };
  }
}

/**
 * The 429 body as HubSpot's usage guidelines quote it: `{status, message, errorType: "RATE_LIMIT", correlationId,
 * policyName, requestId}`, no `category`
 * (https://community.hubspot.com/t5/APIs-Integrations/Hubspot-User-experience/m-p/511719).
 */
export function rateLimitBody(policyName: string, message: string): Record<string, unknown> {
  return { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: correlationId(), policyName, requestId: randomUUID() };
}
