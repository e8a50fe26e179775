import type { FieldValue } from '../../src/core/schema.js';
import { describeConnectorContract, type ContractFixture } from '../../src/connectors/contract.js';
import { createPipedriveConnector } from '../../src/connectors/pipedrive/index.js';
import { startPipedriveEmulator } from '../../src/emulators/pipedrive/index.js';

/**
 * The connector contract against the Pipedrive emulator. Main object: organizations, with a text custom
 * field `Contract code` and an enum custom field `Tier` (created as an admin would, in the store); child:
 * persons, whose `org_id` refers to an organization. Pipedrive has no unique fields, so the bad records are a
 * value outside an option set (refused before any request) and an owner that does not exist (refused by
 * Pipedrive with a 400 naming owner_id).
 */
async function setup(): Promise<ContractFixture> {
  const emulator = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 } });
  const contract = emulator.store.addCustomField('organizations', { field_name: 'Contract code', field_type: 'varchar' });
  const tier = emulator.store.addCustomField('organizations', { field_name: 'Tier', field_type: 'enum', options: [{ label: 'Gold' }, { label: 'Silver' }] });
  const gold = String(tier.options![0]!.id);
  const connector = createPipedriveConnector({ apiToken: emulator.token, baseUrl: emulator.url, burstLimit: 10_000 });
  return {
    connector,
    object: 'organizations',
    makeFields: (seed): Record<string, FieldValue> => ({
      name: `Organization ${seed}`,
      website: `https://org${seed}.example.com`,
      employee_count: seed * 10,
      [contract.field_code]: `code-${seed}`,
      [tier.field_code]: gold,
    }),
    updateField: (seed) => ({ field: 'address', value: `${seed} Main Street, Springfield` }),
    badRecords: () => [
      { fields: { name: 'Bad tier', [tier.field_code]: '999999' }, field: tier.field_code, code: 'INVALID_VALUE' },
      { fields: { name: 'Bad owner', owner_id: '999' }, field: 'owner_id', code: 'REFERENCE_MISSING' },
    ],
    missingId: '999999',
    child: {
      object: 'persons',
      referenceField: 'org_id',
      makeFields: (seed, parentId) => ({ name: `Person ${seed}`, email: `person${seed}@example.com`, org_id: parentId }),
    },
    modifyOutside: async (object, ids, modifiedAt) => {
      const millis = Date.parse(modifiedAt);
      for (const id of ids) {
        const row = emulator.store.table(object as 'organizations').get(Number(id));
        if (!row) throw new Error(`no ${object} ${id}`);
        row.updateTime = millis;
      }
    },
    readOnlyConnector: async () => createPipedriveConnector({ apiToken: emulator.token, baseUrl: emulator.url, readOnly: true, burstLimit: 10_000 }),
    teardown: () => emulator.close(),
  };
}

describeConnectorContract('pipedrive (emulator)', setup);
