/**
 * The Connect form's OAuth choice over real HTTP, against the HubSpot and Pipedrive emulators' token endpoints:
 * an app's client id, secret and refresh token saved as an `oauth:` block of ferry.yaml with `${VAR}` references
 * (the values only in .ferry/secrets.env), the other choice's settings dropped when switching either way, and a
 * refresh token the token endpoint refuses shown at the refresh-token field.
 */
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { parseSecrets } from '../../src/project/secrets-file.js';
import { writeSampleSqlite } from '../../src/sample/index.js';
import type { ConnectResponse, WizardState } from '../../src/wizard/api.js';
import { startWizardServer } from '../../src/wizard/server/index.js';

const WAIT = 120_000;
const TOKEN = 'pat-eu1-oauth-test-token-5521';
const APP = { clientId: 'ferry-test-client-7f3a', clientSecret: 'client-secret-93c1d8e2', refreshToken: 'refresh-token-5b7e0c44a1' };
const SECRETS = [TOKEN, APP.clientSecret, APP.refreshToken];

interface Reply {
  status: number;
  text: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wizard-oauth-'));
  const projectPath = join(dir, 'ferry.yaml');
  const server = await startWizardServer({ projectPath, cwd: dir, env: { ...process.env, TZ: 'UTC' }, port: 0, uiDir: join(dir, 'no-ui') });
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const session = server.issueSession();
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, method, path, headers: { authorization: `Bearer ${session}`, ...(text !== undefined ? { 'content-type': 'application/json' } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      if (text !== undefined) req.write(text);
      req.end();
    });
  /** A 2xx answer whose text holds none of the secrets. */
  const ok = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const reply = await call(method, path, body);
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
    for (const secret of SECRETS) expect(reply.text, `${method} ${path} sends a secret back`).not.toContain(secret);
    return JSON.parse(reply.text) as T;
  };
  await writeSampleSqlite(join(dir, 'legacy.db'), { seed: 7, size: 20 });
  await ok('POST', '/api/connect', { side: 'source', connector: 'sql', settings: { dialect: 'sqlite', path: 'legacy.db' } });
  const yaml = (): string => readFileSync(projectPath, 'utf8');
  const target = (): Record<string, unknown> => (parseYaml(yaml()) as { target: Record<string, unknown> }).target;
  const secrets = (): Record<string, string> => parseSecrets(readFileSync(join(dir, '.ferry', 'secrets.env'), 'utf8'));
  /** Neither ferry.yaml nor the page's state holds a secret; ferry.yaml reads back. */
  const noLeaks = async (): Promise<WizardState> => {
    if (existsSync(projectPath)) for (const secret of SECRETS) expect(yaml()).not.toContain(secret);
    const state = await ok<WizardState>('GET', '/api/state');
    expect(state.projectError).toBeUndefined();
    return state;
  };
  return { call, ok, yaml, target, secrets, noLeaks };
}

