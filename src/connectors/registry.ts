import type { Connector } from '../core/connector.js';
import { FerryError } from '../core/errors.js';
import type { ConnectionConfig } from '../project/types.js';
import { createCsvConnector } from './csv/index.js';
import { createHubspotConnector } from './hubspot/index.js';
import { createPipedriveConnector } from './pipedrive/index.js';
import { createSalesforceConnector } from './salesforce/index.js';
import { createSqlConnector, type SqlConnectionConfig } from './sql/index.js';

export interface ConnectorOptions {
  /** Folder that relative paths in the settings are resolved against (the project file's folder). */
  baseDir: string;
  /** `source` or `target`: prefixes the keys named in configuration errors. */
  role?: 'source' | 'target';
  /** The project's `sourceTimeZone`: zone of source date-times written without one (CSV; default UTC). */
  sourceTimeZone?: string;
  /** The project's `sourceLocale`: how source text writes numbers and numeric dates (CSV; default none). */
  sourceLocale?: string;
}

/** What of a project its source connector needs besides its own settings. */
export interface SourceProject {
  source: ConnectionConfig;
  sourceTimeZone?: string;
  sourceLocale?: string;
}

type Factory = (settings: Record<string, unknown>, options: ConnectorOptions) => Connector;

/**
 * The one place that knows which connectors exist. The engine asks for a Connector and never learns
 * which vendor is behind it.
 */
const FACTORIES: Record<string, Factory> = {
  sql: (settings, options) => createSqlConnector(settings as SqlConnectionConfig, { baseDir: options.baseDir, configPath: options.role }),
  csv: (settings, options) =>
    createCsvConnector(settings, {
      baseDir: options.baseDir,
      configPath: options.role ?? 'source',
      ...(options.sourceTimeZone !== undefined ? { timeZone: options.sourceTimeZone } : {}),
      ...(options.sourceLocale !== undefined ? { locale: options.sourceLocale } : {}),
    }),
  hubspot: (settings, options) => createHubspotConnector(settings, { configPath: options.role }),
  pipedrive: (settings, options) => createPipedriveConnector(settings, { configPath: options.role }),
  salesforce: (settings, options) => createSalesforceConnector(settings, { configPath: options.role, baseDir: options.baseDir }),
};

export const CONNECTOR_KINDS = Object.keys(FACTORIES);

export function createConnector(config: ConnectionConfig, options: ConnectorOptions): Connector {
  const { connector, ...settings } = config;
  const factory = FACTORIES[connector];
  if (!factory) {
    throw new FerryError(
      'CONFIG_INVALID',
      `${options.role ?? 'connection'}.connector: unknown connector "${connector}" (expected one of ${CONNECTOR_KINDS.join(', ')})`,
      { path: `${options.role ?? 'connection'}.connector`, value: connector },
    );
  }
  return factory(settings, options);
}

/**
 * A project's source connector, with the project-wide source settings (`sourceTimeZone`, `sourceLocale`)
 * passed on. Every place that opens a project's source goes through here, so the settings reach it
 * whichever command, the wizard or a test harness opens it.
 */
export function createSourceConnector(project: SourceProject, options: Omit<ConnectorOptions, 'role' | 'sourceTimeZone' | 'sourceLocale'>): Connector {
  return createConnector(project.source, {
    ...options,
    role: 'source',
    ...(project.sourceTimeZone !== undefined ? { sourceTimeZone: project.sourceTimeZone } : {}),
    ...(project.sourceLocale !== undefined ? { sourceLocale: project.sourceLocale } : {}),
  });
}
