/**
 * The Connect form's OAuth choice in Chromium: the demo data as the source, and the HubSpot emulator as the target
 * through an OAuth app (its token endpoint trades the refresh token). The token field goes away (and is not
 * required) once "OAuth app" is chosen; a refresh token the emulator refuses is shown at the refresh-token field;
 * the right one connects and the page lists HubSpot's objects. Secrets never show up in the page or ferry.yaml.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, expect } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { parseSecrets } from '../../src/project/secrets-file.js';
import { journeyStep, openWizard, screenshot, textMatching, type Harness } from './browser-helpers.js';
import { describeInChromium } from './browser-gate.js';

const APP = { clientId: 'ferry-browser-client-4e1b', clientSecret: 'browser-client-secret-77aa', refreshToken: 'browser-refresh-token-0c9d31' };
const WRONG_REFRESH = 'browser-refresh-token-revoked';

describeInChromium('wizard page in Chromium, HubSpot (emulator) connected through an OAuth app', () => {
  let h: Harness;
  let hubspot: HubspotEmulator;

  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ seed: 'sample', token: 'private-app-token-unused-1234', oauthApp: APP, burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    h = await openWizard();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await hubspot?.close();
  }, 120_000);

  /** Neither the page nor ferry.yaml holds a secret (once no form holds a typed one). */
  const expectNoSecrets = async (): Promise<void> => {
    const html = await h.page.content();
    const yaml = await readFile(h.projectPath, 'utf8');
    for (const secret of [APP.clientSecret, APP.refreshToken, WRONG_REFRESH]) {
      expect(html).not.toContain(secret);
      expect(yaml).not.toContain(secret);
    }
  };

  const step = journeyStep(() => h, 'FAILED-oauth-');

  step('connects HubSpot through an OAuth app: a refused refresh token at its field, then its objects', async () => {
    const { page } = h;
    await page.getByLabel('Contacts in the demo data').fill('20');
    await page.getByRole('button', { name: 'Use the demo data' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'demo data is ready' }), /demo data is ready/);

    const target = page.locator('section[data-side="target"]');
    await target.getByRole('button', { name: 'Change the target connection' }).click();
    await target.getByLabel('Kind of CRM or data').selectOption('hubspot');
    // The token by default; the OAuth app's fields only once it is chosen.
    const token = target.getByLabel(/Private app access token/);
    expect(await token.getAttribute('required')).not.toBeNull();
    expect(await target.getByLabel(/Refresh token/).count()).toBe(0);
    await target.getByLabel(/Sign in with/).selectOption({ label: 'OAuth app (client id, secret and refresh token)' });
    expect(await token.count()).toBe(0);

    await target.getByLabel(/API base URL/).fill(hubspot.url);
    const clientId = target.getByLabel(/OAuth app client id/);
    expect(await clientId.getAttribute('type')).toBe('text'); // not a secret
    await clientId.fill(APP.clientId);
    const secret = target.getByLabel(/OAuth app client secret/);
    const refresh = target.getByLabel(/Refresh token/);
    for (const field of [secret, refresh]) {
      expect(await field.getAttribute('type')).toBe('password');
      expect(await field.getAttribute('required')).not.toBeNull();
    }
    await secret.fill(APP.clientSecret);
    await refresh.fill(WRONG_REFRESH);
    await target.getByLabel(/Token URL/).fill(`${hubspot.url}/oauth/v1/token`);

    // A refresh token HubSpot does not know: said at that field, which is marked invalid.
    await target.getByRole('button', { name: 'Test the connection' }).click();
    const fieldError = await textMatching(target.getByTestId('field-error'), /refused the refresh token/);
    expect(fieldError).toMatch(/^HubSpot refused the refresh token \(400 BAD_REFRESH_TOKEN\): the refresh token typed in the form is wrong/);
    expect(await refresh.getAttribute('aria-invalid')).toBe('true');
    expect(await refresh.getAttribute('aria-describedby')).toContain((await target.getByTestId('field-error').getAttribute('id')) ?? '-');
    await textMatching(target.getByRole('alert'), /See “Refresh token” above/);
    await screenshot(page, 'oauth-01-refused-refresh-token');
    // The form holds what was typed (in password fields); nothing else on the page does.
    const shown = await page.locator('body').innerText();
    for (const value of [APP.clientSecret, WRONG_REFRESH]) expect(shown).not.toContain(value);
    expect(await readFile(h.projectPath, 'utf8')).not.toContain('hubspot'); // a test saves nothing

    // The install's refresh token: connected, and HubSpot's objects are listed.
    await refresh.fill(APP.refreshToken);
    await target.getByRole('button', { name: 'Save and connect' }).click();
    await textMatching(target.locator('.side-status p').first(), /^Connected HubSpot \(CRM API v3\) \(OAuth app \(client id, secret and refresh token\), oauth\.clientId: ferry-browser-client-4e1b, oauth\.tokenUrl: http:\/\/127\.0\.0\.1:\d+\/oauth\/v1\/token, baseUrl: http:\/\/127\.0\.0\.1:\d+\)$/);
    const objects = target.getByTestId('target-objects');
    await textMatching(objects.locator('caption'), /What the target holds: \d+ objects/);
    for (const name of ['contacts', 'companies', 'deals']) expect(await objects.locator(`tr[data-object="${name}"]`).count()).toBe(1);
    expect(hubspot.oauth!.grants).toBeGreaterThan(0);
    await screenshot(page, 'oauth-02-connected');

    const saved = (parseYaml(await readFile(h.projectPath, 'utf8')) as { target: Record<string, unknown> }).target;
    expect(saved).toEqual({
      connector: 'hubspot',
      baseUrl: hubspot.url,
      oauth: { clientId: APP.clientId, clientSecret: '${FERRY_TARGET_OAUTH_CLIENT_SECRET}', refreshToken: '${FERRY_TARGET_OAUTH_REFRESH_TOKEN}', tokenUrl: `${hubspot.url}/oauth/v1/token` },
    });
    const secrets = parseSecrets(await readFile(join(h.projectPath, '..', '.ferry', 'secrets.env'), 'utf8'));
    expect(secrets).toMatchObject({ FERRY_TARGET_OAUTH_CLIENT_SECRET: APP.clientSecret, FERRY_TARGET_OAUTH_REFRESH_TOKEN: APP.refreshToken });
    await expectNoSecrets();
  });

  step('opens the form again on the OAuth app, with the secrets stored (not shown, not required)', async () => {
    const { page } = h;
    const target = page.locator('section[data-side="target"]');
    await target.getByRole('button', { name: 'Change the target connection' }).click();
    expect(await target.getByLabel(/Sign in with/).inputValue()).toBe('oauth');
    expect(await target.getByLabel(/OAuth app client id/).inputValue()).toBe(APP.clientId);
    const refresh = target.getByLabel(/Refresh token/);
    expect(await refresh.inputValue()).toBe('');
    expect(await refresh.getAttribute('required')).toBeNull();
    await textMatching(target.locator(`#${(await refresh.getAttribute('aria-describedby'))!.split(' ')[0]}`), /Stored already: leave empty to keep it\./);
    await target.getByRole('button', { name: 'Test the connection' }).click();
    await textMatching(target.getByRole('status').filter({ hasText: 'The connection works' }), /The connection works: \d+ objects found/);
    await expectNoSecrets();
    expect(h.problems).toEqual([]);
  });
});
