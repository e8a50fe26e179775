import type { FieldValue } from '../../src/core/schema.js';
import { describeConnectorContract, type ContractFixture } from '../../src/connectors/contract.js';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { startHubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { CALL_OUTCOMES } from '../../src/emulators/hubspot/schema.js';
import { setModifiedAt } from '../../src/emulators/hubspot/test-support.js';

/**
 * The connector contract on an engagement object: HubSpot calls (required hs_timestamp, a duration in
 * milliseconds, the outcome as an id enumeration) against the emulator. Their associations are lists
 * (`associated_contacts`), covered end to end in test/e2e/hubspot-engagements.test.ts.
 */
async function setup(): Promise<ContractFixture> {
  const emulator = await startHubspotEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  const connector = createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, burstLimit: 1000, searchPerSecond: 50 });
  return {
    connector,
    object: 'calls',
    makeFields: (seed): Record<string, FieldValue> => ({
      hs_timestamp: new Date(Date.UTC(2026, 0, 1) + seed * 60_000).toISOString(),
      hs_call_title: `Call ${seed}`,
      hs_call_duration: seed * 60_000,
      hs_call_direction: seed % 2 === 0 ? 'INBOUND' : 'OUTBOUND',
      hs_call_disposition: CALL_OUTCOMES[seed % CALL_OUTCOMES.length]![0],
    }),
    updateField: (seed) => ({ field: 'hs_call_title', value: `Call ${seed} (edited)` }),
    badRecords: (valid) => [
      { fields: { ...valid, hs_call_disposition: 'Connected' }, field: 'hs_call_disposition', code: 'INVALID_VALUE' },
      { fields: { ...valid, hs_call_direction: 'SIDEWAYS' }, field: 'hs_call_direction', code: 'INVALID_VALUE' },
    ],
    missingId: '999999999',
    modifyOutside: async (object, ids, modifiedAt) => setModifiedAt(emulator, object, ids, modifiedAt),
    readOnlyConnector: async () => createHubspotConnector({ accessToken: emulator.token, baseUrl: emulator.url, readOnly: true }),
    teardown: () => emulator.close(),
  };
}

describeConnectorContract('hubspot (emulator): calls', setup);
