export { startPipedriveEmulator, type PipedriveEmulator, type PipedriveEmulatorLimits, type PipedriveEmulatorOptions } from './server.js';
export { PipedriveStore, PURGE_AFTER_MS, rfc3339, v1Time, type CustomField, type NoteData, type RecordData, type UserData } from './store.js';
export { seedSample, type SeedCounts } from './seed.js';
export { ENTITIES, ACTIVITY_TYPES, CUSTOM_FIELD_TYPES, type EntityName } from './schema.js';
export { PLANS, BASE_DAILY_TOKENS, BURST_INTERVAL_MS, type Plan } from './limits.js';
export { ROUTES } from './routes.js';
export { MAX_LIMIT, DEFAULT_LIMIT } from './paging.js';
