import { generateKeyPairSync } from 'node:crypto';
import type { FieldValue } from '../../src/core/schema.js';
import { describeConnectorContract, type ContractFixture } from '../../src/connectors/contract.js';
import { createSalesforceConnector } from '../../src/connectors/salesforce/index.js';
import { makeId, startSalesforceEmulator } from '../../src/emulators/salesforce/index.js';

/**
 * The connector contract against the Salesforce emulator, signed in with the JWT bearer flow (a key pair
 * made for the test, its public key uploaded to the emulator's connected app). Main object: Account, with the
 * External ID field Ferry_Source_Id__c, a unique text field Code__c and a restricted picklist Tier__c, as
 * an admin would add them; child: Contact, whose AccountId refers to an Account. The bad records are a value
 * outside the restricted picklist, a missing required Name and a Code__c that another record has.
 */
async function setup(): Promise<ContractFixture> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const emulator = await startSalesforceEmulator({
    port: 0,
    connectedApp: { clientId: 'contract-client', clientSecret: 'contract-secret', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    customFields: {
      Account: [
        { name: 'Ferry_Source_Id__c', type: 'string', length: 80, externalId: true, unique: true },
        { name: 'Code__c', type: 'string', length: 40, unique: true },
        { name: 'Tier__c', type: 'picklist', picklistValues: ['Gold', 'Silver'], restrictedPicklist: true },
      ],
    },
  });
  const settings = {
    loginUrl: emulator.url,
    clientId: 'contract-client',
    username: emulator.username,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const connector = createSalesforceConnector(settings);
  return {
    connector,
    object: 'Account',
    makeFields: (seed): Record<string, FieldValue> => ({
      Name: `Account ${seed}`,
      Website: `https://account${seed}.example.com`,
      NumberOfEmployees: seed * 10,
      Industry: 'Banking',
      Code__c: `code-${seed}`,
      Tier__c: 'Gold',
    }),
    updateField: (seed) => ({ field: 'Phone', value: `+1 555 01${String(seed).padStart(2, '0')}` }),
    badRecords: (valid) => [
      { fields: { Name: 'Bad tier', Tier__c: 'Platinum' } as Record<string, FieldValue>, field: 'Tier__c', code: 'INVALID_VALUE' },
      { fields: { Website: 'https://nameless.example.com' } as Record<string, FieldValue>, field: 'Name', code: 'REQUIRED_MISSING' },
      { fields: { Name: 'Same code', Code__c: valid.Code__c! } as Record<string, FieldValue>, field: 'Code__c', code: 'UNIQUE_VIOLATION' },
    ],
    missingId: makeId('001', 999_999),
    child: {
      object: 'Contact',
      referenceField: 'AccountId',
      makeFields: (seed, parentId) => ({ LastName: `Person ${seed}`, Email: `person${seed}@example.com`, AccountId: parentId }),
    },
    modifyOutside: async (_object, ids, modifiedAt) => {
      const millis = Date.parse(modifiedAt);
      for (const id of ids) {
        const record = emulator.store.find(id);
        if (!record) throw new Error(`no record ${id}`);
        record.row.updateTime = millis;
      }
    },
    readOnlyConnector: async () => createSalesforceConnector({ ...settings, readOnly: true }),
    teardown: () => emulator.close(),
  };
}

describeConnectorContract('salesforce (emulator)', setup);
