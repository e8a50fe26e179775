import { randomBytes } from 'node:crypto';
import type { KitRequest, KitResponse } from './server.js';

/**
 * An OAuth app as a vendor's token endpoint sees it (RFC 6749 §6, the refresh-token grant): one client id
 * and secret, one refresh token, and the access tokens it issued with their expiry on the emulator's clock.
 * Vendors shape the answers (`errorBody`) and say how the client authenticates (HTTP Basic or form fields).
 */
export interface OAuthAppOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Lifetime of an issued access token (`expires_in`). */
  accessTokenLifetimeMs: number;
  /** Where the client's id and secret are read: `basic` (Authorization: Basic), `body` (form fields). */
  clientAuth: 'basic' | 'body';
  /** Issue a new refresh token with every access token, and refuse the old one (rotation). Default false. */
  rotateRefreshToken?: boolean;
  /** Extra fields of a successful answer (HubSpot's `token_type`, Pipedrive's `api_domain`). */
  extra?: (baseUrl: string) => Record<string, unknown>;
  /** The vendor's error body for an RFC 6749 error code. */
  errorBody?: (error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type', description: string) => unknown;
}

export type TokenState = 'valid' | 'expired' | 'unknown';

export class OAuthApp {
  private refreshToken: string;
  private readonly issued = new Map<string, number>();
  /** Access tokens issued so far (refreshes answered). */
  grants = 0;

  constructor(
    private readonly options: OAuthAppOptions,
    private readonly clock: () => number,
  ) {
    this.refreshToken = options.refreshToken;
  }

  /** The refresh token the app accepts now (changes on each grant when rotating). */
  get currentRefreshToken(): string {
    return this.refreshToken;
  }

  /** Whether an access token was issued by this app, and still is within its lifetime. */
  check(token: string): TokenState {
    const expires = this.issued.get(token);
    if (expires === undefined) return 'unknown';
    return this.clock() < expires ? 'valid' : 'expired';
  }

  /** Revokes every access token issued so far (an admin disconnecting the app, say). */
  revokeAccessTokens(): void {
    this.issued.clear();
  }

  /** Answers a token request: a form body (`request.raw`), client authentication per the options. */
  token(request: KitRequest, baseUrl: string): KitResponse {
    const form = new URLSearchParams(request.raw);
    const fail = (status: number, error: Parameters<NonNullable<OAuthAppOptions['errorBody']>>[0], description: string): KitResponse => ({
      status,
      body: this.options.errorBody ? this.options.errorBody(error, description) : { error, error_description: description },
    });
    const type = String(request.headers['content-type'] ?? '');
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return fail(400, 'invalid_request', 'The token request must be application/x-www-form-urlencoded.');
    let clientId: string | null;
    let clientSecret: string | null;
    if (this.options.clientAuth === 'basic') {
      const match = /^Basic\s+(.+)$/i.exec(String(request.headers.authorization ?? ''));
      const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      clientId = colon >= 0 ? decoded.slice(0, colon) : null;
      clientSecret = colon >= 0 ? decoded.slice(colon + 1) : null;
    } else {
      clientId = form.get('client_id');
      clientSecret = form.get('client_secret');
    }
    if (clientId !== this.options.clientId || clientSecret !== this.options.clientSecret) return fail(401, 'invalid_client', 'Client authentication failed (unknown client id or wrong secret).');
    const grant = form.get('grant_type');
    if (grant !== 'refresh_token') return fail(400, 'unsupported_grant_type', `grant_type "${grant ?? ''}" is not supported here (refresh_token is).`);
    if (form.get('refresh_token') !== this.refreshToken) return fail(400, 'invalid_grant', 'The refresh token is invalid, revoked, or was replaced by a newer one.');
    const accessToken = `emu-at-${randomBytes(12).toString('hex')}`;
    this.issued.set(accessToken, this.clock() + this.options.accessTokenLifetimeMs);
    this.grants += 1;
    if (this.options.rotateRefreshToken) this.refreshToken = `emu-rt-${randomBytes(12).toString('hex')}`;
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: 'bearer',
        refresh_token: this.refreshToken,
        expires_in: Math.floor(this.options.accessTokenLifetimeMs / 1000),
        ...this.options.extra?.(baseUrl),
      },
    };
  }
}
