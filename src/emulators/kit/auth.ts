import type { IncomingHttpHeaders } from 'node:http';

/**
 * Where a request's credential sits. A vendor's `authenticate` hook reads it with these and decides
 * (accepted tokens, which kind of token, the refusal body); the kit decides nothing about auth.
 */

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match?.[1];
}

/** A token header such as `x-api-token` (names are case-insensitive; Node lower-cases them). */
export function headerToken(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A token in the query string such as `?api_token=`. */
export function queryToken(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}
