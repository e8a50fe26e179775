import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnector } from '../../src/connectors/registry.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { CALL_OUTCOMES } from '../../src/emulators/hubspot/schema.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { copyField as copy, objectMapping as object } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { naiveTimestamp, sampleToHubspotObjects, SOURCE_ACTIVITY_TYPE_SPELLINGS, TARGET_SQLITE_DDL, TARGET_TABLES, writeSampleSqlite } from '../../src/sample/index.js';

/**
 * Calls, meetings and e-mails both ways between SQL and HubSpot (the emulator), through full, delta and
 * undo: one SQL `activities` table routed by its type into HubSpot's three engagement objects, and the
 * three objects merged back into one SQL table, their associations to contacts, companies and deals intact.
 */

const FAST = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };
const FAST_CONNECTOR = { burstLimit: 1000, searchPerSecond: 50 };
const ENGAGEMENTS = ['calls', 'meetings', 'emails'] as const;
const OUTCOME_ID = Object.fromEntries(CALL_OUTCOMES.map(([id, label]) => [label, id]));
const OUTCOME_LABEL = Object.fromEntries(CALL_OUTCOMES.map(([id, label]) => [id, label]));

async function withSession<T>(dir: string, project: ProjectFile, work: (session: { engine: Engine; ledger: Ledger }) => Promise<T>): Promise<T> {
  const ledger = await Ledger.open(project.state!, { baseDir: dir });
  const source = createConnector(project.source, { baseDir: dir, role: 'source' });
  const target = createConnector(project.target, { baseDir: dir, role: 'target' });
  try {
    return await work({ engine: new Engine({ project, source, target, ledger, progress: new ProgressStream() }), ledger });
  } finally {
    await source.close();
    await target.close();
    await ledger.close();
  }
}

type Row = Record<string, unknown>;
const utcMillis = (naive: unknown): number => Date.parse(`${String(naive).replace(' ', 'T')}Z`);
/** The kind of an activity by its `type`, compared as the row filter compares it (trimmed, case-insensitive). */
const kindOf = (type: unknown): string => {
  const wanted = String(type).trim().toLowerCase();
  return Object.entries(SOURCE_ACTIVITY_TYPE_SPELLINGS).find(([, spellings]) => spellings.some((spelling) => spelling.trim().toLowerCase() === wanted))![0];
};
const objectOf: Record<string, (typeof ENGAGEMENTS)[number]> = { call: 'calls', meeting: 'meetings', email: 'emails' };

