import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DailyBudget, FaultInjector, RateLimiter, RecordStore, RollingWindow, bearerToken, headerToken, queryToken } from './index.js';

describe('emulator kit: rolling windows', () => {
  it('admits at most N requests in any interval (model check against a naive count)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 100, max: 2000 }), fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 40 }), (limit, intervalMs, gaps) => {
        const window = new RollingWindow({ requests: limit, intervalMs });
        const admitted: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const naive = admitted.filter((stamp) => stamp > now - intervalMs).length;
          const full = window.full('k', now);
          expect(full).toBe(naive >= limit);
          if (!full) {
            window.record('k', now);
            admitted.push(now);
          }
          const state = window.state('k', now);
          expect(state.used).toBe(Math.min(limit, naive + (full ? 0 : 1)));
          expect(state.remaining).toBe(limit - state.used);
        }
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('keeps keys apart and tells when the oldest request leaves', () => {
    const window = new RollingWindow({ requests: 2, intervalMs: 2000 });
    window.record('a', 1000);
    window.record('a', 1500);
    expect(window.full('a', 1600)).toBe(true);
    expect(window.full('b', 1600)).toBe(false);
    expect(window.state('a', 1600).resetInMs).toBe(1400);
    expect(window.usedWithin('a', 200, 1600)).toBe(1);
    expect(window.full('a', 3000)).toBe(false); // the first left at exactly 1000 + 2000
  });
});

describe('emulator kit: daily budgets and the limiter', () => {
  it('spends costs per key, refuses what would go over, and resets at the (offset) day start', () => {
    const budget = new DailyBudget(25, 0);
    const day = Date.UTC(2026, 2, 1);
    budget.spend('c', 20, day + 10);
    expect(budget.wouldExceed('c', 5, day + 20)).toBe(false);
    expect(budget.wouldExceed('c', 6, day + 20)).toBe(true);
    expect(budget.wouldExceed('c', 0, day + 20)).toBe(false);
    expect(budget.state('c', day + 20)).toEqual({ budget: 25, used: 20, remaining: 5, resetInMs: 86_400_000 - 20 });
    expect(budget.state('c', day + 86_400_000).used).toBe(0);
    const shifted = new DailyBudget(10, 3_600_000);
    shifted.spend('c', 10, day + 3_600_000 - 1); // still the previous day until 01:00
    expect(shifted.state('c', day + 3_600_000).used).toBe(0);
  });

  it('checks the budget first, then windows in order, and counts a refused request nowhere', () => {
    let now = Date.UTC(2026, 2, 1, 12);
    const limiter = new RateLimiter({ burst: new RollingWindow({ requests: 3, intervalMs: 2000 }), search: new RollingWindow({ requests: 1, intervalMs: 2000 }) }, new DailyBudget(100), () => now);
    expect(limiter.admit({ budgetKey: 'co', windowKey: 't', cost: 20, windows: ['burst', 'search'] }).allowed).toBe(true);
    const second = limiter.admit({ budgetKey: 'co', windowKey: 't', cost: 20, windows: ['burst', 'search'] });
    expect(second).toMatchObject({ allowed: false, refusedBy: 'search' });
    expect(second.budget.used).toBe(20);
    expect(second.windows.burst!.used).toBe(1);
    expect(limiter.admit({ budgetKey: 'co', windowKey: 't', cost: 70, windows: ['burst'] }).allowed).toBe(true);
    const broke = limiter.admit({ budgetKey: 'co', windowKey: 't', cost: 20, windows: ['burst'] });
    expect(broke).toMatchObject({ allowed: false, refusedBy: 'budget' });
    expect(broke.retryAfterMs).toBe(12 * 3_600_000);
    now += 2000;
    expect(limiter.admit({ budgetKey: 'co', windowKey: 't', cost: 10, windows: ['burst'] }).budget.remaining).toBe(0);
  });
});