describe('HubSpot through an OAuth app', () => {
  let hubspot: HubspotEmulator;
  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ seed: 'sample', token: TOKEN, oauthApp: APP, burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  });
  afterAll(async () => {
    await hubspot.close();
  });

  it('writes the oauth block with ${VAR} references, keeps the values in the secrets file, and drops the other choice when switching either way', async () => {
    const s = await setup();
    // First a private app token.
    const byToken = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { auth: 'token', baseUrl: hubspot.url }, secrets: { accessToken: TOKEN } });
    expect(byToken).toMatchObject({ connected: true, secretsSet: ['accessToken'] });
    expect(s.target().accessToken).toBe('${FERRY_TARGET_ACCESS_TOKEN}');

    // Then the OAuth app: no token in the request; the token's reference leaves ferry.yaml.
    const grantsBefore = hubspot.oauth!.grants;
    const byApp = await s.ok<ConnectResponse>('POST', '/api/connect', {
      side: 'target',
      connector: 'hubspot',
      settings: { auth: 'oauth', baseUrl: hubspot.url, 'oauth.clientId': APP.clientId, 'oauth.tokenUrl': `${hubspot.url}/oauth/v3/token` },
      secrets: { 'oauth.clientSecret': APP.clientSecret, 'oauth.refreshToken': APP.refreshToken },
    });
    expect(byApp.error).toBeUndefined();
    expect(byApp.connected).toBe(true);
    expect(byApp.objects?.some((object) => object.name === 'contacts')).toBe(true);
    expect([...byApp.secretsSet].sort()).toEqual(['oauth.clientSecret', 'oauth.refreshToken']);
    expect(byApp.settings).toMatchObject({ auth: 'oauth', 'oauth.clientId': APP.clientId, 'oauth.tokenUrl': `${hubspot.url}/oauth/v3/token`, baseUrl: hubspot.url });
    expect(hubspot.oauth!.grants).toBeGreaterThan(grantsBefore); // the connection test traded the refresh token
    expect(s.target()).toEqual({
      connector: 'hubspot',
      baseUrl: hubspot.url,
      oauth: { clientId: APP.clientId, clientSecret: '${FERRY_TARGET_OAUTH_CLIENT_SECRET}', refreshToken: '${FERRY_TARGET_OAUTH_REFRESH_TOKEN}', tokenUrl: `${hubspot.url}/oauth/v3/token` },
    });
    expect(s.secrets()).toMatchObject({ FERRY_TARGET_OAUTH_CLIENT_SECRET: APP.clientSecret, FERRY_TARGET_OAUTH_REFRESH_TOKEN: APP.refreshToken });
    for (const name of Object.keys(s.secrets())) expect(name).toMatch(/^[A-Z_][A-Z0-9_]*$/);
    let state = await s.noLeaks();
    expect(state.target).toMatchObject({ connected: true, settings: { auth: 'oauth', 'oauth.clientId': APP.clientId } });
    expect([...state.target!.secretsSet].sort()).toEqual(['oauth.clientSecret', 'oauth.refreshToken']);

    // Connecting again without the secrets keeps the stored ones (and the token stays out, though it is stored);
    // a setting not sent is kept, as every other one.
    const again = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { auth: 'oauth', baseUrl: hubspot.url, 'oauth.clientId': APP.clientId } });
    expect(again.connected).toBe(true);
    expect(s.target().accessToken).toBeUndefined();
    expect(s.target().oauth).toEqual({ clientId: APP.clientId, clientSecret: '${FERRY_TARGET_OAUTH_CLIENT_SECRET}', refreshToken: '${FERRY_TARGET_OAUTH_REFRESH_TOKEN}', tokenUrl: `${hubspot.url}/oauth/v3/token` });

    // Back to the token: the oauth block goes, whole.
    const back = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { auth: 'token', baseUrl: hubspot.url }, secrets: { accessToken: TOKEN } });
    expect(back).toMatchObject({ connected: true, secretsSet: ['accessToken'] });
    expect(back.settings.auth).toBe('token');
    expect(s.target()).toEqual({ connector: 'hubspot', baseUrl: hubspot.url, accessToken: '${FERRY_TARGET_ACCESS_TOKEN}' });
    expect(s.yaml()).not.toMatch(/oauth|auth:/);
    state = await s.noLeaks();
    expect(state.target).toMatchObject({ connected: true, secretsSet: ['accessToken'] });

    // The choice is one of the spec's options.
    const bad = await s.call('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { auth: 'password' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('settings.auth must be one of token, oauth');
  }, WAIT);

  it('shows a refresh token the token endpoint (/oauth/v1/token) refuses at the refresh-token field; a wrong client secret at its field', async () => {
    const s = await setup();
    const connect = (secrets: Record<string, string>) =>
      s.ok<ConnectResponse>('POST', '/api/connect', {
        side: 'target',
        connector: 'hubspot',
        settings: { auth: 'oauth', baseUrl: hubspot.url, 'oauth.clientId': APP.clientId, 'oauth.tokenUrl': `${hubspot.url}/oauth/v1/token` },
        secrets,
        testOnly: true,
      });
    const wrong = await connect({ 'oauth.clientSecret': APP.clientSecret, 'oauth.refreshToken': 'refresh-token-revoked-0000' });
    expect(wrong.connected).toBe(false);
    expect(wrong.error?.code).toBe('AUTH_FAILED');
    expect(wrong.error?.details?.field).toBe('oauth.refreshToken');
    expect(wrong.error?.message).toMatch(/^HubSpot refused the refresh token \(400 BAD_REFRESH_TOKEN\): the refresh token typed in the form is wrong/);
    expect(wrong.error?.message).toContain('“Refresh token”');
    expect(JSON.stringify(wrong)).not.toContain('refresh-token-revoked-0000');

    const client = await connect({ 'oauth.clientSecret': 'not-the-app-secret-1234', 'oauth.refreshToken': APP.refreshToken });
    expect(client.error?.details?.field).toBe('oauth.clientSecret');
    expect(client.error?.message).toMatch(/did not accept the OAuth app's client id and secret \(400 BAD_CLIENT_ID\)/);
    expect(JSON.stringify(client)).not.toContain('not-the-app-secret-1234');
    // Nothing was saved by a test.
    expect((await s.noLeaks()).target).toBeUndefined();
  }, WAIT);
});