describe('SQL activities -> HubSpot calls, meetings and e-mails', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  let project: ProjectFile;
  const sql = (query: string, ...params: unknown[]): Row[] => {
    const db = new SqliteDatabase(join(dir, 'source.db'));
    try {
      return query.trim().toUpperCase().startsWith('SELECT') ? (db.prepare(query).all(...params) as Row[]) : (db.prepare(query).run(...params), []);
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-engagements-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 23, size: 60 });
    hubspot = await startHubspotEmulator({ ...FAST });
    for (const row of sql('SELECT email FROM owners')) hubspot.store.addOwner({ email: String(row.email) });
    project = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db' },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST_CONNECTOR },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: sampleToHubspotObjects().filter((mapping) => mapping.source !== 'notes'),
    };
  });
  afterEach(async () => {
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every activity is exactly one record of its type's object, with its values converted and its parent associated. */
  async function expectActivitiesInHubspot(ledger: Ledger): Promise<void> {
    const activities = sql('SELECT * FROM activities ORDER BY id');
    let withParent = 0;
    for (const row of activities) {
      const key = objectOf[kindOf(row.type)]!;
      const link = await ledger.getLink(key, String(row.id));
      expect(link?.targetId, `activity ${String(row.id)} (${String(row.type)})`).toBeTruthy();
      for (const other of ENGAGEMENTS) if (other !== key) expect(await ledger.getLink(other, String(row.id))).toBeUndefined();
      const record = hubspot.store.get(key, link!.targetId!)!;
      expect(record.archived).toBe(false);
      const value = (name: string) => record.properties.get(name);
      expect(Number(value('hs_timestamp'))).toBe(utcMillis(row.activity_date));
      if (key === 'calls') {
        expect(value('hs_call_title')).toBe(row.subject);
        expect(value('hs_call_duration')).toBe(row.duration_minutes === null ? undefined : String(Number(row.duration_minutes) * 60_000));
        expect(value('hs_call_disposition')).toBe(OUTCOME_ID[String(row.outcome)]);
        expect(value('hs_call_direction')).toBe(String(row.direction).toUpperCase());
      } else if (key === 'meetings') {
        expect(value('hs_meeting_title')).toBe(row.subject);
        expect(Number(value('hs_meeting_start_time'))).toBe(utcMillis(row.activity_date));
        expect(Number(value('hs_meeting_end_time')) - Number(value('hs_meeting_start_time'))).toBe(Number(row.duration_minutes) * 60_000);
        expect(value('hs_meeting_outcome')).toBe(String(row.outcome).toUpperCase().replace(' ', '_'));
      } else {
        expect(value('hs_email_subject')).toBe(row.subject);
        expect(value('hs_email_text')).toBe(row.body ?? undefined);
        expect(value('hs_email_direction')).toBe(row.direction === 'inbound' ? 'INCOMING_EMAIL' : 'EMAIL');
        expect(value('hs_email_status')).toBe(String(row.outcome).toUpperCase());
      }
      const [parentObject, parentId] = row.contact_id !== null ? ['contacts', row.contact_id] : row.company_id !== null ? ['companies', row.company_id] : ['deals', row.deal_id];
      const parent = (await ledger.getLink(parentObject!, String(parentId)))?.targetId;
      const associated = (to: string) => hubspot.store.associationsOf(key, record.id, to).map(([id]) => id);
      // A parent that could not be migrated (a contact with an invalid e-mail) leaves the activity unassociated.
      expect(associated(parentObject!)).toEqual(parent ? [parent] : []);
      for (const other of ['contacts', 'companies', 'deals'].filter((name) => name !== parentObject)) expect(associated(other)).toEqual([]);
      if (parent) {
        expect(hubspot.store.associationsOf(parentObject!, parent, key).map(([id]) => id)).toContain(record.id);
        withParent += 1;
      }
    }
    expect(withParent).toBeGreaterThan(activities.length * 0.8);
  }

  it('routes each activity by type through full, delta and undo, values converted and associations intact', async () => {
    const counts = Object.fromEntries(ENGAGEMENTS.map((key) => [key, 0]));
    for (const row of sql('SELECT type FROM activities')) counts[objectOf[kindOf(row.type)]!]! += 1;
    for (const key of ENGAGEMENTS) expect(counts[key], key).toBeGreaterThan(3);

    const full = await withSession(dir, project, ({ engine }) => engine.migrate());
    for (const key of ENGAGEMENTS) expect(full.counts[key], key).toMatchObject({ created: counts[key], failed: 0 });
    for (const key of ENGAGEMENTS) expect(hubspot.store.count(key)).toBe(counts[key]);
    await withSession(dir, project, ({ ledger }) => expectActivitiesInHubspot(ledger));

    // ---- time passes: a call is logged again with a longer duration, a meeting happens, an e-mail arrives.
    const at = naiveTimestamp(Date.now() + 60_000);
    const [call] = sql(`SELECT * FROM activities WHERE lower(trim(type)) = 'call' AND duration_minutes IS NOT NULL ORDER BY id LIMIT 1`);
    sql('UPDATE activities SET duration_minutes = ?, outcome = ?, updated_at = ? WHERE id = ?', 75, 'Wrong number', at, call!.id);
    const nextId = Number(sql('SELECT max(id) AS id FROM activities')[0]!.id) + 1;
    const insert = 'INSERT INTO activities (id, type, subject, body, direction, duration_minutes, outcome, activity_date, end_time, company_id, contact_id, deal_id, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    sql(insert, nextId, ' MEETING', 'Onsite visit', 'Plant tour', null, 90, 'Completed', '2026-01-10 14:00:00', '2026-01-10 15:30:00', 1, null, null, 1, at, at);
    sql(insert, nextId + 1, 'E-mail', 'Re: onsite visit', 'Thanks for the tour', 'inbound', null, 'Sent', '2026-01-11 08:15:00', null, null, null, 1, 1, at, at);
    const callTarget = (await withSession(dir, project, ({ ledger }) => ledger.getLink('calls', String(call!.id))))!.targetId!;

    const delta = await withSession(dir, project, ({ engine }) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.calls).toMatchObject({ created: 0, updated: 1, failed: 0 });
    expect(delta.counts.meetings).toMatchObject({ created: 1, updated: 0, failed: 0 });
    expect(delta.counts.emails).toMatchObject({ created: 1, updated: 0, failed: 0 });
    expect(hubspot.store.get('calls', callTarget)!.properties.get('hs_call_duration')).toBe(String(75 * 60_000));
    await withSession(dir, project, ({ ledger }) => expectActivitiesInHubspot(ledger));

    // ---- undo the delta: the new meeting and e-mail are archived, the call gets its old values back.
    const undo = await withSession(dir, project, ({ engine }) => engine.undo(delta.runId));
    expect(undo.status).toBe('completed');
    expect(hubspot.store.count('meetings')).toBe(counts.meetings);
    expect(hubspot.store.count('emails')).toBe(counts.emails);
    const restored = hubspot.store.get('calls', callTarget)!.properties;
    expect(restored.get('hs_call_duration')).toBe(String(Number(call!.duration_minutes) * 60_000));
    expect(restored.get('hs_call_disposition')).toBe(OUTCOME_ID[String(call!.outcome)]);
  });

  it('an activity with a bad value fails alone, naming the record, field and value; the others arrive', async () => {
    const [call] = sql(`SELECT id FROM activities WHERE lower(trim(type)) = 'call' ORDER BY id LIMIT 1`);
    const [email] = sql(`SELECT id FROM activities WHERE lower(trim(type)) IN ('email', 'e-mail') ORDER BY id LIMIT 1`);
    const [meeting] = sql(`SELECT id FROM activities WHERE lower(trim(type)) = 'meeting' ORDER BY id LIMIT 1`);
    sql('UPDATE activities SET duration_minutes = -5 WHERE id = ?', call!.id);
    sql("UPDATE activities SET direction = 'sideways' WHERE id = ?", email!.id);
    sql("UPDATE activities SET activity_date = 'next tuesday' WHERE id = ?", meeting!.id);
    const total = Number(sql('SELECT COUNT(*) AS n FROM activities')[0]!.n);
    const full = await withSession(dir, project, ({ engine }) => engine.migrate());
    expect(ENGAGEMENTS.map((key) => full.counts[key]!.failed)).toEqual([1, 1, 1]);
    expect(ENGAGEMENTS.reduce((sum, key) => sum + full.counts[key]!.created, 0)).toBe(total - 3);
    await withSession(dir, project, async ({ ledger }) => {
      const failures = (await ledger.listFailures({ runId: full.runId })).filter((failure) => (ENGAGEMENTS as readonly string[]).includes(failure.object));
      expect(failures.map((failure) => [failure.object, failure.sourceId, failure.code, failure.field, failure.value]).sort()).toEqual(
        [
          ['calls', String(call!.id), 'INVALID_VALUE', 'hs_call_duration', '-5'],
          ['emails', String(email!.id), 'VALUE_NOT_MAPPED', 'hs_email_direction', '"sideways"'],
          // Both fields the meeting's date feeds are reported.
          ['meetings', String(meeting!.id), 'INVALID_VALUE', 'hs_timestamp', '"next tuesday"'],
          ['meetings', String(meeting!.id), 'INVALID_VALUE', 'hs_meeting_start_time', '"next tuesday"'],
        ].sort(),
      );
    });
  });
});

