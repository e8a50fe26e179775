import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Failure } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { buildRunReport, renderReport } from '../../src/report/index.js';
import type { RunResult } from '../../src/engine/index.js';
import { createFixture, seedTargetUsers, type Db, type Fixture } from '../support/crm-fixture.js';
import { recordFigures } from './figures.js';

/**
 * Hostile and broken records migrated through the engine. Every bad record either fails alone with a precise
 * error (code, field, value, and a message naming the record) or is converted in the documented way
 * (docs/guarantees.md, "Bad data"); every good record arrives, exactly once.
 */

const T = '2026-01-01T00:00:00.000Z';

/** The source tables of the fixture, on a SQLite file (SQLite keeps whatever it is given: text in NUMERIC, NUL bytes). */
const SQLITE_SOURCE_DDL = `
CREATE TABLE owners (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, updated_at TEXT);
CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, parent_company_id INTEGER, owner_id INTEGER, updated_at TEXT);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, job_title TEXT, birthday DATE, company_id INTEGER, owner_id INTEGER, updated_at TEXT);
CREATE TABLE deals (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC, stage TEXT, company_id INTEGER, updated_at TEXT);
CREATE TABLE deal_contacts (deal_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, PRIMARY KEY (deal_id, contact_id));
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, contact_id INTEGER, deal_id INTEGER, company_id INTEGER, updated_at TEXT);
`;

const EMOJI = '😀 Emoji Ltd 👩‍👩‍👧';
const RTL = 'شركة الاختبار';
const COMBINING = 'Cafe\u0301 Noe\u0308l'; // NFD: must not be normalised to NFC
const SCRIPT_NOTE = '<script>alert("x")</script><b>bold</b> & &amp;';

async function runMigrate(fixture: Fixture, project?: ProjectFile): Promise<{ result: RunResult; failures: Failure[]; html: string }> {
  const session = await fixture.open(project);
  try {
    const result = await session.engine.migrate();
    const failures = await session.ledger.listFailures({ runId: result.runId });
    const html = renderReport(await buildRunReport(session.ledger, result.runId), 'html');
    return { result, failures, html };
  } finally {
    await session.close();
  }
}

function failureOf(failures: Failure[], object: string, sourceId: string): Failure[] {
  return failures.filter((failure) => failure.object === object && failure.sourceId === sourceId);
}

/** Source ids of the target rows Ferry created, sorted numerically. */
async function arrived(db: Db, table: string): Promise<string[]> {
  const rows = await db.all<{ id: string }>(`SELECT ferry_source_id AS id FROM ${table} WHERE ferry_source_id IS NOT NULL`);
  return rows.map((row) => String(row.id)).sort((a, b) => Number(a) - Number(b));
}

/** Lost (good records not in the target) and duplicated (target rows beyond one per source id). */
async function tally(db: Db, table: string, good: string[]): Promise<{ lost: number; duplicated: number }> {
  const ids = await arrived(db, table);
  return { lost: good.filter((id) => !ids.includes(id)).length, duplicated: ids.length - new Set(ids).size };
}

const hex = (text: unknown): string => Buffer.from(String(text), 'utf8').toString('hex');

