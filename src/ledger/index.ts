export * from './ledger.js';
export type { LedgerDialect } from './migrations.js';
