import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/core/errors.js';
import type { Run } from '../../src/ledger/index.js';
import { BACKENDS, count, createSeededFixture, type Fixture } from '../support/crm-fixture.js';

/** A snapshot of the target's migrated rows, to compare a paused-and-resumed run with an uninterrupted one. */
async function targetSnapshot(fixture: Fixture): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['companies', 'contacts', 'deals', 'notes', 'deal_contacts']) out[table] = await count(fixture.target, table);
  return out;
}

/** Runs `migrate` with the controller's signal; returns what it threw and the run as the ledger holds it, then closes. */
async function migrateUntilPaused(opened: Awaited<ReturnType<Fixture['open']>>, controller: AbortController): Promise<{ error: unknown; run: Run }> {
  let error: unknown;
  try {
    await opened.engine.migrate({ signal: controller.signal });
  } catch (caught) {
    error = caught;
  }
  const run = await opened.ledger.requireRun(1);
  await opened.close();
  return { error, run };
}

for (const backend of BACKENDS) {
  describe(`pausing a run on ${backend}`, () => {
    let fixture: Fixture;

    beforeEach(async () => {
      fixture = await createSeededFixture(backend);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('stops at the next checkpoint as RUN_PAUSED, and the same command resumes it to an exact copy', async () => {
      const controller = new AbortController();
      let contactPages = 0;
      // Pause while the first page of contacts is read for writing (the fixture's pages hold 3 records;
      // matching reads only the key fields, before).
      const paused = await fixture.open(undefined, {
        beforeSourceRead: (object, options) => {
          if (object === 'contacts' && !options.fields && ++contactPages === 1) controller.abort();
          return Promise.resolve();
        },
      });
      const events: string[] = [];
      paused.progress.on((event) => {
        if (event.type === 'run-finished') events.push(event.status);
      });
      const { error, run } = await migrateUntilPaused(paused, controller);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe('RUN_PAUSED');
      expect(events).toEqual(['paused']);
      expect(run.status).toBe('interrupted');
      // The page being written when the pause came was finished and recorded, nothing after it.
      expect(run.counts.contacts?.read).toBe(3);
      expect(await count(fixture.target, 'contacts')).toBe(3);
      expect(await count(fixture.target, 'deals')).toBe(0);

      const resumed = await fixture.open();
      try {
        const result = await resumed.engine.migrate();
        expect(result.resumed).toBe(true);
        expect(result.runId).toBe(1);
        expect(result.status).toBe('completed');
        expect(result.counts.contacts).toMatchObject({ read: 5, created: 5 });
      } finally {
        await resumed.close();
      }
      expect(await targetSnapshot(fixture)).toEqual({ companies: 3, contacts: 5, deals: 2, notes: 3, deal_contacts: 3 });
    });

    it('a pause during matching stops before anything is written, and the same command matches again and finishes', async () => {
      const controller = new AbortController();
      // Matching reads only the key fields: pause while it reads the contacts.
      const paused = await fixture.open(undefined, {
        beforeSourceRead: (object, options) => {
          if (object === 'contacts' && options.fields) controller.abort();
          return Promise.resolve();
        },
      });
      const { error, run } = await migrateUntilPaused(paused, controller);
      expect((error as FerryError).code).toBe('RUN_PAUSED');
      expect(run.status).toBe('interrupted');
      expect(await count(fixture.target, 'contacts')).toBe(0);

      const resumed = await fixture.open();
      try {
        const result = await resumed.engine.migrate();
        expect(result.resumed).toBe(true);
        expect(result.status).toBe('completed');
      } finally {
        await resumed.close();
      }
      expect(await targetSnapshot(fixture)).toEqual({ companies: 3, contacts: 5, deals: 2, notes: 3, deal_contacts: 3 });
    });
  });
}
