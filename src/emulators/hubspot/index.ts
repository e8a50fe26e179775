export { startHubspotEmulator, type HubspotEmulator, type HubspotEmulatorOptions, type HubspotEmulatorStats, type HubspotEmulatorLimits } from './server.js';
export { FaultInjector, type FaultMatch, type FaultRule } from './faults.js';
export { HubspotStore, type Owner, type PublicRecord, type RequestLogEntry, type StoredRecord } from './store.js';
export { seedSample, type SeedCounts } from './seed.js';
export { OBJECT_TYPES, ASSOCIATION_TYPES, type PropertyDefinition, type Pipeline, type CustomObjectSchema, type CustomAssociationDefinition } from './schema.js';
export { SEARCH_MAX_LIMIT, SEARCH_RESULT_CAP } from './search.js';
export { BATCH_LIMIT } from './routes-objects.js';
