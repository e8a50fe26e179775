import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { sampleToSalesforceObjects, writeSampleSqlite } from '../../src/sample/index.js';
import { withEngine } from '../support/engine-session.js';

/**
 * A SQL join table into a target's junction object, and back: the sample "legacy CRM"'s deal_contacts(deal_id, contact_id)
 * rows, exposed by the SQL connector as an object of their own, become Salesforce OpportunityContactRole records
 * (OpportunityId, ContactId, Role) next to the Opportunities and Contacts of their deals and contacts; and the
 * Salesforce sample org's contact roles become rows of a SQL table keyed by its two foreign keys.
 */
const EXTERNAL = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true, unique: true };

function sql(path: string, statement: string, ...params: unknown[]): Record<string, unknown>[] {
  const db = new SqliteDatabase(path);
  try {
    const prepared = db.prepare(statement);
    if (prepared.reader) return prepared.all(...params) as Record<string, unknown>[];
    prepared.run(...params);
    return [];
  } finally {
    db.close();
  }
}

describe('SQL join table -> Salesforce OpportunityContactRole, through the engine', () => {
  let dir: string;
  let salesforce: SalesforceEmulator;
  let source: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-sql-junction-'));
    source = join(dir, 'source.db');
    await writeSampleSqlite(source, { seed: 11, size: 60 });
    salesforce = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], OpportunityContactRole: [EXTERNAL] } });
  });
  afterEach(async () => {
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const project = (joinTables: Record<string, { object: true }>, roleField: ProjectFile['objects'][number]['fields']): ProjectFile => ({
    version: 1,
    source: { connector: 'sql', dialect: 'sqlite', path: 'source.db', joinTables },
    target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
    state: join(dir, 'state.db'),
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 3, pageSize: 100 },
    objects: [
      ...sampleToSalesforceObjects().filter((mapping) => ['owners', 'companies', 'contacts', 'deals'].includes(mapping.source)),
      object({ source: 'deal_contacts', target: 'OpportunityContactRole', fields: [copy('deal_id', 'OpportunityId'), copy('contact_id', 'ContactId'), ...roleField] }),
    ],
  });

  const roles = (): Record<string, unknown>[] => salesforce.store.records(salesforce.store.requireObject('OpportunityContactRole')).map((record) => ({ ...record.row.data, id: record.id }));

  /**
   * Salesforce holds one contact role per source join row whose deal and contact are both in Salesforce, on the
   * Opportunity and Contact the ledger links them to, and no other; the ledger links each such row to its role.
   */
  async function expectRoles(ledger: Ledger): Promise<number> {
    const target = async (name: string, id: unknown) => (await ledger.getLink(name, String(id)))?.targetId ?? null;
    const expected: string[] = [];
    for (const row of sql(source, 'SELECT deal_id, contact_id FROM deal_contacts')) {
      const [opportunity, contact] = [await target('deals', row.deal_id), await target('contacts', row.contact_id)];
      const link = await target('deal_contacts', `${String(row.deal_id)}|${String(row.contact_id)}`);
      if (opportunity === null || contact === null) {
        expect(link, `${String(row.deal_id)}|${String(row.contact_id)}: its deal or contact is not in Salesforce`).toBeNull();
        continue;
      }
      expected.push(`${opportunity} ${contact}`);
      expect(roles().find((role) => role.id === link), `${String(row.deal_id)}|${String(row.contact_id)}`).toMatchObject({ OpportunityId: opportunity, ContactId: contact });
    }
    const written = roles().map((role) => `${String(role.OpportunityId)} ${String(role.ContactId)}`);
    expect(written.sort()).toEqual(expected.sort());
    expect(new Set(written).size, 'a link written twice').toBe(written.length);
    return expected.length;
  }

  it('a pure join table asked for as an object: every row a contact role, a delta adds a new row (and keeps a removed one), reruns duplicate nothing', async () => {
    const setup = project({ deal_contacts: { object: true } }, [{ source: ['deal_id'], target: 'Role', transform: { kind: 'constant', value: 'Decision Maker' } }]);
    const full = await withEngine(dir, setup, (engine) => engine.migrate());
    expect(full.status).not.toBe('failed');
    const rows = sql(source, 'SELECT COUNT(*) AS n FROM deal_contacts')[0]!.n as number;
    const written = await withEngine(dir, setup, (_engine, ledger) => expectRoles(ledger));
    expect(written, 'most join rows become contact roles').toBeGreaterThan(rows / 2);
    expect(full.counts.deal_contacts).toMatchObject({ read: rows, created: written });
    expect(roles().every((role) => role.Role === 'Decision Maker')).toBe(true);

    // A new join row on an existing deal (the deal's updated_at does not move) and a removed one.
    const linkedDeal = sql(source, 'SELECT deal_id FROM deal_contacts ORDER BY deal_id LIMIT 1')[0]!.deal_id;
    const { dealTarget, freeContact, contactTarget, removed, removedRole } = await withEngine(dir, setup, async (_engine, ledger) => {
      const link = async (name: string, id: unknown) => (await ledger.getLink(name, String(id)))?.targetId ?? null;
      let free: { id: unknown; target: string } | undefined;
      for (const row of sql(source, 'SELECT id FROM contacts WHERE id NOT IN (SELECT contact_id FROM deal_contacts WHERE deal_id = ?) ORDER BY id', linkedDeal)) {
        const target = await link('contacts', row.id);
        if (target) free = free ?? { id: row.id, target };
      }
      let gone: { row: Record<string, unknown>; role: string } | undefined;
      for (const row of sql(source, 'SELECT deal_id, contact_id FROM deal_contacts WHERE deal_id <> ? ORDER BY deal_id DESC', linkedDeal)) {
        const role = await link('deal_contacts', `${String(row.deal_id)}|${String(row.contact_id)}`);
        if (role) gone = gone ?? { row, role };
      }
      if (!free || !gone) throw new Error('the sample has no contact to add or no role to remove');
      return { dealTarget: await link('deals', linkedDeal), freeContact: free.id, contactTarget: free.target, removed: gone.row, removedRole: gone.role };
    });
    sql(source, 'INSERT INTO deal_contacts (deal_id, contact_id) VALUES (?, ?)', linkedDeal, freeContact);
    sql(source, 'DELETE FROM deal_contacts WHERE deal_id = ? AND contact_id = ?', removed.deal_id, removed.contact_id);
    const before = roles().length;

    const delta = await withEngine(dir, setup, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    // The join table has no modified column: the delta reads every row, and only the new one is written.
    expect(delta.counts.deal_contacts).toMatchObject({ read: rows, created: 1, updated: 0, failed: full.counts.deal_contacts!.failed });
    expect(roles()).toHaveLength(before + 1);
    const added = await withEngine(dir, setup, async (_engine, ledger) => (await ledger.getLink('deal_contacts', `${String(linkedDeal)}|${String(freeContact)}`))?.targetId);
    expect(roles().find((role) => role.id === added)).toMatchObject({ OpportunityId: dealTarget, ContactId: contactTarget });
    // Deltas never delete: the role of the removed row stays in Salesforce.
    expect(roles().some((role) => role.id === removedRole)).toBe(true);

    // Again: nothing new, nothing written, nothing doubled.
    const again = await withEngine(dir, setup, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(again.counts.deal_contacts).toMatchObject({ created: 0, updated: 0 });
    expect(roles()).toHaveLength(before + 1);

    // migrate --rerun: what Ferry created is deleted (the roles first) and written again, once each.
    const rerun = await withEngine(dir, setup, (engine) => engine.migrate({ rerun: true }));
    expect(rerun.status).not.toBe('failed');
    await withEngine(dir, setup, (_engine, ledger) => expectRoles(ledger));
    expect(roles()).toHaveLength(written);
    expect(roles().some((role) => role.id === added || role.id === removedRole)).toBe(false);
    expect(rerun.counts.deal_contacts).toMatchObject({ created: written, deleted: written + 1 });
  });

  it('a join table with a role column is an object without any setting; its role goes through a value map', async () => {
    sql(source, 'ALTER TABLE deal_contacts ADD COLUMN role TEXT');
    sql(source, `UPDATE deal_contacts SET role = CASE contact_id % 3 WHEN 0 THEN 'buyer' WHEN 1 THEN 'tech' ELSE NULL END`);
    const setup = project({}, [{ source: ['role'], target: 'Role', transform: { kind: 'map', values: { buyer: 'Economic Buyer', tech: 'Technical Buyer' }, unmapped: 'fail' } }]);
    const full = await withEngine(dir, setup, (engine) => engine.migrate());
    expect(full.status).not.toBe('failed');
    await withEngine(dir, setup, async (_engine, ledger) => {
      await expectRoles(ledger);
      for (const row of sql(source, 'SELECT * FROM deal_contacts')) {
        const id = (await ledger.getLink('deal_contacts', `${String(row.deal_id)}|${String(row.contact_id)}`))?.targetId;
        if (!id) continue;
        expect(roles().find((role) => role.id === id)?.Role ?? null).toBe(row.role === 'buyer' ? 'Economic Buyer' : row.role === 'tech' ? 'Technical Buyer' : null);
      }
    });
  });
});

describe('Salesforce OpportunityContactRole -> a SQL join table, through the engine', () => {
  let dir: string;
  let salesforce: SalesforceEmulator;
  afterEach(async () => {
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each contact role a row of opportunity_contacts (keyed by its two foreign keys), once; a role changed in Salesforce is updated in place', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-junction-sql-'));
    const target = join(dir, 'target.db');
    for (const statement of [
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, last_name TEXT, updated_at TEXT)',
      'CREATE TABLE opportunities (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, updated_at TEXT)',
      // Keyed by its two foreign keys, with a role: a junction object without any setting.
      'CREATE TABLE opportunity_contacts (opportunity_id INTEGER NOT NULL REFERENCES opportunities(id), contact_id INTEGER NOT NULL REFERENCES contacts(id), role TEXT, PRIMARY KEY (opportunity_id, contact_id))',
    ]) {
      sql(target, statement);
    }
    let now = Date.UTC(2026, 5, 1, 9);
    salesforce = await startSalesforceEmulator({ port: 0, seed: 'sample', clock: () => now });
    const setup: ProjectFile = {
      version: 1,
      source: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'Contact', target: 'contacts', fields: [copy('LastName', 'last_name')] }),
        object({ source: 'Opportunity', target: 'opportunities', fields: [copy('Name', 'name')] }),
        object({ source: 'OpportunityContactRole', target: 'opportunity_contacts', fields: [copy('OpportunityId', 'opportunity_id'), copy('ContactId', 'contact_id'), copy('Role', 'role')] }),
      ],
    };
    const full = await withEngine(dir, setup, (engine) => engine.migrate());
    expect(full.status).toBe('completed');
    const live = salesforce.store.records(salesforce.store.requireObject('OpportunityContactRole'));
    // Pairs of the sample org's roles (the org may hold two roles of one contact on one opportunity: one row).
    const pairs = new Set(live.map((record) => `${String(record.row.data.OpportunityId)} ${String(record.row.data.ContactId)}`));
    expect(pairs.size).toBeGreaterThan(0);
    await withEngine(dir, setup, async (_engine, ledger) => {
      const sqlId = async (name: string, id: unknown) => (await ledger.getLink(name, String(id)))?.targetId;
      const expected: string[] = [];
      for (const pair of pairs) {
        const [opportunity, contact] = pair.split(' ');
        expected.push(`${await sqlId('Opportunity', opportunity)}|${await sqlId('Contact', contact)}`);
      }
      const rows = sql(target, 'SELECT opportunity_id, contact_id FROM opportunity_contacts').map((row) => `${String(row.opportunity_id)}|${String(row.contact_id)}`);
      expect(rows.sort()).toEqual(expected.sort());
      // Each role's link names its row by the junction id.
      for (const record of live) {
        const link = await sqlId('OpportunityContactRole', record.id);
        if (link) expect(link).toBe(`${await sqlId('Opportunity', record.row.data.OpportunityId)}|${await sqlId('Contact', record.row.data.ContactId)}`);
      }
    });
    expect(full.counts.OpportunityContactRole!.created + full.counts.OpportunityContactRole!.failed).toBe(live.length);

    // A role renamed in Salesforce: the delta updates the row's role, keys untouched, nothing added.
    now += 60_000;
    const renamed = live.find((record) => record.row.data.Role !== 'Other')!;
    salesforce.store.update(renamed.id, { Role: 'Other' });
    now += 120_000;
    const before = sql(target, 'SELECT COUNT(*) AS n FROM opportunity_contacts')[0]!.n;
    const delta = await withEngine(dir, setup, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.counts.OpportunityContactRole).toMatchObject({ updated: 1, created: 0, failed: 0 });
    expect(sql(target, 'SELECT COUNT(*) AS n FROM opportunity_contacts')[0]!.n).toBe(before);
    const id = await withEngine(dir, setup, async (_engine, ledger) => (await ledger.getLink('OpportunityContactRole', renamed.id))!.targetId!);
    const [opportunityId, contactId] = id.split('|');
    expect(sql(target, 'SELECT role FROM opportunity_contacts WHERE opportunity_id = ? AND contact_id = ?', Number(opportunityId), Number(contactId))).toEqual([{ role: 'Other' }]);
  });
});
