import { randomUUID } from 'node:crypto';
import { correlationId } from './errors.js';

/**
 * HubSpot's rate limits, per account (the emulator's one token stands for one account):
 * - burst: a rolling window, 100 requests per 10 s for Free/Starter private apps, 190 for Professional/Enterprise,
 *   250 with the API limit increase pack
 *   (https://developers.hubspot.com/changelog/increasing-our-api-limits,
 *   https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines.md);
 * - daily: 250,000 by default, reset at midnight (the account's time zone; UTC here);
 * - search: its own per-second limit (4/s in https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase,
 *   5/s in the current search guide's limitations).
 * A refused request answers 429 with `{status, message, errorType:"RATE_LIMIT", correlationId, policyName, requestId}`
 * (policyName TEN_SECONDLY_ROLLING or DAILY; format quoted from the usage guidelines in
 * https://community.hubspot.com/t5/APIs-Integrations/Hubspot-User-experience/m-p/511719).
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

const DAY = 86_400_000;

export class RateLimiter {
  private readonly burst = new Map<string, number[]>();
  private readonly search = new Map<string, number[]>();
  private readonly daily = new Map<string, { day: number; used: number }>();

  constructor(
    readonly options: RateLimitOptions,
    private readonly clock: () => number,
  ) {}

  private window(map: Map<string, number[]>, key: string, intervalMs: number, now: number): number[] {
    const stamps = (map.get(key) ?? []).filter((stamp) => stamp > now - intervalMs);
    map.set(key, stamps);
    return stamps;
  }

  private dailyUsage(key: string, now: number): { day: number; used: number } {
    const day = Math.floor(now / DAY);
    let usage = this.daily.get(key);
    if (!usage || usage.day !== day) {
      usage = { day, used: 0 };
      this.daily.set(key, usage);
    }
    return usage;
  }

  /**
   * Standard headers for a response, after this request was (or was not) counted. `daily: false` (OAuth apps)
   * leaves out -Daily and -Daily-Remaining: "OAuth authenticated calls will not include X-HubSpot-RateLimit-Daily
   * or X-HubSpot-RateLimit-Daily-Remaining because there is no daily limit for these calls"
   * (https://community.hubspot.com/t5/Developer-Announcements/Rate-limit-headers-will-now-appear-for-OAuth-authenticated-calls/m-p/399520).
   */
  headers(key: string, daily = true): Record<string, string> {
    const now = this.clock();
    const { requests, intervalMs } = this.options.burstLimit;
    const stamps = this.window(this.burst, key, intervalMs, now);
    const used = stamps.length;
    const usedThisSecond = stamps.filter((stamp) => stamp > now - 1000).length;
    const usage = this.dailyUsage(key, now);
    const perSecond = Math.max(1, Math.round((requests * 1000) / intervalMs));
    // Header names: X-HubSpot-RateLimit-Daily / -Daily-Remaining
    // (https://developers.hubspot.com/changelog/2018-11-06-rate-limit-information-headers-will-be-included-in-http-responses)
    // and -Max / -Remaining / -Interval-Milliseconds / -Secondly / -Secondly-Remaining (usage guidelines page).
    const headers: Record<string, string> = {
      'X-HubSpot-RateLimit-Max': String(requests),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, requests - used)),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(intervalMs),
      'X-HubSpot-RateLimit-Secondly': String(perSecond),
      'X-HubSpot-RateLimit-Secondly-Remaining': String(Math.max(0, perSecond - usedThisSecond)),
    };
    if (daily) {
      headers['X-HubSpot-RateLimit-Daily'] = String(this.options.dailyLimit);
      headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(Math.max(0, this.options.dailyLimit - usage.used));
    }
    return headers;
  }

  /**
   * Starts the daily count afresh, as HubSpot does at midnight (tests: "the next day" without moving the
   * clock), optionally with a new daily limit.
   */
  resetDaily(dailyLimit?: number): void {
    this.daily.clear();
    if (dailyLimit !== undefined) this.options.dailyLimit = dailyLimit;
  }

  /** Requests counted today for this token. */
  usedToday(key: string): number {
    return this.dailyUsage(key, this.clock()).used;
  }

  /** Counts the request if it is allowed; refused requests are not counted. `daily: false`: no daily limit (OAuth apps). */
  admit(key: string, isSearch: boolean, daily = true): RateDecision {
    const now = this.clock();
    const usage = this.dailyUsage(key, now);
    if (daily && usage.used >= this.options.dailyLimit) {
      const retryAfter = Math.ceil(((usage.day + 1) * DAY - now) / 1000);
      return {
        allowed: false,
        headers: this.headers(key, daily),
        retryAfterSeconds: retryAfter,
        body: rateLimitBody('DAILY', 'You have reached your daily limit.'),
      };
    }
    const { requests, intervalMs } = this.options.burstLimit;
    const burst = this.window(this.burst, key, intervalMs, now);
    if (burst.length >= requests) {
      const retryAfter = Math.max(1, Math.ceil((burst[0]! + intervalMs - now) / 1000));
      return { allowed: false, headers: this.headers(key, daily), retryAfterSeconds: retryAfter, body: rateLimitBody('TEN_SECONDLY_ROLLING', 'You have reached your ten_secondly_rolling limit.') };
    }
    if (isSearch) {
      const searches = this.window(this.search, key, 1000, now);
      if (searches.length >= this.options.searchPerSecond) {
        const retryAfter = Math.max(1, Math.ceil((searches[0]! + 1000 - now) / 1000));
        return { allowed: false, headers: this.headers(key, daily), retryAfterSeconds: retryAfter, body: rateLimitBody('SECONDLY', 'You have reached your secondly limit.') };
      }
      searches.push(now);
    }
    burst.push(now);
    usage.used++;
    return { allowed: true, headers: this.headers(key, daily) };
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
