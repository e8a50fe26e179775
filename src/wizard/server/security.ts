import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';

export const SESSION_COOKIE = 'ferry_session';

/** Headers on every answer: nothing is framed, sniffed, referred or loaded from elsewhere. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/**
 * Who may talk to the server: whoever opened the printed URL once. The one-time token is exchanged for a
 * session (HttpOnly, SameSite=Strict cookie, or `Authorization: Bearer`); requests from other sites
 * (Origin) or through another host name (Host: DNS rebinding) are refused.
 */
export class Access {
  private token: string | undefined = randomToken();
  private readonly sessions = new Set<string>();
  /** host:port values the Host header may carry; set once the port is known. */
  private hosts = new Set<string>();
  private origins = new Set<string>();

  /** The one-time token (undefined once used). */
  get oneTimeToken(): string | undefined {
    return this.token;
  }

  setPort(port: number, host: string): void {
    const names = new Set(['127.0.0.1', 'localhost', host]);
    this.hosts = new Set([...names].map((name) => `${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`));
    this.origins = new Set([...this.hosts].map((value) => `http://${value}`));
  }

  /** Exchanges the token for a new session id, once; undefined when the token is wrong or used. */
  exchange(token: string | undefined): string | undefined {
    if (!token || this.token === undefined || !sameSecret(token, this.token)) return undefined;
    this.token = undefined;
    const session = randomToken();
    this.sessions.add(session);
    return session;
  }

  /** A session for scripts in this process (tests): same as exchanging the token. */
  issueSession(): string {
    const session = randomToken();
    this.sessions.add(session);
    return session;
  }

  hasSession(c: Context): boolean {
    const authorization = c.req.header('authorization');
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    const cookie = cookieValue(c.req.header('cookie'), SESSION_COOKIE);
    for (const candidate of [bearer, cookie]) {
      if (candidate && [...this.sessions].some((session) => sameSecret(candidate, session))) return true;
    }
    return false;
  }

  /** Host and Origin checks, before anything else (403). */
  guard(): MiddlewareHandler {
    return async (c, next) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
      const host = c.req.header('host')?.toLowerCase();
      if (!host || !this.hosts.has(host)) return c.json({ error: { code: 'FORBIDDEN', message: 'This server answers only on 127.0.0.1 / localhost (Host header refused).' } }, 403);
      const origin = c.req.header('origin');
      if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
        return c.json({ error: { code: 'FORBIDDEN', message: 'Cross-site requests are refused (Origin is not this server).' } }, 403);
      }
      if (c.req.header('sec-fetch-site') === 'cross-site') {
        return c.json({ error: { code: 'FORBIDDEN', message: 'Cross-site requests are refused.' } }, 403);
      }
      await next();
    };
  }

  /** The session check (401) and, for changes, a JSON body (no cross-site form posts). */
  require(): MiddlewareHandler {
    return async (c, next) => {
      if (!this.hasSession(c)) {
        if (c.req.path.startsWith('/api/')) {
          return c.json({ error: { code: 'UNAUTHORIZED', message: 'Open the link that `ferry serve` printed (it carries a one-time token) to use the wizard.' } }, 401);
        }
        return c.html(
          '<!doctype html><meta charset="utf-8"><title>Ferry</title><p>Open the link that <code>ferry serve</code> printed in the terminal. ' +
            'It works once; restart <code>ferry serve</code> for a new one.</p>',
          401,
        );
      }
      if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
        const type = c.req.header('content-type') ?? '';
        if (!/^application\/json\s*(;|$)/i.test(type)) {
          return c.json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send a JSON body (Content-Type: application/json).' } }, 415);
        }
      }
      await next();
    };
  }
}