describe('Pipedrive through an OAuth app', () => {
  let pipedrive: PipedriveEmulator;
  beforeAll(async () => {
    pipedrive = await startPipedriveEmulator({ seed: 'sample', token: TOKEN, oauthApp: APP });
  });
  afterAll(async () => {
    await pipedrive.close();
  });

  it('writes the oauth block instead of apiToken (the emulator serves the token endpoint on its base URL), and back', async () => {
    const s = await setup();
    const byToken = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'pipedrive', settings: { auth: 'token', baseUrl: pipedrive.url }, secrets: { apiToken: TOKEN } });
    expect(byToken).toMatchObject({ connected: true, secretsSet: ['apiToken'] });
    expect(s.target().apiToken).toBe('${FERRY_TARGET_API_TOKEN}');

    const byApp = await s.ok<ConnectResponse>('POST', '/api/connect', {
      side: 'target',
      connector: 'pipedrive',
      settings: { auth: 'oauth', baseUrl: pipedrive.url, 'oauth.clientId': APP.clientId },
      secrets: { 'oauth.clientSecret': APP.clientSecret, 'oauth.refreshToken': APP.refreshToken },
    });
    expect(byApp.error).toBeUndefined();
    expect(byApp.connected).toBe(true);
    expect(pipedrive.oauth!.grants).toBeGreaterThan(0);
    // Pipedrive takes exactly one of apiToken and oauth: the token's reference is gone.
    expect(s.target()).toEqual({
      connector: 'pipedrive',
      baseUrl: pipedrive.url,
      oauth: { clientId: APP.clientId, clientSecret: '${FERRY_TARGET_OAUTH_CLIENT_SECRET}', refreshToken: '${FERRY_TARGET_OAUTH_REFRESH_TOKEN}' },
    });
    expect(s.secrets()).toMatchObject({ FERRY_TARGET_OAUTH_CLIENT_SECRET: APP.clientSecret, FERRY_TARGET_OAUTH_REFRESH_TOKEN: APP.refreshToken });
    expect((await s.noLeaks()).target).toMatchObject({ connected: true, settings: { auth: 'oauth' } });

    const wrong = await s.ok<ConnectResponse>('POST', '/api/connect', {
      side: 'target',
      connector: 'pipedrive',
      settings: { auth: 'oauth', baseUrl: pipedrive.url, 'oauth.clientId': APP.clientId },
      secrets: { 'oauth.refreshToken': 'refresh-token-revoked-0000' },
      testOnly: true,
    });
    expect(wrong.error?.details?.field).toBe('oauth.refreshToken');
    expect(wrong.error?.message).toMatch(/^Pipedrive refused the refresh token \(400 invalid_grant\)/);

    const back = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'pipedrive', settings: { auth: 'token', baseUrl: pipedrive.url } });
    expect(back).toMatchObject({ connected: true, secretsSet: ['apiToken'], settings: { auth: 'token' } });
    expect(s.target()).toEqual({ connector: 'pipedrive', baseUrl: pipedrive.url, apiToken: '${FERRY_TARGET_API_TOKEN}' });
    await s.noLeaks();
  }, WAIT);
});
