import type { FieldValue } from '../../src/core/schema.js';
import { describeConnectorContract, type ContractFixture } from '../../src/connectors/contract.js';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { setModifiedAt } from '../../src/emulators/hubspot/test-support.js';

/**
 * The connector contract against the HubSpot emulator. Main object: companies (with a unique custom
 * property `contract_code`, created as an admin would); child: contacts, whose `primary_company`
 * reference is written through the v4 associations API.
 */
async function setup(): Promise<ContractFixture> {
  const emulator: HubspotEmulator = await startHubspotEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  // An admin creates a unique property in the HubSpot UI (back door, outside the connector).
  const created = await fetch(`${emulator.url}/crm/v3/properties/companies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'contract_code', label: 'Contract code', type: 'string', fieldType: 'text', groupName: 'companyinformation', hasUniqueValue: true }),
  });
  if (created.status >= 300) throw new Error(`cannot create contract_code: ${created.status} ${await created.text()}`);
  const connector = createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, burstLimit: 1000, searchPerSecond: 50 });
  return {
    connector,
    object: 'companies',
    makeFields: (seed): Record<string, FieldValue> => ({
      name: `Company ${seed}`,
      domain: `company${seed}.example.com`,
      numberofemployees: seed * 10,
      contract_code: `code-${seed}`,
    }),
    updateField: (seed) => ({ field: 'city', value: `City ${seed}` }),
    badRecords: (valid) => {
      const badIndustry: Record<string, FieldValue> = { name: 'Bad industry', industry: 'NOT_AN_INDUSTRY' };
      const duplicate: Record<string, FieldValue> = { name: 'Duplicate code', contract_code: valid.contract_code ?? null };
      return [
        { fields: badIndustry, field: 'industry', code: 'INVALID_VALUE' },
        { fields: duplicate, field: 'contract_code', code: 'UNIQUE_VIOLATION' },
      ];
    },
    missingId: '999999999',
    child: {
      object: 'contacts',
      referenceField: 'primary_company',
      makeFields: (seed, parentId) => ({ email: `person${seed}@example.com`, firstname: `Person ${seed}`, primary_company: parentId }),
    },
    modifyOutside: async (object, ids, modifiedAt) => setModifiedAt(emulator, object, ids, modifiedAt),
    readOnlyConnector: async () => createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, readOnly: true }),
    teardown: () => emulator.close(),
  };
}

describeConnectorContract('hubspot (emulator)', setup);
