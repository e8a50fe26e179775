import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { withEngine } from '../support/engine-session.js';

/**
 * Migrations out of and into Salesforce through the engine, against the Salesforce emulator in-process:
 * the emulator's sample org into SQLite (owners, accounts with parents, contacts, leads with their conversion,
 * opportunities with contact roles, tasks and events on polymorphic WhoId/WhatId, notes), then a delta of
 * edits made in Salesforce.
 */
function withSession<T>(dir: string, project: ProjectFile, work: (session: { engine: Engine; ledger: Ledger }) => Promise<T>): Promise<T> {
  return withEngine(dir, project, (engine, ledger) => work({ engine, ledger }));
}

function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

const SF_TARGET_DDL = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, updated_at TEXT)',
  'CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, industry TEXT, parent_id INTEGER REFERENCES accounts(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, first_name TEXT, last_name TEXT, email TEXT, account_id INTEGER REFERENCES accounts(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE leads (id INTEGER PRIMARY KEY AUTOINCREMENT, last_name TEXT, company TEXT, status TEXT, is_converted BOOLEAN, converted_contact_id INTEGER REFERENCES contacts(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE opportunities (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, stage TEXT, amount NUMERIC, close_date TEXT, account_id INTEGER REFERENCES accounts(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE contact_roles (id INTEGER PRIMARY KEY AUTOINCREMENT, opportunity_id INTEGER REFERENCES opportunities(id), contact_id INTEGER REFERENCES contacts(id), role TEXT, is_primary BOOLEAN, updated_at TEXT)',
  'CREATE TABLE activities (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, subject TEXT, contact_id INTEGER REFERENCES contacts(id), lead_id INTEGER REFERENCES leads(id), account_id INTEGER REFERENCES accounts(id), opportunity_id INTEGER REFERENCES opportunities(id), owner_id INTEGER REFERENCES users(id), updated_at TEXT)',
  'CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, body TEXT, account_id INTEGER REFERENCES accounts(id), contact_id INTEGER REFERENCES contacts(id), lead_id INTEGER REFERENCES leads(id), opportunity_id INTEGER REFERENCES opportunities(id), updated_at TEXT)',
];

