export * from './constants.js';
export {
  generateSampleData,
  sampleCounts,
  naiveTimestamp,
  UNICODE_FIRST_NAMES,
  type SampleCounts,
  type SampleData,
  type SampleOptions,
  type SampleRow,
  type SampleValue,
} from './generate.js';
export { generateDemoTarget, normalisedEmail, type DemoTargetData } from './target.js';
export {
  createDemoTargetPostgres,
  createDemoTargetSqlite,
  writeSampleCsv,
  writeSamplePostgres,
  writeSampleSqlite,
  type WrittenCounts,
} from './writers.js';
export {
  applySourceChanges,
  editTargetRecords,
  type SampleDatabase,
  type SourceChangeOptions,
  type SourceChanges,
  type TargetEdit,
  type TargetEditOptions,
} from './changes.js';
export { SOURCE_POSTGRES_DDL, SOURCE_SQLITE_DDL, TARGET_POSTGRES_DDL, TARGET_SQLITE_DDL } from './ddl.js';
export { Random, hash32 } from './random.js';
export { sampleToHubspotObjects } from './hubspot-mapping.js';
export { canonicalSampleStage, PIPEDRIVE_STAGE_IDS, PIPEDRIVE_STATUS, sampleToPipedriveObjects } from './pipedrive-mapping.js';
export { SALESFORCE_STAGES, SALESFORCE_TASK_STATUS, sampleToSalesforceObjects } from './salesforce-mapping.js';
