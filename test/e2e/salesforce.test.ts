import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { RENEWAL_STAGES, startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object, validateMapping } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { withEngine } from '../support/engine-session.js';
import { addSampleOwners, sampleIntoSalesforce, WITH_EXTERNAL_IDS } from '../support/salesforce-scene.js';
import { applySourceChanges, sampleToSalesforceObjects, SALESFORCE_STAGES, canonicalSampleStage, writeSampleSqlite } from '../../src/sample/index.js';

/**
 * Migrations out of and into Salesforce through the engine, against the Salesforce emulator in-process:
 * the emulator's sample org into SQLite (owners, accounts with parents, contacts, leads with their conversion,
 * opportunities with contact roles, tasks and events on polymorphic WhoId/WhatId, notes), then a delta of
 * edits made in Salesforce. And the sample "legacy CRM" (SQLite) into Salesforce with owners matched by
 * e-mail, accounts with parents, contacts, opportunities, tasks on Who/What and notes, under lost answers and
 * 503s, then a delta with a Salesforce-side edit and undo. And Pipedrive's sample company into Salesforce, and
 * the Salesforce sample org into HubSpot.
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
    // ...and someone deletes a contact nothing else points at: the delta reports it and deletes nothing.
    const contactsBefore = target('SELECT id FROM contacts').length;
    const gone = live('Contact').find((record) => record.id !== contact.id && !live('OpportunityContactRole').some((role) => role.row.data.ContactId === record.id))!;
    store.delete(gone.id);
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.Contact).toMatchObject({ created: 1, updated: 1, failed: 0 });
    expect(delta.counts.Account).toMatchObject({ created: 0, updated: 0 });
    expect(target("SELECT id FROM contacts WHERE last_name = 'Renamed in Salesforce'")).toHaveLength(1);
    expect(target('SELECT id FROM contacts')).toHaveLength(contactsBefore + 1);
    await withSession(dir, project, async ({ ledger }) => {
      const kept = (await ledger.getLink('Contact', gone.id))?.targetId;
      expect(target(`SELECT id FROM contacts WHERE id = ${Number(kept)}`)).toHaveLength(1);
      expect(delta.messages.find((message) => message.startsWith('Contact: deleted in the source since the last run: 1'))).toContain(`${gone.id} -> ${kept}`);
      const reported = await ledger.listFailures({ runId: delta.runId, code: 'DELETED_IN_SOURCE' });
      // Salesforce deletes a contact's tasks and notes with it (the emulator too): those are reported as well.
      expect(reported.filter((failure) => failure.object === 'Contact').map((failure) => failure.sourceId)).toEqual([gone.id]);
      for (const failure of reported) expect(store.find(failure.sourceId)?.row.deleted ?? true).toBe(true);
      expect(reported.every((failure) => failure.severity === 'warning' && failure.resolvedByRunId === delta.runId)).toBe(true);
    });
  });
});

const EXTERNAL = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true, unique: true };

describe('SQL (sample data) -> Salesforce, through the engine', () => {
  let dir: string;
  let salesforce: SalesforceEmulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-sql-salesforce-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 5, size: 60 });
  });
  afterEach(async () => {
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run writes nothing and forecasts the API calls: what its reads spent plus one call per 200 records written', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], Task: [EXTERNAL] } });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: sampleToSalesforceObjects(),
    };
    const dry = await withSession(dir, project, (session) => session.engine.migrate({ dryRun: true }));
    expect(dry.dryRun).toBe(true);
    expect(salesforce.store.records(salesforce.store.requireObject('Contact'))).toHaveLength(0);
    const created = Object.values(dry.counts).reduce((sum, counts) => sum + counts.created, 0);
    expect(created).toBeGreaterThan(0);
    expect(dry.estimate?.cost).toMatchObject({ unit: 'API calls', amount: salesforce.limits.used() + created / 200 });
  });

  it('retry writes the records a broken stage map failed, naming field and value, without duplicating anything', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], Task: [EXTERNAL] } });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: sampleToSalesforceObjects(),
    };
    const broken = structuredClone(project);
    const stage = broken.objects.find((mapping) => mapping.source === 'deals')!.fields.find((field) => field.target === 'StageName')!;
    if (stage.transform.kind === 'map') for (const [value, mapped] of Object.entries(stage.transform.values)) if (mapped === 'Closed Won') stage.transform.values[value] = 'Won';
    const full = await withSession(dir, broken, (session) => session.engine.migrate());
    const failed = full.counts.deals!.failed;
    expect(failed).toBeGreaterThan(0);
    await withSession(dir, broken, async ({ ledger }) => {
      const failures = (await ledger.listFailures({ runId: full.runId, object: 'deals' })).filter((failure) => failure.severity === 'error');
      expect(failures).toHaveLength(failed);
      for (const failure of failures) expect(failure).toMatchObject({ code: 'INVALID_VALUE', field: 'StageName', value: '"Won"' });
    });
    const opportunities = () => salesforce.store.records(salesforce.store.requireObject('Opportunity'));
    const deals = rows(join(dir, 'source.db'), 'SELECT id FROM deals').length;
    expect(opportunities()).toHaveLength(deals - failed);
    const retry = await withSession(dir, project, (session) => session.engine.retry(full.runId));
    expect(retry.counts.deals).toMatchObject({ created: failed, failed: 0 });
    expect(opportunities()).toHaveLength(deals);
    expect(opportunities().filter((record) => record.row.data.StageName === 'Closed Won').length).toBeGreaterThanOrEqual(failed);
  });

  it('a deal whose stage its record type lacks fails alone, naming record type, field and value; the rest migrate; check warned before the run', async () => {
    let newBusiness = '';
    let renewal = '';
    salesforce = await startSalesforceEmulator({
      port: 0,
      customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], Task: [EXTERNAL] },
      seed: (store) => {
        newBusiness = store.addRecordType('Opportunity', 'New Business');
        renewal = store.addRecordType('Opportunity', 'Renewal', { picklists: { StageName: RENEWAL_STAGES } });
      },
    });
    const objects = sampleToSalesforceObjects();
    const deals = objects.find((mapping) => mapping.source === 'deals')!;
    const stageMap = deals.fields.find((field) => field.target === 'StageName')!.transform;
    if (stageMap.kind !== 'map') throw new Error('the sample maps stages with a value map');
    deals.fields.push({ source: ['kind'], target: 'RecordTypeId', transform: { kind: 'map', values: { new: newBusiness, renewal }, unmapped: 'fail' } });
    // The source gets a record type per deal: renewals where the stage allows it, and one renewal whose stage does not.
    const db = new SqliteDatabase(join(dir, 'source.db'));
    db.exec("ALTER TABLE deals ADD COLUMN kind TEXT DEFAULT 'new'");
    const all = db.prepare('SELECT id, stage FROM deals ORDER BY id').all() as { id: number; stage: string | null }[];
    const mapped = (stage: string | null) => (stage === null ? undefined : stageMap.values[stage]);
    const renewals = all.filter((deal) => RENEWAL_STAGES.includes(String(mapped(deal.stage))));
    const bad = all.find((deal) => mapped(deal.stage) === 'Prospecting' || mapped(deal.stage) === 'Qualification')!;
    for (const deal of [...renewals, bad]) db.prepare("UPDATE deals SET kind = 'renewal' WHERE id = ?").run(deal.id);
    db.close();
    expect(renewals.length).toBeGreaterThan(0);
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects,
    };
    // Before the run: the check names the stages Renewal lacks.
    const warnings = await withSession(dir, project, async ({ engine }) => {
      const schemas = await engine.schemas();
      return validateMapping(project, schemas.source, schemas.target).warnings;
    });
    const limited = warnings.find((warning) => warning.code === 'ENUM_VALUE_VARIANT_LIMITED');
    expect(limited?.message).toMatch(/→ "Prospecting" \(not in record type "Renewal"/);

    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    expect(full.counts.deals).toMatchObject({ failed: 1, created: all.length - 1 });
    await withSession(dir, project, async ({ ledger }) => {
      const failures = (await ledger.listFailures({ runId: full.runId, object: 'deals' })).filter((failure) => failure.severity === 'error');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ sourceId: String(bad.id), code: 'INVALID_VALUE', field: 'StageName', value: JSON.stringify(mapped(bad.stage)) });
      expect(failures[0]!.message).toContain(`is not available for record type "Renewal" (${renewal})`);
    });
    const opportunities = salesforce.store.records(salesforce.store.requireObject('Opportunity'));
    expect(opportunities).toHaveLength(all.length - 1);
    expect(opportunities.filter((record) => record.row.data.RecordTypeId === renewal)).toHaveLength(renewals.length);
    for (const record of opportunities) if (record.row.data.RecordTypeId === renewal) expect(RENEWAL_STAGES).toContain(record.row.data.StageName);
  });

  it('notes as Lightning notes: each source note a ContentNote with its text, shared with its record by a ContentDocumentLink', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], Task: [EXTERNAL] } });
    const objects = sampleToSalesforceObjects().filter((mapping) => mapping.source !== 'notes' && mapping.source !== 'tasks');
    objects.push(
      object({ source: 'notes', target: 'ContentNote', fields: [{ source: ['body'], target: 'Title', transform: { kind: 'constant', value: 'Note from the legacy CRM' } }, copy('body', 'Content')] }),
      object({
        source: 'notes',
        target: 'ContentDocumentLink',
        fields: [copy('id', 'ContentDocumentId'), copy('deal_id', 'LinkedEntityId:Opportunity'), copy('contact_id', 'LinkedEntityId:Contact'), copy('company_id', 'LinkedEntityId:Account'), { source: ['id'], target: 'ShareType', transform: { kind: 'constant', value: 'V' } }],
      }),
    );
    for (const row of rows(join(dir, 'source.db'), 'SELECT email, last_name FROM owners')) salesforce.store.create('User', { Username: String(row.email), Email: String(row.email), LastName: String(row.last_name ?? 'Owner'), Alias: 'owner' });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects,
    };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    const store = salesforce.store;
    const notes = rows(join(dir, 'source.db'), 'SELECT * FROM notes');
    await withSession(dir, project, async ({ ledger }) => {
      const failures = await ledger.listFailures({ runId: full.runId, object: 'notes' });
      expect(failures.filter((failure) => failure.severity === 'error')).toEqual([]);
      let checked = 0;
      for (const row of notes) {
        const links = (await ledger.getLinks('notes', [String(row.id)]));
        const noteId = [...links.values()].map((link) => link.targetId).find((id) => id?.startsWith('069'));
        expect(noteId, `note ${String(row.id)}`).toBeDefined();
        const content = store.find(noteId!)!.row.data.Content;
        expect(Buffer.from(String(content), 'base64').toString('utf8')).toBe(String(row.body ?? ''));
        const parent = (id: unknown, name: string) => (id === null ? Promise.resolve(null) : ledger.getLink(name, String(id)).then((link) => link?.targetId ?? null));
        const expected = (await parent(row.deal_id, 'deals')) ?? (await parent(row.contact_id, 'contacts')) ?? (await parent(row.company_id, 'companies'));
        const linked = store.records(store.requireObject('ContentDocumentLink')).filter((link) => link.row.data.ContentDocumentId === noteId).map((link) => link.row.data.LinkedEntityId);
        if (expected) {
          expect(linked).toContain(expected);
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  });

  it('an org without Ferry_Source_Id__c: Ferry creates it (createExternalIdFields), a lost Tooling answer and a lost upsert answer are sent again, nothing is doubled', async () => {
    // No custom fields at all: the org is as a fresh one.
    salesforce = await startSalesforceEmulator({ port: 0 });
    const store = salesforce.store;
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url, createExternalIdFields: true, permissionSet: 'Ferry_Integration' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: sampleToSalesforceObjects(),
    };
    const tooling = () => salesforce.log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/tooling/sobjects/CustomField'));
    // A dry run creates nothing, and says what the run would create.
    const dry = await withSession(dir, project, (session) => session.engine.migrate({ dryRun: true }));
    expect(tooling()).toHaveLength(0);
    expect(dry.messages).toContain('companies: would create Account.Ferry_Source_Id__c (Text(80), External ID, Unique, case-insensitive) with the Tooling API, then grant Read and Edit on Account.Ferry_Source_Id__c to permission set Ferry_Integration (dry run: not done).');
    expect(dry.messages.filter((message) => message.includes('would create'))).toHaveLength(4);

    // The first field's create answer is lost after Salesforce made it, and so is a contact upsert's.
    salesforce.faults.dropConnection({ afterWrite: true, path: '/services/data/v62.0/tooling/sobjects/CustomField', method: 'POST', count: 1 });
    salesforce.faults.dropConnection({ afterWrite: true, path: '/services/data/v62.0/composite/sobjects/Contact/Ferry_Source_Id__c', method: 'PATCH', count: 1 });
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    expect(full.messages).toContain('tasks: created Activity.Ferry_Source_Id__c (Text(80), External ID, Unique, case-insensitive) with the Tooling API (the activity field Task and Event share), granted Read and Edit on Task.Ferry_Source_Id__c and Event.Ferry_Source_Id__c to permission set Ferry_Integration.');
    expect(Object.values(salesforce.faults.fired()).reduce((sum, count) => sum + count, 0)).toBe(2);
    // One create per object (Task's is Activity's), plus the one resend that found the field made.
    expect(tooling()).toHaveLength(5);
    expect(tooling().filter((entry) => entry.status === 400)).toHaveLength(1);
    for (const name of ['Account', 'Contact', 'Opportunity', 'Task', 'Event']) {
      const field = store.schema.object(name)!.byName.get('ferry_source_id__c');
      expect(field, name).toMatchObject({ externalId: true, unique: true, length: 80 });
      expect(store.fieldAccess(store.schema.object(name)!, field!), name).toBe('edit');
    }
    expect(store.schema.object('Note')!.byName.has('ferry_source_id__c')).toBe(false);
    const live = (name: string) => store.records(store.requireObject(name));
    await withSession(dir, project, async ({ ledger }) => {
      for (const [name, objectName] of [['companies', 'Account'], ['contacts', 'Contact'], ['deals', 'Opportunity'], ['tasks', 'Task']] as const) {
        const linked = (await Promise.all(rows(join(dir, 'source.db'), `SELECT id FROM ${name}`).map((row) => ledger.getLink(name, String(row.id))))).filter((link) => link?.targetId);
        expect(linked.length, name).toBeGreaterThan(0);
        expect(live(objectName), `${name}: exactly the linked records, none doubled by the resend`).toHaveLength(linked.length);
        const stamps = live(objectName).map((record) => record.row.data.Ferry_Source_Id__c);
        expect(stamps.every((stamp) => typeof stamp === 'string'), `${name}: every record stamped`).toBe(true);
        expect(new Set(stamps).size, `${name}: a source id stamped twice`).toBe(stamps.length);
      }
    });
    // Creates were upserts on the new field.
    expect(salesforce.log.some((entry) => entry.method === 'PATCH' && entry.path.endsWith('/composite/sobjects/Account/Ferry_Source_Id__c'))).toBe(true);

    // A later run finds the fields there: nothing is created again.
    await applySourceChanges(join(dir, 'source.db'), { seed: 5, newRecords: 3, changedRecords: 2, at: '2031-01-01T00:00:00.000Z' });
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    expect(tooling()).toHaveLength(5);
  });

  it('full migration with relations and owners under lost answers, a delta with a Salesforce-side edit, undo; nothing duplicated or lost', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, customFields: WITH_EXTERNAL_IDS });
    const store = salesforce.store;
    const source = (sql: string) => rows(join(dir, 'source.db'), sql);
    addSampleOwners(salesforce, dir);
    // Lost answers of upserts (found again by the external id) and a 503 on a plain create (notes have no custom fields).
    salesforce.faults.dropConnection({ afterWrite: true, path: '/services/data/v62.0/composite/sobjects/Contact/Ferry_Source_Id__c', method: 'PATCH', count: 1 });
    salesforce.faults.serverError(503, { path: '/services/data/v62.0/composite/sobjects/Opportunity/Ferry_Source_Id__c', method: 'PATCH', count: 1 });
    const project = sampleIntoSalesforce(dir, salesforce, { pageSize: 100 });
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).not.toBe('failed');
    expect(Object.values(salesforce.faults.fired()).every((count) => count > 0)).toBe(true);
    expect((await withSession(dir, project, ({ ledger }) => ledger.listFailures({ runId: full.runId }))).filter((failure) => failure.severity === 'error')).toEqual([]);
    const live = (name: string) => store.records(store.requireObject(name));
    await withSession(dir, project, async ({ ledger }) => {
      const sfId = async (name: string, id: unknown): Promise<string | null> => {
        if (id === null || id === undefined) return null;
        const link = await ledger.getLink(name, String(id));
        return link?.targetId ?? null;
      };
      // Every source record is in Salesforce once, or listed as failed with its reason.
      for (const [name, objectName] of [['companies', 'Account'], ['contacts', 'Contact'], ['deals', 'Opportunity'], ['tasks', 'Task'], ['notes', 'Note']] as const) {
        const failures = new Set((await ledger.listFailures({ object: name, unresolved: true })).map((failure) => failure.sourceId));
        let linked = 0;
        for (const row of source(`SELECT id FROM ${name}`)) {
          if ((await sfId(name, row.id)) === null) expect(failures.has(String(row.id)), `${name} ${String(row.id)}`).toBe(true);
          else linked += 1;
        }
        expect(linked, `${name}: most records are written`).toBeGreaterThan(0);
        expect(live(objectName), `${name}: Salesforce holds exactly the linked records`).toHaveLength(linked);
        if (objectName === 'Note') continue;
        const stamps = live(objectName).map((record) => record.row.data.Ferry_Source_Id__c);
        expect(new Set(stamps).size, `${name}: a source id stamped twice`).toBe(stamps.length);
      }
      const userByEmail = new Map(live('User').map((record) => [String(record.row.data.Email).toLowerCase(), record.id]));
      const owners = new Map(source('SELECT id, email FROM owners').map((row) => [row.id, userByEmail.get(String(row.email).toLowerCase())]));
      for (const row of source('SELECT * FROM contacts')) {
        const id = await sfId('contacts', row.id);
        if (id === null) continue;
        const data = store.find(id)!.row.data;
        expect(data.AccountId ?? null).toBe(await sfId('companies', row.company_id));
        if (row.owner_id !== null) expect(data.OwnerId).toBe(owners.get(row.owner_id));
      }
      for (const row of source('SELECT * FROM companies WHERE parent_company_id IS NOT NULL')) {
        const id = await sfId('companies', row.id);
        if (id !== null) expect(store.find(id)!.row.data.ParentId ?? null).toBe(await sfId('companies', row.parent_company_id));
      }
      for (const row of source('SELECT * FROM deals')) {
        const id = await sfId('deals', row.id);
        if (id === null) continue;
        expect(store.find(id)!.row.data.StageName).toBe(SALESFORCE_STAGES[canonicalSampleStage(String(row.stage))]);
      }
      for (const row of source('SELECT * FROM tasks')) {
        const id = await sfId('tasks', row.id);
        if (id === null) continue;
        const data = store.find(id)!.row.data;
        expect(data.WhoId ?? null).toBe(await sfId('contacts', row.contact_id));
        expect(data.WhatId ?? null).toBe((await sfId('deals', row.deal_id)) ?? (await sfId('companies', row.company_id)));
        if (row.owner_id !== null) expect(data.OwnerId).toBe(owners.get(row.owner_id));
      }
      for (const row of source('SELECT * FROM notes')) {
        const id = await sfId('notes', row.id);
        if (id === null) continue;
        expect(store.find(id)!.row.data.ParentId).toBe((await sfId('deals', row.deal_id)) ?? (await sfId('contacts', row.contact_id)) ?? (await sfId('companies', row.company_id)));
      }
    });

    // ---- delta: new and changed source records; one contact edited in Salesforce meanwhile.
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: 5, newRecords: 6, changedRecords: 8, at: '2031-01-01T00:00:00.000Z' });
    const edited = await withSession(dir, project, async ({ ledger }) => {
      for (const id of changes.changed.contacts) {
        const link = await ledger.getLink('contacts', String(id));
        if (link?.targetId) return link.targetId;
      }
      return undefined;
    });
    expect(edited).toBeDefined();
    store.update(edited!, { Title: 'Edited in Salesforce' });
    const before = live('Contact').length;
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).not.toBe('failed');
    expect(delta.counts.contacts!.created + delta.counts.contacts!.failed + delta.counts.contacts!.matched).toBe(changes.created.contacts.length);
    expect(live('Contact')).toHaveLength(before + delta.counts.contacts!.created);
    const stamps = live('Contact').map((record) => record.row.data.Ferry_Source_Id__c);
    expect(new Set(stamps).size).toBe(stamps.length);

    // ---- undo the delta: what it created is deleted again.
    const undo = await withSession(dir, project, (session) => session.engine.undo(delta.runId));
    expect(undo.status).toBe('completed');
    expect(live('Contact')).toHaveLength(before);
  });

  it('a large object goes through Bulk API 2.0 ingest jobs at the default page size: the engine gathers pages up to the threshold', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, customFields: WITH_EXTERNAL_IDS });
    const store = salesforce.store;
    addSampleOwners(salesforce, dir);
    // A threshold of 20 records stands for the 2,000 of the default; pages of 5 for its 500.
    const project = sampleIntoSalesforce(dir, salesforce, { pageSize: 5, target: { bulkWriteThreshold: 20, bulkPollMs: 1 } });
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect(full.status).toBe('completed');
    const contacts = rows(join(dir, 'source.db'), 'SELECT id FROM contacts').length;
    expect(contacts).toBeGreaterThan(20);
    const ingestJobs = salesforce.stats.byPath['POST /services/data/v62.0/jobs/ingest'] ?? 0;
    // Every object of at least 20 records is written in jobs of 20 (its rest in collections).
    expect(ingestJobs).toBeGreaterThanOrEqual(Math.floor(contacts / 20));
    const live = store.records(store.requireObject('Contact'));
    expect(live).toHaveLength(contacts);
    const stamps = live.map((record) => record.row.data.Ferry_Source_Id__c);
    expect(new Set(stamps).size).toBe(contacts);
    // The run's units are the gathered groups: one per 20 records (and the rest, or the empty last read when
    // the records end with a full page), not one per page of 5.
    const units = await withSession(dir, project, ({ ledger }) => ledger.getUnits(full.runId, 'write', 'contacts'));
    expect(units.length).toBeGreaterThanOrEqual(Math.ceil(contacts / 20));
    expect(units.length).toBeLessThanOrEqual(Math.ceil(contacts / 20) + 1);
  });
});

describe('Pipedrive -> Salesforce, through the engine', () => {
  let dir: string;
  let pipedrive: PipedriveEmulator;
  let salesforce: SalesforceEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-pipedrive-salesforce-'));
  });
  afterEach(async () => {
    await pipedrive?.close();
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the Pipedrive sample company into Salesforce with owners by e-mail, accounts, contacts, opportunities, tasks on Who/What and notes, then a delta of Pipedrive edits', async () => {
    let now = Date.UTC(2026, 5, 1, 9);
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 }, seed: 'sample', clock: () => now });
    salesforce = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Opportunity: [EXTERNAL], Task: [EXTERNAL] } });
    const store = salesforce.store;
    for (const user of pipedrive.store.users.all()) store.create('User', { Username: user.data.email, Email: user.data.email, LastName: user.data.name, Alias: 'pd' });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000 },
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'users', target: 'User', matchOnly: true, matchKeys: [{ source: 'email', target: 'Email', kind: 'email' }], fields: [] }),
        object({ source: 'organizations', target: 'Account', fields: [copy('name', 'Name'), copy('owner_id', 'OwnerId')] }),
        object({ source: 'persons', target: 'Contact', fields: [copy('name', 'LastName'), copy('email', 'Email'), copy('phone', 'Phone'), copy('org_id', 'AccountId'), copy('owner_id', 'OwnerId')] }),
        object({
          source: 'deals',
          target: 'Opportunity',
          fields: [
            copy('title', 'Name'),
            copy('value', 'Amount'),
            { source: ['status'], target: 'StageName', transform: { kind: 'map', values: { open: 'Prospecting', won: 'Closed Won', lost: 'Closed Lost' }, unmapped: 'fail' } },
            // Salesforce requires a close date; the sample company's deals do not all have one.
            { source: ['title'], target: 'CloseDate', transform: { kind: 'constant', value: '2026-12-31' } },
            copy('org_id', 'AccountId'),
            copy('owner_id', 'OwnerId'),
          ],
        }),
        object({ source: 'activities', target: 'Task', fields: [copy('subject', 'Subject'), { source: ['due_date'], target: 'ActivityDate', transform: { kind: 'date' } }, copy('person_id', 'WhoId:Contact'), copy('deal_id', 'WhatId:Opportunity')] }),
        object({
          source: 'notes',
          target: 'Note',
          fields: [{ source: ['content'], target: 'Title', transform: { kind: 'constant', value: 'Note from Pipedrive' } }, copy('content', 'Body'), copy('deal_id', 'ParentId:Opportunity'), copy('person_id', 'ParentId:Contact'), copy('org_id', 'ParentId:Account')],
        }),
      ],
    };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect((await withSession(dir, project, ({ ledger }) => ledger.listFailures({ runId: full.runId }))).filter((failure) => failure.severity === 'error')).toEqual([]);
    const seeded = pipedrive.seeded!;
    expect(Math.min(seeded.organizations, seeded.persons, seeded.deals, seeded.activities, seeded.notes)).toBeGreaterThan(0);
    const live = (name: string) => store.records(store.requireObject(name));
    expect(live('Account')).toHaveLength(seeded.organizations);
    expect(live('Contact')).toHaveLength(seeded.persons);
    expect(live('Opportunity')).toHaveLength(seeded.deals);
    expect(live('Task')).toHaveLength(seeded.activities);
    expect(live('Note')).toHaveLength(seeded.notes);
    await withSession(dir, project, async ({ ledger }) => {
      const sfId = async (name: string, id: unknown): Promise<string | null> => (id === null || id === undefined ? null : ((await ledger.getLink(name, String(id)))?.targetId ?? null));
      const userByEmail = new Map(live('User').map((record) => [String(record.row.data.Email), record.id]));
      const owner = (id: unknown) => userByEmail.get(String(pipedrive.store.users.all().find((user) => user.id === id)?.data.email));
      for (const row of pipedrive.store.table('persons').all()) {
        const data = store.find((await sfId('persons', row.id))!)!.row.data;
        expect(data.AccountId ?? null).toBe(await sfId('organizations', row.data.org_id));
        expect(data.OwnerId).toBe(owner(row.data.owner_id));
      }
      for (const row of pipedrive.store.table('deals').all()) {
        const data = store.find((await sfId('deals', row.id))!)!.row.data;
        expect(data.StageName).toBe({ open: 'Prospecting', won: 'Closed Won', lost: 'Closed Lost' }[String(row.data.status)]);
        expect(data.AccountId ?? null).toBe(await sfId('organizations', row.data.org_id));
      }
      for (const row of pipedrive.store.table('activities').all()) {
        const data = store.find((await sfId('activities', row.id))!)!.row.data;
        expect(data.WhoId ?? null).toBe(await sfId('persons', row.data.person_id));
        expect(data.WhatId ?? null).toBe(await sfId('deals', row.data.deal_id));
      }
      for (const row of pipedrive.store.notes.all()) {
        const data = store.find((await sfId('notes', row.id))!)!.row.data;
        expect(data.ParentId).toBe((await sfId('deals', row.data.deal_id)) ?? (await sfId('persons', row.data.person_id)) ?? (await sfId('organizations', row.data.org_id)));
      }
    });

    // ---- edits in Pipedrive an hour later, then a delta: the renamed person updated, the new one created.
    now += 3_600_000;
    const person = pipedrive.store.table('persons').all()[0]!;
    pipedrive.store.update('persons', person.id, { name: 'Renamed in Pipedrive' });
    pipedrive.store.create('persons', { name: 'New in Pipedrive', emails: [{ value: 'new@example.com', primary: true, label: 'work' }] });
    const delta = await withSession(dir, project, (session) => session.engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.persons).toMatchObject({ created: 1, updated: 1, failed: 0 });
    expect(live('Contact')).toHaveLength(seeded.persons + 1);
    expect(live('Contact').filter((record) => record.row.data.LastName === 'Renamed in Pipedrive')).toHaveLength(1);
    const stamps = live('Contact').map((record) => record.row.data.Ferry_Source_Id__c);
    expect(new Set(stamps).size).toBe(stamps.length);
  });
});

/** Salesforce's default opportunity stages -> the HubSpot emulator's default pipeline. */
const HUBSPOT_STAGES: Record<string, string> = {
  Prospecting: 'appointmentscheduled',
  Qualification: 'qualifiedtobuy',
  'Needs Analysis': 'qualifiedtobuy',
  'Value Proposition': 'presentationscheduled',
  'Id. Decision Makers': 'presentationscheduled',
  'Perception Analysis': 'presentationscheduled',
  'Proposal/Price Quote': 'presentationscheduled',
  'Negotiation/Review': 'contractsent',
  'Closed Won': 'closedwon',
  'Closed Lost': 'closedlost',
};

