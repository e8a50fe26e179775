import { z } from 'zod';
import { oauthGrantSchema, settingsError } from '../kit/index.js';

/** HubSpot's public API base. The emulator (or a proxy) replaces it through `baseUrl`. */
export const HUBSPOT_API_BASE = 'https://api.hubapi.com';

/** The objects the connector knows by name; custom objects come from the schemas API. */
export const STANDARD_OBJECTS = ['contacts', 'companies', 'deals', 'notes', 'tasks', 'calls', 'meetings', 'emails', 'owners'] as const;

/** Settings of the HubSpot connector (the `source:` / `target:` block of ferry.yaml). */
export const hubspotConnectionSchema = z.strictObject({
  connector: z.literal('hubspot').optional(),
  /** Private-app or OAuth access token, given as `${HUBSPOT_TOKEN}` so the secret stays out of the file. */
  accessToken: z.string().min(1, 'must not be empty').optional(),
  /**
   * An OAuth app's refresh-token grant (a public app installed in the account): Ferry trades `refreshToken` for
   * access tokens, which last 30 minutes, at `tokenUrl` (default `${baseUrl}/oauth/v3/token`) with the app's
   * client id and secret as form fields. With `accessToken` too, that token is used until it expires.
   */
  oauth: oauthGrantSchema('https://api.hubapi.com/oauth/v3/token').optional(),
  baseUrl: z.url({ error: 'must be a URL such as https://api.hubapi.com' }).optional(),
  /**
   * Requests per 10 seconds the account allows: 100 (Free/Starter), 190 (Professional/Enterprise),
   * 250 (API limit increase). https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
   */
  burstLimit: z.int().min(1).max(1000).optional(),
  /** Search requests per second (4 documented per token; see transport.ts). */
  searchPerSecond: z.int().min(1).max(50).optional(),
  /** Restrict describe() and reads to these objects (standard names or custom object names). */
  objects: z.array(z.string().min(1)).optional(),
  /** Create missing custom properties and enumeration options in the target when asked. */
  createMissingProperties: z.boolean().optional(),
  /** Unique-value property that holds the source record id on creates (created when missing). */
  externalIdProperty: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, 'must be a HubSpot internal property name: lower case letters, digits and _')
    .optional(),
  readOnly: z.boolean().optional(),
  /** Per-attempt HTTP timeout in milliseconds. */
  timeoutMs: z.int().min(100).optional(),
  /** Retries of 429/5xx/network errors per request. */
  maxRetries: z.int().min(0).max(20).optional(),
  /**
   * Requests of the account's daily API limit Ferry never spends (default 1000), so other integrations keep
   * working: a run stops, resumably, before it would eat into them.
   */
  dailyReserve: z.int().min(0).optional(),
  /** Folder of the file manager that copied attachments go to, one subfolder per file (default /ferry-attachments). */
  filesFolder: z.string().regex(/^\/[^?#]*$/, 'must be a folder path starting with /').optional(),
  /** Access of uploaded files (default PRIVATE): https://developers.hubspot.com/docs/api-reference/files-files-v3/guide */
  filesAccess: z.enum(['PRIVATE', 'PUBLIC_NOT_INDEXABLE', 'PUBLIC_INDEXABLE']).optional(),
}).refine((value) => value.accessToken !== undefined || value.oauth !== undefined, {
  message: 'is required (a private app access token, e.g. ${HUBSPOT_TOKEN}), or oauth with an app\'s client id, secret and refresh token',
  path: ['accessToken'],
});

export type HubspotConnectionConfig = z.input<typeof hubspotConnectionSchema>;

export interface HubspotSettings {
  /** A token to send as is (a private app's), or the first one of an OAuth app's. */
  accessToken?: string;
  /** The OAuth app's refresh-token grant, when given: access tokens are refreshed from it. */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string; tokenUrl: string };
  baseUrl: string;
  burstLimit: number;
  searchPerSecond: number;
  objects?: string[];
  createMissingProperties: boolean;
  externalIdProperty: string;
  readOnly: boolean;
  timeoutMs: number;
  maxRetries: number;
  dailyReserve: number;
  filesFolder: string;
  filesAccess: 'PRIVATE' | 'PUBLIC_NOT_INDEXABLE' | 'PUBLIC_INDEXABLE';
}

export interface HubspotConnectorOptions {
  /** Prefix of the keys in error messages, e.g. `target` gives `target.accessToken: ...`. */
  configPath?: string;
}

/** Validates the settings; throws CONFIG_INVALID naming each bad key (never echoing the token). */
export function parseHubspotConnectionConfig(input: unknown, options: HubspotConnectorOptions = {}): HubspotSettings {
  const parsed = hubspotConnectionSchema.safeParse(input);
  if (!parsed.success) throw settingsError('HubSpot', parsed.error, options.configPath);
  const data = parsed.data;
  const baseUrl = (data.baseUrl ?? HUBSPOT_API_BASE).replace(/\/+$/, '');
  return {
    accessToken: data.accessToken,
    oauth: data.oauth && { ...data.oauth, tokenUrl: data.oauth.tokenUrl ?? `${baseUrl}/oauth/v3/token` },
    baseUrl,
    burstLimit: data.burstLimit ?? 100,
    searchPerSecond: data.searchPerSecond ?? 4,
    objects: data.objects,
    createMissingProperties: data.createMissingProperties ?? false,
    externalIdProperty: data.externalIdProperty ?? 'ferry_source_id',
    readOnly: data.readOnly ?? false,
    timeoutMs: data.timeoutMs ?? 30_000,
    maxRetries: data.maxRetries ?? 5,
    dailyReserve: data.dailyReserve ?? 1000,
    filesFolder: (data.filesFolder ?? '/ferry-attachments').replace(/\/+$/, '') || '/ferry-attachments',
    filesAccess: data.filesAccess ?? 'PRIVATE',
  };
}
