import { join } from 'node:path';
import type { SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { ConnectionConfig, ProjectFile } from '../../src/project/types.js';
import { sampleToSalesforceObjects } from '../../src/sample/index.js';
import { sqlite } from './delta-checks.js';

/** The external-id field an admin adds (docs/connectors/salesforce.md, Setup step 4). */
export const EXTERNAL_ID_FIELD = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true, unique: true };
/** The objects the SQL sample creates records in, each with the external-id field. */
export const WITH_EXTERNAL_IDS = { Account: [EXTERNAL_ID_FIELD], Contact: [EXTERNAL_ID_FIELD], Opportunity: [EXTERNAL_ID_FIELD], Task: [EXTERNAL_ID_FIELD] };

/** The SQL sample's owners as Salesforce users (matched by e-mail). */
export function addSampleOwners(salesforce: SalesforceEmulator, dir: string): void {
  for (const row of sqlite(join(dir, 'source.db'), 'SELECT email, first_name, last_name FROM owners')) {
    salesforce.store.create('User', { Username: String(row.email), Email: String(row.email), FirstName: row.first_name, LastName: String(row.last_name ?? 'Owner'), Alias: 'owner' });
  }
}

/** The SQL sample (dir/source.db) into the emulator with the sample's Salesforce mapping. */
export function sampleIntoSalesforce(dir: string, salesforce: SalesforceEmulator, options: { pageSize: number; target?: Record<string, unknown> }): ProjectFile {
  return {
    version: 1,
    source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
    target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url, ...options.target } as ConnectionConfig,
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: options.pageSize },
    objects: sampleToSalesforceObjects(),
  };
}
