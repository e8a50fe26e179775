/**
 * What each connector's settings form looks like (the wizard's Connect step), beside the registry so the
 * vendor knowledge stays in src/connectors. The settings themselves are validated by each connector's
 * own schema (sql/config.ts, csv/config.ts, hubspot/config.ts); these specs only describe the form.
 * Structurally the same as ConnectorSpec in src/wizard/api.ts.
 */
export interface ConnectorSettingSpecEntry {
  /** The key in the side's block of ferry.yaml; a dotted name is a nested key (`oauth.clientId` is `oauth: { clientId }`). */
  name: string;
  label: string;
  kind: 'text' | 'path' | 'url' | 'number' | 'select' | 'boolean';
  required: boolean;
  /** Kept out of ferry.yaml: stored in the local secrets file and referenced as ${ENV}. */
  secret: boolean;
  options?: string[];
  /** What the form shows for an option of a select (the option itself otherwise). */
  optionLabels?: Record<string, string>;
  help?: string;
  /** Shown (and sent) only when another setting has one of these values. */
  when?: { setting: string; values: string[] };
  /**
   * A choice of the form, never written to ferry.yaml: it picks which other settings apply (those whose `when`
   * names it), and the settings of the options not chosen are dropped from ferry.yaml. Read back from which of
   * them ferry.yaml holds: the last option (options go from the plainest to the most specific) whose settings
   * are there, else the first.
   */
  formOnly?: boolean;
}

export interface ConnectorSpecEntry {
  kind: string;
  label: string;
  roles: ('source' | 'target')[];
  settings: ConnectorSettingSpecEntry[];
}

/** The settings of a token; those of an OAuth app's refresh-token grant (see `authChoice`). */
const TOKEN = { setting: 'auth', values: ['token'] };
const OAUTH = { setting: 'auth', values: ['oauth'] };

/** How a vendor with OAuth apps is signed in to: a token, or an app's refresh-token grant (`oauth:` in ferry.yaml). */
function authChoice(tokenLabel: string): ConnectorSettingSpecEntry[] {
  return [
    {
      name: 'auth',
      label: 'Sign in with',
      kind: 'select',
      required: true,
      secret: false,
      options: ['token', 'oauth'],
      optionLabels: { token: tokenLabel, oauth: 'OAuth app (client id, secret and refresh token)' },
      formOnly: true,
      help: 'Only the settings of the way chosen are kept in ferry.yaml.',
    },
  ];
}

/** The `oauth` block the connector's schema takes (kit/settings.ts oauthGrantSchema), with the vendor's hints. */
function oauthSettings(help: { clientId: string; refreshToken: string; tokenUrl: string }): ConnectorSettingSpecEntry[] {
  return [
    { name: 'oauth.clientId', label: 'OAuth app client id', kind: 'text', required: true, secret: false, help: help.clientId, when: OAUTH },
    // The form adds where secrets are kept to their hints.
    { name: 'oauth.clientSecret', label: 'OAuth app client secret', kind: 'text', required: true, secret: true, when: OAUTH },
    { name: 'oauth.refreshToken', label: 'Refresh token', kind: 'text', required: true, secret: true, help: help.refreshToken, when: OAUTH },
    { name: 'oauth.tokenUrl', label: 'Token URL', kind: 'url', required: false, secret: false, help: help.tokenUrl, when: OAUTH },
  ];
}

