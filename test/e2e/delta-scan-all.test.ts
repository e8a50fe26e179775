import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/core/errors.js';
import type { DeltaOptions, RunResult } from '../../src/engine/types.js';
import type { Ledger } from '../../src/ledger/index.js';
import { at, count, createSeededFixture, type Fixture, type Hooks } from '../support/crm-fixture.js';

/**
 * `ferry delta --scan-all`: changes that do not move a record's modified timestamp (here a deal's contacts,
 * a row of the `deal_contacts` join table) are invisible to a delta's modified-since window. A scan-all
 * delta reads every source record and still writes only what differs from the last write.
 *
 * The source's clock is fixed per run (the fixture's records are modified at minute 0, the migration's
 * high-water mark is minute 10), so the windows never depend on the machine's clock.
 */
const SCAN_ALL_MESSAGE = 'The delta read every source record (--scan-all): records whose mapped values are those of their last write count as unchanged.';

describe('delta --scan-all on sqlite', () => {
  let fixture: Fixture;

  beforeEach(async () => {
    fixture = await createSeededFixture('sqlite');
  });
  afterEach(async () => {
    await fixture.cleanup();
  });

  async function session<T>(minute: number, work: (opened: Awaited<ReturnType<Fixture['open']>>) => Promise<T>, hooks: Hooks = {}): Promise<T> {
    const opened = await fixture.open(undefined, { ...hooks, sourceNow: () => at(minute) });
    try {
      return await work(opened);
    } finally {
      await opened.close();
    }
  }

  const migrate = (minute: number) => session(minute, ({ engine }) => engine.migrate());
  const delta = (minute: number, options: DeltaOptions) => session(minute, ({ engine }) => engine.delta(options));
  const withLedger = <T>(work: (ledger: Ledger) => Promise<T>) => session(0, ({ ledger }) => work(ledger));

  /** The source ids of the contacts of a deal in the target, through the ledger. */
  async function targetDealContacts(dealSourceId: string): Promise<string[]> {
    return withLedger(async (ledger) => {
      const deal = await ledger.getLink('deals', dealSourceId);
      const rows = await fixture.target.all<{ contact_id: number }>('SELECT contact_id FROM deal_contacts WHERE deal_id = ?', [Number(deal!.targetId)]);
      const bySourceId = new Map<string, string>();
      for (const id of ['1', '2', '3', '4', '5']) bySourceId.set((await ledger.getLink('contacts', id))!.targetId!, id);
      return rows.map((row) => bySourceId.get(String(row.contact_id))!).sort();
    });
  }

  /** Moves deal 1 from contacts 1 and 2 to contacts 1 and 3 without touching deals.updated_at. */
  async function changeDealContacts(): Promise<void> {
    await fixture.source.run('DELETE FROM deal_contacts WHERE deal_id = 1 AND contact_id = 2');
    await fixture.source.run('INSERT INTO deal_contacts (deal_id, contact_id) VALUES (1, 3)');
  }

  function expectNothingWritten(result: RunResult): void {
    for (const [object, counts] of Object.entries(result.counts)) {
      expect({ object, created: counts.created, updated: counts.updated, failed: counts.failed }).toEqual({ object, created: 0, updated: 0, failed: 0 });
    }
  }

  it('writes a join-table change a plain delta cannot see, counts the rest unchanged, and a second scan writes nothing', async () => {
    expect((await migrate(10)).status).toBe('completed');
    expect(await targetDealContacts('1')).toEqual(['1', '2']);
    await changeDealContacts();

    // The deal's modified timestamp did not move: a plain delta's window does not reach it.
    const plain = await delta(20, { createNew: true, updateChanged: true });
    expect(plain.counts.deals).toMatchObject({ read: 0, updated: 0 });
    expectNothingWritten(plain);
    expect(await targetDealContacts('1')).toEqual(['1', '2']);

    const scan = await delta(30, { createNew: true, updateChanged: true, scanAll: true });
    expect(scan.status).toBe('completed');
    expect(scan.counts.deals).toMatchObject({ read: 2, created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(scan.counts.companies).toMatchObject({ read: 3, created: 0, updated: 0, unchanged: 3 });
    expect(scan.counts.contacts).toMatchObject({ read: 5, created: 0, updated: 0, unchanged: 5 });
    expect(scan.counts.notes).toMatchObject({ read: 3, created: 0, updated: 0, unchanged: 3 });
    expect(await targetDealContacts('1')).toEqual(['1', '3']);
    expect(await targetDealContacts('2')).toEqual(['3']);
    expect(scan.messages).toContain(SCAN_ALL_MESSAGE);
    expect(scan.messages.filter((message) => message.includes('cannot filter by modification time'))).toEqual([]);
    // Stored on the run, so a resumed delta keeps it, and `ferry runs` shows it.
    const run = await withLedger((ledger) => ledger.requireRun(scan.runId));
    expect(run.options).toMatchObject({ scanAll: true, createNew: true, updateChanged: true });

    const again = await delta(40, { createNew: true, updateChanged: true, scanAll: true });
    expect(again.counts.deals).toMatchObject({ read: 2, unchanged: 2 });
    expectNothingWritten(again);
    expect(await count(fixture.target, 'deal_contacts')).toBe(3);
  });

  it('an update-changed scan updates the deal; a create-new scan leaves it alone', async () => {
    await migrate(10);
    await changeDealContacts();
    const createOnly = await delta(20, { createNew: true, updateChanged: false, scanAll: true });
    expect(createOnly.counts.deals).toMatchObject({ read: 2, created: 0, updated: 0, skipped: 2 });
    expect(await targetDealContacts('1')).toEqual(['1', '2']);
    const updateOnly = await delta(30, { createNew: false, updateChanged: true, scanAll: true });
    expect(updateOnly.counts.deals).toMatchObject({ read: 2, created: 0, updated: 1, unchanged: 1 });
    expect(await targetDealContacts('1')).toEqual(['1', '3']);
  });

  it('a create-new scan creates a new record modified before the window', async () => {
    await migrate(10);
    // Entered late with an old modified date (an import, a restored backup): before the next window.
    await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, company_id, updated_at) VALUES (6, 'Late', 'Entry', 'late@globex.test', 1, ?)`, [at(-60)]);

    const plain = await delta(20, { createNew: true, updateChanged: false });
    expect(plain.counts.contacts).toMatchObject({ read: 0, created: 0 });
    expect(await count(fixture.target, 'contacts')).toBe(5);

    const scan = await delta(30, { createNew: true, updateChanged: false, scanAll: true });
    expect(scan.counts.contacts).toMatchObject({ read: 6, created: 1, updated: 0, skipped: 5, failed: 0 });
    expect(await count(fixture.target, 'contacts', 'email = ?', ['late@globex.test'])).toBe(1);
    const again = await delta(40, { createNew: true, updateChanged: false, scanAll: true });
    expectNothingWritten(again);
    expect(await count(fixture.target, 'contacts')).toBe(6);
  });

  it('a scan-all delta paused half way is resumed as a scan-all delta, even without the flag', async () => {
    await migrate(10);
    await changeDealContacts();
    const controller = new AbortController();
    // Pause on the first page of contacts read for writing (matching reads only key fields, before).
    const error = await session(
      20,
      ({ engine }) => engine.delta({ createNew: true, updateChanged: true, scanAll: true, signal: controller.signal }).then(() => undefined, (caught: unknown) => caught),
      {
        beforeSourceRead: (object, options) => {
          if (object === 'contacts' && !options.fields) controller.abort();
          return Promise.resolve();
        },
      },
    );
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('RUN_PAUSED');
    expect(await targetDealContacts('1')).toEqual(['1', '2']);

    const resumed = await delta(30, { createNew: true, updateChanged: true });
    expect(resumed.resumed).toBe(true);
    expect(resumed.status).toBe('completed');
    expect(resumed.counts.deals).toMatchObject({ read: 2, updated: 1, unchanged: 1 });
    expect(resumed.messages).toContain(`Run ${resumed.runId} was started with --scan-all and is resumed that way.`);
    expect(await targetDealContacts('1')).toEqual(['1', '3']);
  });
});
