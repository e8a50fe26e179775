import Database from 'better-sqlite3';
import pg from 'pg';
import { FerryError } from '../core/errors.js';
import { SOURCE_COLUMNS, SOURCE_DEAL_STAGES } from './constants.js';
import {
  companyRow,
  contactRow,
  dealContactIds,
  dealRow,
  naiveTimestamp,
  noteRow,
  sampleCounts,
  type SampleContext,
  type SampleRow,
  type SampleValue,
} from './generate.js';
import { Random } from './random.js';

/**
 * A database to change: a SQLite file path, a `postgres://` URL, an open better-sqlite3 database or an
 * open pg client. Connections opened here are closed here; given ones are left open.
 */
export type SampleDatabase = string | Database.Database | pg.ClientBase;

interface Db {
  all(sql: string, params?: SampleValue[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params?: SampleValue[]): Promise<number>;
  transaction<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function sqliteDb(db: Database.Database, owned: boolean): Db {
  return {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as Record<string, unknown>[],
    run: async (sql, params = []) => db.prepare(sql).run(...params).changes,
    async transaction(work) {
      db.exec('BEGIN');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    close: async () => {
      if (owned) db.close();
    },
  };
}

function postgresDb(client: pg.ClientBase, owned: boolean): Db {
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    all: async (sql, params = []) => (await client.query(numbered(sql), params)).rows as Record<string, unknown>[],
    run: async (sql, params = []) => (await client.query(numbered(sql), params)).rowCount ?? 0,
    async transaction(work) {
      await client.query('BEGIN');
      try {
        const result = await work();
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    close: async () => {
      if (owned) await (client as pg.Client).end();
    },
  };
}

async function openDb(database: SampleDatabase): Promise<{ db: Db }> {
  if (typeof database === 'string') {
    if (/^postgres(ql)?:\/\//.test(database)) {
      const client = new pg.Client({ connectionString: database });
      await client.connect();
      return { db: postgresDb(client, true) };
    }
    return { db: sqliteDb(new Database(database, { fileMustExist: true }), true) };
  }
  if (database instanceof Database) return { db: sqliteDb(database, false) };
  return { db: postgresDb(database, false) };
}

function parseAt(at: string): number {
  const millis = Date.parse(at);
  if (Number.isNaN(millis) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(at)) {
    throw new FerryError('USAGE', `"at" must be an ISO instant with a zone, got ${JSON.stringify(at)}`);
  }
  return millis;
}

async function maxId(db: Db, table: string): Promise<number> {
  const [row] = await db.all(`SELECT COALESCE(MAX(id), 0) AS max FROM ${table}`);
  return Number(row?.max ?? 0);
}

/** `size` distinct existing ids of `table` drawn from 1..max (gaps are skipped). */
async function pickExisting(db: Db, table: string, max: number, size: number, random: Random): Promise<number[]> {
  const picked = new Set<number>();
  let attempts = 0;
  while (picked.size < Math.min(size, max) && attempts < size * 20 + 100) {
    attempts += 1;
    const id = random.int(1, max);
    if (picked.has(id)) continue;
    if ((await db.all(`SELECT id FROM ${table} WHERE id = ?`, [id])).length > 0) picked.add(id);
  }
  return [...picked].sort((a, b) => a - b);
}

const CREATED_TABLES = ['companies', 'contacts', 'deals', 'notes'] as const;
const CHANGED_TABLES = ['companies', 'contacts', 'deals'] as const;
type CreatedTable = (typeof CREATED_TABLES)[number];
type ChangedTable = (typeof CHANGED_TABLES)[number];

export interface SourceChangeOptions {
  seed: number;
  /** A number of new contacts (companies n/4, deals n/3 and notes n/2 come with them), or counts per table. */
  newRecords: number | Partial<Record<CreatedTable, number>>;
  /** A number of changed contacts (plus n/4 companies and n/4 deals), or counts per table. */
  changedRecords: number | Partial<Record<ChangedTable, number>>;
  /** ISO instant written as created_at/updated_at (naive UTC wall time, like the rest of the source). */
  at: string;
}

export interface SourceChanges {
  /** Ids of the inserted rows per table. */
  created: Record<CreatedTable, number[]>;
  /** Ids of the changed rows per table, and the fields changed (besides updated_at). */
  changed: Record<ChangedTable, number[]>;
  changedFields: Record<ChangedTable, string[]>;
}

const NEW_TITLES = ['VP Sales', 'Chief Revenue Officer', 'Procurement Lead', 'Founder', 'Operations Director'];
const NEW_INDUSTRIES = ['Biotech', 'Aerospace', 'Hospitality', 'Agriculture'];

/**
 * Simulates time passing in a sample SOURCE database: inserts new companies, contacts (with the usual mess),
 * deals (with their contacts) and notes, and changes fields of existing companies, contacts and deals. Every
 * touched row gets updated_at = `at`. Deterministic for a given seed, `at` and database state.
 */
export async function applySourceChanges(database: SampleDatabase, options: SourceChangeOptions): Promise<SourceChanges> {
  const atMillis = parseAt(options.at);
  const stamp = naiveTimestamp(atMillis);
  const created: Partial<Record<CreatedTable, number>> =
    typeof options.newRecords === 'number'
      ? {
          contacts: options.newRecords,
          companies: Math.ceil(options.newRecords / 4),
          deals: Math.ceil(options.newRecords / 3),
          notes: Math.ceil(options.newRecords / 2),
        }
      : options.newRecords;
  const changedCounts: Partial<Record<ChangedTable, number>> =
    typeof options.changedRecords === 'number'
      ? { contacts: options.changedRecords, companies: Math.ceil(options.changedRecords / 4), deals: Math.ceil(options.changedRecords / 4) }
      : options.changedRecords;

  const { db } = await openDb(database);
  try {
    return await db.transaction(async () => {
      const max = {
        owners: await maxId(db, 'owners'),
        companies: await maxId(db, 'companies'),
        contacts: await maxId(db, 'contacts'),
        deals: await maxId(db, 'deals'),
        notes: await maxId(db, 'notes'),
      };
      if (max.owners === 0 || max.companies === 0 || max.contacts === 0) {
        throw new FerryError('USAGE', 'applySourceChanges needs a sample source database with owners, companies and contacts');
      }
      const random = Random.for(options.seed, 'source-changes');
      // Changes first, on rows that existed before this call.
      const changed: Record<ChangedTable, number[]> = { companies: [], contacts: [], deals: [] };
      const changedFields: Record<ChangedTable, string[]> = {
        companies: ['phone', 'industry', 'annual_revenue'],
        contacts: ['job_title', 'phone', 'lifecycle_stage'],
        deals: ['stage', 'amount'],
      };
      for (const table of CHANGED_TABLES) {
        const ids = await pickExisting(db, table, max[table], changedCounts[table] ?? 0, random);
        for (const id of ids) {
          let values: SampleValue[];
          if (table === 'contacts') {
            values = [random.pick(NEW_TITLES), `+1 (${random.int(200, 999)}) 555-${String(random.int(0, 9999)).padStart(4, '0')}`, 'customer'];
          } else if (table === 'companies') {
            values = [`+1 ${random.int(200, 999)}-555-${String(random.int(0, 9999)).padStart(4, '0')}`, random.pick(NEW_INDUSTRIES), random.int(1000, 90_000) * 1000];
          } else {
            values = [random.pick(SOURCE_DEAL_STAGES), random.int(1000, 300_000) + 0.5];
          }
          const assignments = changedFields[table].map((field) => `${field} = ?`).join(', ');
          await db.run(`UPDATE ${table} SET ${assignments}, updated_at = ? WHERE id = ?`, [...values, stamp, id]);
        }
        changed[table] = ids;
      }

      const context: SampleContext = {
        seed: options.seed,
        baseMillis: atMillis,
        counts: { ...sampleCounts(1), owners: max.owners, companies: max.companies, contacts: max.contacts, deals: max.deals, notes: max.notes, tasks: 0, activities: 0 },
      };
      const insert = async (table: CreatedTable | 'deal_contacts', row: SampleRow) => {
        const columns = SOURCE_COLUMNS[table];
        const values = columns.map((column) => (column === 'created_at' || column === 'updated_at' ? stamp : (row[column] ?? null)));
        await db.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, values);
      };
      const result: Record<CreatedTable, number[]> = { companies: [], contacts: [], deals: [], notes: [] };
      const rowFor = { companies: companyRow, contacts: contactRow, deals: dealRow, notes: noteRow };
      for (const table of CREATED_TABLES) {
        for (let k = 0; k < (created[table] ?? 0); k++) {
          const id = context.counts[table] + 1;
          await insert(table, rowFor[table](context, id));
          if (table === 'deals') {
            for (const contactId of dealContactIds(context, id)) await insert('deal_contacts', { deal_id: id, contact_id: contactId });
          }
          context.counts[table] = id;
          result[table].push(id);
        }
      }
      return { created: result, changed, changedFields };
    });
  } finally {
    await db.close();
  }
}

export interface TargetEditOptions {
  seed: number;
  /** Records to edit (about two thirds contacts, one third companies). */
  count: number;
  /** ISO instant written as updated_at. */
  at: string;
}

export interface TargetEdit {
  table: 'contacts' | 'companies';
  id: number;
  /** The new values of the edited fields. */
  fields: Record<string, SampleValue>;
}

/**
 * Edits target records the way a person using the new CRM would (a contact's job title or phone, a
 * company's phone or industry), setting updated_at = `at`. Used to produce conflicts for delta runs.
 */
export async function editTargetRecords(database: SampleDatabase, options: TargetEditOptions): Promise<TargetEdit[]> {
  const atMillis = parseAt(options.at);
  const { db } = await openDb(database);
  const stamp = new Date(atMillis).toISOString();
  try {
    return await db.transaction(async () => {
      const random = Random.for(options.seed, 'target-edits');
      const companies = Math.floor(options.count / 3);
      const plan: { table: 'contacts' | 'companies'; count: number }[] = [
        { table: 'contacts', count: options.count - companies },
        { table: 'companies', count: companies },
      ];
      const edits: TargetEdit[] = [];
      for (const { table, count } of plan) {
        const ids = (await pickExisting(db, table, await maxId(db, table), count, random)).slice(0, count);
        for (const id of ids) {
          let fields: Record<string, SampleValue>;
          if (table === 'contacts') {
            fields = random.chance(0.5)
              ? { jobtitle: `${random.pick(NEW_TITLES)} (edited)` }
              : { phone: `+44 20 7946 ${String(random.int(0, 9999)).padStart(4, '0')}`, jobtitle: random.pick(NEW_TITLES) };
          } else {
            fields = random.chance(0.5) ? { phone: `+49 30 ${random.int(1_000_000, 9_999_999)}` } : { industry: random.pick(NEW_INDUSTRIES) };
          }
          const names = Object.keys(fields);
          await db.run(`UPDATE ${table} SET ${names.map((name) => `${name} = ?`).join(', ')}, updated_at = ? WHERE id = ?`, [
            ...names.map((name) => fields[name] ?? null),
            stamp,
            id,
          ]);
          edits.push({ table, id, fields });
        }
      }
      return edits;
    });
  } finally {
    await db.close();
  }
}