export const CONNECTOR_SPECS: readonly ConnectorSpecEntry[] = [
  {
    kind: 'sql',
    label: 'SQL database (SQLite, PostgreSQL, MySQL/MariaDB)',
    roles: ['source', 'target'],
    settings: [
      { name: 'dialect', label: 'Database', kind: 'select', required: true, secret: false, options: ['sqlite', 'postgres', 'mysql'] },
      {
        name: 'path',
        label: 'SQLite file',
        kind: 'path',
        required: true,
        secret: false,
        help: 'Relative to the folder of ferry.yaml. The file must exist.',
        when: { setting: 'dialect', values: ['sqlite'] },
      },
      {
        name: 'url',
        label: 'Connection URL',
        kind: 'url',
        required: true,
        secret: true,
        help: 'postgres://user:password@host:5432/database or mysql://user:password@host:3306/database. Kept in .ferry/secrets.env, not in ferry.yaml.',
        when: { setting: 'dialect', values: ['postgres', 'mysql'] },
      },
      { name: 'schema', label: 'PostgreSQL schema', kind: 'text', required: false, secret: false, help: 'Default public.', when: { setting: 'dialect', values: ['postgres'] } },
      { name: 'timeZone', label: 'Time zone of stored date-times', kind: 'text', required: false, secret: false, help: 'IANA name such as Europe/Berlin; default UTC.' },
      { name: 'readOnly', label: 'Read only', kind: 'boolean', required: false, secret: false, help: 'Refuse every write (a source you want to protect).' },
    ],
  },
  {
    kind: 'csv',
    label: 'CSV exports (a folder, one file per object)',
    roles: ['source'],
    settings: [
      { name: 'path', label: 'Folder', kind: 'path', required: true, secret: false, help: 'Relative to the folder of ferry.yaml.' },
      { name: 'delimiter', label: 'Delimiter', kind: 'select', required: false, secret: false, options: [',', ';', '\t', '|'], help: 'Detected from the header line when empty.' },
      {
        name: 'encoding',
        label: 'Encoding',
        kind: 'select',
        required: false,
        secret: false,
        options: ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'],
        help: 'Detected when empty.',
      },
      // No time zone here: the project's top-level sourceTimeZone is the one zone for the whole source.
    ],
  },
  {
    kind: 'hubspot',
    label: 'HubSpot (CRM API v3)',
    roles: ['source', 'target'],
    settings: [
      ...authChoice('Private app access token'),
      {
        name: 'accessToken',
        label: 'Private app access token',
        kind: 'text',
        required: true,
        secret: true,
        help: 'Kept in .ferry/secrets.env, not in ferry.yaml.',
        when: TOKEN,
      },
      ...oauthSettings({
        clientId: 'The app\'s client ID, from its Auth settings in your HubSpot developer account.',
        refreshToken: 'The refresh token HubSpot gave when the app was installed in this account (Ferry trades it for 30-minute access tokens).',
        tokenUrl: 'Default: /oauth/v3/token on the API base URL (https://api.hubapi.com/oauth/v3/token); the local emulator serves it too.',
      }),
      { name: 'baseUrl', label: 'API base URL', kind: 'url', required: false, secret: false, help: 'Default https://api.hubapi.com; the local emulator or a proxy otherwise.' },
      { name: 'burstLimit', label: 'Requests per 10 seconds', kind: 'number', required: false, secret: false, help: '100 (Free/Starter, default), 190 (Professional/Enterprise), 250 (API limit increase).' },
      { name: 'createMissingProperties', label: 'Create missing properties and options', kind: 'boolean', required: false, secret: false },
    ],
  },
  {
    kind: 'pipedrive',
    label: 'Pipedrive (API v2, v1 for notes and users)',
    roles: ['source', 'target'],
    settings: [
      ...authChoice('API token'),
      { name: 'apiToken', label: 'API token', kind: 'text', required: true, secret: true, help: 'Personal preferences > API in Pipedrive. Kept in .ferry/secrets.env, not in ferry.yaml.', when: TOKEN },
      ...oauthSettings({
        clientId: 'The app\'s client ID, from the app\'s OAuth settings in the Pipedrive Developer Hub.',
        refreshToken: 'The refresh token Pipedrive gave when the app was installed in the company (Ferry trades it for access tokens that last an hour).',
        tokenUrl: 'Default https://oauth.pipedrive.com/oauth/token; /oauth/token on the API base URL when that is a local address (the emulator).',
      }),
      { name: 'companyDomain', label: 'Company domain', kind: 'text', required: false, secret: false, help: 'acme for acme.pipedrive.com.' },
      { name: 'baseUrl', label: 'API base URL', kind: 'url', required: false, secret: false, help: 'The local emulator or a proxy; wins over the company domain.' },
      { name: 'plan', label: 'Plan', kind: 'select', required: false, secret: false, options: ['lite', 'growth', 'premium', 'ultimate'], help: 'Sets the burst limit (default lite, the smallest).' },
    ],
  },
  {
    kind: 'salesforce',
    label: 'Salesforce (REST API, OAuth connected app)',
    roles: ['source', 'target'],
    settings: [
      { name: 'clientId', label: 'Connected app consumer key', kind: 'text', required: true, secret: false, help: 'Setup > App Manager > your connected app > Manage Consumer Details.' },
      { name: 'username', label: 'Integration user', kind: 'text', required: true, secret: false, help: 'The username the JWT bearer flow signs in as (pre-authorized for the app).' },
      { name: 'privateKey', label: 'Private key (PEM)', kind: 'text', required: true, secret: true, help: 'The key whose certificate is uploaded to the connected app. Kept in .ferry/secrets.env, not in ferry.yaml.' },
      { name: 'loginUrl', label: 'Login URL', kind: 'url', required: false, secret: false, help: 'Default https://login.salesforce.com; https://test.salesforce.com for sandboxes, your My Domain URL, or the local emulator.' },
      { name: 'instanceUrl', label: 'Instance URL', kind: 'url', required: false, secret: false, help: 'https://<MyDomain>.my.salesforce.com; taken from the sign-in answer when empty.' },
      { name: 'apiVersion', label: 'API version', kind: 'text', required: false, secret: false, help: 'Default 62.0.' },
      { name: 'apiShare', label: 'Share of the daily API allocation', kind: 'number', required: false, secret: false, help: 'Between 0 and 1 (default 0.5): Ferry stops, resumably, before using more of the org\'s 24-hour allocation.' },
      { name: 'createExternalIdFields', label: 'Create Ferry_Source_Id__c where missing', kind: 'boolean', required: false, secret: false, help: 'Target only: create the external-id field through the Tooling API on the objects Ferry creates records in, and grant it to the permission set below (needs Customize Application and Manage Profiles and Permission Sets).' },
      { name: 'permissionSet', label: 'Permission set (API name)', kind: 'text', required: false, secret: false, help: 'The integration user\'s permission set, granted Read and Edit on the fields Ferry creates.' },
    ],
  },
];
