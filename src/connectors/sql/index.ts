export { createSqlConnector, SqlConnector } from './sql-connector.js';
export { sqlConnectionSchema, parseSqlConnectionConfig } from './config.js';
export type { SqlConnectionConfig, SqlConnectionSettings, SqlConnectorOptions, SqlObjectOverride } from './config.js';
export type { TimestampStorage } from './timestamps.js';
