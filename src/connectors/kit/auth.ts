import type { HttpClientOptions } from '../../core/http.js';
import type { RefreshingToken } from './oauth.js';

/**
 * How an API connector authenticates, as its settings say: an OAuth / private-app bearer token
 * (`Authorization: Bearer …`, HubSpot, Pipedrive OAuth) or a token in a header of the vendor's own
 * (`x-api-token`, Pipedrive API tokens). The token is always a secret the HTTP layer redacts.
 */
export type AuthSpec =
  | { kind: 'bearer'; token: string | (() => string | Promise<string>) }
  | { kind: 'header'; header: string; token: string }
  /** An OAuth app's access token, refreshed from its refresh token before expiry and after a 401 (oauth.ts). */
  | { kind: 'oauth-refresh'; grant: RefreshingToken };

/** The HttpClient options that send `auth` on every request. */
export function authOptions(auth: AuthSpec): Pick<HttpClientOptions, 'authorization' | 'headers' | 'secrets' | 'onUnauthorized'> {
  if (auth.kind === 'header') return { headers: { [auth.header]: auth.token }, secrets: [auth.token] };
  if (auth.kind === 'oauth-refresh') {
    const grant = auth.grant;
    return { authorization: async () => `Bearer ${await grant.token()}`, onUnauthorized: (rejected) => grant.rejected(rejected), secrets: grant.secrets };
  }
  const token = auth.token;
  if (typeof token === 'string') return { authorization: () => `Bearer ${token}`, secrets: [token] };
  return { authorization: async () => `Bearer ${await token()}` };
}
