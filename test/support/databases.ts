import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Throw-away databases on the machine's PostgreSQL and MariaDB (trust auth, see docs/development.md).
 * Each test creates its own database with a random name and drops it afterwards.
 */
export const POSTGRES_ADMIN_URL = process.env.FERRY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_ADMIN_URL = process.env.FERRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export interface TempDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createPostgresDatabase(prefix = 'ferry_test'): Promise<TempDatabase> {
  const name = randomName(prefix);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function createMysqlDatabase(prefix = 'ferry_test'): Promise<TempDatabase> {
  const mysql = await import('mysql2/promise');
  const name = randomName(prefix);
  const admin = await mysql.createConnection(MYSQL_ADMIN_URL);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const connection = await mysql.createConnection(MYSQL_ADMIN_URL);
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

/** Where a test ledger lives: a SQLite file in a temp folder, or a throw-away PostgreSQL database. */
export interface LedgerBackend {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ location: string; cleanup(): Promise<void> }>;
}

export const LEDGER_BACKENDS: LedgerBackend[] = [
  {
    name: 'sqlite',
    async open() {
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const dir = mkdtempSync(join(tmpdir(), 'ferry-ledger-'));
      return { location: join(dir, 'state.db'), cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const database = await createPostgresDatabase('ferry_ledger');
      return { location: database.url, cleanup: () => database.drop() };
    },
  },
];
