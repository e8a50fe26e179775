/**
 * HubSpot's fault injection is the kit's (src/emulators/kit/faults.ts): the same rules and seeded draws. A
 * `rate-limit` rule's `policyName` is one of HubSpot's (`TEN_SECONDLY_ROLLING`, the default, `SECONDLY`,
 * `DAILY`), which picks the 429's message; partial-batch rules apply to batch create/update/upsert.
 */
export * from '../kit/faults.js';
