export { startSalesforceEmulator, releaseLabel, type SalesforceEmulator, type SalesforceEmulatorOptions } from './server.js';
export { SalesforceStore, type Data, type SfRecord, type ValidationRule } from './store.js';
export { seedSample, RENEWAL_STAGES, type SeedCounts } from './seed.js';
export { Schema, OPPORTUNITY_STAGES, LEAD_STATUSES, type CustomFieldSpec, type CustomObjectSpec, type FieldDef, type ObjectDef } from './schema.js';
export { checksum, makeId, normalizeId, KEY_PREFIXES } from './ids.js';
export { parseSoql, execute, evaluate, type Query, type Condition } from './soql.js';
export { parseCsv, toCsv } from './bulk.js';
export { MAX_COLLECTION, DEFAULT_BATCH_SIZE } from './routes.js';
