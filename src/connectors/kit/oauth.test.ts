import { afterEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../core/errors.js';
import type { Clock } from '../../core/http.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../emulators/pipedrive/index.js';
import { ApiClient } from './client.js';
import { RefreshingToken, type RefreshGrant } from './oauth.js';

/** Virtual time shared by the emulator (its token expiry) and the client (when to refresh). */
function virtualClock(start = Date.UTC(2026, 2, 2, 9)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const APP = { clientId: 'ferry-app', clientSecret: 'client-secret-1234', refreshToken: 'refresh-token-5678' };

describe('OAuth refresh-token grant (connector kit) against the emulators', () => {
  let pipedrive: PipedriveEmulator | undefined;
  let hubspot: HubspotEmulator | undefined;
  afterEach(async () => {
    await pipedrive?.close();
    await hubspot?.close();
    pipedrive = hubspot = undefined;
  });

  const pipedriveClient = (emulator: PipedriveEmulator, clock: Clock, grant: Partial<RefreshGrant> = {}) => {
    const token = new RefreshingToken({ vendor: 'Pipedrive', tokenUrl: `${emulator.url}/oauth/token`, clientAuth: 'basic', ...APP, clock, setting: 'source.oauth', ...grant });
    const api = new ApiClient({ vendor: 'Pipedrive', baseUrl: emulator.url, auth: { kind: 'oauth-refresh', grant: token }, pacerRules: [], clock, maxRetries: 1 });
    return { token, api };
  };

  it('Pipedrive: refreshes before the first call and again when the hour is nearly up, with HTTP Basic client auth', async () => {
    const clock = virtualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, oauthApp: { ...APP, accessTokenLifetimeMs: 3_599_000 } });
    const { token, api } = pipedriveClient(pipedrive, clock);
    expect((await api.http.get<{ success: boolean }>('/api/v2/persons')).body.success).toBe(true);
    expect(pipedrive.oauth!.grants).toBe(1);
    // Within the token's life: no new grant.
    clock.advance(50 * 60_000);
    await api.http.get('/api/v2/persons');
    expect(pipedrive.oauth!.grants).toBe(1);
    // Less than the margin left: refreshed ahead of expiry, never a 401 on the way.
    clock.advance(9 * 60_000);
    await api.http.get('/api/v2/persons');
    expect(pipedrive.oauth!.grants).toBe(2);
    expect(token.refreshes).toBe(2);
    expect(pipedrive.log.filter((entry) => entry.status === 401)).toEqual([]);
  });

  it('a 401 to a token that should still be valid (revoked) refreshes once and sends the request again', async () => {
    const clock = virtualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, oauthApp: APP });
    const { api } = pipedriveClient(pipedrive, clock);
    await api.http.get('/api/v2/persons');
    pipedrive.oauth!.revokeAccessTokens();
    // A create: sent once more with the new token (a 401 means it did not run), answered once.
    const created = await api.once.post<{ data: { id: number } }>('/api/v2/organizations', { name: 'Acme' });
    expect(created.body.data.id).toBeGreaterThan(0);
    expect(pipedrive.oauth!.grants).toBe(2);
    expect(pipedrive.store.table('organizations').liveRows().filter((row) => (row.data as { name?: string }).name === 'Acme')).toHaveLength(1);
    expect(pipedrive.log.filter((entry) => entry.status === 401).map((entry) => entry.path)).toEqual(['/api/v2/organizations']);
  });

  it('requests waiting together share one refresh', async () => {
    const clock = virtualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, oauthApp: APP });
    const { api } = pipedriveClient(pipedrive, clock);
    await Promise.all(Array.from({ length: 8 }, () => api.http.get('/api/v2/persons')));
    expect(pipedrive.oauth!.grants).toBe(1);
  });

  it('a refused refresh token is AUTH_FAILED naming the setting, with no secret in the message', async () => {
    const clock = virtualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, oauthApp: APP });
    const { api } = pipedriveClient(pipedrive, clock, { refreshToken: 'revoked-refresh-token' });
    const error = await api.http.get('/api/v2/persons').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('AUTH_FAILED');
    expect((error as FerryError).message).toMatch(/refused the OAuth refresh token \(400: invalid_grant.*source\.oauth/);
    for (const secret of ['revoked-refresh-token', APP.clientSecret]) expect((error as FerryError).message).not.toContain(secret);
    // A wrong client secret: the token endpoint's 401 is the same kind of error.
    const wrong = pipedriveClient(pipedrive, clock, { clientSecret: 'not-the-secret' });
    await expect(wrong.api.http.get('/api/v2/persons')).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('invalid_client') });
  });

  it('a rotated refresh token is used from then on and handed to onRotate', async () => {
    const clock = virtualClock();
    pipedrive = await startPipedriveEmulator({ clock: clock.now, oauthApp: { ...APP, accessTokenLifetimeMs: 120_000 } });
    // The emulator's app rotates when asked to (Pipedrive's does not; some vendors' do).
    (pipedrive.oauth as unknown as { options: { rotateRefreshToken: boolean } }).options.rotateRefreshToken = true;
    const rotated: string[] = [];
    const { api } = pipedriveClient(pipedrive, clock, { onRotate: (next) => rotated.push(next) });
    await api.http.get('/api/v2/persons');
    clock.advance(120_000);
    await api.http.get('/api/v2/persons');
    expect(pipedrive.oauth!.grants).toBe(2);
    expect(rotated).toHaveLength(2);
    expect(rotated[1]).toBe(pipedrive.oauth!.currentRefreshToken);
  });

  it('HubSpot: client id and secret as form fields; an expired token gets EXPIRED_AUTHENTICATION and is refreshed', async () => {
    const clock = virtualClock();
    hubspot = await startHubspotEmulator({ clock: clock.now, oauthApp: APP });
    const token = new RefreshingToken({ vendor: 'HubSpot', tokenUrl: `${hubspot.url}/oauth/v3/token`, clientAuth: 'body', ...APP, clock });
    const api = new ApiClient({ vendor: 'HubSpot', baseUrl: hubspot.url, auth: { kind: 'oauth-refresh', grant: token }, pacerRules: [], clock, maxRetries: 1 });
    expect((await api.http.get('/crm/v3/objects/contacts')).status).toBe(200);
    // The server's clock runs ahead of ours (the margin is not enough): its 401 says expired, we refresh.
    const first = await token.token();
    clock.advance(30 * 60_000);
    expect(hubspot.oauth!.check(first)).toBe('expired');
    const raw = await fetch(`${hubspot.url}/crm/v3/objects/contacts`, { headers: { authorization: `Bearer ${first}` } });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toMatchObject({ category: 'EXPIRED_AUTHENTICATION' });
    expect((await api.http.get('/crm/v3/objects/contacts')).status).toBe(200);
    expect(hubspot.oauth!.grants).toBe(2);
    // A refresh token HubSpot does not know: its BAD_REFRESH_TOKEN answer, as AUTH_FAILED.
    const bad = new RefreshingToken({ vendor: 'HubSpot', tokenUrl: `${hubspot.url}/oauth/v1/token`, clientAuth: 'body', ...APP, refreshToken: 'nope-nope', clock });
    await expect(bad.token()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('BAD_REFRESH_TOKEN: missing or invalid refresh token') });
  });
});
