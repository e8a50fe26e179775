export { CsvConnector, createCsvConnector, type CsvConnectorOptions, type CsvRowError } from './connector.js';
export { csvConnectionSchema, csvObjectSchema, type CsvConnectionConfig, type CsvConnectionInput, type CsvObjectConfig } from './config.js';
export type { CsvEncoding } from './tokenizer.js';
