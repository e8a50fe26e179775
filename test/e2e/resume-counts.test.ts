import { afterEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/core/connector.js';
import { FerryError } from '../../src/core/errors.js';
import type { Counts } from '../../src/core/progress.js';
import type { RunResult } from '../../src/engine/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { at, BACKENDS, createSeededFixture, type Fixture, type Hooks } from '../support/crm-fixture.js';

/**
 * A run stopped in the middle of a page, after some of the page's batches were written, and then resumed,
 * reports what an uninterrupted run reports: each record read once, created or updated once. The resumed
 * run reads the stopped page again; the records of it that the first attempt wrote are its own work, not
 * `unchanged` records, and the stored counts of the stopped attempt must not already hold the page.
 */

type Fault = 'stop-before' | 'answer-lost';

/** The counting is the engine's; on PostgreSQL the lost answer (which reads the journal back) suffices. */
const faults = (backend: string): Fault[] => (backend === 'sqlite' ? ['stop-before', 'answer-lost'] : ['answer-lost']);

/** Writes of `object` in batches of two records; the `call`-th write of `kind` fails as `fault` says. */
function faultOn(object: string, kind: 'create' | 'update', call: number, fault: Fault): Hooks['wrapTarget'] {
  return (connector: Connector) => {
    const capabilities = connector.capabilities.bind(connector);
    connector.capabilities = () => {
      const own = capabilities();
      return { ...own, batchSize: { ...own.batchSize, create: 2, update: 2 } };
    };
    let calls = 0;
    const write = connector[kind].bind(connector) as (object: string, inputs: never[]) => Promise<unknown>;
    (connector as unknown as Record<string, unknown>)[kind] = async (name: string, inputs: never[]) => {
      if (name === object && ++calls === call) {
        // A fatal stop (a spent budget, say) before the batch is sent, or the batch written and its answer lost.
        if (fault === 'stop-before') throw new FerryError('RATE_LIMITED', 'the daily budget is spent: stopped, resumable');
        await write(name, inputs);
        throw new FerryError('TRANSIENT', 'the connection dropped before the answer came');
      }
      return write(name, inputs);
    };
  };
}

/** The fixture's project with pages of five records: the five contacts are one page of three batches. */
function fivePerPage(fixture: Fixture): ProjectFile {
  return { ...fixture.project, options: { ...fixture.project.options, pageSize: 5 } };
}

const withoutFiles = (counts: Record<string, Counts>) => Object.fromEntries(Object.entries(counts).map(([object, each]) => [object, { ...each }]));

// The source's clock: the full migration at minute 1, the source changed at minute 2, the delta at minute 3.
async function migrate(fixture: Fixture, hooks: Hooks = {}): Promise<RunResult | FerryError> {
  return fixture.withSession(async ({ engine }) => engine.migrate().catch((error: unknown) => error as FerryError), fivePerPage(fixture), { sourceNow: () => at(1), ...hooks });
}

async function delta(fixture: Fixture, hooks: Hooks = {}): Promise<RunResult | FerryError> {
  return fixture.withSession(
    async ({ engine }) => engine.delta({ createNew: true, updateChanged: true }).catch((error: unknown) => error as FerryError),
    fivePerPage(fixture),
    { sourceNow: () => at(3), ...hooks },
  );
}

/** Changes every contact's job title. */
async function changeContacts(fixture: Fixture): Promise<void> {
  await fixture.source.run(`UPDATE contacts SET job_title = 'Changed ' || id, updated_at = ?`, [at(2)]);
}

for (const backend of BACKENDS) {
  describe(`counts of a run resumed mid-page on ${backend}`, () => {
    const fixtures: Fixture[] = [];
    afterEach(async () => {
      for (const fixture of fixtures.splice(0)) await fixture.cleanup();
    });
    const fresh = async () => {
      const fixture = await createSeededFixture(backend);
      fixtures.push(fixture);
      return fixture;
    };

    for (const fault of faults(backend)) {
      it(`full migration, ${fault} in the second batch of a page: the counts of an uninterrupted run`, async () => {
        const straight = await migrate(await fresh());
        if (straight instanceof FerryError) throw straight;

        const fixture = await fresh();
        const stopped = await migrate(fixture, { wrapTarget: faultOn('contacts', 'create', 2, fault) });
        expect(stopped).toBeInstanceOf(FerryError);
        const interrupted = await fixture.withSession(({ ledger }) => ledger.requireRun(1));
        expect(interrupted.status).toBe('interrupted');
        // What the stopped attempt stored is its last checkpoint: the stopped page is not in it.
        expect(interrupted.counts.contacts?.read ?? 0).toBe(0);
        expect(interrupted.counts.contacts?.created ?? 0).toBe(0);

        const resumed = await migrate(fixture);
        if (resumed instanceof FerryError) throw resumed;
        expect(resumed.resumed).toBe(true);
        expect(resumed.status).toBe(straight.status);
        expect(withoutFiles(resumed.counts)).toEqual(withoutFiles(straight.counts));
      });
    }

    for (const fault of faults(backend)) {
      it(`delta, ${fault} in the second batch of updates: the counts of an uninterrupted delta`, async () => {
        const straightFixture = await fresh();
        expect(await migrate(straightFixture)).not.toBeInstanceOf(FerryError);
        await changeContacts(straightFixture);
        const straight = await delta(straightFixture);
        if (straight instanceof FerryError) throw straight;
        expect(straight.counts.contacts?.updated).toBeGreaterThan(2);

        const fixture = await fresh();
        expect(await migrate(fixture)).not.toBeInstanceOf(FerryError);
        await changeContacts(fixture);
        expect(await delta(fixture, { wrapTarget: faultOn('contacts', 'update', 2, fault) })).toBeInstanceOf(FerryError);
        const resumed = await delta(fixture);
        if (resumed instanceof FerryError) throw resumed;
        expect(resumed.resumed).toBe(true);
        expect(withoutFiles(resumed.counts)).toEqual(withoutFiles(straight.counts));
      });
    }
  });
}
