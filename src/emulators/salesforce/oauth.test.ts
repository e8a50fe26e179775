import { generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from './index.js';
import { call, manualClock, soql } from './test-support.js';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = Date.UTC(2024, 2, 17, 12);

function jwt(claims: Record<string, unknown>, privateKey = keys.privateKey, alg = 'RS256'): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg })}.${encode(claims)}`;
  return `${body}.${sign('RSA-SHA256', Buffer.from(body), privateKey).toString('base64url')}`;
}

async function token(salesforce: SalesforceEmulator, form: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${salesforce.url}/services/oauth2/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('Salesforce emulator: OAuth token endpoint', () => {
  let salesforce: SalesforceEmulator | undefined;
  afterEach(async () => {
    await salesforce?.close();
    salesforce = undefined;
  });

  it('grants a token for a JWT signed with the connected app\'s key, and the token works on the REST API', async () => {
    const clock = manualClock(NOW);
    salesforce = await startSalesforceEmulator({ clock: clock.now, connectedApp: { clientId: 'CONSUMER_KEY', clientSecret: 'secret', publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() } });
    const claims = { iss: 'CONSUMER_KEY', sub: salesforce.username, aud: salesforce.url, exp: NOW / 1000 + 180 };
    const granted = await token(salesforce, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(claims) });
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({ access_token: expect.any(String), signature: expect.any(String), scope: 'api', instance_url: salesforce.url, id: `${salesforce.url}/id/${salesforce.orgId}/${salesforce.userId}`, token_type: 'Bearer', issued_at: String(NOW) });
    expect(String(granted.body.id).split('/').slice(-2)).toEqual([salesforce.orgId, salesforce.userId]);
    const query = await call(salesforce, 'GET', soql('SELECT Id, Username FROM User'), undefined, { token: granted.body.access_token });
    expect(query.status).toBe(200);
    expect(query.body.records[0].Username).toBe(salesforce.username);
    const identity = await call(salesforce, 'GET', `/id/${salesforce.orgId}/${salesforce.userId}`, undefined, { token: granted.body.access_token });
    expect(identity.body).toMatchObject({ user_id: salesforce.userId, organization_id: salesforce.orgId, username: salesforce.username });
    // The token endpoint is not a REST API call: nothing was counted for it.
    expect(salesforce.limits.used()).toBe(1);

    const refusals: [Record<string, unknown>, unknown, string, string][] = [
      [claims, otherKeys.privateKey, 'invalid_grant', 'invalid assertion'],
      [{ ...claims, iss: 'someone-else' }, keys.privateKey, 'invalid_client_id', 'client identifier invalid'],
      [{ ...claims, aud: 'https://evil.example' }, keys.privateKey, 'invalid_grant', 'audience is invalid'],
      [{ ...claims, exp: NOW / 1000 - 1 }, keys.privateKey, 'invalid_grant', 'expired authorization code'],
      [{ ...claims, sub: 'nobody@example.com' }, keys.privateKey, 'invalid_grant', "user hasn't approved this consumer"],
    ];
    for (const [each, key, error, description] of refusals) {
      const answer = await token(salesforce, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(each, key as typeof keys.privateKey) });
      expect({ each, answer }).toEqual({ each, answer: { status: 400, body: { error, error_description: description } } });
    }
    expect((await token(salesforce, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'not.a-jwt' })).body.error).toBe('invalid_grant');
    expect((await token(salesforce, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(claims, keys.privateKey, 'HS256') })).body).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
    expect((await token(salesforce, { grant_type: 'password', username: 'x', password: 'y' })).body).toEqual({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    expect((await call(salesforce, 'GET', '/limits', undefined, { token: 'forged' })).status).toBe(401);
  });

  it('grants a token for a refresh token and checks the client', async () => {
    salesforce = await startSalesforceEmulator({ clock: () => NOW, connectedApp: { clientId: 'CONSUMER_KEY', clientSecret: 'secret' }, refreshTokens: { 'refresh-1': 'integration@emulator.example' } });
    const granted = await token(salesforce, { grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'CONSUMER_KEY', client_secret: 'secret' });
    expect(granted.status).toBe(200);
    expect(granted.body.instance_url).toBe(salesforce.url);
    expect((await call(salesforce, 'GET', '/limits', undefined, { token: granted.body.access_token })).status).toBe(200);
    expect(await token(salesforce, { grant_type: 'refresh_token', refresh_token: 'revoked', client_id: 'CONSUMER_KEY' })).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } });
    expect(await token(salesforce, { grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'CONSUMER_KEY', client_secret: 'wrong' })).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'invalid client credentials' } });
    expect((await token(salesforce, { grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'other' })).body.error).toBe('invalid_client_id');
  });
});