describe('bad data, SQLite -> SQLite', () => {
  let fixture: Fixture;
  let failures: Failure[];
  let result: RunResult;
  let html: string;
  const good = {
    companies: ['1', '2', '3', '4', '6', '7', '8', '9'],
    contacts: ['1', '6', '7', '8', '9', '10', '13', '14', '15'],
    deals: ['1', '4'],
    notes: ['1', '2', '3'],
  };
  let badRecords = 0;

  beforeAll(async () => {
    fixture = await createFixture('sqlite');
    const db = fixture.source;
    await db.run('PRAGMA foreign_keys = OFF'); // references to records that do not exist
    await db.run(`INSERT INTO owners (id, email, first_name, last_name, updated_at) VALUES (1, 'ann@acme.test', 'Ann', 'Owner', ?), (2, 'bob@acme.test', 'Bob', 'Owner', ?)`, [T, T]);
    const companies: [number, string | null, number | null][] = [
      [1, 'Good Co', null],
      [2, 'Cycle A', 3], // A parent of B parent of A
      [3, 'Cycle B', 2],
      [4, 'Self', 4], // its own parent
      [5, null, null], // name is required in the target
      [6, EMOJI, null],
      [7, RTL, null],
      [8, COMBINING, null],
      [9, 'Orphan', 999], // parent does not exist
    ];
    for (const [id, name, parent] of companies) await db.run('INSERT INTO companies (id, name, parent_company_id, updated_at) VALUES (?, ?, ?, ?)', [id, name, parent, T]);
    const contacts: [number, string | null, string | null, number | null][] = [
      [1, 'ok1@x.test', null, 1],
      [2, 'not-an-email', null, null],
      [3, 'a@b', null, null],
      [4, 'two@@x.test', null, null],
      [5, 'dup@x.test', null, null], // duplicate key: same e-mail as 6 after normalising
      [6, ' DUP@x.test ', null, null],
      [7, null, '1899-12-31', null],
      [8, null, '2150-06-01', null],
      [9, null, '1985-07-01T23:30:00Z', null],
      [10, null, '1985-07-01T23:30:00-05:00', null],
      [11, null, 'not a date', null],
      [12, null, '31/12/1999', null],
      [13, null, null, 999], // missing company
      [14, null, null, 5], // company that fails
      [15, null, '1985-07-01 23:30', null],
    ];
    for (const [id, email, birthday, company] of contacts) {
      await db.run('INSERT INTO contacts (id, first_name, last_name, email, birthday, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, `C${id}`, id === 15 ? `${RTL} ${EMOJI}` : null, email, birthday, company, T]);
    }
    const deals: [number, string | null, unknown, string][] = [
      [1, 'Good', 1000.5, 'Open'],
      [2, 'Text amount', 'lots', 'Open'],
      [3, 'Unknown stage', 1, 'Negotiation'],
      [4, 'US', '1,234.56', 'Open'],
      [5, 'DE', '1.234,56', 'Open'],
      [6, null, 1, 'Open'],
      [7, 'Script stage', 1, '<script>alert(1)</script>'],
      [8, 'Ambiguous', '1,234', 'Open'],
    ];
    for (const [id, name, amount, stage] of deals) await db.run('INSERT INTO deals (id, name, amount, stage, updated_at) VALUES (?, ?, ?, ?, ?)', [id, name, amount, stage, T]);
    const notes: [number, string, number | null][] = [
      [1, SCRIPT_NOTE, null],
      [2, 'before\u0000after', null],
      [3, 'on a failed deal', 2],
    ];
    for (const [id, body, deal] of notes) await db.run('INSERT INTO notes (id, body, deal_id, updated_at) VALUES (?, ?, ?, ?)', [id, body, deal, T]);
    await seedTargetUsers(fixture.target);
    ({ result, failures, html } = await runMigrate(fixture));
    // Every record but the two plain good ones (company 1, contact 1); the +2 in the first case are the delta's.
    badRecords = companies.length + contacts.length + deals.length + notes.length - 2;
  });
  afterAll(async () => {
    await fixture.cleanup();
  });

  it('the run completes and every good record arrives exactly once', async () => {
    // Tallied right after the migration (a later case deletes a target record by hand on purpose).
    let lost = 0;
    let duplicated = 0;
    let checked = 0;
    for (const [table, ids] of Object.entries(good)) {
      const counts = await tally(fixture.target, table, ids);
      lost += counts.lost;
      duplicated += counts.duplicated;
      checked += ids.length;
    }
    recordFigures('bad-data sqlite', { badRecords: badRecords + 2, recordsChecked: checked, lost, duplicated });
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(result.status).toBe('completed_with_failures');
    for (const [table, ids] of Object.entries(good)) expect({ table, ids: await arrived(fixture.target, table) }).toEqual({ table, ids });
    expect(result.counts.companies).toMatchObject({ read: 9, created: 8, failed: 1 });
    expect(result.counts.contacts).toMatchObject({ read: 15, created: 9, matched: 1, failed: 5 });
    expect(result.counts.deals).toMatchObject({ read: 8, created: 2, failed: 6 });
    expect(result.counts.notes).toMatchObject({ read: 3, created: 3, failed: 0 });
  });

  it('invalid e-mails fail their record with INVALID_VALUE on the e-mail field', () => {
    for (const [id, value] of [['2', 'not-an-email'], ['3', 'a@b'], ['4', 'two@@x.test']] as const) {
      expect(failureOf(failures, 'contacts', id)).toEqual([
        expect.objectContaining({ severity: 'error', code: 'INVALID_VALUE', field: 'email', value: JSON.stringify(value), message: `contacts ${id}: contacts.email: "${value}" is not a valid e-mail address` }),
      ]);
    }
  });

  it('text in a number column fails with INVALID_VALUE; "1,234.56" is read as 1234.56; "1.234,56" and "1,234" are refused as ambiguous', async () => {
    expect(failureOf(failures, 'deals', '2')).toEqual([expect.objectContaining({ code: 'INVALID_VALUE', field: 'amount', value: '"lots"', message: 'deals 2: deals.amount: "lots" is not a number (or its format is ambiguous)' })]);
    expect(failureOf(failures, 'deals', '5')).toEqual([expect.objectContaining({ code: 'INVALID_VALUE', field: 'amount', value: '"1.234,56"' })]);
    expect(failureOf(failures, 'deals', '8')).toEqual([expect.objectContaining({ code: 'INVALID_VALUE', field: 'amount', value: '"1,234"' })]);
    const [us] = await fixture.target.all<{ amount: number }>(`SELECT amount FROM deals WHERE ferry_source_id = '4'`);
    expect(us!.amount).toBe(1234.56);
  });

  it('unknown picklist values fail with VALUE_NOT_MAPPED, and the HTML report escapes a <script> value', () => {
    expect(failureOf(failures, 'deals', '3')).toEqual([expect.objectContaining({ code: 'VALUE_NOT_MAPPED', field: 'dealstage', value: '"Negotiation"', message: 'deals 3: deals.dealstage: value "Negotiation" is not in the value map' })]);
    expect(failureOf(failures, 'deals', '7')).toEqual([expect.objectContaining({ code: 'VALUE_NOT_MAPPED', field: 'dealstage', value: '"<script>alert(1)</script>"' })]);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('missing required fields fail with REQUIRED_MISSING naming the field', () => {
    expect(failureOf(failures, 'companies', '5')).toEqual([expect.objectContaining({ code: 'REQUIRED_MISSING', field: 'name', message: 'companies 5 -> companies: name is required' })]);
    expect(failureOf(failures, 'deals', '6')).toEqual([expect.objectContaining({ code: 'REQUIRED_MISSING', field: 'dealname' })]);
  });

  it('references to missing or failed records: the record arrives without them, with a REFERENCE_MISSING warning', async () => {
    expect(failureOf(failures, 'contacts', '13')).toEqual([expect.objectContaining({ severity: 'warning', code: 'REFERENCE_MISSING', field: 'company_id', value: '"999"' })]);
    expect(failureOf(failures, 'contacts', '14')).toEqual([expect.objectContaining({ severity: 'warning', code: 'REFERENCE_MISSING', field: 'company_id', value: '"5"' })]);
    expect(failureOf(failures, 'companies', '9')).toEqual([expect.objectContaining({ severity: 'warning', code: 'REFERENCE_MISSING', field: 'parent_id', value: '"999"' })]);
    expect(failureOf(failures, 'notes', '3')).toEqual([expect.objectContaining({ severity: 'warning', code: 'REFERENCE_MISSING', field: 'deal_id', value: '"2"' })]);
    const rows = await fixture.target.all<{ id: string; company_id: number | null }>(`SELECT ferry_source_id AS id, company_id FROM contacts WHERE ferry_source_id IN ('13', '14')`);
    expect(rows.map((row) => row.company_id)).toEqual([null, null]);
  });

  it('reference cycles (A parent of B parent of A, a company its own parent) are written in the link pass', async () => {
    const rows = await fixture.target.all<{ id: number; source: string; parent_id: number | null }>(`SELECT id, ferry_source_id AS source, parent_id FROM companies WHERE ferry_source_id IN ('2', '3', '4') ORDER BY ferry_source_id`);
    const [a, b, self] = rows;
    expect(a!.parent_id).toBe(b!.id);
    expect(b!.parent_id).toBe(a!.id);
    expect(self!.parent_id).toBe(self!.id);
    expect(failureOf(failures, 'companies', '2')).toEqual([]);
  });

  it('duplicate keys (one e-mail on two source records) are merged into one target record, written with the newest values', async () => {
    expect(await fixture.target.all(`SELECT email FROM contacts WHERE lower(trim(email)) = 'dup@x.test'`)).toEqual([{ email: 'DUP@x.test' }]);
    const session = await fixture.open();
    try {
      const five = await session.ledger.getLink('contacts', '5');
      const six = await session.ledger.getLink('contacts', '6');
      expect(five?.targetId).toBeDefined();
      expect(five?.targetId).toBe(six?.targetId);
    } finally {
      await session.close();
    }
  });

  it('unicode (emoji, RTL, combining marks) round-trips byte for byte, never normalised', async () => {
    const names = await fixture.target.all<{ id: string; name: string }>(`SELECT ferry_source_id AS id, name FROM companies WHERE ferry_source_id IN ('6', '7', '8') ORDER BY ferry_source_id`);
    expect(names.map((row) => hex(row.name))).toEqual([EMOJI, RTL, COMBINING].map(hex));
    const [contact] = await fixture.target.all<{ lastname: string }>(`SELECT lastname FROM contacts WHERE ferry_source_id = '15'`);
    expect(hex(contact!.lastname)).toBe(hex(`${RTL} ${EMOJI}`));
  });

  it('HTML and <script> in notes are stored exactly as given; a NUL byte is kept on SQLite', async () => {
    const bodies = await fixture.target.all<{ body: string }>(`SELECT body FROM notes WHERE ferry_source_id IN ('1', '2') ORDER BY ferry_source_id`);
    expect(bodies.map((row) => row.body)).toEqual([SCRIPT_NOTE, 'before\u0000after']);
  });

  it('dates before 1970 and after 2100 arrive unchanged; date-times in a date field keep the date of the instant in the source zone; non-dates fail', async () => {
    const rows = await fixture.target.all<{ id: string; date_of_birth: string }>(`SELECT ferry_source_id AS id, date_of_birth FROM contacts WHERE ferry_source_id IN ('7', '8', '9', '10', '15')`);
    expect(Object.fromEntries(rows.map((row) => [row.id, row.date_of_birth]))).toEqual({ '7': '1899-12-31', '8': '2150-06-01', '9': '1985-07-01', '10': '1985-07-02', '15': '1985-07-01' });
    expect(failureOf(failures, 'contacts', '11')).toEqual([expect.objectContaining({ code: 'INVALID_VALUE', field: 'date_of_birth', value: '"not a date"', message: 'contacts 11: contacts.date_of_birth: "not a date" is not a date' })]);
    expect(failureOf(failures, 'contacts', '12')).toEqual([expect.objectContaining({ code: 'INVALID_VALUE', field: 'date_of_birth', value: '"31/12/1999"' })]);
  });

  it('references to records deleted since: in the source, the link still resolves; in the target, the child fails alone', async () => {
    // Company 7 deleted in the source after the migration (a delta never deletes: its target record stays);
    // company 8's target record deleted by hand in the target.
    await fixture.source.run('DELETE FROM companies WHERE id = 7');
    await fixture.target.run(`DELETE FROM companies WHERE ferry_source_id = '8'`);
    // After the full migration's high-water mark (the local clock for SQLite), so the delta's window sees them.
    const LATER = new Date(Date.now() + 60_000).toISOString();
    await fixture.source.run('INSERT INTO contacts (id, first_name, email, company_id, updated_at) VALUES (20, ?, ?, 7, ?), (21, ?, ?, 8, ?), (22, ?, ?, NULL, ?)', ['D20', 'd20@x.test', LATER, 'D21', 'd21@x.test', LATER, 'D22', 'd22@x.test', LATER]);
    const session = await fixture.open();
    try {
      const delta = await session.engine.delta({ createNew: true, updateChanged: true });
      const deltaFailures = await session.ledger.listFailures({ runId: delta.runId });
      const [twenty] = await fixture.target.all<{ company: string }>(`SELECT co.ferry_source_id AS company FROM contacts c JOIN companies co ON co.id = c.company_id WHERE c.ferry_source_id = '20'`);
      expect(twenty?.company).toBe('7');
      // SQLite does not say which foreign key failed, so the field is not named; the record is.
      expect(deltaFailures).toEqual([
        expect.objectContaining({ object: 'contacts', sourceId: '21', severity: 'error', code: 'REFERENCE_MISSING', message: 'contacts 21 -> contacts: FOREIGN KEY constraint failed' }),
      ]);
      expect(delta.counts.contacts).toMatchObject({ read: 3, created: 2, failed: 1 });
      expect(await arrived(fixture.target, 'contacts')).toEqual([...good.contacts, '20', '22']);
    } finally {
      await session.close();
    }
  });
});

describe('bad data, SQLite -> PostgreSQL', () => {
  let fixture: Fixture;
  let failures: Failure[];
  let result: RunResult;
  const TWELVE_UNITS = '😀😀😀😀😀😀'; // 6 characters for PostgreSQL, 12 UTF-16 units for JavaScript
  const COMBINED = 'e\u0301'.repeat(5); // 10 code points: exactly VARCHAR(10)

  beforeAll(async () => {
    fixture = await createFixture('postgres');
    // PostgreSQL cannot hold a NUL byte, so the source is a SQLite file, which can.
    const sourcePath = join(fixture.dir, 'hostile.db');
    const source = new SqliteDatabase(sourcePath);
    source.exec(SQLITE_SOURCE_DDL);
    source.prepare(`INSERT INTO owners (id, email, first_name, last_name, updated_at) VALUES (1, 'ann@acme.test', 'Ann', 'Owner', ?)`).run(T);
    const contact = source.prepare('INSERT INTO contacts (id, first_name, last_name, job_title, updated_at) VALUES (?, ?, ?, ?, ?)');
    contact.run(1, 'Ok', 'One', 'CEO', T);
    contact.run(2, 'Long', 'Title', 'Chief Executive Officer', T); // 23 characters > VARCHAR(10)
    contact.run(3, 'Emoji', 'Title', TWELVE_UNITS, T);
    contact.run(4, 'Combining', 'Title', COMBINED, T);
    contact.run(5, 'Nul', 'In\u0000Name', null, T);
    contact.run(6, RTL, EMOJI, 'Noe\u0308l', T);
    const note = source.prepare('INSERT INTO notes (id, body, updated_at) VALUES (?, ?, ?)');
    note.run(1, 'before\u0000after', T);
    note.run(2, SCRIPT_NOTE, T);
    source.close();
    await fixture.target.run('ALTER TABLE contacts ALTER COLUMN jobtitle TYPE VARCHAR(10)');
    await seedTargetUsers(fixture.target);
    const project: ProjectFile = {
      ...fixture.project,
      source: { connector: 'sql', dialect: 'sqlite', path: 'hostile.db' },
      objects: fixture.project.objects.filter((object) => ['owners', 'contacts', 'notes'].includes(object.source)).map((object) => ({
        ...object,
        fields: object.fields.filter((field) => !field.source.some((name) => ['company_id', 'deal_id'].includes(name))),
      })),
    };
    ({ result, failures } = await runMigrate(fixture, project));
  });
  afterAll(async () => {
    const contacts = await tally(fixture.target, 'contacts', ['1', '3', '4', '6']);
    const notes = await tally(fixture.target, 'notes', ['2']);
    recordFigures('bad-data postgres', { badRecords: 6, recordsChecked: 5, lost: contacts.lost + notes.lost, duplicated: contacts.duplicated + notes.duplicated });
    await fixture.cleanup();
  });

  it('every good record arrives exactly once', async () => {
    expect(await arrived(fixture.target, 'contacts')).toEqual(['1', '3', '4', '6']);
    expect(await arrived(fixture.target, 'notes')).toEqual(['2']);
    expect(result.counts.contacts).toMatchObject({ read: 6, created: 4, failed: 2 });
    expect(result.counts.notes).toMatchObject({ read: 2, created: 1, failed: 1 });
  });

  it('a value longer than VARCHAR(n) fails with INVALID_VALUE and is never truncated; length counts characters, not UTF-16 units', async () => {
    expect(failureOf(failures, 'contacts', '2')).toEqual([
      expect.objectContaining({
        code: 'INVALID_VALUE',
        field: 'jobtitle',
        value: '"Chief Executive Officer"',
        message: `contacts 2: contacts.jobtitle: "Chief Executive Officer" is 23 characters long, longer than the target's maximum of 10 (not truncated)`,
      }),
    ]);
    const rows = await fixture.target.all<{ id: string; jobtitle: string }>(`SELECT ferry_source_id AS id, jobtitle FROM contacts WHERE ferry_source_id IN ('3', '4') ORDER BY ferry_source_id`);
    expect(rows.map((row) => hex(row.jobtitle))).toEqual([hex(TWELVE_UNITS), hex(COMBINED)]);
  });

  it('a NUL byte fails its record alone with INVALID_VALUE naming the field (PostgreSQL cannot store it; never stripped)', () => {
    expect(failureOf(failures, 'contacts', '5')).toEqual([expect.objectContaining({ severity: 'error', code: 'INVALID_VALUE', field: 'lastname', value: '"In\\u0000Name"' })]);
    expect(failureOf(failures, 'notes', '1')).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'INVALID_VALUE',
        field: 'body',
        message: 'notes 1 -> notes: body: "before\\u0000after" contains a NUL byte (\\u0000), which PostgreSQL cannot store (not removed: fix it in the source)',
      }),
    ]);
  });

  it('unicode, HTML and <script> arrive byte for byte', async () => {
    const [row] = await fixture.target.all<{ firstname: string; lastname: string; jobtitle: string }>(`SELECT firstname, lastname, jobtitle FROM contacts WHERE ferry_source_id = '6'`);
    expect([row!.firstname, row!.lastname, row!.jobtitle].map(hex)).toEqual([RTL, EMOJI, 'Noe\u0308l'].map(hex));
    const [note] = await fixture.target.all<{ body: string }>(`SELECT body FROM notes WHERE ferry_source_id = '2'`);
    expect(note!.body).toBe(SCRIPT_NOTE);
  });
});

