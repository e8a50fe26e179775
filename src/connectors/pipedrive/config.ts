import { z } from 'zod';
import { oauthGrantSchema, settingsError } from '../kit/settings.js';

/** Pipedrive's API host for API tokens when no company domain is given. */
export const PIPEDRIVE_API_BASE = 'https://api.pipedrive.com';

/** Objects the connector knows; `archived_deals` is read only when a mapping asks for it. */
export const PIPEDRIVE_OBJECTS = ['persons', 'organizations', 'deals', 'archived_deals', 'activities', 'products', 'pipelines', 'stages', 'notes', 'users'] as const;
export type PipedriveObject = (typeof PIPEDRIVE_OBJECTS)[number];

/**
 * Burst windows per token, requests per rolling 2 seconds, by plan (API token / OAuth).
 * https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting
 */
export const BURST_BY_PLAN = {
  lite: { apiToken: 20, oauth: 80 },
  growth: { apiToken: 40, oauth: 160 },
  premium: { apiToken: 100, oauth: 400 },
  ultimate: { apiToken: 120, oauth: 480 },
} as const;

/** Settings of the Pipedrive connector (the `source:` / `target:` block of ferry.yaml). */
export const pipedriveConnectionSchema = z
  .strictObject({
    connector: z.literal('pipedrive').optional(),
    /** Personal API token (Settings > Personal preferences > API), given as `${PIPEDRIVE_TOKEN}`. */
    apiToken: z.string().min(1, 'must not be empty').optional(),
    /** OAuth access token of a Pipedrive app (sent as a bearer token) instead of an API token. */
    accessToken: z.string().min(1, 'must not be empty').optional(),
    /**
     * A Pipedrive app's refresh-token grant: Ferry trades `refreshToken` for access tokens (they last an hour)
     * at `tokenUrl` (default https://oauth.pipedrive.com/oauth/token; `${baseUrl}/oauth/token` when baseUrl is
     * a local address, the emulator), with HTTP Basic of the app's client id and secret.
     */
    oauth: oauthGrantSchema('https://oauth.pipedrive.com/oauth/token').optional(),
    /** The company's subdomain (`acme` for acme.pipedrive.com); the OAuth token answer's `api_domain` host. */
    companyDomain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be the subdomain only, e.g. acme for acme.pipedrive.com')
      .optional(),
    /** The API's base URL (the emulator, a proxy); wins over companyDomain. */
    baseUrl: z.url({ error: 'must be a URL such as https://acme.pipedrive.com' }).optional(),
    /** The company's plan, for the burst window (default lite, the smallest). */
    plan: z.enum(['lite', 'growth', 'premium', 'ultimate']).optional(),
    /** Requests per 2 seconds, overriding the plan's window. */
    burstLimit: z.int().min(1).max(10_000).optional(),
    /** The company's daily token budget when Pipedrive's headers do not say it (30,000 x plan multiplier x seats). */
    dailyTokenBudget: z.int().min(1).optional(),
    /** Tokens Ferry leaves unspent each day, for the company's people and other integrations (default 1,000). */
    tokenReserve: z.int().min(0).optional(),
    /** Restrict describe() to these objects. */
    objects: z.array(z.enum(PIPEDRIVE_OBJECTS)).optional(),
    /** Name of the custom field holding the source record id on creates (created when missing). */
    externalIdField: z.string().min(1).max(255).optional(),
    /**
     * Deals get a `participants` field (v1 participants). Off by default: reading them costs a request of 10
     * tokens per deal, 500 times what the deal itself costs in a list.
     */
    dealParticipants: z.boolean().optional(),
    /**
     * A delta reports deleted persons, organizations, activities and products by checking which migrated ids
     * are gone (10 tokens per 100 records per delta; deals come from their tombstones either way). Default on;
     * turn it off for frequent deltas (`ferry sync`) on a large account.
     */
    checkDeletedById: z.boolean().optional(),
    /** Writes in flight at once (one record per request). */
    writeConcurrency: z.int().min(1).max(32).optional(),
    readOnly: z.boolean().optional(),
    timeoutMs: z.int().min(100).optional(),
    maxRetries: z.int().min(0).max(20).optional(),
  })
  .refine((value) => (value.apiToken === undefined) !== (value.accessToken === undefined && value.oauth === undefined), {
    message: 'needs exactly one of apiToken (e.g. ${PIPEDRIVE_TOKEN}), accessToken (an OAuth access token) or oauth (an app\'s client id, secret and refresh token)',
    path: ['apiToken'],
  });

/** Pipedrive's OAuth server (developers.pipedrive.com/docs/api/v1/Oauth). */
export const PIPEDRIVE_TOKEN_URL = 'https://oauth.pipedrive.com/oauth/token';

export type PipedriveConnectionConfig = z.input<typeof pipedriveConnectionSchema>;

export interface PipedriveSettings {
  auth:
    | { kind: 'apiToken'; token: string }
    /** `token`: an access token to use as is; `refresh`: the app's grant, for fresh ones (with or without a first token). */
    | { kind: 'oauth'; token?: string; refresh?: { clientId: string; clientSecret: string; refreshToken: string; tokenUrl: string } };
  baseUrl: string;
  burstLimit: number;
  dailyTokenBudget?: number;
  tokenReserve: number;
  objects?: PipedriveObject[];
  externalIdField: string;
  dealParticipants: boolean;
  checkDeletedById: boolean;
  writeConcurrency: number;
  readOnly: boolean;
  timeoutMs: number;
  maxRetries: number;
}

export interface PipedriveConnectorOptions {
  /** Prefix of the keys in error messages (`source` / `target`). */
  configPath?: string;
}

/** Validates the settings; throws CONFIG_INVALID naming each bad key (never echoing a token). */
export function parsePipedriveConnectionConfig(input: unknown, options: PipedriveConnectorOptions = {}): PipedriveSettings {
  const parsed = pipedriveConnectionSchema.safeParse(input);
  if (!parsed.success) throw settingsError('Pipedrive', parsed.error, options.configPath);
  const data = parsed.data;
  const baseUrl = data.baseUrl ?? (data.companyDomain ? `https://${data.companyDomain}.pipedrive.com` : PIPEDRIVE_API_BASE);
  // Pipedrive's OAuth server is its own host whatever the company's api_domain; a local baseUrl (the
  // emulator) serves the token endpoint itself.
  const local = data.baseUrl !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(data.baseUrl).hostname);
  const refresh = data.oauth && { ...data.oauth, tokenUrl: data.oauth.tokenUrl ?? (local ? `${data.baseUrl!.replace(/\/+$/, '')}/oauth/token` : PIPEDRIVE_TOKEN_URL) };
  const auth: PipedriveSettings['auth'] = data.apiToken !== undefined ? { kind: 'apiToken', token: data.apiToken } : { kind: 'oauth', token: data.accessToken, refresh };
  const plan = BURST_BY_PLAN[data.plan ?? 'lite'];
  return {
    auth,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    burstLimit: data.burstLimit ?? (auth.kind === 'apiToken' ? plan.apiToken : plan.oauth),
    dailyTokenBudget: data.dailyTokenBudget,
    tokenReserve: data.tokenReserve ?? 1000,
    objects: data.objects,
    externalIdField: data.externalIdField ?? 'Ferry source id',
    dealParticipants: data.dealParticipants ?? false,
    checkDeletedById: data.checkDeletedById ?? true,
    writeConcurrency: data.writeConcurrency ?? 4,
    readOnly: data.readOnly ?? false,
    timeoutMs: data.timeoutMs ?? 30_000,
    maxRetries: data.maxRetries ?? 5,
  };
}
