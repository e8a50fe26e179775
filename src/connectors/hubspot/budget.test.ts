import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/http.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { createHubspotConnector } from './index.js';

/**
 * HubSpot's daily API limit through the kit's RequestBudget: the connector learns the limit and what is left from
 * the -Daily headers and stops resumably before a request would eat into `dailyReserve` (no 429 spent), with
 * writes in flight counted, and `usage()` says what it spent.
 */
const FAST = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };

function virtualClock(): Clock {
  let now = Date.UTC(2026, 5, 1, 9);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

let hubspot: HubspotEmulator | undefined;
afterEach(async () => {
  await hubspot?.close();
  hubspot = undefined;
});

describe('the daily limit as a request budget', () => {
  it('reads stop with a resumable RATE_LIMITED before the reserve is touched, and usage() reports spent, limit and left', async () => {
    hubspot = await startHubspotEmulator({ ...FAST, dailyLimit: 30 });
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, dailyReserve: 5 }, { clock: virtualClock() });
    const stopped = await (async () => {
      for (let index = 0; index < 100; index++) await connector.read('companies', { limit: 1, fields: ['name'] });
      return undefined;
    })().catch((error: unknown) => error as Error & { code: string; details: Record<string, unknown> });
    expect(stopped?.code).toBe('RATE_LIMITED');
    expect(stopped?.details.resumable).toBe(true);
    expect(stopped?.message).toMatch(/^HubSpot daily API budget reached \(5 requests left of 30, 5 kept in reserve, the next request costs 1\): the run stops here, before the budget is spent, and is resumable/);
    expect(hubspot.stats.status429).toBe(0);
    expect(hubspot.limits.usedToday()).toBe(25);
    expect(connector.usage()).toMatchObject({ unit: 'requests', spent: 25, limit: 30, remaining: 5 });
  });

  it('concurrent batch creates never spend the reserve between them: the stop comes with the reserve untouched', async () => {
    hubspot = await startHubspotEmulator({ ...FAST, dailyLimit: 40 });
    const emulator = hubspot;
    const connector = createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, burstLimit: 1000, dailyReserve: 10 }, { clock: virtualClock() });
    await connector.describe();
    const used = emulator.limits.usedToday();
    expect(used).toBeLessThan(30);
    // Each create of 300 contacts is 3 batches in flight at once; repeated until the budget stops it.
    let stop: (Error & { code: string }) | undefined;
    for (let round = 0; round < 20 && !stop; round++) {
      await connector
        .create('contacts', Array.from({ length: 300 }, (_, index) => ({ ref: `${round}-${index}`, fields: { email: `c${round}-${index}@example.com` } })))
        .catch((error: unknown) => {
          stop = error as Error & { code: string };
        });
    }
    expect(stop?.code).toBe('RATE_LIMITED');
    expect(emulator.stats.status429).toBe(0);
    expect(40 - emulator.limits.usedToday()).toBeGreaterThanOrEqual(10);
    expect(connector.usage().spent).toBe(emulator.limits.usedToday());
  });

  it('a dailyReserve that is not a whole number of requests is refused naming the setting', () => {
    expect(() => createHubspotConnector({ accessToken: 't', dailyReserve: -1 }, { configPath: 'target' })).toThrow(/target\.dailyReserve/);
  });
});
