import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import pg from 'pg';
import { FerryError } from '../core/errors.js';
import { SOURCE_COLUMNS, SOURCE_TABLES, TARGET_COLUMNS, TARGET_TABLES, type SourceTable, type TargetTable } from './constants.js';
import { SOURCE_POSTGRES_DDL, SOURCE_SQLITE_DDL, TARGET_POSTGRES_DDL, TARGET_SQLITE_DDL } from './ddl.js';
import { generateSampleData, type SampleOptions, type SampleRow } from './generate.js';
import { generateDemoTarget } from './target.js';

/** Rows written per table. */
export type WrittenCounts<T extends string> = Record<T, number>;

const SQLITE_BATCH = 5000;
const POSTGRES_BATCH = 500;

interface TableSpec<T extends string> {
  tables: readonly T[];
  columns: Record<T, readonly string[]>;
  rows: (table: T) => Iterable<SampleRow>;
}

function writeSqlite<T extends string>(path: string, ddl: Record<T, string>, spec: TableSpec<T>): WrittenCounts<T> {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const counts = {} as WrittenCounts<T>;
    try {
      db.transaction(() => {
        for (const table of spec.tables) db.exec(ddl[table]);
      })();
    } catch (error) {
      throw new FerryError('USAGE', `Cannot create the sample tables in ${path}: ${(error as Error).message}`, { path }, { cause: error });
    }
    for (const table of spec.tables) {
      const columns = spec.columns[table];
      const insert = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      const insertBatch = db.transaction((batch: SampleRow[]) => {
        for (const row of batch) insert.run(columns.map((column) => row[column] ?? null));
      });
      let batch: SampleRow[] = [];
      let count = 0;
      for (const row of spec.rows(table)) {
        batch.push(row);
        if (batch.length >= SQLITE_BATCH) {
          insertBatch(batch);
          count += batch.length;
          batch = [];
        }
      }
      insertBatch(batch);
      counts[table] = count + batch.length;
    }
    return counts;
  } finally {
    db.close();
  }
}

async function writePostgres<T extends string>(
  client: pg.ClientBase,
  ddl: Record<T, string>,
  spec: TableSpec<T>,
  after?: (table: T) => string | undefined,
): Promise<WrittenCounts<T>> {
  const counts = {} as WrittenCounts<T>;
  await client.query('BEGIN');
  try {
    for (const table of spec.tables) await client.query(ddl[table]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new FerryError('USAGE', `Cannot create the sample tables: ${(error as Error).message}`, {}, { cause: error });
  }
  for (const table of spec.tables) {
    const columns = spec.columns[table];
    const statement = (rows: number) => {
      const values: string[] = [];
      for (let r = 0; r < rows; r++) values.push(`(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
      return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`;
    };
    const full = statement(POSTGRES_BATCH);
    const flush = async (batch: SampleRow[]) => {
      if (batch.length === 0) return;
      const values = batch.flatMap((row) => columns.map((column) => row[column] ?? null));
      // Full batches reuse one named (server-side prepared) statement.
      if (batch.length === POSTGRES_BATCH) await client.query({ name: `ferry_sample_${table}_${POSTGRES_BATCH}`, text: full, values });
      else await client.query(statement(batch.length), values);
    };
    await client.query('BEGIN');
    try {
      let batch: SampleRow[] = [];
      let count = 0;
      for (const row of spec.rows(table)) {
        batch.push(row);
        if (batch.length >= POSTGRES_BATCH) {
          await flush(batch);
          count += batch.length;
          batch = [];
        }
      }
      await flush(batch);
      counts[table] = count + batch.length;
      const extra = after?.(table);
      if (extra) await client.query(extra);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }
  return counts;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new FerryError('CONNECTION_FAILED', `Cannot connect to PostgreSQL: ${(error as Error).message}`, {}, { cause: error });
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function sourceSpec(options: SampleOptions): TableSpec<SourceTable> {
  const data = generateSampleData(options);
  return { tables: SOURCE_TABLES, columns: SOURCE_COLUMNS, rows: (table) => data.rows(table) };
}

function targetSpec(options: SampleOptions): TableSpec<TargetTable> {
  const data = generateDemoTarget(options);
  return { tables: TARGET_TABLES, columns: TARGET_COLUMNS, rows: (table) => data.rows(table) };
}

/** Writes the sample SOURCE database to a new SQLite file (tables must not exist yet). */
export async function writeSampleSqlite(path: string, options: SampleOptions): Promise<WrittenCounts<SourceTable>> {
  return writeSqlite(path, SOURCE_SQLITE_DDL, sourceSpec(options));
}

/** Creates the sample SOURCE tables in the PostgreSQL database at `url` and fills them. */
export async function writeSamplePostgres(url: string, options: SampleOptions): Promise<WrittenCounts<SourceTable>> {
  return withClient(url, (client) => writePostgres(client, SOURCE_POSTGRES_DDL, sourceSpec(options)));
}

/** Writes one CSV per source table (`owners.csv`, ..., `deal_contacts.csv`) into `folder`. */
export async function writeSampleCsv(folder: string, options: SampleOptions): Promise<WrittenCounts<SourceTable>> {
  await mkdir(folder, { recursive: true });
  const spec = sourceSpec(options);
  const counts = {} as WrittenCounts<SourceTable>;
  for (const table of spec.tables) {
    let count = 0;
    const rows = spec.rows(table);
    const counted = (function* () {
      for (const row of rows) {
        count += 1;
        yield row;
      }
    })();
    await pipeline(
      Readable.from(counted),
      stringify({ header: true, columns: [...spec.columns[table]], cast: { number: (value) => String(value) } }),
      createWriteStream(join(folder, `${table}.csv`)),
    );
    counts[table] = count;
  }
  return counts;
}

/** Writes the demo TARGET database ("new CRM") for the source made with the same options to a new SQLite file. */
export async function createDemoTargetSqlite(path: string, options: SampleOptions): Promise<WrittenCounts<TargetTable>> {
  return writeSqlite(path, TARGET_SQLITE_DDL, targetSpec(options));
}

/** Creates the demo TARGET tables in the PostgreSQL database at `url` and fills them. */
export async function createDemoTargetPostgres(url: string, options: SampleOptions): Promise<WrittenCounts<TargetTable>> {
  return withClient(url, (client) =>
    writePostgres(client, TARGET_POSTGRES_DDL, targetSpec(options), (table) =>
      table === 'deal_contacts'
        ? undefined
        : // Explicit ids were inserted: move the identity past them so the new CRM's own inserts do not collide.
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), COALESCE((SELECT max(id) FROM ${table}), 0) + 1, false)`,
    ),
  );
}
