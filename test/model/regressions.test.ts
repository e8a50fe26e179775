import { describe, expect, it } from 'vitest';
import { ModelRun } from './harness.js';
import { describeHistory, type History } from './history.js';

/**
 * Histories the model-based test shrank from failures, kept as plain tests: each one a defect that was
 * found and fixed (the comment says which). They replay through the same harness and comparison.
 */
const FOUND: { defect: string; history: History; backend?: 'hubspot'; sigkill?: boolean }[] = [
  {
    defect:
      'retry of a run that held a record as ambiguous created it (a later delta had cleared the issue, its undo did not bring it back), next to the target record it matched: it is held again',
    history: {
      setup: [
        { t: 'source-company', name: 'Acme', domain: 'y.test' },
        { t: 'target-company', name: 'Acme (typed)', domain: 'y.test' },
        { t: 'source-company', name: null, domain: 'x.test' },
        { t: 'target-company', name: 'Acme (typed)', domain: 'y.test' },
      ],
      demo: false,
      fullCrashAt: null,
      later: [
        { t: 'target-edit', object: 'companies', pick: 0, field: 'domain', value: 'x.test' },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
        { t: 'undo' },
        { t: 'retry', pick: 0 },
        { t: 'undo' },
      ],
    } as History,
  },
  {
    defect:
      "retry of a run whose source duplicate waited for its failed leader created the follower as a record of its own (a later delta's matching had cleared its match issue, and undoing that delta did not bring it back): it is retried as the leader's follower",
    history: {
      setup: [
        { t: 'source-company', name: 'Acme', domain: 'x.test' },
        { t: 'source-company', name: null, domain: 'x.test' },
        { t: 'target-company', name: 'Acme (typed)', domain: 'y.test' },
      ],
      demo: false,
      fullCrashAt: null,
      later: [
        { t: 'target-edit', object: 'companies', pick: 0, field: 'domain', value: 'x.test' },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
        { t: 'undo' },
        { t: 'retry', pick: 0 },
        { t: 'undo' },
        { t: 'source-company-edit', pick: 0, field: 'name', value: 'Acme' },
      ],
    } as History,
  },
  {
    defect: 'a create whose answer was lost and was found again by its external id kept no written values, so a later target edit was overwritten by an unrelated source change',
    history: {
      setup: [
        { t: 'target-company', name: 'Acme (typed)', domain: 'y.test' },
        { t: 'target-company', name: 'Acme (typed)', domain: 'y.test' },
        { t: 'source-company', name: 'Acme', domain: 'y.test' },
      ],
      fullCrashAt: null,
      later: [
        { t: 'source-company-edit', pick: 0, field: 'domain', value: 'Acme' },
        { t: 'delta', policy: 'source-wins', crashAt: 0, create: true, update: false },
        { t: 'target-edit', object: 'companies', pick: 0, field: 'domain', value: 'x.test' },
        { t: 'source-company-edit', pick: 0, field: 'name', value: 'x.test' },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: true },
      ],
    },
  },
  {
    defect: "an update of a matched record whose answer was lost left the field it filled looking like one a person typed, so the source's later changes to it were never written",
    history: {
      setup: [
        { t: 'target-contact', first: null, email: 'cy@y.test', title: 'CEO' },
        { t: 'source-company', name: null, domain: 'x.test' },
        { t: 'source-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO', company: null },
        { t: 'source-contact', first: 'Ann', email: 'cy@y.test', title: 'CEO', company: null },
      ],
      fullCrashAt: 2,
      later: [
        { t: 'source-contact-edit', pick: 7, field: 'first_name', value: 'ann@x.test', company: null },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: true },
      ],
    },
  },
  {
    defect: 'a create-new delta linked a new duplicate of a migrated record but never wrote its (newer) values',
    history: {
      setup: [{ t: 'source-contact', first: 'Ann', email: 'bob@x.test', title: 'CEO', company: null }],
      fullCrashAt: null,
      later: [
        { t: 'source-contact', first: 'Ann', email: 'bob@x.test', title: 'CEO', company: null },
        { t: 'source-contact-edit', pick: 3, field: 'first_name', value: 'Bob', company: null },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
      ],
    },
  },
  {
    defect: 'undo left the links its refresh matching made (and the fingerprints it stored without a write), so the ledger was not as before the run and the next migration updated a record it should have created',
    history: {
      setup: [
        { t: 'source-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO', company: null },
        { t: 'target-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO' },
        { t: 'source-company', name: 'Acme', domain: 'x.test' },
      ],
      fullCrashAt: null,
      later: [
        { t: 'undo' },
        { t: 'source-contact-edit', pick: 0, field: 'email', value: null, company: null },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
      ],
    },
  },
  {
    defect: "undo of a retry settled the same record's open failure of the run it retried, so a later retry of that run no longer re-read the record (a company fixed in the source was never created)",
    history: {
      setup: [
        { t: 'source-company', name: null, domain: 'x.test' },
        { t: 'source-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO', company: null },
      ],
      fullCrashAt: null,
      later: [
        { t: 'retry', pick: 0 },
        { t: 'source-company-edit', pick: 0, field: 'name', value: 'Acme' },
        { t: 'undo' },
        { t: 'retry', pick: 0 },
      ],
    },
  },
  {
    defect: 'HubSpot: clearing a primary_company (an undo restoring "no company") left the Primary association in place',
    backend: 'hubspot',
    history: {
      setup: [
        { t: 'source-company', name: 'Acme', domain: 'x.test' },
        { t: 'target-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO' },
        { t: 'target-company', name: 'Acme (typed)', domain: 'x.test' },
      ],
      fullCrashAt: null,
      later: [
        { t: 'source-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO', company: 0 },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
        { t: 'undo' },
      ],
    },
  },
  {
    defect: 'undo marked a merged duplicate that the undone run had merged in for the first time as written, so the next update-changed delta wrote it although it was new',
    history: {
      setup: [{ t: 'target-company', name: 'Acme (typed)', domain: 'y.test' }],
      fullCrashAt: null,
      later: [
        { t: 'source-company', name: 'Acme', domain: 'y.test' },
        { t: 'match' },
        { t: 'source-company', name: 'Acme', domain: 'y.test' },
        { t: 'target-edit', object: 'companies', pick: 0, field: 'domain', value: null },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: false, update: true },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: false },
        { t: 'undo' },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: false, update: true },
      ],
    },
  },
  {
    defect: 'a full migration killed between linking a duplicate to its leader and writing the group never merged its values in when resumed',
    sigkill: true,
    history: {
      setup: [
        { t: 'source-contact', first: 'Ann', email: 'ann@x.test', title: 'CEO', company: null },
        { t: 'source-contact', first: null, email: 'ann@x.test', title: 'CEO', company: null },
        { t: 'source-contact', first: 'Ann', email: 'not-an-email', title: 'CEO', company: null },
      ],
      fullCrashAt: 1,
      later: [],
    },
  },
  {
    defect:
      'a change to a merged duplicate made in the minute of the last run tied with the other member by time, the tie went to the higher id, and the change was never written (found by the Salesforce demo, whose times are whole seconds)',
    history: {
      setup: [
        { t: 'source-company', name: 'Acme', domain: 'x.test' },
        { t: 'source-company', name: 'Acme Inc', domain: 'x.test' },
      ],
      demo: false,
      fullCrashAt: null,
      later: [
        { t: 'source-company-edit', pick: 0, field: 'name', value: 'Acme Group' },
        { t: 'delta', policy: 'source-wins', crashAt: null, create: true, update: true },
      ],
    } as History,
  },
];

describe('histories the model-based test found', () => {
  for (const { defect, history, backend, sigkill } of FOUND) {
    it(defect, async () => {
      const run = await ModelRun.start(backend ?? 'sqlite', { sigkill: sigkill === true });
      try {
        const divergence = await run.play(history);
        expect(divergence, `${divergence ?? ''}\n${describeHistory(history)}`).toBeUndefined();
      } finally {
        await run.close();
      }
    });
  }
});
