import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../core/errors.js';
import { settingsError } from '../kit/settings.js';

/** Where the OAuth token endpoint lives for production orgs and sandboxes. */
export const SALESFORCE_LOGIN_URL = 'https://login.salesforce.com';
export const SALESFORCE_SANDBOX_LOGIN_URL = 'https://test.salesforce.com';
/** The REST API version used unless the settings name one (Winter '25). */
export const DEFAULT_API_VERSION = '62.0';
/** The field holding the source record id on creates (an External ID, unique text field the admin adds). */
export const DEFAULT_EXTERNAL_ID_FIELD = 'Ferry_Source_Id__c';

/** Objects listed by describe() unless the settings name others; custom `__c` objects are added from describe. */
export const STANDARD_OBJECTS = ['User', 'RecordType', 'Account', 'Contact', 'Lead', 'Opportunity', 'OpportunityContactRole', 'Task', 'Event', 'Note', 'ContentNote', 'ContentDocumentLink'] as const;

/** Settings of the Salesforce connector (the `source:` / `target:` block of ferry.yaml). */
export const salesforceConnectionSchema = z
  .strictObject({
    connector: z.literal('salesforce').optional(),
    /** The org's My Domain URL (`https://acme.my.salesforce.com`); the token answer's `instance_url` otherwise. */
    instanceUrl: z.url({ error: 'must be a URL such as https://acme.my.salesforce.com' }).optional(),
    /** Where the OAuth token endpoint is (default https://login.salesforce.com; https://test.salesforce.com for sandboxes, or the My Domain URL). */
    loginUrl: z.url({ error: 'must be a URL such as https://login.salesforce.com' }).optional(),
    /** Use the sandbox login URL (https://test.salesforce.com) when loginUrl is not given. */
    sandbox: z.boolean().optional(),
    /** REST API version, `62.0`. */
    apiVersion: z.string().regex(/^\d{2,3}\.0$/, 'must be a version such as 62.0').optional(),
    /** An access token (with instanceUrl): used as is, never refreshed. */
    accessToken: z.string().min(1, 'must not be empty').optional(),
    /** The connected app's consumer key (JWT bearer and refresh token flows). */
    clientId: z.string().min(1, 'must not be empty').optional(),
    /** The connected app's consumer secret (refresh token flow, when the app requires it). */
    clientSecret: z.string().min(1, 'must not be empty').optional(),
    /** JWT bearer flow: the integration user's username (the JWT `sub`). */
    username: z.string().min(1, 'must not be empty').optional(),
    /** JWT bearer flow: the private key (PEM) whose certificate is uploaded to the connected app, as `${SALESFORCE_PRIVATE_KEY}`. */
    privateKey: z.string().min(1, 'must not be empty').optional(),
    /** JWT bearer flow: a file holding the private key (PEM), relative to ferry.yaml. */
    privateKeyFile: z.string().min(1, 'must not be empty').optional(),
    /** Refresh token flow: a refresh token the connected app issued, as `${SALESFORCE_REFRESH_TOKEN}`. */
    refreshToken: z.string().min(1, 'must not be empty').optional(),
    /** Restrict describe() to these objects (standard or custom). */
    objects: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be an object API name such as Account or Project__c')).optional(),
    /** Add every custom (`__c`) object of the org to describe() (default true). */
    customObjects: z.boolean().optional(),
    /** The External ID field holding the source record id on creates (default Ferry_Source_Id__c). */
    externalIdField: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, 'must be a custom field API name ending in __c').optional(),
    /**
     * Create the external-id field on objects Ferry creates records in when it is missing (Tooling API), and
     * grant it to `permissionSet` (default false: an admin adds it, docs/connectors/salesforce.md).
     */
    createExternalIdFields: z.boolean().optional(),
    /** API name of the permission set (assigned to the integration user) that Ferry grants Read and Edit on the fields it creates. */
    permissionSet: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a permission set API name such as Ferry_Integration').optional(),
    /** Share (0 < share <= 1) of the org's daily API allocation Ferry may use; the rest is left to the org (default 0.5). */
    apiShare: z.number().gt(0).max(1).optional(),
    /** The org's daily API allocation when no answer has said it yet (the `Sforce-Limit-Info` header wins). */
    dailyApiRequests: z.int().min(1).optional(),
    /**
     * Reads that need every record once in any order (matching reads) use a Bulk API 2.0 query job when the
     * object has at least this many records to read (default 50,000; a job costs a few calls and reads 50,000
     * records a call, REST SOQL 2,000).
     */
    bulkReadThreshold: z.int().min(1).optional(),
    /**
     * A create (with external ids) or update call of at least this many records is a Bulk API 2.0 ingest job
     * instead of collections of 200 (default 2,000; the engine hands over at most a source page, `pageSize`).
     */
    bulkWriteThreshold: z.int().min(1).optional(),
    /** Milliseconds between the first polls of a Bulk API 2.0 job (doubling up to 10 s; default 1,000). */
    bulkPollMs: z.int().min(1).max(60_000).optional(),
    /** Collections in flight at once (each up to 200 records). */
    writeConcurrency: z.int().min(1).max(8).optional(),
    readOnly: z.boolean().optional(),
    timeoutMs: z.int().min(100).optional(),
    maxRetries: z.int().min(0).max(20).optional(),
  })
  .superRefine((value, context) => {
    const flows = [value.accessToken !== undefined, value.refreshToken !== undefined, value.privateKey !== undefined || value.privateKeyFile !== undefined].filter(Boolean).length;
    if (flows !== 1) {
      context.addIssue({ code: 'custom', path: ['accessToken'], message: 'needs exactly one way to sign in: accessToken (with instanceUrl), refreshToken (with clientId), or privateKey / privateKeyFile (JWT bearer, with clientId and username)' });
      return;
    }
    if (value.accessToken !== undefined && value.instanceUrl === undefined) context.addIssue({ code: 'custom', path: ['instanceUrl'], message: 'is needed with accessToken (the org\'s https://<MyDomain>.my.salesforce.com)' });
    if ((value.refreshToken !== undefined || value.privateKey !== undefined || value.privateKeyFile !== undefined) && value.clientId === undefined) context.addIssue({ code: 'custom', path: ['clientId'], message: 'is needed: the connected app\'s consumer key' });
    if ((value.privateKey !== undefined || value.privateKeyFile !== undefined) && value.username === undefined) context.addIssue({ code: 'custom', path: ['username'], message: 'is needed with the JWT bearer flow: the integration user\'s username' });
    if (value.privateKey !== undefined && value.privateKeyFile !== undefined) context.addIssue({ code: 'custom', path: ['privateKey'], message: 'give privateKey or privateKeyFile, not both' });
    if (value.createExternalIdFields === true && value.permissionSet === undefined) context.addIssue({ code: 'custom', path: ['permissionSet'], message: 'is needed with createExternalIdFields: the API name of the integration user\'s permission set, which Ferry grants Read and Edit on the fields it creates' });
  });

