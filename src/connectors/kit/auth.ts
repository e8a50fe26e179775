import type { HttpClientOptions } from '../../core/http.js';

/**
 * How an API connector authenticates, as its settings say: an OAuth / private-app bearer token
 * (`Authorization: Bearer …`, HubSpot, Pipedrive OAuth) or a token in a header of the vendor's own
 * (`x-api-token`, Pipedrive API tokens). The token is always a secret the HTTP layer redacts.
 */
export type AuthSpec = { kind: 'bearer'; token: string | (() => string | Promise<string>) } | { kind: 'header'; header: string; token: string };

/** The HttpClient options that send `auth` on every request. */
export function authOptions(auth: AuthSpec): Pick<HttpClientOptions, 'authorization' | 'headers' | 'secrets'> {
  if (auth.kind === 'header') return { headers: { [auth.header]: auth.token }, secrets: [auth.token] };
  const token = auth.token;
  if (typeof token === 'string') return { authorization: () => `Bearer ${token}`, secrets: [token] };
  return { authorization: async () => `Bearer ${await token()}` };
}