describe('bad data, CSV -> SQLite', () => {
  let fixture: Fixture;
  let failures: Failure[];
  let result: RunResult;
  const UTF8 = 'Zoë Ødegård';
  // contacts.csv, line by line: broken quoting mid-file, followed by good rows.
  const contactLines = [
    'id,first_name,last_name,email,phone,job_title,birthday,company_id,owner_id,updated_at',
    `1,Ann,Good,ann@x.test,,,,1,1,${T}`, // line 2
    `2,"Unterminated,Quote,two@x.test,,,,1,1,${T}`, // line 3: the quote swallows up to the next quote, on line 4
    `3,"Quoted, Name",Three,three@x.test,,,,1,1,${T}`, // line 4
    `4,Stray "quote" inside,Four,four@x.test,,,,1,1,${T}`, // line 5: a quote inside an unquoted cell is kept literally
    `5,"Closed"early,Five,five@x.test,,,,1,1,${T}`, // line 6: text after a closing quote
    `6,TooFew,Six`, // line 7
    `7,Multi,"line one\nline two",seven@x.test,,,,1,1,${T}`, // lines 8-9: a quoted line break
    `8,Too,Many,eight@x.test,,,,1,1,${T},extra`, // line 10
    `9,"Never closed,Nine,nine@x.test,,,,1,1,${T}`, // line 11: no quote after it at all
    `10,Last,Good,ten@x.test,,,,1,1,${T}`, // line 12
  ];
  const badLines: Record<string, number> = { '2': 3, '5': 6, '6': 7, '8': 10, '9': 11 };
  const goodContacts = ['1', '3', '4', '7', '10'];

  beforeAll(async () => {
    fixture = await createFixture('sqlite');
    const folder = join(fixture.dir, 'export');
    mkdirSync(folder);
    writeFileSync(join(folder, 'owners.csv'), `id,email,first_name,last_name,updated_at\n1,ann@acme.test,Ann,Owner,${T}\n`);
    // companies.csv is UTF-8 with one row written in windows-1252 (mixed encodings), between UTF-8 rows.
    writeFileSync(
      join(folder, 'companies.csv'),
      Buffer.concat([
        Buffer.from(`id,name,domain,parent_company_id,owner_id,updated_at\n1,${UTF8},zoe.test,,1,${T}\n`, 'utf8'),
        Buffer.from(`2,José Müller GmbH,jose.test,,1,${T}\n`, 'latin1'),
        Buffer.from(`3,${UTF8} 2,zoe2.test,2,1,${T}\n`, 'utf8'),
      ]),
    );
    writeFileSync(join(folder, 'contacts.csv'), `${contactLines.join('\n')}\n`);
    await seedTargetUsers(fixture.target);
    const project: ProjectFile = {
      ...fixture.project,
      source: { connector: 'csv', path: 'export', objects: { companies: { references: { parent_company_id: 'companies', owner_id: 'owners' } }, contacts: { references: { company_id: 'companies', owner_id: 'owners' } } } },
      objects: fixture.project.objects.filter((object) => ['owners', 'companies', 'contacts'].includes(object.source)),
    };
    ({ result, failures } = await runMigrate(fixture, project));
  });
  afterAll(async () => {
    const contacts = await tally(fixture.target, 'contacts', goodContacts);
    const companies = await tally(fixture.target, 'companies', ['1', '2', '3']);
    recordFigures('bad-data csv', {
      badRecords: Object.keys(badLines).length + 2, // the broken rows, the stray quote, the windows-1252 row
      recordsChecked: goodContacts.length + 3,
      lost: contacts.lost + companies.lost,
      duplicated: contacts.duplicated + companies.duplicated,
    });
    await fixture.cleanup();
  });

  it('every other row arrives exactly once, with its relations', async () => {
    expect(await arrived(fixture.target, 'contacts')).toEqual(goodContacts);
    expect(await arrived(fixture.target, 'companies')).toEqual(['1', '2', '3']);
    expect(result.counts.contacts).toMatchObject({ created: 5, failed: 5 });
    const rows = await fixture.target.all<{ id: string; company: string }>(`SELECT c.ferry_source_id AS id, co.ferry_source_id AS company FROM contacts c JOIN companies co ON co.id = c.company_id ORDER BY c.id`);
    expect(rows).toEqual(goodContacts.map((id) => ({ id, company: '1' })));
    const [parent] = await fixture.target.all<{ parent: string }>(`SELECT p.ferry_source_id AS parent FROM companies c JOIN companies p ON p.id = c.parent_id WHERE c.ferry_source_id = '3'`);
    expect(parent?.parent).toBe('2');
  });

  it('each row with broken quoting or the wrong number of cells fails alone with CSV_ROW_INVALID naming the file and line', () => {
    const unreadable = failures.filter((failure) => failure.code === 'CSV_ROW_INVALID');
    expect(unreadable.map((failure) => failure.sourceId).sort()).toEqual(Object.values(badLines).map((line) => `line ${line}`).sort());
    for (const line of Object.values(badLines)) {
      const [failure] = unreadable.filter((entry) => entry.sourceId === `line ${line}`);
      expect(failure).toMatchObject({ object: 'contacts', severity: 'error' });
      expect(failure!.message.startsWith(`contacts.csv line ${line}: `)).toBe(true);
    }
    expect(unreadable.find((failure) => failure.sourceId === 'line 7')!.message).toBe('contacts.csv line 7: Expected 10 columns, found 3');
    expect(unreadable.find((failure) => failure.sourceId === 'line 10')!.message).toBe('contacts.csv line 10: Expected 10 columns, found 11');
  });

  it('a quote inside an unquoted cell is kept literally, and a quoted line break stays in its cell', async () => {
    const rows = await fixture.target.all<{ id: string; firstname: string; lastname: string }>(`SELECT ferry_source_id AS id, firstname, lastname FROM contacts WHERE ferry_source_id IN ('3', '4', '7') ORDER BY id`);
    expect(rows).toEqual([
      { id: '3', firstname: 'Quoted, Name', lastname: 'Three' },
      { id: '4', firstname: 'Stray "quote" inside', lastname: 'Four' },
      { id: '7', firstname: 'Multi', lastname: 'line one\nline two' },
    ]);
  });

  it('a windows-1252 row in a UTF-8 file is converted in the documented way; the UTF-8 rows around it are not re-decoded', async () => {
    const rows = await fixture.target.all<{ id: string; name: string }>(`SELECT ferry_source_id AS id, name FROM companies ORDER BY ferry_source_id`);
    expect(rows.map((row) => hex(row.name))).toEqual([UTF8, 'José Müller GmbH', `${UTF8} 2`].map(hex));
    expect(failures.filter((failure) => failure.object === 'companies')).toEqual([]);
  });
});
