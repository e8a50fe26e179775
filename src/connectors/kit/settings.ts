import { z } from 'zod';
import { FerryError } from '../../core/errors.js';

/**
 * A connector's settings refused by its zod schema, as CONFIG_INVALID naming each bad key with its place in
 * ferry.yaml (`target.apiToken: must not be empty`, `source.colour: unknown setting`); values are never
 * echoed (they may be secrets). The HubSpot and SQL connectors format the same lines their own way today
 * and can use this instead.
 */
export function settingsError(vendor: string, error: z.ZodError, configPath?: string): FerryError {
  const prefix = configPath ? `${configPath}.` : '';
  const lines = error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return `${prefix}${key ? `${key}.` : ''}${issue.keys.join(', ')}: unknown setting`;
    return `${prefix}${key || '(settings)'}: ${issue.message}`;
  });
  return new FerryError('CONFIG_INVALID', `Invalid ${vendor} connection settings:\n${lines.join('\n')}`, { issues: lines });
}

/**
 * The `oauth` block of a connector whose vendor has OAuth apps: the app's client id and secret and the
 * install's refresh token (secrets as `${ENV}`), and where to trade it (the vendor's default otherwise).
 * What RefreshingToken (oauth.ts) needs.
 */
export function oauthGrantSchema(tokenUrlExample: string) {
  return z.strictObject({
    clientId: z.string().min(1, 'must not be empty'),
    clientSecret: z.string().min(1, 'must not be empty'),
    refreshToken: z.string().min(1, 'must not be empty'),
    tokenUrl: z.url({ error: `must be a URL such as ${tokenUrlExample}` }).optional(),
  });
}
