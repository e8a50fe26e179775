import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rerunWarning } from '../../src/cli/commands/run.js';
import type { RerunObjectPreview, RunResult } from '../../src/engine/types.js';
import type { Ledger } from '../../src/ledger/index.js';
import { BACKENDS, count, createSeededFixture, type Fixture } from '../support/crm-fixture.js';

/**
 * `migrate --rerun` announces what it will delete before it deletes anything. Created records that a
 * record Ferry did not create still refers to are refused by the target and kept: the preview must say so,
 * and the rerun must then delete exactly what it announced.
 */
for (const backend of BACKENDS) {
  describe(`migrate --rerun preview on ${backend}`, () => {
    let fixture: Fixture;

    beforeEach(async () => {
      fixture = await createSeededFixture(backend);
      // Jane exists in the target without a company; the migration fills her company with the created Globex.
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO contacts (firstname, email, created_at, updated_at) VALUES ('Jane (existing)', 'jane@globex.test', ?, ?)`, [t, t]);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    async function migrate(options: { rerun?: boolean; dryRun?: boolean } = {}): Promise<RunResult> {
      const session = await fixture.open();
      try {
        return await session.engine.migrate(options);
      } finally {
        await session.close();
      }
    }

    const preview = (): Promise<Record<string, RerunObjectPreview>> => fixture.withSession(({ engine }) => engine.rerunPreview());
    const withLedger = <T>(work: (ledger: Ledger) => Promise<T>): Promise<T> => fixture.withSession(({ ledger }) => work(ledger));

    /** The rerun deletes exactly what the preview announced, object by object. */
    function expectDeletedAsAnnounced(rerun: RunResult, announced: Record<string, RerunObjectPreview>): void {
      for (const [object, value] of Object.entries(announced)) expect({ object, deleted: rerun.counts[object]?.deleted ?? 0 }).toEqual({ object, deleted: value.delete });
    }

    it('announces companies: delete 2, keep 1 (Globex, still referenced by the matched Jane), and the rerun deletes exactly that', async () => {
      const first = await migrate();
      expect(first.counts.companies).toMatchObject({ created: 3 });
      expect(first.counts.contacts).toMatchObject({ matched: 1, created: 4 });

      const announced = await preview();
      expect(announced).toEqual({
        owners: { delete: 0, keep: 0 },
        companies: { delete: 2, keep: 1 },
        contacts: { delete: 4, keep: 0 },
        deals: { delete: 2, keep: 0 },
        notes: { delete: 3, keep: 0 },
      });
      expect(rerunWarning(announced)).toContain('(companies: delete 2, keep 1; contacts: delete 4; deals: delete 2; notes: delete 3)');
      expect(rerunWarning(announced)).toContain('the 11 records that earlier runs created');
      expect(rerunWarning(announced)).toContain('It keeps 1 created record (companies 1) still referenced by records Ferry did not create');

      // A dry run counts what the preview announces, and deletes nothing.
      const dry = await migrate({ rerun: true, dryRun: true });
      expectDeletedAsAnnounced(dry, announced);
      expect(await count(fixture.target, 'companies')).toBe(3);

      const rerun = await migrate({ rerun: true });
      expect(rerun.status).toBe('completed');
      expectDeletedAsAnnounced(rerun, announced);
      expect(rerun.counts.companies).toMatchObject({ deleted: 2, created: 2 });
      expect(await count(fixture.target, 'companies')).toBe(3);
      expect(await count(fixture.target, 'contacts')).toBe(5);
      // The kept Globex is still linked and nothing of it was duplicated.
      expect(await count(fixture.target, 'companies', 'name = ?', ['Globex'])).toBe(1);
      expect(await withLedger(async (ledger) => (await ledger.getLink('companies', '1'))?.origin)).toBe('created');
    });

    it('keeps what a kept record refers to in turn: Globex keeps its parent company too', async () => {
      await fixture.source.run('UPDATE companies SET parent_company_id = 3 WHERE id = 1');
      await migrate();
      const announced = await preview();
      expect(announced.companies).toEqual({ delete: 1, keep: 2 });
      expect(announced.contacts).toEqual({ delete: 4, keep: 0 });
      const rerun = await migrate({ rerun: true });
      expect(rerun.status).toBe('completed');
      expectDeletedAsAnnounced(rerun, announced);
      expect(await count(fixture.target, 'companies')).toBe(3);
      expect(await count(fixture.target, 'companies', 'parent_id IS NOT NULL')).toBe(2);
    });

    it('announces nothing to keep when no record Ferry did not create refers to a created one', async () => {
      await fixture.target.run(`DELETE FROM contacts WHERE email = 'jane@globex.test'`);
      await migrate();
      const announced = await preview();
      expect(announced.companies).toEqual({ delete: 3, keep: 0 });
      expect(rerunWarning(announced)).not.toContain('It keeps');
      const rerun = await migrate({ rerun: true });
      expectDeletedAsAnnounced(rerun, announced);
    });
  });
}
