import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SqlConnectionConfig } from '../../src/connectors/sql/index.js';
import { createMysqlDatabase, createPostgresDatabase } from './databases.js';

export type SqlDialectName = 'sqlite' | 'postgres' | 'mysql';

/** A throw-away database of one dialect with a raw connection for setting up and inspecting data behind the connector. */
export interface SqlHarness {
  config: SqlConnectionConfig;
  /** The server database's URL (PostgreSQL, MySQL). */
  url?: string;
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function openSqlHarness(dialect: SqlDialectName): Promise<SqlHarness> {
  if (dialect === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-sql-'));
    const path = join(directory, 'crm.db');
    const database = new Database(path);
    return {
      config: { dialect, path },
      run: async (sql) => void database.exec(sql),
      rows: async (sql) => database.prepare(sql).all() as Record<string, unknown>[],
      drop: async () => {
        database.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  if (dialect === 'postgres') {
    const database = await createPostgresDatabase('ferry_sql');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    return {
      config: { dialect, url: database.url },
      url: database.url,
      run: async (sql) => void (await client.query(sql)),
      rows: async (sql) => (await client.query(sql)).rows as Record<string, unknown>[],
      drop: async () => {
        await client.end();
        await database.drop();
      },
    };
  }
  const database = await createMysqlDatabase('ferry_sql');
  const connection = await mysql.createConnection({ uri: database.url, multipleStatements: true, dateStrings: true });
  return {
    config: { dialect, url: database.url },
    url: database.url,
    run: async (sql) => void (await connection.query(sql)),
    rows: async (sql) => (await connection.query(sql))[0] as Record<string, unknown>[],
    drop: async () => {
      await connection.end();
      await database.drop();
    },
  };
}

/** Runs several statements (separated by `;` at line ends) one by one. */
export async function runStatements(harness: SqlHarness, script: string): Promise<void> {
  for (const statement of script.split(/;\s*\n/).map((part) => part.trim()).filter(Boolean)) await harness.run(statement);
}