describe('Salesforce -> SQL, through the engine', () => {
  let dir: string;
  let salesforce: SalesforceEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-salesforce-sql-'));
    const db = new SqliteDatabase(join(dir, 'target.db'));
    for (const statement of SF_TARGET_DDL) db.exec(statement);
    db.close();
  });
  afterEach(async () => {
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('full migration of the sample org with owners, relations, contact roles and polymorphic activities, then a delta of Salesforce edits', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    salesforce = await startSalesforceEmulator({ port: 0, seed: 'sample', clock: () => now });
    const activity = (kind: string) => [
      { source: ['Subject'], target: 'kind', transform: { kind: 'constant' as const, value: kind } },
      copy('Subject', 'subject'),
      copy('WhoId:Contact', 'contact_id'),
      copy('WhoId:Lead', 'lead_id'),
      copy('WhatId:Account', 'account_id'),
      copy('WhatId:Opportunity', 'opportunity_id'),
      copy('OwnerId', 'owner_id'),
    ];
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'User', target: 'users', fields: [copy('Name', 'name'), copy('Email', 'email')] }),
        object({ source: 'Account', target: 'accounts', fields: [copy('Name', 'name'), copy('Industry', 'industry'), copy('ParentId', 'parent_id'), copy('OwnerId', 'owner_id')] }),
        object({ source: 'Contact', target: 'contacts', fields: [copy('FirstName', 'first_name'), copy('LastName', 'last_name'), copy('Email', 'email'), copy('AccountId', 'account_id'), copy('OwnerId', 'owner_id')] }),
        object({ source: 'Lead', target: 'leads', fields: [copy('LastName', 'last_name'), copy('Company', 'company'), copy('Status', 'status'), copy('IsConverted', 'is_converted'), copy('ConvertedContactId', 'converted_contact_id'), copy('OwnerId', 'owner_id')] }),
        object({ source: 'Opportunity', target: 'opportunities', fields: [copy('Name', 'name'), copy('StageName', 'stage'), copy('Amount', 'amount'), copy('CloseDate', 'close_date'), copy('AccountId', 'account_id'), copy('OwnerId', 'owner_id')] }),
        object({ source: 'OpportunityContactRole', target: 'contact_roles', fields: [copy('OpportunityId', 'opportunity_id'), copy('ContactId', 'contact_id'), copy('Role', 'role'), copy('IsPrimary', 'is_primary')] }),
        object({ source: 'Task', target: 'activities', fields: activity('task') }),
        object({ source: 'Event', target: 'activities', fields: activity('event') }),
        object({ source: 'Note', target: 'notes', fields: [copy('Title', 'title'), copy('Body', 'body'), copy('ParentId:Account', 'account_id'), copy('ParentId:Contact', 'contact_id'), copy('ParentId:Lead', 'lead_id'), copy('ParentId:Opportunity', 'opportunity_id')] }),
      ],
    };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(await withSession(dir, project, ({ ledger }) => ledger.listFailures({ runId: full.runId }))).toEqual([]);
    expect(full.status).toBe('completed');
    const seeded = salesforce.seeded!;
    expect(Math.min(seeded.tasks, seeded.events, seeded.notes, seeded.contactRoles, seeded.convertedLeads)).toBeGreaterThan(0);
    const store = salesforce.store;
    const live = (name: string) => store.records(store.requireObject(name));
    const target = (sql: string) => rows(join(dir, 'target.db'), sql);
    expect(target('SELECT id FROM accounts')).toHaveLength(live('Account').length);
    expect(target('SELECT id FROM contacts')).toHaveLength(live('Contact').length);
    expect(target('SELECT id FROM contact_roles')).toHaveLength(seeded.contactRoles);
    expect(target("SELECT id FROM activities WHERE kind = 'task'")).toHaveLength(seeded.tasks);
    expect(target("SELECT id FROM activities WHERE kind = 'event'")).toHaveLength(seeded.events);
    expect(target('SELECT id FROM notes')).toHaveLength(seeded.notes);
    expect(target('SELECT id FROM users')).toHaveLength(live('User').length);

    await withSession(dir, project, async ({ ledger }) => {
      const sqlId = async (name: string, id: unknown): Promise<number | null> => {
        if (id === null || id === undefined) return null;
        const link = await ledger.getLink(name, String(id));
        return link?.targetId ? Number(link.targetId) : null;
      };
      const one = async (table: string, name: string, id: string) => target(`SELECT * FROM ${table} WHERE id = ${(await sqlId(name, id))!}`)[0]!;
      for (const record of live('Contact')) {
        const data = record.row.data;
        expect(await one('contacts', 'Contact', record.id)).toMatchObject({ last_name: data.LastName, email: data.Email ?? null, account_id: await sqlId('Account', data.AccountId), owner_id: await sqlId('User', data.OwnerId) });
      }
      for (const record of live('Account')) expect((await one('accounts', 'Account', record.id)).parent_id).toBe(await sqlId('Account', record.row.data.ParentId));
      for (const record of live('OpportunityContactRole')) {
        expect(await one('contact_roles', 'OpportunityContactRole', record.id)).toMatchObject({ opportunity_id: await sqlId('Opportunity', record.row.data.OpportunityId), contact_id: await sqlId('Contact', record.row.data.ContactId) });
      }
      // Who and What: each part of the polymorphic reference lands in its own column, the others stay empty.
      for (const [name, objectName] of [['Task', 'Task'], ['Event', 'Event']] as const) {
        for (const record of live(objectName)) {
          const row = await one('activities', name, record.id);
          const who = record.row.data.WhoId as string | null;
          const what = record.row.data.WhatId as string | null;
          expect(row).toMatchObject({
            contact_id: who?.startsWith('003') ? await sqlId('Contact', who) : null,
            lead_id: who?.startsWith('00Q') ? await sqlId('Lead', who) : null,
            account_id: what?.startsWith('001') ? await sqlId('Account', what) : null,
            opportunity_id: what?.startsWith('006') ? await sqlId('Opportunity', what) : null,
            owner_id: await sqlId('User', record.row.data.OwnerId),
          });
          expect([row.contact_id, row.lead_id].filter((value) => value !== null).length).toBe(who ? 1 : 0);
        }
      }
      // Converted leads are read with their conversion state.
      const converted = live('Lead').filter((record) => record.row.data.IsConverted === true);
      expect(converted.length).toBe(seeded.convertedLeads);
      for (const record of converted) expect(await one('leads', 'Lead', record.id)).toMatchObject({ is_converted: 1, converted_contact_id: await sqlId('Contact', record.row.data.ConvertedContactId) });
    });

    // ---- edits in Salesforce an hour later, then a delta: the edited contact updated, the new one created.
    now += 3_600_000;
    const contact = live('Contact')[0]!;
    store.update(contact.id, { LastName: 'Renamed in Salesforce' });
    store.create('Contact', { LastName: 'New in Salesforce', Email: 'new@example.com' });
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.Contact).toMatchObject({ created: 1, updated: 1, failed: 0 });
    expect(delta.counts.Account).toMatchObject({ created: 0, updated: 0 });
    expect(target("SELECT id FROM contacts WHERE last_name = 'Renamed in Salesforce'")).toHaveLength(1);
    expect(target('SELECT id FROM contacts')).toHaveLength(live('Contact').length);
  });
});