describe('Salesforce -> HubSpot, through the engine', () => {
  let dir: string;
  let salesforce: SalesforceEmulator;
  let hubspot: HubspotEmulator;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-salesforce-hubspot-'));
  });
  afterEach(async () => {
    await salesforce?.close();
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the sample org into HubSpot: owners by e-mail, companies, contacts and deals with their primary company, notes on their record', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, seed: 'sample' });
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    const store = salesforce.store;
    const live = (name: string) => store.records(store.requireObject(name));
    for (const user of live('User')) hubspot.store.addOwner({ email: String(user.row.data.Email) });
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [
        object({ source: 'User', target: 'owners', matchOnly: true, matchKeys: [{ source: 'Email', target: 'email', kind: 'email' }], fields: [] }),
        object({ source: 'Account', target: 'companies', fields: [copy('Name', 'name'), copy('Phone', 'phone'), copy('OwnerId', 'hubspot_owner_id')] }),
        object({ source: 'Contact', target: 'contacts', fields: [copy('FirstName', 'firstname'), copy('LastName', 'lastname'), copy('Email', 'email'), copy('Title', 'jobtitle'), copy('AccountId', 'primary_company'), copy('OwnerId', 'hubspot_owner_id')] }),
        object({
          source: 'Opportunity',
          target: 'deals',
          fields: [
            copy('Name', 'dealname'),
            copy('Amount', 'amount'),
            { source: ['StageName'], target: 'dealstage', transform: { kind: 'map', values: HUBSPOT_STAGES, unmapped: 'fail' } },
            { source: ['CloseDate'], target: 'closedate', transform: { kind: 'date' } },
            copy('AccountId', 'primary_company'),
            copy('OwnerId', 'hubspot_owner_id'),
          ],
        }),
        object({
          source: 'Note',
          target: 'notes',
          fields: [copy('Body', 'hs_note_body'), { source: ['CreatedDate'], target: 'hs_timestamp', transform: { kind: 'datetime' } }, copy('ParentId:Contact', 'associated_contacts'), copy('ParentId:Account', 'associated_companies'), copy('ParentId:Opportunity', 'associated_deals')],
        }),
      ],
    };
    const full = await withSession(dir, project, (session) => session.engine.migrate());
    expect((await withSession(dir, project, ({ ledger }) => ledger.listFailures({ runId: full.runId }))).filter((failure) => failure.severity === 'error')).toEqual([]);
    const count = (type: string) => [...hubspot.store.table(type).values()].filter((record) => !record.archived).length;
    expect(count('companies')).toBe(live('Account').length);
    expect(count('contacts')).toBe(live('Contact').length);
    expect(count('deals')).toBe(live('Opportunity').length);
    expect(count('notes')).toBe(live('Note').length);
    await withSession(dir, project, async ({ ledger }) => {
      const hsId = async (name: string, id: unknown): Promise<string | null> => (id === null || id === undefined ? null : ((await ledger.getLink(name, String(id)))?.targetId ?? null));
      const primary = (type: string, id: string) => hubspot.store.associationsOf(type, id, 'companies').find(([, types]) => types.includes(type === 'deals' ? 5 : 1))?.[0] ?? null;
      for (const record of live('Contact')) {
        const id = (await hsId('Contact', record.id))!;
        expect(primary('contacts', id), `contact ${record.id}`).toBe(await hsId('Account', record.row.data.AccountId));
      }
      for (const record of live('Opportunity')) {
        const dealId = (await hsId('Opportunity', record.id))!;
        const deal = hubspot.store.table('deals').get(dealId)!;
        expect(deal.properties.get('dealstage')).toBe(HUBSPOT_STAGES[String(record.row.data.StageName)]);
        expect(primary('deals', dealId), `opportunity ${record.id}`).toBe(await hsId('Account', record.row.data.AccountId));
      }
      for (const record of live('Note')) {
        const id = (await hsId('Note', record.id))!;
        const parent = String(record.row.data.ParentId);
        const [type, object] = parent.startsWith('003') ? ['contacts', 'Contact'] : parent.startsWith('001') ? ['companies', 'Account'] : parent.startsWith('006') ? ['deals', 'Opportunity'] : ['', ''];
        if (!type) continue; // a note on a lead: HubSpot has no leads in this mapping
        expect(hubspot.store.associationsOf('notes', id, type).map(([other]) => other)).toContain(await hsId(object, parent));
      }
    });
  });
});
