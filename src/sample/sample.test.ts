import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, type TempDatabase } from '../../test/support/databases.js';
import { readAll } from '../core/connector.js';
import { createCsvConnector } from '../connectors/csv/index.js';
import {
  DEAL_STAGE_VALUE_MAP,
  SOURCE_COLUMNS,
  SOURCE_DEAL_STAGES,
  SOURCE_TABLES,
  TARGET_COLUMNS,
  TARGET_DEAL_STAGES,
  TARGET_TABLES,
  TARGET_TASK_STATUSES,
  UNICODE_FIRST_NAMES,
  applySourceChanges,
  createDemoTargetPostgres,
  createDemoTargetSqlite,
  editTargetRecords,
  generateDemoTarget,
  generateSampleData,
  normalisedEmail,
  writeSampleCsv,
  writeSamplePostgres,
  writeSampleSqlite,
  type SampleRow,
} from './index.js';

const BASE = Date.parse('2026-01-15T09:00:00.000Z');

function hashAll(rows: Iterable<{ table: string; row: SampleRow }>): string {
  const hash = createHash('sha256');
  for (const { table, row } of rows) hash.update(`${table}:${JSON.stringify(row)}\n`);
  return hash.digest('hex');
}

function tableRows(size: number, seed = 7) {
  const data = generateSampleData({ seed, size });
  return Object.fromEntries(SOURCE_TABLES.map((table) => [table, [...data.rows(table)]])) as Record<(typeof SOURCE_TABLES)[number], SampleRow[]>;
}

function normalisedDomain(domain: unknown): string | undefined {
  if (typeof domain !== 'string') return undefined;
  const text = domain
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    .replace(/\/$/, '');
  return text || undefined;
}

const naive = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

