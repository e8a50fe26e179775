import { afterEach, describe, expect, it } from 'vitest';
import { readAll } from '../../core/connector.js';
import type { Clock } from '../../core/http.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { parseHubspotConnectionConfig } from './config.js';
import { createHubspotConnector } from './index.js';

/** An OAuth app's refresh-token grant in the HubSpot connector's settings, against the emulator's OAuth app. */
const APP = { clientId: 'ferry-public-app', clientSecret: 'hs-app-secret-01', refreshToken: 'hs-refresh-01' };

/** One virtual clock for the emulator (token expiry) and the connector (when to refresh, pacing). */
function virtualClock(): Clock & { advance(ms: number): void } {
  let now = Date.UTC(2026, 5, 1, 9);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

let hubspot: HubspotEmulator | undefined;
afterEach(async () => {
  await hubspot?.close();
  hubspot = undefined;
});

describe('HubSpot connector with oauth (refresh-token grant)', () => {
  it('a run longer than the 30-minute token: refreshed ahead of expiry, no 401, every record read', async () => {
    const clock = virtualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, oauthApp: APP, seed: { sample: { seed: 4, contacts: 30 } }, burstLimit: { requests: 100_000, intervalMs: 10_000 } });
    const connector = createHubspotConnector({ oauth: APP, baseUrl: hubspot.url, burstLimit: 1000 }, { clock });
    const contacts = [];
    for await (const contact of readAll(connector, 'contacts', { limit: 10 })) {
      contacts.push(contact);
      clock.advance(8 * 60_000); // each page "takes" minutes: the run outlives several access tokens
    }
    expect(contacts.length).toBe(30);
    expect(hubspot.oauth!.grants).toBeGreaterThanOrEqual(2);
    expect(hubspot.store.requests.filter((entry) => entry.status === 401)).toEqual([]);
    // No daily limit for OAuth apps: the budget saw no -Daily headers and never stopped the run.
    expect(connector.usage?.()).toMatchObject({ limit: undefined });
  });

  it('an uninstalled app (refresh token revoked) is AUTH_FAILED naming source.oauth, secrets redacted', async () => {
    hubspot = await startHubspotEmulator({ oauthApp: APP });
    const connector = createHubspotConnector({ oauth: { ...APP, refreshToken: 'hs-revoked-02' }, baseUrl: hubspot.url }, { configPath: 'source' });
    const error = (await connector.describe().catch((thrown: unknown) => thrown)) as Error & { code?: string };
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('BAD_REFRESH_TOKEN');
    expect(error.message).toContain('source.oauth');
    for (const secret of ['hs-revoked-02', APP.clientSecret]) expect(error.message).not.toContain(secret);
  });

  it('settings: accessToken or oauth is required; the token URL defaults to the API host', () => {
    expect(parseHubspotConnectionConfig({ oauth: APP }).oauth?.tokenUrl).toBe('https://api.hubapi.com/oauth/v3/token');
    expect(parseHubspotConnectionConfig({ oauth: APP, baseUrl: 'http://127.0.0.1:9/' }).oauth?.tokenUrl).toBe('http://127.0.0.1:9/oauth/v3/token');
    expect(() => parseHubspotConnectionConfig({ baseUrl: 'http://127.0.0.1:9' }, { configPath: 'target' })).toThrow(/target\.accessToken: is required/);
  });
});