describe('HubSpot calls, meetings and e-mails -> one SQL activities table', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  let target: SqliteDatabase.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-engagements-'));
  });
  afterEach(async () => {
    target?.close();
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function hubspotToSqlProject(): ProjectFile {
    const parents = [copy('associated_contacts', 'contact_id'), copy('associated_companies', 'company_id'), copy('associated_deals', 'deal_id'), copy('hubspot_owner_id', 'owner_id')];
    const type = (value: string) => ({ source: [], target: 'type', transform: { kind: 'constant' as const, value } });
    return {
      version: 1,
      source: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST_CONNECTOR },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100, lookbackMs: 0 },
      objects: [
        object({ source: 'owners', target: 'users', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
        object({ source: 'companies', target: 'companies', fields: [copy('name'), copy('domain')] }),
        object({ source: 'contacts', target: 'contacts', fields: [copy('firstname'), copy('lastname'), copy('email')] }),
        object({ source: 'deals', target: 'deals', fields: [copy('dealname'), { source: ['dealstage'], target: 'dealstage', transform: { kind: 'map', values: { decisionmakerboughtin: 'contractsent' }, unmapped: 'keep' } }] }),
        object({
          source: 'calls',
          target: 'activities',
          fields: [
            type('call'),
            copy('hs_call_title', 'subject'),
            copy('hs_call_body', 'body'),
            copy('hs_call_direction', 'direction'),
            { source: ['hs_call_duration'], target: 'duration_minutes', transform: { kind: 'duration', from: 'milliseconds', to: 'minutes' } },
            { source: ['hs_call_disposition'], target: 'outcome', transform: { kind: 'map', values: OUTCOME_LABEL, unmapped: 'keep' } },
            copy('hs_timestamp', 'activity_date'),
            ...parents,
          ],
        }),
        object({
          source: 'meetings',
          target: 'activities',
          fields: [type('meeting'), copy('hs_meeting_title', 'subject'), copy('hs_meeting_body', 'body'), copy('hs_meeting_outcome', 'outcome'), copy('hs_meeting_start_time', 'activity_date'), copy('hs_meeting_end_time', 'end_time'), ...parents],
        }),
        object({
          source: 'emails',
          target: 'activities',
          fields: [type('email'), copy('hs_email_subject', 'subject'), copy('hs_email_text', 'body'), copy('hs_email_direction', 'direction'), copy('hs_email_status', 'outcome'), copy('hs_timestamp', 'activity_date'), ...parents],
        }),
      ],
    };
  }

  const rows = (query: string, ...params: unknown[]) => target.prepare(query).all(...params) as Row[];

  async function expectEngagementsInSql(ledger: Ledger): Promise<void> {
    for (const key of ENGAGEMENTS) {
      for (const record of hubspot.store.table(key).values()) {
        const link = await ledger.getLink(key, record.id);
        if (record.archived) continue;
        const [row] = rows('SELECT * FROM activities WHERE id = ?', Number(link?.targetId));
        expect(row, `${key} ${record.id}`).toBeDefined();
        expect(row!.type).toBe(key.slice(0, -1));
        const time = key === 'meetings' ? 'hs_meeting_start_time' : 'hs_timestamp';
        expect(Date.parse(String(row!.activity_date))).toBe(Number(record.properties.get(time)));
        if (key === 'calls') {
          expect(row!.duration_minutes).toBe(Number(record.properties.get('hs_call_duration')) / 60_000);
          expect(row!.outcome).toBe(OUTCOME_LABEL[record.properties.get('hs_call_disposition')!]);
        }
        // The one associated record (the seed logs each engagement on one) is the row's reference.
        const parents = (['contacts', 'companies', 'deals'] as const).flatMap((to) => hubspot.store.associationsOf(key, record.id, to).map(([id]) => [to, id] as const));
        expect(parents).toHaveLength(1);
        const [to, parentId] = parents[0]!;
        const column = { contacts: 'contact_id', companies: 'company_id', deals: 'deal_id' }[to];
        expect(row![column]).toBe(Number((await ledger.getLink(to, parentId))?.targetId));
      }
    }
  }

  it('merges the three objects into one table through full, delta and undo, with their parents as references', async () => {
    hubspot = await startHubspotEmulator({ ...FAST, seed: { sample: { seed: 9, contacts: 40 } } });
    const seeded = hubspot.seeded!;
    target = new SqliteDatabase(join(dir, 'target.db'));
    for (const table of TARGET_TABLES) target.exec(TARGET_SQLITE_DDL[table]);
    target.exec(`CREATE TABLE activities (
      id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL CHECK (type IN ('call', 'meeting', 'email')), subject TEXT, body TEXT,
      direction TEXT, duration_minutes NUMERIC, outcome TEXT, activity_date TEXT NOT NULL, end_time TEXT,
      contact_id INTEGER REFERENCES contacts(id), company_id INTEGER REFERENCES companies(id), deal_id INTEGER REFERENCES deals(id),
      owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`);
    for (const owner of hubspot.store.owners) target.prepare('INSERT INTO users (email, name) VALUES (?, ?)').run(owner.email, owner.email);
    const project = hubspotToSqlProject();

    const full = await withSession(dir, project, ({ engine }) => engine.migrate());
    expect(full.status).toBe('completed');
    for (const key of ENGAGEMENTS) expect(full.counts[key], key).toMatchObject({ created: seeded[key], failed: 0 });
    expect(rows('SELECT type, COUNT(*) AS n FROM activities GROUP BY type ORDER BY type')).toEqual([
      { type: 'call', n: seeded.calls },
      { type: 'email', n: seeded.emails },
      { type: 'meeting', n: seeded.meetings },
    ]);
    await withSession(dir, project, ({ ledger }) => expectEngagementsInSql(ledger));

    // ---- edits in HubSpot: a call's duration and outcome change, an e-mail is logged.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [call] = [...hubspot.store.table('calls').values()];
    const before = rows('SELECT duration_minutes, outcome FROM activities WHERE id = ?', Number((await withSession(dir, project, ({ ledger }) => ledger.getLink('calls', call!.id)))!.targetId))[0]!;
    hubspot.store.updateRecord('calls', call!.id, { hs_call_duration: '150000', hs_call_disposition: OUTCOME_ID['Left voicemail'] });
    const contact = [...hubspot.store.table('contacts').values()][0]!;
    const email = hubspot.store.createRecord(
      'emails',
      { hs_timestamp: String(Date.UTC(2026, 0, 20, 10)), hs_email_subject: 'Late reply', hs_email_direction: 'INCOMING_EMAIL', hs_email_status: 'SENT' },
      { associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 198 }] }] },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));

    const delta = await withSession(dir, project, ({ engine }) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.status).toBe('completed');
    expect(delta.counts.calls).toMatchObject({ updated: 1, created: 0, failed: 0 });
    expect(delta.counts.emails).toMatchObject({ created: 1, failed: 0 });
    await withSession(dir, project, ({ ledger }) => expectEngagementsInSql(ledger));
    const callRow = await withSession(dir, project, async ({ ledger }) => rows('SELECT duration_minutes, outcome FROM activities WHERE id = ?', Number((await ledger.getLink('calls', call!.id))!.targetId))[0]!);
    expect(callRow).toEqual({ duration_minutes: 2.5, outcome: 'Left voicemail' });
    const emailRow = await withSession(dir, project, async ({ ledger }) => rows('SELECT * FROM activities WHERE id = ?', Number((await ledger.getLink('emails', email.id))!.targetId))[0]!);
    expect(emailRow).toMatchObject({ type: 'email', subject: 'Late reply', direction: 'INCOMING_EMAIL' });

    const undo = await withSession(dir, project, ({ engine }) => engine.undo(delta.runId));
    expect(undo.status).toBe('completed');
    expect(rows("SELECT COUNT(*) AS n FROM activities WHERE type = 'email'")[0]!.n).toBe(seeded.emails);
    const undone = await withSession(dir, project, async ({ ledger }) => rows('SELECT duration_minutes, outcome FROM activities WHERE id = ?', Number((await ledger.getLink('calls', call!.id))!.targetId))[0]!);
    expect(undone).toEqual(before);
  });
});
