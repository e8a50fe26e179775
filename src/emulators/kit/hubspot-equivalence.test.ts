import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FaultInjector as HubspotFaults, type FaultRule as HubspotRule } from '../hubspot/faults.js';
import { RateLimiter as HubspotLimiter, type RateLimitOptions } from '../hubspot/limits.js';
import { DailyBudget, FaultInjector, RateLimiter, RollingWindow, type FaultRule } from './index.js';

/**
 * The kit was designed so the HubSpot emulator can move onto it with no change in behaviour
 * (docs/development.md, "Emulator kit"). These properties hold the claim to account: HubSpot's limits composed
 * from kit parts, as that section describes, decide and answer exactly like HubSpot's own RateLimiter, and
 * the kit's fault injector draws exactly like HubSpot's, for random request sequences.
 */
function hubspotOnKit(options: RateLimitOptions, clock: () => number) {
  const limiter = new RateLimiter(
    { burst: new RollingWindow(options.burstLimit), search: new RollingWindow({ requests: options.searchPerSecond, intervalMs: 1000 }) },
    new DailyBudget(options.dailyLimit),
    clock,
  );
  const headers = (token: string, decision: ReturnType<RateLimiter['peek']>, daily: boolean) => {
    const burst = decision.windows.burst!;
    const perSecond = Math.max(1, Math.round((burst.limit * 1000) / burst.intervalMs));
    const usedThisSecond = limiter.windows.burst!.usedWithin(token, 1000, clock());
    const result: Record<string, string> = {
      'X-HubSpot-RateLimit-Max': String(burst.limit),
      'X-HubSpot-RateLimit-Remaining': String(burst.remaining),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(burst.intervalMs),
      'X-HubSpot-RateLimit-Secondly': String(perSecond),
      'X-HubSpot-RateLimit-Secondly-Remaining': String(Math.max(0, perSecond - usedThisSecond)),
    };
    if (daily) {
      result['X-HubSpot-RateLimit-Daily'] = String(decision.budget.budget);
      result['X-HubSpot-RateLimit-Daily-Remaining'] = String(decision.budget.remaining);
    }
    return result;
  };
  // An OAuth app has no daily limit: its requests cost nothing against the budget and carry no -Daily headers.
  return (token: string, isSearch: boolean, daily: boolean) => {
    const windows = isSearch ? ['burst', 'search'] : ['burst'];
    const decision = limiter.admit({ budgetKey: token, windowKey: token, cost: daily ? 1 : 0, windows });
    const policy = { budget: 'DAILY', burst: 'TEN_SECONDLY_ROLLING', search: 'SECONDLY' }[decision.refusedBy ?? ''];
    const retryAfterSeconds = decision.allowed ? undefined : decision.refusedBy === 'budget' ? Math.ceil(decision.retryAfterMs! / 1000) : Math.max(1, Math.ceil(decision.retryAfterMs! / 1000));
    // HubSpot computes the headers over both windows' keys even for a plain request: peek the burst state.
    const state = limiter.peek({ budgetKey: token, windowKey: token, windows: ['burst'] });
    return { allowed: decision.allowed, headers: headers(token, state, daily), retryAfterSeconds, policyName: policy };
  };
}

describe('emulator kit: HubSpot can move onto it with no change in behaviour', () => {
  it('composes HubSpot\'s burst, search and daily limits from kit parts with identical decisions and headers', () => {
    fc.assert(
      fc.property(
        fc.record({ requests: fc.integer({ min: 1, max: 6 }), intervalMs: fc.constantFrom(1000, 2000, 10_000), searchPerSecond: fc.integer({ min: 1, max: 3 }), dailyLimit: fc.integer({ min: 1, max: 25 }) }),
        fc.array(fc.record({ gap: fc.constantFrom(0, 0, 100, 400, 999, 1000, 3000, 86_400_000), search: fc.boolean(), token: fc.constantFrom('a', 'b', 'oauth') }), { maxLength: 60 }),
        (limits, requests) => {
          let now = Date.UTC(2026, 2, 1, 23, 59, 50);
          const clock = () => now;
          const options: RateLimitOptions = { burstLimit: { requests: limits.requests, intervalMs: limits.intervalMs }, searchPerSecond: limits.searchPerSecond, dailyLimit: limits.dailyLimit };
          const hubspot = new HubspotLimiter(structuredClone(options), clock);
          const kit = hubspotOnKit(structuredClone(options), clock);
          for (const request of requests) {
            now += request.gap;
            const daily = request.token !== 'oauth';
            const expected = hubspot.admit(request.token, request.search, daily);
            const actual = kit(request.token, request.search, daily);
            expect(actual.allowed).toBe(expected.allowed);
            expect(actual.headers).toEqual(expected.headers);
            expect(actual.retryAfterSeconds).toBe(expected.retryAfterSeconds);
            expect(actual.policyName).toBe(expected.body?.policyName);
          }
        },
      ),
      { seed: 1414, numRuns: 300 },
    );
  });

  it('draws faults exactly as HubSpot\'s injector does for the same seed, rules and requests', () => {
    const match = fc.record(
      { path: fc.constantFrom('/crm/v3/objects/*', '/crm/v3/owners', '/crm/v3/objects/contacts/batch/create'), method: fc.constantFrom('GET', 'POST'), probability: fc.constantFrom(0.3, 0.7, 1), count: fc.integer({ min: 1, max: 4 }), skip: fc.integer({ min: 0, max: 2 }) },
      { requiredKeys: [] },
    );
    const rule = fc.oneof(
      match.map((m) => ({ kind: 'latency' as const, ms: 5, ...m })),
      match.map((m) => ({ kind: 'server-error' as const, status: 503 as const, ...m })),
      fc.tuple(match, fc.boolean()).map(([m, afterWrite]) => ({ kind: 'drop-connection' as const, afterWrite, ...m })),
      match.map((m) => ({ kind: 'rate-limit' as const, policyName: 'DAILY' as const, ...m })),
      match.map((m) => ({ kind: 'partial-batch' as const, fraction: 0.5, ...m })),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(rule, { maxLength: 5 }),
        fc.array(fc.record({ method: fc.constantFrom('GET', 'POST'), path: fc.constantFrom('/crm/v3/objects/contacts', '/crm/v3/owners', '/crm/v3/objects/contacts/batch/create'), batch: fc.boolean() }), { maxLength: 30 }),
        (seed, rules, requests) => {
          const hubspot = new HubspotFaults(seed);
          const kit = new FaultInjector(seed);
          for (const each of rules) {
            hubspot.add(each as HubspotRule);
            kit.add(each as FaultRule);
          }
          for (const request of requests) {
            expect(kit.evaluate(request.method, request.path, request.batch)).toEqual(hubspot.evaluate(request.method, request.path, request.batch));
            expect(kit.draw()).toBe(hubspot.draw());
          }
          expect(kit.fired()).toEqual(hubspot.fired());
        },
      ),
      { seed: 1415, numRuns: 300 },
    );
  });
});