describe('emulator kit: fault injection', () => {
  it('repeats the same faults for the same seed and requests', () => {
    const fire = (seed: number) => {
      const faults = new FaultInjector(seed);
      faults.serverError(503, { probability: 0.3 });
      faults.latency(5, { probability: 0.5, path: '/a/*' });
      return Array.from({ length: 50 }, (_, index) => {
        const t = faults.evaluate('GET', index % 2 ? '/a/x' : '/b', false);
        return `${t.terminal?.kind ?? '-'}:${t.latencyMs}`;
      });
    };
    expect(fire(9)).toEqual(fire(9));
    expect(fire(9)).not.toEqual(fire(10));
    expect(fire(9).some((outcome) => outcome.startsWith('server-error'))).toBe(true);
  });

  it('honours method, path, skip and count; the first terminal rule wins; partial only where eligible', () => {
    const faults = new FaultInjector();
    const drop = faults.dropConnection({ method: 'POST', path: '/api/v2/*', skip: 1, count: 2, afterWrite: true });
    faults.rateLimitStorm({ count: 1, policyName: 'burst' });
    faults.partialBatch(0.5, { path: '/bulk' });
    expect(faults.evaluate('GET', '/api/v2/deals', false).terminal?.kind).toBe('rate-limit');
    expect(faults.evaluate('POST', '/api/v2/deals', false).terminal).toBeUndefined(); // skipped once
    expect(faults.evaluate('POST', '/api/v2/deals', false).terminal).toMatchObject({ kind: 'drop-connection', afterWrite: true });
    expect(faults.evaluate('POST', '/api/v2/deals', false).terminal?.kind).toBe('drop-connection');
    expect(faults.evaluate('POST', '/api/v2/deals', false).terminal).toBeUndefined(); // count spent
    expect(faults.fired()[drop]).toBe(2);
    expect(faults.evaluate('POST', '/bulk', false).partialBatchFraction).toBeUndefined();
    expect(faults.evaluate('POST', '/bulk', true).partialBatchFraction).toBe(0.5);
    faults.clear();
    expect(faults.evaluate('POST', '/bulk', true)).toEqual({ latencyMs: 0 });
  });
});

describe('emulator kit: record store', () => {
  it('sets ids per table or shared, and times from the injected clock', () => {
    let now = 1000;
    const perTable = new RecordStore(() => now);
    const deals = perTable.table<{ title: string }>('deals');
    const persons = perTable.table<{ name: string }>('persons');
    expect(deals.insert({ title: 'a' }).id).toBe(1);
    expect(persons.insert({ name: 'p' }).id).toBe(1);
    expect(deals.insert({ title: 'b' }, { addTime: 10 })).toMatchObject({ id: 2, addTime: 10, updateTime: 1000 });
    now = 2000;
    expect(deals.update(1, (data) => (data.title = 'A'))).toMatchObject({ updateTime: 2000, addTime: 1000, data: { title: 'A' } });
    now = 3000;
    expect(deals.markDeleted(2)).toMatchObject({ deleted: true, deleteTime: 3000, updateTime: 3000 });
    expect(deals.markDeleted(2)).toBeUndefined();
    expect(deals.live(2)).toBeUndefined();
    expect(deals.liveRows().map((row) => row.id)).toEqual([1]);
    const shared = new RecordStore(() => now, { sequences: 'shared', firstId: 1_000_001 });
    expect(shared.table('contacts').insert({}).id).toBe(1_000_001);
    expect(shared.table('companies').insert({}).id).toBe(1_000_002);
  });
});

describe('emulator kit: credentials', () => {
  it('reads bearer, header and query tokens', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'bearer  abc' })).toBe('abc');
    expect(bearerToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(headerToken({ 'x-api-token': 't' }, 'X-Api-Token')).toBe('t');
    expect(headerToken({}, 'x-api-token')).toBeUndefined();
    expect(queryToken(new URLSearchParams('api_token=q'), 'api_token')).toBe('q');
    expect(queryToken(new URLSearchParams('api_token='), 'api_token')).toBeUndefined();
  });
});