export type SalesforceConnectionConfig = z.input<typeof salesforceConnectionSchema>;

export type SalesforceAuth =
  | { kind: 'accessToken'; token: string }
  | { kind: 'refreshToken'; clientId: string; clientSecret?: string; refreshToken: string }
  | { kind: 'jwt'; clientId: string; username: string; privateKey: string };

export interface SalesforceSettings {
  auth: SalesforceAuth;
  loginUrl: string;
  instanceUrl?: string;
  apiVersion: string;
  objects?: string[];
  customObjects: boolean;
  externalIdField: string;
  createExternalIdFields: boolean;
  permissionSet?: string;
  apiShare: number;
  dailyApiRequests?: number;
  bulkReadThreshold: number;
  bulkWriteThreshold: number;
  bulkPollMs: number;
  writeConcurrency: number;
  readOnly: boolean;
  timeoutMs: number;
  maxRetries: number;
}

export interface SalesforceConnectorOptions {
  /** Prefix of the keys in error messages (`source` / `target`). */
  configPath?: string;
  /** Folder privateKeyFile is relative to (the project file's). */
  baseDir?: string;
}

const trim = (url: string): string => url.replace(/\/+$/, '');

/** Validates the settings; throws CONFIG_INVALID naming each bad key (never echoing a secret). */
export function parseSalesforceConnectionConfig(input: unknown, options: SalesforceConnectorOptions = {}): SalesforceSettings {
  const parsed = salesforceConnectionSchema.safeParse(input);
  if (!parsed.success) throw settingsError('Salesforce', parsed.error, options.configPath);
  const data = parsed.data;
  const prefix = options.configPath ? `${options.configPath}.` : '';
  let auth: SalesforceAuth;
  if (data.accessToken !== undefined) auth = { kind: 'accessToken', token: data.accessToken };
  else if (data.refreshToken !== undefined) auth = { kind: 'refreshToken', clientId: data.clientId!, refreshToken: data.refreshToken, ...(data.clientSecret !== undefined ? { clientSecret: data.clientSecret } : {}) };
  else {
    let privateKey = data.privateKey;
    if (privateKey === undefined) {
      const path = isAbsolute(data.privateKeyFile!) ? data.privateKeyFile! : resolve(options.baseDir ?? process.cwd(), data.privateKeyFile!);
      try {
        privateKey = readFileSync(path, 'utf8');
      } catch (error) {
        throw new FerryError('CONFIG_INVALID', `${prefix}privateKeyFile: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { path: `${prefix}privateKeyFile` });
      }
    }
    // A key given through an environment variable often has its line breaks written as \n.
    privateKey = privateKey.replace(/\\n/g, '\n');
    if (!/-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(privateKey)) {
      throw new FerryError('CONFIG_INVALID', `${prefix}${data.privateKey !== undefined ? 'privateKey' : 'privateKeyFile'}: is not a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)`, { path: `${prefix}privateKey` });
    }
    auth = { kind: 'jwt', clientId: data.clientId!, username: data.username!, privateKey };
  }
  return {
    auth,
    loginUrl: trim(data.loginUrl ?? (data.sandbox ? SALESFORCE_SANDBOX_LOGIN_URL : SALESFORCE_LOGIN_URL)),
    ...(data.instanceUrl !== undefined ? { instanceUrl: trim(data.instanceUrl) } : {}),
    apiVersion: data.apiVersion ?? DEFAULT_API_VERSION,
    ...(data.objects !== undefined ? { objects: data.objects } : {}),
    customObjects: data.customObjects ?? true,
    externalIdField: data.externalIdField ?? DEFAULT_EXTERNAL_ID_FIELD,
    createExternalIdFields: data.createExternalIdFields ?? false,
    ...(data.permissionSet !== undefined ? { permissionSet: data.permissionSet } : {}),
    apiShare: data.apiShare ?? 0.5,
    ...(data.dailyApiRequests !== undefined ? { dailyApiRequests: data.dailyApiRequests } : {}),
    bulkReadThreshold: data.bulkReadThreshold ?? 50_000,
    bulkWriteThreshold: data.bulkWriteThreshold ?? 2000,
    bulkPollMs: data.bulkPollMs ?? 1000,
    writeConcurrency: data.writeConcurrency ?? 2,
    readOnly: data.readOnly ?? false,
    timeoutMs: data.timeoutMs ?? 120_000,
    maxRetries: data.maxRetries ?? 5,
  };
}
