import { FerryError } from '../../core/errors.js';
import { HttpClient, HttpError, realClock, type Clock } from '../../core/http.js';

/**
 * OAuth 2.0's refresh-token grant (RFC 6749 §6), as the vendors' OAuth apps use it for server-side access:
 * the user installs the app once, Ferry keeps the refresh token (a secret from `${ENV}` or the secrets file)
 * and trades it for short-lived access tokens — HubSpot's last 30 minutes, Pipedrive's an hour — as a long run
 * needs them.
 *
 * - Refreshed ahead of expiry (`expires_in` minus a margin), once at a time however many requests wait.
 * - Refreshed again when the API answers 401 to a token that should still be valid (revoked, or the server's
 *   clock ahead): the HTTP layer sends the request once more with the new token (`onUnauthorized`).
 * - A refused refresh token (`invalid_grant`: revoked, or unused for too long) is AUTH_FAILED with what to do;
 *   a token endpoint that is down is retried like any request.
 * - A rotated refresh token (the answer carries a new one) is used from then on and handed to `onRotate`;
 *   Ferry never writes secrets files itself.
 */
export interface RefreshGrant {
  /** Vendor name for messages. */
  vendor: string;
  /** The token endpoint, e.g. HubSpot's `/oauth/v3/token` or Pipedrive's `/oauth/token` on its OAuth host. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /**
   * How the client authenticates at the token endpoint: `basic` (HTTP Basic of id:secret, Pipedrive) or
   * `body` (`client_id` and `client_secret` form fields, HubSpot).
   */
  clientAuth: 'basic' | 'body';
  /** An access token already held (e.g. from the install), used until it expires or is refused. */
  accessToken?: string;
  /** Where the project file names these settings, for messages (e.g. `target.oauth`). */
  setting?: string;
  /** Called with a new refresh token when the server rotates it. */
  onRotate?: (refreshToken: string) => void;
  clock?: Clock;
  fetch?: typeof fetch;
}

/** Refresh this long before the access token's stated expiry (clock skew, a request in flight). */
const EXPIRY_MARGIN_MS = 60_000;

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  error?: unknown;
  error_description?: unknown;
  message?: unknown;
  status?: unknown;
}

export class RefreshingToken {
  private accessToken: string | undefined;
  private expiresAt = Number.POSITIVE_INFINITY;
  private refreshToken: string;
  private pending: Promise<string> | undefined;
  private readonly http: HttpClient;
  private readonly path: string;
  private readonly clock: Clock;
  /** How many times the access token was refreshed (for tests and `usage`). */
  refreshes = 0;
  /** What stays the same across refreshes and rotations: the app and its install (digested before any use). */
  readonly installIdentity: string;

  constructor(private readonly grant: RefreshGrant) {
    this.refreshToken = grant.refreshToken;
    this.accessToken = grant.accessToken;
    this.installIdentity = `${grant.clientId}\u0000${grant.refreshToken}`;
    this.clock = grant.clock ?? realClock;
    const url = new URL(grant.tokenUrl);
    this.path = url.pathname + url.search;
    this.http = new HttpClient({
      baseUrl: url.origin,
      vendor: `${grant.vendor} OAuth`,
      secrets: [grant.clientSecret, grant.refreshToken],
      maxRetries: 3,
      clock: grant.clock,
      fetch: grant.fetch,
      urlSetting: grant.setting ? `${grant.setting}.tokenUrl` : undefined,
      describeError: (body) => describeTokenError(body),
    });
  }

  /** Every secret this grant holds or obtained, for the HTTP layer's redaction. */
  get secrets(): string[] {
    return [this.grant.clientSecret, this.refreshToken, ...(this.accessToken ? [this.accessToken] : [])];
  }

  /** A valid access token: the one held, or a fresh one when it is missing or about to expire. */
  async token(): Promise<string> {
    if (this.accessToken !== undefined && this.now() < this.expiresAt - EXPIRY_MARGIN_MS) return this.accessToken;
    return this.refresh();
  }

  /**
   * The API refused `rejected` (401): refresh unless another request already did (then its new token is
   * the answer). True when a different token is ready.
   */
  async rejected(rejected: string): Promise<boolean> {
    const token = rejected.replace(/^Bearer\s+/i, '');
    if (this.pending) return (await this.pending) !== token;
    if (this.accessToken !== undefined && this.accessToken !== token) return true;
    this.accessToken = undefined;
    return (await this.refresh()) !== token;
  }

  private now(): number {
    return this.clock.now();
  }

  private refresh(): Promise<string> {
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.refreshToken });
    if (this.grant.clientAuth === 'body') {
      form.set('client_id', this.grant.clientId);
      form.set('client_secret', this.grant.clientSecret);
    }
    const headers: Record<string, string> = {};
    if (this.grant.clientAuth === 'basic') headers.authorization = `Basic ${Buffer.from(`${this.grant.clientId}:${this.grant.clientSecret}`).toString('base64')}`;
    const started = this.now();
    let answer: TokenAnswer;
    try {
      const response = await this.http.request<TokenAnswer>('POST', this.path, {
        form,
        headers,
      });
      answer = response.body ?? {};
    } catch (error) {
      if (error instanceof HttpError && error.status >= 400 && error.status < 500) {
        const setting = this.grant.setting ?? 'the project file';
        throw new FerryError(
          'AUTH_FAILED',
          `${this.grant.vendor} refused the OAuth refresh token (${error.status}${describeTokenError(error.body) ? `: ${describeTokenError(error.body)}` : ''}): ` +
            `the app was uninstalled, the token revoked, or it went unused too long. Install the app again and put its new refresh token where ${setting} reads it (an environment variable or the secrets file).`,
          // Which grant was refused and the vendor's error code (invalid_grant, BAD_CLIENT_ID), so a form can
          // point at the setting to fix (the refresh token, or the app's client id and secret).
          { status: error.status, grant: 'refresh_token', ...(tokenErrorCode(error.body) ? { oauthError: tokenErrorCode(error.body) } : {}) },
        );
      }
      throw error;
    }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') {
      throw new FerryError('AUTH_FAILED', `${this.grant.vendor}'s token endpoint answered without an access_token (keys: ${Object.keys(answer).join(', ') || 'none'}).`);
    }
    const token = answer.access_token;
    const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in : Number(answer.expires_in);
    this.expiresAt = Number.isFinite(lifetime) && lifetime > 0 ? started + lifetime * 1000 : Number.POSITIVE_INFINITY;
    this.accessToken = token;
    this.http.addSecret(token);
    if (typeof answer.refresh_token === 'string' && answer.refresh_token !== '' && answer.refresh_token !== this.refreshToken) {
      this.refreshToken = answer.refresh_token;
      this.http.addSecret(answer.refresh_token);
      this.grant.onRotate?.(answer.refresh_token);
    }
    this.refreshes += 1;
    return token;
  }
}

/** The error code of a token endpoint's answer: RFC 6749's `error` (invalid_grant), or a vendor's `status` (BAD_REFRESH_TOKEN). */
function tokenErrorCode(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const answer = body as TokenAnswer;
  const code = answer.error ?? answer.status;
  return typeof code === 'string' && code !== '' ? code.slice(0, 100) : undefined;
}

/** `invalid_grant: refresh token is invalid` from an RFC 6749 error body, or a vendor's `message`. */
function describeTokenError(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return typeof body === 'string' && body !== '' ? body.slice(0, 200) : undefined;
  const answer = body as TokenAnswer;
  const parts = [answer.error ?? answer.status, answer.error_description ?? answer.message].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? parts.join(': ') : undefined;
}
