import { afterEach, describe, expect, it } from 'vitest';
import { readAll } from '../../core/connector.js';
import { isFerryError } from '../../core/errors.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../emulators/pipedrive/index.js';
import { parsePipedriveConnectionConfig, PIPEDRIVE_TOKEN_URL } from './config.js';
import { createPipedriveConnector, type PipedriveConnector } from './index.js';

/** A Pipedrive app's refresh-token grant in the connector's settings, against the emulator's OAuth app. */
const APP = { clientId: 'ferry-marketplace-app', clientSecret: 'app-secret-0001', refreshToken: 'refresh-0001' };

let emulator: PipedriveEmulator | undefined;
let connector: PipedriveConnector | undefined;
afterEach(async () => {
  await connector?.close();
  await emulator?.close();
  emulator = connector = undefined;
});

describe('Pipedrive connector with oauth (refresh-token grant)', () => {
  it('reads and writes with refreshed tokens, also after the app\'s tokens are revoked mid-run', async () => {
    emulator = await startPipedriveEmulator({ oauthApp: APP, burstLimit: { requests: 100_000, intervalMs: 2000 }, seed: { sample: { seed: 3, persons: 12 } } });
    connector = createPipedriveConnector({ oauth: APP, baseUrl: emulator.url, burstLimit: 10_000 });
    const persons = [];
    for await (const person of readAll(connector, 'persons')) persons.push(person);
    expect(persons.length).toBe(12);
    expect(emulator.oauth!.grants).toBe(1);
    emulator.oauth!.revokeAccessTokens();
    const [created] = await connector.create('organizations', [{ ref: 'o1', fields: { name: 'Refreshed Ltd' }, externalId: 'o1' }]);
    expect(created).toMatchObject({ ok: true });
    expect(emulator.oauth!.grants).toBe(2);
    expect(emulator.store.table('organizations').liveRows().filter((row) => (row.data as { name?: string }).name === 'Refreshed Ltd')).toHaveLength(1);
  });

  it('a revoked refresh token stops the run with AUTH_FAILED that names target.oauth and no secret', async () => {
    emulator = await startPipedriveEmulator({ oauthApp: APP });
    connector = createPipedriveConnector({ oauth: { ...APP, refreshToken: 'revoked-0002' }, baseUrl: emulator.url }, { configPath: 'target' });
    const error = await connector.describe().catch((thrown: unknown) => thrown);
    expect(isFerryError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).toContain('target.oauth');
    expect(String((error as Error).message)).not.toContain('revoked-0002');
    expect(String((error as Error).message)).not.toContain(APP.clientSecret);
  });

  it('settings: exactly one way to authenticate; the token URL follows baseUrl or is Pipedrive\'s OAuth server', () => {
    expect(parsePipedriveConnectionConfig({ oauth: APP, companyDomain: 'acme' }).auth).toMatchObject({ kind: 'oauth', refresh: { tokenUrl: PIPEDRIVE_TOKEN_URL } });
    // The api_domain as baseUrl: the OAuth server stays Pipedrive's own host.
    expect(parsePipedriveConnectionConfig({ oauth: APP, baseUrl: 'https://acme.pipedrive.com' }).auth).toMatchObject({ refresh: { tokenUrl: PIPEDRIVE_TOKEN_URL } });
    expect(parsePipedriveConnectionConfig({ oauth: APP, baseUrl: 'http://127.0.0.1:9/' }).auth).toMatchObject({ refresh: { tokenUrl: 'http://127.0.0.1:9/oauth/token' } });
    expect(parsePipedriveConnectionConfig({ oauth: { ...APP, tokenUrl: 'https://proxy.example/token' }, baseUrl: 'http://127.0.0.1:9' }).auth).toMatchObject({ refresh: { tokenUrl: 'https://proxy.example/token' } });
    expect(() => parsePipedriveConnectionConfig({ oauth: APP, apiToken: 'x' })).toThrow(/exactly one of apiToken/);
    expect(() => parsePipedriveConnectionConfig({ oauth: { clientId: 'a', clientSecret: 'b' } })).toThrow(/refreshToken/);
  });
});