describe('sample source data', () => {
  it('is deterministic from the seed', () => {
    const a = hashAll(generateSampleData({ seed: 42, size: 500 }));
    const b = hashAll(generateSampleData({ seed: 42, size: 500 }));
    const c = hashAll(generateSampleData({ seed: 43, size: 500 }));
    const d = hashAll(generateSampleData({ seed: 42, size: 500, baseTime: '2030-01-01T00:00:00.000Z' }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(hashAll(generateDemoTarget({ seed: 42, size: 500 }))).toBe(hashAll(generateDemoTarget({ seed: 42, size: 500 })));
  });

  it('scales the tables with size', () => {
    for (const size of [10, 1000, 4000]) {
      const rows = tableRows(size);
      expect(rows.contacts).toHaveLength(size);
      expect(rows.owners).toHaveLength(Math.max(3, Math.floor(size / 200)));
      expect(rows.companies).toHaveLength(Math.max(1, Math.floor(size / 4)));
      expect(rows.deals).toHaveLength(Math.floor(size / 3));
      expect(rows.notes).toHaveLength(Math.floor(size / 2));
      expect(rows.tasks).toHaveLength(Math.floor(size / 3));
      const perDeal = rows.deal_contacts.length / Math.max(1, rows.deals.length);
      if (rows.deals.length > 0) expect(perDeal).toBeGreaterThanOrEqual(1);
      expect(perDeal).toBeLessThanOrEqual(3);
    }
    // Lazy: a huge size builds nothing up front.
    const huge = generateSampleData({ seed: 1, size: 1_000_000 });
    expect(huge.counts.companies).toBe(250_000);
    expect(huge.rows('contacts').next().value).toMatchObject({ id: 1 });
  });

  it('has every kind of mess at size 1000', () => {
    const rows = tableRows(1000);
    const emails = rows.contacts.map((row) => row.email).filter((email): email is string => typeof email === 'string');
    // Duplicate e-mails differing only in case / whitespace.
    const byNormalised = new Map<string, Set<string>>();
    for (const email of emails) {
      const key = email.trim().toLowerCase();
      if (!byNormalised.has(key)) byNormalised.set(key, new Set());
      byNormalised.get(key)!.add(email);
    }
    expect([...byNormalised.values()].filter((variants) => variants.size > 1).length).toBeGreaterThanOrEqual(5);
    // Missing names, invalid e-mails.
    expect(rows.contacts.some((row) => row.first_name === null)).toBe(true);
    expect(rows.contacts.some((row) => row.last_name === null || row.last_name === '')).toBe(true);
    expect(emails).toContain('not-an-email');
    expect(emails.some((email) => email.endsWith('@'))).toBe(true);
    // Unicode, RTL, CJK, emoji names.
    const firstNames = new Set(rows.contacts.map((row) => row.first_name));
    for (const name of UNICODE_FIRST_NAMES) expect(firstNames).toContain(name);
    // Messy domains.
    const domains = rows.companies.map((row) => row.domain).filter((domain): domain is string => typeof domain === 'string');
    expect(domains.some((domain) => /^https:\/\/www\.[A-Z]/.test(domain) && domain.endsWith('/'))).toBe(true);
    expect(domains.some((domain) => /[A-Z]/.test(domain) && !domain.startsWith('http'))).toBe(true);
    expect(domains.some((domain) => domain !== domain.trim())).toBe(true);
    // Very long HTML notes.
    expect(rows.notes.some((row) => String(row.body).length > 10_000 && String(row.body).includes('<p>'))).toBe(true);
    // Stage variants, all covered by the value map.
    const stages = new Set(rows.deals.map((row) => String(row.stage)));
    expect([...stages].filter((stage) => !(SOURCE_DEAL_STAGES as readonly string[]).includes(stage)).length).toBeGreaterThanOrEqual(5);
    expect(stages).toContain('closed won');
    expect(stages).toContain('Closed-Won ');
    for (const stage of stages) expect(TARGET_DEAL_STAGES).toContain(DEAL_STAGE_VALUE_MAP[stage]);
    // Naive timestamps within the year before baseTime, with ties.
    for (const table of ['owners', 'companies', 'contacts', 'deals', 'notes', 'tasks'] as const) {
      for (const row of rows[table]) {
        expect(row.updated_at).toMatch(naive);
        expect(row.created_at).toMatch(naive);
        const updated = Date.parse(`${String(row.updated_at).replace(' ', 'T')}Z`);
        expect(updated).toBeLessThan(BASE);
        expect(updated).toBeGreaterThanOrEqual(BASE - 365 * 86400_000);
        expect(String(row.created_at) <= String(row.updated_at)).toBe(true);
      }
    }
    const updatedCounts = new Map<string, number>();
    for (const row of rows.contacts) updatedCounts.set(String(row.updated_at), (updatedCounts.get(String(row.updated_at)) ?? 0) + 1);
    expect([...updatedCounts.values()].some((count) => count >= 3)).toBe(true);
    expect(rows.tasks.every((row) => naive.test(String(row.due_date)))).toBe(true);
    expect(rows.contacts.some((row) => typeof row.birthday === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(row.birthday))).toBe(true);
  });

  it('keeps referential integrity, with acyclic parent companies', () => {
    const rows = tableRows(1000, 3);
    const ids = (table: 'owners' | 'companies' | 'contacts' | 'deals') => new Set(rows[table].map((row) => row.id));
    const owners = ids('owners');
    const companies = ids('companies');
    const contacts = ids('contacts');
    const deals = ids('deals');
    const refOk = (value: unknown, set: Set<unknown>) => value === null || set.has(value);
    for (const row of rows.companies) {
      expect(refOk(row.owner_id, owners) && refOk(row.parent_company_id, companies)).toBe(true);
    }
    expect(rows.companies.filter((row) => row.parent_company_id !== null).length).toBeGreaterThan(10);
    const parent = new Map(rows.companies.map((row) => [row.id, row.parent_company_id]));
    for (const row of rows.companies) {
      const seen = new Set<unknown>();
      let current: unknown = row.id;
      while (current !== null && current !== undefined) {
        expect(seen.has(current)).toBe(false);
        seen.add(current);
        current = parent.get(current as number);
      }
    }
    for (const row of rows.contacts) expect(refOk(row.company_id, companies) && refOk(row.owner_id, owners)).toBe(true);
    for (const row of rows.deals) expect(refOk(row.company_id, companies) && refOk(row.owner_id, owners)).toBe(true);
    const pairs = new Set<string>();
    const perDeal = new Map<unknown, number>();
    for (const row of rows.deal_contacts) {
      expect(deals.has(row.deal_id) && contacts.has(row.contact_id)).toBe(true);
      const key = `${row.deal_id}/${row.contact_id}`;
      expect(pairs.has(key)).toBe(false);
      pairs.add(key);
      perDeal.set(row.deal_id, (perDeal.get(row.deal_id) ?? 0) + 1);
    }
    expect(perDeal.size).toBe(deals.size);
    expect([...perDeal.values()].every((count) => count >= 1 && count <= 3)).toBe(true);
    for (const row of [...rows.notes, ...rows.tasks]) {
      const set = [row.company_id, row.contact_id, row.deal_id].filter((value) => value !== null);
      expect(set).toHaveLength(1);
      expect(refOk(row.company_id, companies) && refOk(row.contact_id, contacts) && refOk(row.deal_id, deals) && owners.has(row.owner_id)).toBe(true);
    }
  });
});

/** Rows of every table, values as text so SQLite and PostgreSQL compare equal. */
type Dump = Record<string, string[][]>;

function canonical(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return String(Number(value));
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00$/.test(value)) {
    return new Date(`${value.replace(' ', 'T').slice(0, 19)}Z`).toISOString();
  }
  return String(value);
}

function dumpSqlite(path: string, tables: readonly string[], columns: Record<string, readonly string[]>): Dump {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(
      tables.map((table) => {
        const rows = db.prepare(`SELECT ${columns[table]!.join(', ')} FROM ${table} ORDER BY 1, 2`).raw().all() as unknown[][];
        return [table, rows.map((row) => row.map(canonical))];
      }),
    );
  } finally {
    db.close();
  }
}

