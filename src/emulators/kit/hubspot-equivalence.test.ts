import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FaultInjector as HubspotFaults } from '../hubspot/faults.js';
import { RateLimiter as HubspotLimiter, type RateLimitOptions } from '../hubspot/limits.js';
import { FaultInjector } from './index.js';

/**
 * HubSpot's emulator moved onto the kit with no change in behaviour (docs/development.md, "Emulator kit"). These
 * properties hold the claim to account: HubSpot's limits, now composed from kit parts (src/emulators/hubspot/limits.ts),
 * decide and answer exactly like the emulator's own limiter from before the move, kept here as the reference
 * model; and HubSpot's fault injector is the kit's (it was a copy, checked draw for draw before the move).
 */
const DAY = 86_400_000;

/** The HubSpot emulator's rate limiter before it moved onto the kit (its own windows and day counter). */
class ReferenceLimiter {
  private readonly burst = new Map<string, number[]>();
  private readonly search = new Map<string, number[]>();
  private readonly daily = new Map<string, { day: number; used: number }>();

  constructor(
    private readonly options: RateLimitOptions,
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
  admit(key: string, isSearch: boolean, daily = true): { allowed: boolean; headers: Record<string, string>; retryAfterSeconds?: number; policyName?: string } {
    const now = this.clock();
    const usage = this.dailyUsage(key, now);
    if (daily && usage.used >= this.options.dailyLimit) {
      const retryAfter = Math.ceil(((usage.day + 1) * DAY - now) / 1000);
      return {
        allowed: false,
        headers: this.headers(key, daily),
        retryAfterSeconds: retryAfter,
        policyName: 'DAILY',
      };
    }
    const { requests, intervalMs } = this.options.burstLimit;
    const burst = this.window(this.burst, key, intervalMs, now);
    if (burst.length >= requests) {
      const retryAfter = Math.max(1, Math.ceil((burst[0]! + intervalMs - now) / 1000));
      return { allowed: false, headers: this.headers(key, daily), retryAfterSeconds: retryAfter, policyName: 'TEN_SECONDLY_ROLLING' };
    }
    if (isSearch) {
      const searches = this.window(this.search, key, 1000, now);
      if (searches.length >= this.options.searchPerSecond) {
        const retryAfter = Math.max(1, Math.ceil((searches[0]! + 1000 - now) / 1000));
        return { allowed: false, headers: this.headers(key, daily), retryAfterSeconds: retryAfter, policyName: 'SECONDLY' };
      }
      searches.push(now);
    }
    burst.push(now);
    usage.used++;
    return { allowed: true, headers: this.headers(key, daily) };
  }
}

describe('emulator kit: HubSpot moved onto it with no change in behaviour', () => {
  it('HubSpot\'s burst, search and daily limits, composed from kit parts, decide and answer as before the move', () => {
    fc.assert(
      fc.property(
        fc.record({ requests: fc.integer({ min: 1, max: 6 }), intervalMs: fc.constantFrom(1000, 2000, 10_000), searchPerSecond: fc.integer({ min: 1, max: 3 }), dailyLimit: fc.integer({ min: 1, max: 25 }) }),
        fc.array(fc.record({ gap: fc.constantFrom(0, 0, 100, 400, 999, 1000, 3000, 86_400_000), search: fc.boolean(), token: fc.constantFrom('a', 'b', 'oauth'), reset: fc.constantFrom(false, false, false, false, false, true) }), { maxLength: 60 }),
        (limits, requests) => {
          let now = Date.UTC(2026, 2, 1, 23, 59, 50);
          const clock = () => now;
          const options: RateLimitOptions = { burstLimit: { requests: limits.requests, intervalMs: limits.intervalMs }, searchPerSecond: limits.searchPerSecond, dailyLimit: limits.dailyLimit };
          const reference = new ReferenceLimiter(structuredClone(options), clock);
          const hubspot = new HubspotLimiter(structuredClone(options), clock);
          for (const request of requests) {
            now += request.gap;
            if (request.reset) {
              // The test hook for HubSpot's midnight reset, sometimes with a new limit.
              reference.resetDaily(request.search ? limits.dailyLimit + 1 : undefined);
              hubspot.resetDaily(request.search ? limits.dailyLimit + 1 : undefined);
            }
            const daily = request.token !== 'oauth';
            const expected = reference.admit(request.token, request.search, daily);
            const actual = hubspot.admit(request.token, request.search, daily);
            expect(actual.allowed).toBe(expected.allowed);
            expect(actual.headers).toEqual(expected.headers);
            expect(actual.retryAfterSeconds).toBe(expected.retryAfterSeconds);
            expect(actual.body?.policyName).toBe(expected.policyName);
            expect(hubspot.usedToday(request.token)).toBe(daily ? reference.usedToday(request.token) : 0);
            // The uncounted headers a 429-storm fault's answer carries.
            expect(hubspot.headers(request.token, daily)).toEqual(reference.headers(request.token, daily));
          }
        },
      ),
      { seed: 1414, numRuns: 300 },
    );
  });

  it('HubSpot\'s fault injector is the kit\'s, so a seed, rules and requests draw as in every kit emulator', () => {
    expect(HubspotFaults).toBe(FaultInjector);
  });
});
