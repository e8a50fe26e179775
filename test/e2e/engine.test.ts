import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { BACKENDS, count, createSeededFixture, type Fixture } from '../support/crm-fixture.js';

/** Target rows joined back to their source ids through the ledger. */
async function targetIdOf(ledger: Ledger, object: string, sourceId: string): Promise<string> {
  const link = await ledger.getLink(object, sourceId);
  if (!link?.targetId) throw new Error(`${object} ${sourceId} has no link`);
  return link.targetId;
}

/** An instant after the given run's high-water mark, so the next delta's window sees it. */
async function after(ledger: Ledger, runId: number, seconds = 60): Promise<string> {
  const run = await ledger.requireRun(runId);
  return new Date(Date.parse(run.highWaterMark!) + seconds * 1000).toISOString();
}

for (const backend of BACKENDS) {
  describe(`engine end to end on ${backend}`, () => {
    let fixture: Fixture;

    beforeEach(async () => {
      fixture = await createSeededFixture(backend);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    async function migrate(project?: ProjectFile) {
      const session = await fixture.open(project);
      try {
        return await session.engine.migrate();
      } finally {
        await session.close();
      }
    }

    async function delta(options: Parameters<Awaited<ReturnType<Fixture['open']>>['engine']['delta']>[0], project?: ProjectFile) {
      const session = await fixture.open(project);
      try {
        return await session.engine.delta(options);
      } finally {
        await session.close();
      }
    }

    const withLedger = <T>(work: (ledger: Ledger) => Promise<T>): Promise<T> => fixture.withSession(({ ledger }) => work(ledger));

    it('a full migration keeps every relation and matches owners instead of creating them', async () => {
      const result = await migrate();
      expect(result.status).toBe('completed');
      expect(result.counts.companies).toMatchObject({ read: 3, created: 3, failed: 0 });
      expect(result.counts.contacts).toMatchObject({ read: 5, created: 5 });
      expect(result.counts.deals).toMatchObject({ created: 2 });
      expect(result.counts.notes).toMatchObject({ created: 3 });
      expect(result.counts.owners).toMatchObject({ matched: 2, created: 0 });
      expect(await count(fixture.target, 'users')).toBe(2);

      await withLedger(async (ledger) => {
        const globex = await targetIdOf(ledger, 'companies', '1');
        const initech = await targetIdOf(ledger, 'companies', '2');
        const holding = await targetIdOf(ledger, 'companies', '3');
        const [initechRow] = await fixture.target.all<{ parent_id: number; owner_id: number }>('SELECT parent_id, owner_id FROM companies WHERE id = ?', [Number(initech)]);
        expect(String(initechRow!.parent_id)).toBe(holding);
        const bob = await targetIdOf(ledger, 'owners', '2');
        expect(String(initechRow!.owner_id)).toBe(bob);

        const jane = await targetIdOf(ledger, 'contacts', '1');
        const john = await targetIdOf(ledger, 'contacts', '2');
        const [janeRow] = await fixture.target.all<{ company_id: number; firstname: string; date_of_birth: unknown }>(
          `SELECT company_id, firstname, ${backend === 'postgres' ? "to_char(date_of_birth, 'YYYY-MM-DD')" : 'date_of_birth'} AS date_of_birth FROM contacts WHERE id = ?`,
          [Number(jane)],
        );
        expect(String(janeRow!.company_id)).toBe(globex);
        expect(janeRow!.date_of_birth).toBe('1985-07-01');

        const deal = await targetIdOf(ledger, 'deals', '1');
        const [dealRow] = await fixture.target.all<{ company_id: number; dealstage: string; amount: string | number }>(
          'SELECT company_id, dealstage, amount FROM deals WHERE id = ?',
          [Number(deal)],
        );
        expect(String(dealRow!.company_id)).toBe(globex);
        expect(dealRow!.dealstage).toBe('open');
        expect(Number(dealRow!.amount)).toBe(1000.5);
        const members = await fixture.target.all<{ contact_id: number }>('SELECT contact_id FROM deal_contacts WHERE deal_id = ? ORDER BY contact_id', [Number(deal)]);
        expect(members.map((row) => String(row.contact_id)).sort()).toEqual([jane, john].sort());

        const noteOnDeal = await targetIdOf(ledger, 'notes', '2');
        const noteOnCompany = await targetIdOf(ledger, 'notes', '3');
        const [noteRow] = await fixture.target.all<{ deal_id: number; body: string }>('SELECT deal_id, body FROM notes WHERE id = ?', [Number(noteOnDeal)]);
        expect(String(noteRow!.deal_id)).toBe(deal);
        expect(noteRow!.body).toBe('<b>Deal</b> note');
        const [companyNote] = await fixture.target.all<{ company_id: number }>('SELECT company_id FROM notes WHERE id = ?', [Number(noteOnCompany)]);
        expect(String(companyNote!.company_id)).toBe(holding);
      });
    });

    it('a second delta with no source change writes nothing', async () => {
      await migrate();
      const first = await delta({ createNew: true, updateChanged: true });
      const second = await delta({ createNew: true, updateChanged: true });
      for (const result of [first, second]) {
        for (const counts of Object.values(result.counts)) {
          expect(counts.created).toBe(0);
          expect(counts.updated).toBe(0);
        }
      }
      expect(await count(fixture.target, 'contacts')).toBe(5);
    });

    it('create-new only creates, update-changed only updates, and both do both', async () => {
      const full = await migrate();
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE contacts SET job_title = 'Chief', updated_at = ? WHERE id = 1`, [when]);
      await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, updated_at) VALUES (6, 'New', 'Person', 'new@x.test', ?)`, [when]);

      const createOnly = await delta({ createNew: true, updateChanged: false });
      expect(createOnly.counts.contacts).toMatchObject({ created: 1, updated: 0 });
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Chief'])).toBe(0);

      const updateOnly = await delta({ createNew: false, updateChanged: true });
      expect(updateOnly.counts.contacts).toMatchObject({ created: 0, updated: 1 });
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Chief'])).toBe(1);

      const when2 = await withLedger((ledger) => after(ledger, updateOnly.runId));
      await fixture.source.run(`UPDATE contacts SET job_title = 'Chief Exec', updated_at = ? WHERE id = 1`, [when2]);
      await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, updated_at) VALUES (7, 'Newer', 'Person', 'newer@x.test', ?)`, [when2]);
      const both = await delta({ createNew: true, updateChanged: true });
      expect(both.counts.contacts).toMatchObject({ created: 1, updated: 1 });
      expect(await count(fixture.target, 'contacts')).toBe(7);
    });

    it('an update-changed delta after a create-new delta still updates what changed since the full migration', async () => {
      const full = await migrate();
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE contacts SET job_title = 'Changed early', updated_at = ? WHERE id = 2`, [when]);
      await delta({ createNew: true, updateChanged: false });
      const later = await delta({ createNew: false, updateChanged: true });
      expect(later.counts.contacts?.updated).toBe(1);
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Changed early'])).toBe(1);
    });

    it('a delta never deletes, even when source records are gone', async () => {
      const full = await migrate();
      await fixture.source.run('DELETE FROM notes WHERE id = 1');
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE contacts SET phone = '123456', updated_at = ? WHERE id = 3`, [when]);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.notes?.deleted ?? 0).toBe(0);
      expect(await count(fixture.target, 'notes')).toBe(3);
      expect(await count(fixture.target, 'contacts')).toBe(5);
    });

    it('records changed during a full migration arrive with the next delta', async () => {
      let changed = false;
      // Someone renames a company (an object the run has already finished) while contacts are migrated.
      const session = await fixture.open(undefined, {
        async beforeSourceRead(object, options) {
          if (changed || object !== 'contacts' || !options.after) return;
          changed = true;
          await fixture.source.run(`UPDATE companies SET name = 'Renamed during run', updated_at = ? WHERE id = 1`, [new Date(Date.now() + 60_000).toISOString()]);
        },
      });
      try {
        await session.engine.migrate();
      } finally {
        await session.close();
      }
      expect(changed).toBe(true);
      expect(await count(fixture.target, 'companies', 'name = ?', ['Renamed during run'])).toBe(0);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.companies).toMatchObject({ read: 1, updated: 1 });
      expect(await count(fixture.target, 'companies', 'name = ?', ['Renamed during run'])).toBe(1);
    });

    it('a record changed while its own object is being read is read again later in the same run, not lost', async () => {
      let changed = false;
      const session = await fixture.open(undefined, {
        async beforeSourceRead(object, options) {
          if (changed || object !== 'contacts' || !options.after) return;
          changed = true;
          // Contact 1 was on the first page; its new modified time moves it behind the cursor.
          await fixture.source.run(`UPDATE contacts SET job_title = 'Changed during run', updated_at = ? WHERE id = 1`, [new Date(Date.now() + 60_000).toISOString()]);
        },
      });
      try {
        const result = await session.engine.migrate();
        expect(result.counts.contacts).toMatchObject({ created: 5, read: 6 });
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'contacts')).toBe(5);
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Changed during run'])).toBe(1);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.contacts).toMatchObject({ created: 0, updated: 0 });
    });

    it('records sharing one timestamp at the window edge are all picked up across pages', async () => {
      const full = await migrate();
      const hwm = (await withLedger((ledger) => ledger.requireRun(full.runId))).highWaterMark!;
      for (let id = 10; id < 20; id++) {
        await fixture.source.run(`INSERT INTO contacts (id, first_name, email, updated_at) VALUES (?, 'Tie', ?, ?)`, [id, `tie${id}@x.test`, hwm]);
      }
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.contacts?.created).toBe(10);
      expect(await count(fixture.target, 'contacts', 'firstname = ?', ['Tie'])).toBe(10);
    });

    it('records written without a reference are attached once it exists, and not read again before', async () => {
      // Company 2 cannot be created (its name is required in the target): its contacts and deal arrive without it.
      await fixture.source.run('UPDATE companies SET name = NULL WHERE id = 2');
      const full = await migrate();
      expect(full.counts.companies).toMatchObject({ failed: 1 });
      expect(await count(fixture.target, 'contacts', 'company_id IS NULL')).toBe(3);
      // Nothing changed and company 2 is still missing: no record is read again.
      const idle = await delta({ createNew: true, updateChanged: true });
      for (const counts of Object.values(idle.counts)) expect(counts.read).toBe(0);
      // Company 2 is fixed in the source: the delta creates it and attaches the unchanged contacts and deal.
      const when = await withLedger((ledger) => after(ledger, idle.runId));
      await fixture.source.run(`UPDATE companies SET name = 'Initech', updated_at = ? WHERE id = 2`, [when]);
      const fixed = await delta({ createNew: true, updateChanged: true });
      expect(fixed.counts.companies).toMatchObject({ created: 1 });
      // Read once each (they were not in the delta's window): `read`, not `reread`.
      expect(fixed.counts.contacts).toMatchObject({ read: 2, reread: 0, updated: 2 });
      expect(fixed.counts.deals).toMatchObject({ updated: 1 });
      const initech = await withLedger((ledger) => targetIdOf(ledger, 'companies', '2'));
      expect(await count(fixture.target, 'contacts', 'company_id = ?', [Number(initech)])).toBe(2);
      expect(await count(fixture.target, 'deals', 'company_id = ?', [Number(initech)])).toBe(1);
      expect(await withLedger((ledger) => ledger.listFailures({ unresolved: true, severity: 'warning' }))).toEqual([]);
    });

    it('a record read again to attach a reference counts as reread, not twice in read', async () => {
      await fixture.source.run('UPDATE companies SET name = NULL WHERE id = 2');
      await migrate();
      await fixture.source.run(`UPDATE companies SET name = 'Initech', updated_at = ? WHERE id = 2`, [new Date(Date.now() + 60_000).toISOString()]);
      // A full migration reads every contact, then reads contacts 3 and 4 again to attach company 2.
      const full = await migrate();
      expect(full.counts.contacts).toMatchObject({ read: 5, reread: 2, updated: 2 });

    });

    it('in a delta, only a record that was in the window counts as reread when it is read again to attach a reference', async () => {
      await fixture.source.run('UPDATE companies SET name = NULL WHERE id = 2');
      const full = await migrate();
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE companies SET name = 'Initech', updated_at = ? WHERE id = 2`, [when]);
      // Contact 3 is touched (nothing changed): the delta's window reads it, then it is read again by id to
      // attach company 2. Contact 4 is read by id only: a first read.
      await fixture.source.run('UPDATE contacts SET updated_at = ? WHERE id = 3', [when]);
      const fixed = await delta({ createNew: true, updateChanged: true });
      expect(fixed.counts.contacts).toMatchObject({ read: 2, reread: 1, unchanged: 1, updated: 2 });
    });

    it('a field edited only in the target survives a delta', async () => {
      const full = await migrate();
      const target = await withLedger((ledger) => targetIdOf(ledger, 'contacts', '1'));
      await fixture.target.run(`UPDATE contacts SET phone = '+44 999' WHERE id = ?`, [Number(target)]);
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE contacts SET job_title = 'Chairwoman', updated_at = ? WHERE id = 1`, [when]);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.contacts).toMatchObject({ updated: 1, conflicts: 0 });
      const [row] = await fixture.target.all<{ phone: string; jobtitle: string }>('SELECT phone, jobtitle FROM contacts WHERE id = ?', [Number(target)]);
      expect(row).toEqual({ phone: '+44 999', jobtitle: 'Chairwoman' });
    });

    for (const [policy, expected] of [
      ['source-wins', { jobtitle: 'From source', phone: '+1 555 0199' }],
      ['target-wins', { jobtitle: 'From target', phone: '+1 555 0199' }],
      ['skip-record', { jobtitle: 'From target', phone: '+1 555 0100' }],
    ] as const) {
      it(`a field changed on both sides is a conflict settled by ${policy}`, async () => {
        const full = await migrate();
        const target = await withLedger((ledger) => targetIdOf(ledger, 'contacts', '1'));
        await fixture.target.run(`UPDATE contacts SET jobtitle = 'From target' WHERE id = ?`, [Number(target)]);
        const when = await withLedger((ledger) => after(ledger, full.runId));
        await fixture.source.run(`UPDATE contacts SET job_title = 'From source', phone = '+1 555 0199', updated_at = ? WHERE id = 1`, [when]);
        const result = await delta({ createNew: true, updateChanged: true, onConflict: policy });
        expect(result.counts.contacts?.conflicts).toBe(1);
        const [row] = await fixture.target.all<{ phone: string; jobtitle: string }>('SELECT phone, jobtitle FROM contacts WHERE id = ?', [Number(target)]);
        expect(row).toEqual(expected);
        const conflicts = await withLedger((ledger) => ledger.listConflicts(result.runId));
        expect(conflicts).toEqual([
          expect.objectContaining({ object: 'contacts', sourceId: '1', field: 'jobtitle', sourceValue: 'From source', targetValue: 'From target', writtenValue: 'CEO', resolution: policy }),
        ]);
      });
    }

    it('refresh matching links a record created by hand in the target instead of duplicating it', async () => {
      const full = await migrate();
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO contacts (firstname, lastname, email, jobtitle, created_at, updated_at) VALUES ('Hand', 'Made', 'HAND@x.test', 'Typed by hand', ?, ?)`, [t, t]);
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, job_title, updated_at) VALUES (8, 'Hand', 'Made', ' hand@x.test', 'From source', ?)`, [when]);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.contacts).toMatchObject({ created: 0, matched: 1 });
      expect(await count(fixture.target, 'contacts', 'lower(email) = ?', ['hand@x.test'])).toBe(1);
      // fill-empty (the default) keeps what the person typed
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Typed by hand'])).toBe(1);
    });

    it('a delta looks up its few new keys in the target instead of reading every target record, and still finds a wrapped e-mail', async () => {
      const full = await migrate();
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO contacts (firstname, lastname, email, jobtitle, created_at, updated_at) VALUES ('Wrapped', 'Mail', 'Wrapped Mail <WRAPPED@x.test>', 'Typed by hand', ?, ?)`, [t, t]);
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, job_title, updated_at) VALUES (8, 'Wrapped', 'Mail', 'wrapped@x.test', 'From source', ?)`, [when]);
      const targetReads: string[] = [];
      const session = await fixture.open(undefined, {
        beforeTargetRead: (object) => {
          targetReads.push(object);
          return Promise.resolve();
        },
      });
      try {
        const result = await session.engine.delta({ createNew: true, updateChanged: true });
        expect(result.counts.contacts).toMatchObject({ created: 0, matched: 1 });
      } finally {
        await session.close();
      }
      expect(targetReads).not.toContain('contacts');
      expect(await count(fixture.target, 'contacts', 'lower(email) LIKE ?', ['%wrapped@x.test%'])).toBe(1);
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['Typed by hand'])).toBe(1);
    });

    it('a delta searches a name key by its longest word (no full read), and finds a name spaced and cased otherwise', async () => {
      // Companies matched by domain, then by name.
      const project = structuredClone(fixture.project);
      const companies = project.objects.find((object) => object.source === 'companies')!;
      companies.matchKeys = [...companies.matchKeys, { source: 'name', target: 'name', kind: 'name' }];
      const run = <T,>(work: (engine: Engine) => Promise<T>, hooks?: Parameters<Fixture['open']>[1]) =>
        fixture.open(project, hooks).then(async (session) => {
          try {
            return await work(session.engine);
          } finally {
            await session.close();
          }
        });
      const full = await run((engine) => engine.migrate());
      const t = new Date().toISOString();
      // Typed by hand in the target, without a domain and with its own spacing and case.
      await fixture.target.run(`INSERT INTO companies (name, domain, created_at, updated_at) VALUES ('NORTHWIND   Trading', NULL, ?, ?), ('Northwind Traders', NULL, ?, ?)`, [t, t, t, t]);
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`INSERT INTO companies (id, name, domain, updated_at) VALUES (9, 'Northwind trading', NULL, ?)`, [when]);
      const targetReads: string[] = [];
      const result = await run((engine) => engine.delta({ createNew: true, updateChanged: true }), {
        beforeTargetRead: (object) => {
          targetReads.push(object);
          return Promise.resolve();
        },
      });
      expect(result.counts.companies).toMatchObject({ created: 0, matched: 1 });
      expect(targetReads).not.toContain('companies');
      const [matched] = await fixture.target.all<{ name: string }>('SELECT name FROM companies WHERE id = ?', [Number(await withLedger(async (ledger) => (await ledger.getLink('companies', '9'))!.targetId!))]);
      expect(matched!.name).toBe('NORTHWIND   Trading');
      expect(await count(fixture.target, 'companies', 'lower(name) LIKE ?', ['northwind%'])).toBe(2);
    });

    it('an ambiguous match is not linked and not created, and is listed as failed', async () => {
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO contacts (firstname, email, created_at, updated_at) VALUES ('A', 'mia@initech.test', ?, ?), ('B', 'Mia@Initech.test', ?, ?)`, [t, t, t, t]);
      const result = await migrate();
      expect(result.status).toBe('completed_with_failures');
      expect(result.counts.contacts).toMatchObject({ created: 4, failed: 1 });
      await withLedger(async (ledger) => {
        expect(await ledger.getLink('contacts', '3')).toBeUndefined();
        const failures = await ledger.listFailures({ runId: result.runId, object: 'contacts' });
        expect(failures).toEqual([expect.objectContaining({ object: 'contacts', sourceId: '3', code: 'AMBIGUOUS_MATCH' })]);
        // The deal that has Mia among its contacts is written without her, with a warning on the deal.
        expect(await ledger.listFailures({ runId: result.runId, object: 'deals' })).toEqual([
          expect.objectContaining({ sourceId: '2', code: 'REFERENCE_MISSING', field: 'contacts' }),
        ]);
        expect((await ledger.listMatchIssues('contacts'))[0]).toMatchObject({ kind: 'ambiguous', sourceId: '3' });
      });
      expect(await count(fixture.target, 'contacts', 'lower(email) = ?', ['mia@initech.test'])).toBe(2);
      // The deal that has Mia as a contact still arrives, with a warning about the missing contact.
      expect(await count(fixture.target, 'deals')).toBe(2);
    });

    it('a target record matched on a weaker key is not shared by a second source record of the same name', async () => {
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO companies (name, created_at, updated_at) VALUES ('Globex', ?, ?)`, [t, t]);
      await fixture.source.run(`INSERT INTO companies (id, name, domain, updated_at) VALUES (5, 'GLOBEX', 'globex-eu.test', ?)`, ['2026-01-01T00:00:00.000Z']);
      const project = structuredClone(fixture.project);
      project.objects.find((object) => object.source === 'companies')!.matchKeys.push({ source: 'name', target: 'name', kind: 'name' });
      const result = await migrate(project);
      expect(result.counts.companies).toMatchObject({ matched: 1, created: 3, failed: 0 });
      expect(await count(fixture.target, 'companies', 'lower(name) = ?', ['globex'])).toBe(2);
      await withLedger(async (ledger) => {
        expect(await ledger.listMatchIssues('companies')).toEqual([]);
        const first = await ledger.getLink('companies', '1');
        const second = await ledger.getLink('companies', '5');
        expect(first?.origin).toBe('matched');
        expect(second?.origin).toBe('created');
        expect(second?.targetId).not.toBe(first?.targetId);
      });
    });

    it('--rerun deletes what was created and keeps matched records', async () => {
      // Parents with smaller ids than their children (4 -> 2 -> 3): the first deletes of companies 2 and 3
      // are refused while their children still point at them, and succeed once the children are gone.
      await fixture.source.run(`INSERT INTO companies (id, name, domain, parent_company_id, updated_at) VALUES (4, 'Initech Labs', 'labs.initech.test', 2, ?)`, ['2026-01-01T00:00:00.000Z']);
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO companies (name, domain, created_at, updated_at) VALUES ('Globex (existing)', 'WWW.GLOBEX.TEST', ?, ?)`, [t, t]);
      const first = await migrate();
      expect(first.counts.companies).toMatchObject({ matched: 1, created: 3 });
      const matchedTarget = await withLedger((ledger) => targetIdOf(ledger, 'companies', '1'));
      const session = await fixture.open();
      try {
        expect(await session.engine.rerunPreview()).toMatchObject({
          companies: { delete: 3, keep: 0 },
          contacts: { delete: 5, keep: 0 },
          deals: { delete: 2, keep: 0 },
          notes: { delete: 3, keep: 0 },
          owners: { delete: 0, keep: 0 },
        });
        const rerun = await session.engine.migrate({ rerun: true });
        expect(rerun.status).toBe('completed');
        expect(rerun.counts.companies).toMatchObject({ deleted: 3, created: 3 });
        expect(rerun.counts.contacts).toMatchObject({ deleted: 5, created: 5 });
        expect(await session.ledger.listFailures({ runId: rerun.runId })).toEqual([]);
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'companies')).toBe(4);
      expect(await count(fixture.target, 'companies', 'parent_id IS NOT NULL')).toBe(2);
      expect(await count(fixture.target, 'contacts')).toBe(5);
      expect(await count(fixture.target, 'companies', 'id = ?', [Number(matchedTarget)])).toBe(1);
      expect(await withLedger((ledger) => targetIdOf(ledger, 'companies', '1'))).toBe(matchedTarget);
    });

    it('--rerun keeps a created record that a kept record still refers to, and updates it instead of duplicating it', async () => {
      const t = new Date().toISOString();
      // Jane exists in the target without a company; the migration fills her company with the created Globex.
      await fixture.target.run(`INSERT INTO contacts (firstname, email, created_at, updated_at) VALUES ('Jane (existing)', 'jane@globex.test', ?, ?)`, [t, t]);
      await migrate();
      const globex = await withLedger((ledger) => targetIdOf(ledger, 'companies', '1'));
      const session = await fixture.open();
      try {
        // The preview says so before anything is deleted (test/e2e/rerun-preview.test.ts has the details).
        expect((await session.engine.rerunPreview()).companies).toEqual({ delete: 2, keep: 1 });
        const rerun = await session.engine.migrate({ rerun: true });
        expect(rerun.status).toBe('completed');
        expect(rerun.counts.companies).toMatchObject({ deleted: 2, created: 2 });
        const warnings = await session.ledger.listFailures({ runId: rerun.runId, object: 'companies' });
        expect(warnings).toEqual([expect.objectContaining({ sourceId: '1', message: expect.stringContaining('it was kept and is updated instead') as unknown })]);
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'companies')).toBe(3);
      expect(await count(fixture.target, 'companies', 'name = ?', ['Globex'])).toBe(1);
      expect(await withLedger((ledger) => targetIdOf(ledger, 'companies', '1'))).toBe(globex);
      expect(await count(fixture.target, 'contacts')).toBe(5);
    });

    it('undo of a full migration removes what it created and restores what it changed', async () => {
      const t = new Date().toISOString();
      await fixture.target.run(`INSERT INTO contacts (firstname, email, created_at, updated_at) VALUES ('Jane (existing)', 'jane@globex.test', ?, ?)`, [t, t]);
      const full = await migrate();
      expect(full.counts.contacts).toMatchObject({ matched: 1, created: 4 });
      const existing = await fixture.target.all<{ jobtitle: string | null }>('SELECT jobtitle FROM contacts WHERE email = ?', ['jane@globex.test']);
      expect(existing[0]!.jobtitle).toBe('CEO'); // filled in (fill-empty)
      const session = await fixture.open();
      try {
        const undo = await session.engine.undo(full.runId);
        expect(undo.status).toBe('completed');
        expect(undo.counts.contacts).toMatchObject({ deleted: 4, updated: 1 });
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'companies')).toBe(0);
      expect(await count(fixture.target, 'contacts')).toBe(1);
      expect(await count(fixture.target, 'notes')).toBe(0);
      expect(await count(fixture.target, 'deal_contacts')).toBe(0);
      const restored = await fixture.target.all<{ jobtitle: string | null }>('SELECT jobtitle FROM contacts WHERE email = ?', ['jane@globex.test']);
      expect(restored[0]!.jobtitle).toBeNull();
      // After an undo the migration can run again and creates everything once more.
      const again = await migrate();
      expect(again.counts.contacts).toMatchObject({ created: 4 });
    });

    it('undo of a delta reverts only that delta', async () => {
      const full = await migrate();
      const when = await withLedger((ledger) => after(ledger, full.runId));
      await fixture.source.run(`UPDATE contacts SET job_title = 'Delta title', updated_at = ? WHERE id = 2`, [when]);
      await fixture.source.run(`INSERT INTO contacts (id, first_name, email, updated_at) VALUES (9, 'Delta', 'delta@x.test', ?)`, [when]);
      const result = await delta({ createNew: true, updateChanged: true });
      expect(result.counts.contacts).toMatchObject({ created: 1, updated: 1 });
      const session = await fixture.open();
      try {
        await expect(session.engine.undo(full.runId)).rejects.toMatchObject({ code: 'USAGE' });
        const undo = await session.engine.undo(result.runId);
        expect(undo.counts.contacts).toMatchObject({ deleted: 1, updated: 1 });
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'contacts')).toBe(5);
      expect(await count(fixture.target, 'contacts', 'jobtitle = ?', ['CTO'])).toBe(1);
    });

    it('a bad record fails alone with its reason, and retry migrates it once fixed', async () => {
      await fixture.source.run(`UPDATE deals SET stage = 'Negotiating' WHERE id = 2`);
      const full = await migrate();
      expect(full.status).toBe('completed_with_failures');
      expect(full.counts.deals).toMatchObject({ created: 1, failed: 1 });
      expect(full.counts.contacts).toMatchObject({ created: 5, failed: 0 });
      const failures = await withLedger((ledger) => ledger.listFailures({ runId: full.runId }));
      expect(failures).toEqual([
        expect.objectContaining({ object: 'deals', sourceId: '2', code: 'VALUE_NOT_MAPPED', field: 'dealstage', value: '"Negotiating"' }),
      ]);
      expect(failures[0]!.message).toContain('deals 2');

      const fixed = structuredClone(fixture.project);
      const dealMapping = fixed.objects.find((object) => object.source === 'deals')!;
      const stage = dealMapping.fields.find((field) => field.target === 'dealstage')!;
      if (stage.transform.kind === 'map') stage.transform.values.Negotiating = 'open';
      const session = await fixture.open(fixed);
      try {
        const retry = await session.engine.retry(full.runId);
        expect(retry.status).toBe('completed');
        expect(retry.counts.deals).toMatchObject({ created: 1, failed: 0 });
        expect(await session.ledger.listFailures({ runId: full.runId, unresolved: true })).toEqual([]);
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'deals')).toBe(2);
    });

    it('a demo migrates a sample with its relations, and the full migration then updates instead of duplicating', async () => {
      const session = await fixture.open();
      try {
        const demo = await session.engine.demo({ sampleSize: 1 });
        expect(demo.status).toBe('completed');
        // The first note refers to contact 1, who works at company 1: they come along.
        expect(await session.ledger.getLink('contacts', '1')).toBeDefined();
        expect(await session.ledger.getLink('companies', '1')).toBeDefined();
      } finally {
        await session.close();
      }
      const demoContacts = await count(fixture.target, 'contacts');
      expect(demoContacts).toBeGreaterThan(0);
      const full = await migrate();
      expect(full.counts.contacts!.created).toBe(5 - demoContacts);
      expect(await count(fixture.target, 'contacts')).toBe(5);
    });

    it('a dry run writes nothing and forecasts the work', async () => {
      const session = await fixture.open();
      try {
        const dry = await session.engine.migrate({ dryRun: true });
        expect(dry.dryRun).toBe(true);
        expect(dry.counts.contacts).toMatchObject({ created: 5 });
        expect(dry.estimate!.apiCalls).toBeGreaterThan(0);
        expect(await session.ledger.countLinks('contacts')).toBe(0);
      } finally {
        await session.close();
      }
      expect(await count(fixture.target, 'contacts')).toBe(0);
    });

    it('verify finds records missing in the target and fields that drifted', async () => {
      await migrate();
      const session = await fixture.open();
      try {
        expect((await session.engine.verify()).ok).toBe(true);
        const note = await session.ledger.getLink('notes', '1');
        await fixture.target.run('DELETE FROM notes WHERE id = ?', [Number(note!.targetId)]);
        await fixture.source.run(`UPDATE companies SET name = 'Globex Corp' WHERE id = 1`);
        const result = await session.engine.verify();
        expect(result.ok).toBe(false);
        expect(result.objects.notes).toMatchObject({ missing: 1 });
        expect(result.issues).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ object: 'notes', sourceId: '1', kind: 'missing-in-target' }),
            expect.objectContaining({ object: 'companies', sourceId: '1', kind: 'field-mismatch', field: 'name', reason: 'source-changed-since-last-run' }),
          ]),
        );
      } finally {
        await session.close();
      }
    });

    it('refuses a second run on the same ledger while one is going', async () => {
      const first = await fixture.open();
      const second = await fixture.open();
      try {
        const lock = await first.ledger.acquireLock('test');
        await expect(second.engine.migrate()).rejects.toMatchObject({ code: 'LEDGER_LOCKED' });
        await lock.release();
      } finally {
        await first.close();
        await second.close();
      }
    });
  });
}
