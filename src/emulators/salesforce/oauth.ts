import { createHmac, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';

/**
 * The OAuth 2.0 token endpoint `POST /services/oauth2/token` (form-encoded), for a connected app:
 *
 * - JWT bearer flow (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`): the JWT is
 *   RS256-signed with the app's private key and checked with the certificate's public key; `iss` is the app's
 *   client id (consumer key), `sub` the username, `aud` the login URL, `exp` in the future.
 *   https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
 * - Refresh token flow (`grant_type=refresh_token&refresh_token=&client_id=[&client_secret=]`).
 *   https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm
 *
 * Answers `{access_token, signature, scope, instance_url, id, token_type, issued_at}`; failures are HTTP 400
 * `{error, error_description}` (401 for a bad client secret). `signature` is the HMAC-SHA256 of `id` +
 * `issued_at` keyed with the client secret, base64, as documented.
 */
export interface ConnectedApp {
  clientId: string;
  clientSecret: string;
  /** PEM (a public key or an X.509 certificate) or a KeyObject: what the admin uploads as the app's certificate. */
  publicKey?: string | KeyObject;
}

export interface TokenGrant {
  username: string;
  accessToken: string;
  issuedAt: number;
}

export interface OAuthAnswer {
  status: number;
  body: Record<string, string>;
}

const failure = (error: string, description: string, status = 400): OAuthAnswer => ({ status, body: { error, error_description: description } });

function base64url(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function publicKeyOf(key: string | KeyObject): KeyObject {
  return typeof key === 'string' ? createPublicKey(key) : key;
}

export class OAuthServer {
  /** Issued access tokens -> the user they act as. */
  readonly tokens = new Map<string, TokenGrant>();
  /** Refresh tokens the admin has handed out -> username. */
  readonly refreshTokens = new Map<string, string>();

  constructor(
    private readonly app: ConnectedApp,
    private readonly audiences: () => string[],
    private readonly clock: () => number,
    private readonly users: (username: string) => { id: string; active: boolean } | undefined,
    private readonly identityUrl: (userId: string) => string,
    private readonly instanceUrl: () => string,
  ) {}

  issue(username: string): TokenGrant {
    const grant = { username, accessToken: `00D!${randomBytes(24).toString('base64url')}`, issuedAt: this.clock() };
    this.tokens.set(grant.accessToken, grant);
    return grant;
  }

  token(form: URLSearchParams): OAuthAnswer {
    const grantType = form.get('grant_type');
    if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') return this.jwtBearer(form.get('assertion') ?? '');
    if (grantType === 'refresh_token') return this.refresh(form);
    return failure('unsupported_grant_type', 'grant type not supported');
  }

  private answer(username: string, userId: string): OAuthAnswer {
    const grant = this.issue(username);
    const id = this.identityUrl(userId);
    const issuedAt = String(grant.issuedAt);
    const signature = createHmac('sha256', this.app.clientSecret).update(id + issuedAt).digest('base64');
    return { status: 200, body: { access_token: grant.accessToken, signature, scope: 'api', instance_url: this.instanceUrl(), id, token_type: 'Bearer', issued_at: issuedAt } };
  }

  private jwtBearer(assertion: string): OAuthAnswer {
    const parts = assertion.split('.');
    if (parts.length !== 3) return failure('invalid_grant', 'invalid assertion');
    let header: { alg?: string };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; exp?: unknown };
    try {
      header = JSON.parse(base64url(parts[0]!).toString('utf8'));
      claims = JSON.parse(base64url(parts[1]!).toString('utf8'));
    } catch {
      return failure('invalid_grant', 'invalid assertion');
    }
    if (header.alg !== 'RS256') return failure('invalid_grant', 'invalid assertion');
    if (claims.iss !== this.app.clientId) return failure('invalid_client_id', 'client identifier invalid');
    if (!this.app.publicKey) return failure('invalid_grant', 'invalid assertion');
    const signed = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKeyOf(this.app.publicKey), base64url(parts[2]!));
    if (!signed) return failure('invalid_grant', 'invalid assertion');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((aud) => typeof aud === 'string' && this.audiences().includes(aud.replace(/\/+$/, '')))) return failure('invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.clock()) return failure('invalid_grant', 'expired authorization code');
    const user = typeof claims.sub === 'string' ? this.users(claims.sub) : undefined;
    if (!user) return failure('invalid_grant', 'user hasn\'t approved this consumer');
    if (!user.active) return failure('invalid_grant', 'inactive user');
    return this.answer(claims.sub as string, user.id);
  }

  private refresh(form: URLSearchParams): OAuthAnswer {
    if (form.get('client_id') !== this.app.clientId) return failure('invalid_client_id', 'client identifier invalid');
    const secret = form.get('client_secret');
    if (secret !== null && secret !== this.app.clientSecret) return failure('invalid_client', 'invalid client credentials', 401);
    const username = this.refreshTokens.get(form.get('refresh_token') ?? '');
    const user = username === undefined ? undefined : this.users(username);
    if (!username || !user?.active) return failure('invalid_grant', 'expired access/refresh token');
    return this.answer(username, user.id);
  }
}