async function dumpPostgres(url: string, tables: readonly string[], columns: Record<string, readonly string[]>): Promise<Dump> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (value: string) => value } });
  await client.connect();
  try {
    await client.query(`SET TIME ZONE 'UTC'`);
    const dump: Dump = {};
    for (const table of tables) {
      const result = await client.query({ text: `SELECT ${columns[table]!.join(', ')} FROM ${table} ORDER BY 1, 2`, rowMode: 'array' });
      dump[table] = (result.rows as unknown[][]).map((row) => row.map(canonical));
    }
    return dump;
  } finally {
    await client.end();
  }
}

describe('sample writers', () => {
  let dir: string;
  let database: TempDatabase;
  let target: TempDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-sample-'));
    database = await createPostgresDatabase('ferry_sample');
    target = await createPostgresDatabase('ferry_sample_target');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await database?.drop();
    await target?.drop();
  });

  const options = { seed: 11, size: 600 };

  it('SQLite and PostgreSQL writers produce the same rows', async () => {
    const path = join(dir, 'source.db');
    const sqliteCounts = await writeSampleSqlite(path, options);
    const postgresCounts = await writeSamplePostgres(database.url, options);
    expect(sqliteCounts).toEqual(postgresCounts);
    expect(sqliteCounts.contacts).toBe(600);
    const fromSqlite = dumpSqlite(path, SOURCE_TABLES, SOURCE_COLUMNS);
    const fromPostgres = await dumpPostgres(database.url, SOURCE_TABLES, SOURCE_COLUMNS);
    for (const table of SOURCE_TABLES) {
      expect(fromPostgres[table]!.length, table).toBe(sqliteCounts[table]);
      expect(fromPostgres[table], table).toEqual(fromSqlite[table]);
    }
    // The generator's rows are what was written.
    const generated = [...generateSampleData(options).rows('contacts')].map((row) => SOURCE_COLUMNS.contacts.map((column) => canonical(row[column])));
    expect(fromSqlite.contacts).toEqual(generated);
  });

  it('writes CSV files the CSV connector reads back', async () => {
    const folder = join(dir, 'csv');
    const counts = await writeSampleCsv(folder, options);
    expect((await readFile(join(folder, 'contacts.csv'), 'utf8')).split('\n')[0]).toBe(SOURCE_COLUMNS.contacts.join(','));
    const csv = createCsvConnector({ path: folder }, { baseDir: dir });
    const contacts = [];
    for await (const record of readAll(csv, 'contacts', { limit: 250 })) contacts.push(record);
    expect(contacts).toHaveLength(counts.contacts);
    expect(csv.takeRowErrors()).toEqual([]);
    const generated = [...generateSampleData(options).rows('contacts')];
    expect(contacts.map((record) => record.fields.first_name)).toEqual(generated.map((row) => (row.first_name === '' ? null : row.first_name)));
    const deals = [];
    for await (const record of readAll(csv, 'deals')) deals.push(record);
    const firstDealContacts = [...generateSampleData(options).rows('deal_contacts')].filter((row) => row.deal_id === 1).map((row) => String(row.contact_id));
    expect(deals[0]!.fields.contacts).toEqual(firstDealContacts.sort());
    const notes = [];
    for await (const record of readAll(csv, 'notes')) notes.push(record);
    expect(notes).toHaveLength(counts.notes);
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('builds a demo target that overlaps the source, in SQLite and PostgreSQL alike', async () => {
    const path = join(dir, 'target.db');
    const sqliteCounts = await createDemoTargetSqlite(path, options);
    const postgresCounts = await createDemoTargetPostgres(target.url, options);
    expect(sqliteCounts).toEqual(postgresCounts);
    const fromSqlite = dumpSqlite(path, TARGET_TABLES, TARGET_COLUMNS);
    const fromPostgres = await dumpPostgres(target.url, TARGET_TABLES, TARGET_COLUMNS);
    for (const table of TARGET_TABLES) expect(fromPostgres[table], table).toEqual(fromSqlite[table]);

    // The new CRM's own inserts still work after the explicit ids (identity moved on).
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      const inserted = await client.query(`INSERT INTO users (email) VALUES ('new@new-crm.example') RETURNING id`);
      expect(inserted.rows[0].id).toBe(sqliteCounts.users + 1);
      await client.query(`DELETE FROM users WHERE email = 'new@new-crm.example'`);
      await expect(client.query(`INSERT INTO deals (dealname, dealstage) VALUES ('x', 'Closed Won')`)).rejects.toThrow(/check/i);
    } finally {
      await client.end();
    }
  });

  it('overlaps the source as described', () => {
    const size = 2000;
    const source = tableRows(size, 5);
    const demo = generateDemoTarget({ seed: 5, size });
    const target = Object.fromEntries(TARGET_TABLES.map((table) => [table, [...demo.rows(table)]])) as Record<(typeof TARGET_TABLES)[number], SampleRow[]>;

    expect(target.users.map((row) => row.email)).toEqual(expect.arrayContaining(source.owners.map((row) => row.email)));
    expect(target.users.length).toBeGreaterThan(source.owners.length);

    const sourceDomains = new Set(source.companies.map((row) => normalisedDomain(row.domain)).filter(Boolean));
    const matchedCompanies = target.companies.filter((row) => sourceDomains.has(normalisedDomain(row.domain)));
    expect(matchedCompanies.length / source.companies.length).toBeGreaterThan(0.06);
    expect(matchedCompanies.length / source.companies.length).toBeLessThan(0.14);
    expect(matchedCompanies.every((row) => normalisedDomain(row.domain) !== row.domain)).toBe(true); // written differently
    expect(target.companies.length).toBeGreaterThan(matchedCompanies.length); // target-only companies

    const sourceEmails = new Map<string, number>();
    for (const row of source.contacts) {
      const email = normalisedEmail(row.email as string | null);
      if (email) sourceEmails.set(email, (sourceEmails.get(email) ?? 0) + 1);
    }
    const targetByEmail = new Map<string, SampleRow[]>();
    for (const row of target.contacts) {
      const email = normalisedEmail(row.email as string | null)!;
      expect(email).toBeDefined();
      targetByEmail.set(email, [...(targetByEmail.get(email) ?? []), row]);
    }
    const matched = [...targetByEmail.keys()].filter((email) => sourceEmails.has(email));
    expect(matched.length / size).toBeGreaterThan(0.06);
    expect(matched.length / size).toBeLessThan(0.14);
    const ambiguous = matched.filter((email) => targetByEmail.get(email)!.length > 1);
    expect(ambiguous.length).toBeGreaterThanOrEqual(2);
    expect(ambiguous.length).toBeLessThanOrEqual(3);
    expect(ambiguous.every((email) => targetByEmail.get(email)!.length === 2)).toBe(true);
    // Casing/whitespace differ, so only normalised comparison matches.
    const sourceRaw = new Set(source.contacts.map((row) => row.email));
    expect(target.contacts.filter((row) => sourceRaw.has(row.email)).length).toBeLessThan(matched.length / 2);
    expect([...targetByEmail.keys()].filter((email) => !sourceEmails.has(email)).length).toBeGreaterThanOrEqual(3);
    expect(target.deals.every((row) => (TARGET_DEAL_STAGES as readonly unknown[]).includes(row.dealstage))).toBe(true);
    expect(target.tasks.every((row) => (TARGET_TASK_STATUSES as readonly unknown[]).includes(row.status))).toBe(true);
  });

  it('applySourceChanges inserts and changes what it says, on SQLite and PostgreSQL', async () => {
    const path = join(dir, 'changes.db');
    const url = database.url; // written by the first test
    await writeSampleSqlite(path, options);
    const at = '2026-02-01T12:00:00.000Z';
    const changeOptions = { seed: 99, newRecords: 8, changedRecords: 12, at };
    const fromSqlite = await applySourceChanges(path, changeOptions);
    const fromPostgres = await applySourceChanges(url, changeOptions);
    expect(fromPostgres).toEqual(fromSqlite);
    expect(fromSqlite.created.contacts).toEqual([601, 602, 603, 604, 605, 606, 607, 608]);
    expect(fromSqlite.created.companies).toHaveLength(2);
    expect(fromSqlite.created.deals).toHaveLength(3);
    expect(fromSqlite.created.notes).toHaveLength(4);
    expect(fromSqlite.changed.contacts).toHaveLength(12);
    expect(fromSqlite.changed.companies).toHaveLength(3);
    expect(fromSqlite.changed.deals).toHaveLength(3);

    const db = new Database(path, { readonly: true });
    try {
      const touched = db.prepare(`SELECT id FROM contacts WHERE updated_at = '2026-02-01 12:00:00' ORDER BY id`).all() as { id: number }[];
      expect(touched.map((row) => row.id)).toEqual([...fromSqlite.changed.contacts, ...fromSqlite.created.contacts].sort((a, b) => a - b));
      const dealContacts = db.prepare(`SELECT COUNT(*) AS n FROM deal_contacts WHERE deal_id IN (${fromSqlite.created.deals.join(',')})`).get() as { n: number };
      expect(dealContacts.n).toBeGreaterThanOrEqual(3);
      const before = [...generateSampleData(options).rows('contacts')].find((row) => row.id === fromSqlite.changed.contacts[0]);
      const after = db.prepare('SELECT job_title, lifecycle_stage FROM contacts WHERE id = ?').get(fromSqlite.changed.contacts[0]) as SampleRow;
      expect(after.lifecycle_stage).toBe('customer');
      expect(after.job_title).not.toBe(before?.job_title ?? undefined);
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      db.close();
    }
    expect(await dumpPostgres(url, SOURCE_TABLES, SOURCE_COLUMNS)).toEqual(dumpSqlite(path, SOURCE_TABLES, SOURCE_COLUMNS));
  });

  it('editTargetRecords edits target records like a person would', async () => {
    const path = join(dir, 'target.db'); // written by the demo-target test
    const at = '2026-03-01T08:30:00.000Z';
    const edits = await editTargetRecords(path, { seed: 3, count: 9, at });
    expect(edits).toHaveLength(9);
    expect(edits.filter((edit) => edit.table === 'contacts')).toHaveLength(6);
    expect(await editTargetRecords(target.url, { seed: 3, count: 9, at })).toEqual(edits);
    const db = new Database(path, { readonly: true });
    try {
      for (const edit of edits) {
        const row = db.prepare(`SELECT * FROM ${edit.table} WHERE id = ?`).get(edit.id) as SampleRow;
        expect(row).toMatchObject(edit.fields);
        expect(row.updated_at).toBe(at);
      }
    } finally {
      db.close();
    }
    expect(await dumpPostgres(target.url, TARGET_TABLES, TARGET_COLUMNS)).toEqual(dumpSqlite(path, TARGET_TABLES, TARGET_COLUMNS));
  });
});
