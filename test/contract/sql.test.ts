import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { FieldValue } from '../../src/core/schema.js';
import { describeConnectorContract, type ContractFixture } from '../../src/connectors/contract.js';
import { createSqlConnector, type SqlConnectionConfig } from '../../src/connectors/sql/index.js';
import { createMysqlDatabase, createPostgresDatabase } from '../support/databases.js';

/** One backend of the suite: its schema, and a back door to set modified times "from outside". */
interface Backend {
  config: SqlConnectionConfig;
  /** Runs a statement with `?` placeholders directly on the database. */
  execute(sql: string, params: unknown[]): Promise<void>;
  /** A modified time in the column's storage format. */
  storedInstant(iso: string): unknown;
  drop(): Promise<void>;
}

const SCHEMAS: Record<'sqlite' | 'postgres' | 'mysql', string[]> = {
  sqlite: [
    'CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT)',
    `CREATE TABLE contacts (
       id INTEGER PRIMARY KEY, first_name VARCHAR(100) NOT NULL, email VARCHAR(200) UNIQUE,
       age INTEGER CHECK (age >= 0), score REAL, active BOOLEAN, birthday DATE, last_contacted_at DATETIME,
       status TEXT CHECK (status IN ('lead', 'customer')), company_id INTEGER REFERENCES companies(id),
       created_at TEXT, updated_at TEXT)`,
    'CREATE TABLE deals (id INTEGER PRIMARY KEY, title TEXT NOT NULL, contact_id INTEGER REFERENCES contacts(id), updated_at TEXT)',
    'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)',
    `CREATE TABLE deal_people (deal_id INTEGER NOT NULL REFERENCES deals(id), person_id INTEGER NOT NULL REFERENCES people(id),
       role VARCHAR(40), updated_at TEXT, PRIMARY KEY (deal_id, person_id))`,
  ],
  postgres: [
    "CREATE TYPE contact_status AS ENUM ('lead', 'customer')",
    'CREATE TABLE companies (id serial PRIMARY KEY, name text NOT NULL, updated_at timestamptz)',
    `CREATE TABLE contacts (
       id serial PRIMARY KEY, first_name varchar(100) NOT NULL, email varchar(200) UNIQUE,
       age integer CHECK (age >= 0), score numeric(10, 2), active boolean, birthday date, last_contacted_at timestamptz,
       status contact_status, company_id integer REFERENCES companies(id), created_at timestamptz, updated_at timestamptz)`,
    'CREATE TABLE deals (id bigserial PRIMARY KEY, title text NOT NULL, contact_id integer REFERENCES contacts(id), updated_at timestamp(3))',
    'CREATE TABLE people (id integer PRIMARY KEY, name text)',
    `CREATE TABLE deal_people (deal_id bigint NOT NULL REFERENCES deals(id), person_id integer NOT NULL REFERENCES people(id),
       role varchar(40), updated_at timestamptz, PRIMARY KEY (deal_id, person_id))`,
  ],
  mysql: [
    'CREATE TABLE companies (id int AUTO_INCREMENT PRIMARY KEY, name varchar(200) NOT NULL, updated_at datetime(3)) ENGINE=InnoDB',
    `CREATE TABLE contacts (
       id int AUTO_INCREMENT PRIMARY KEY, first_name varchar(100) NOT NULL, email varchar(200) UNIQUE,
       age int CHECK (age >= 0), score decimal(10, 2), active tinyint(1), birthday date, last_contacted_at datetime(3),
       status enum('lead', 'customer'), company_id int, created_at datetime(3), updated_at datetime(3),
       FOREIGN KEY (company_id) REFERENCES companies(id)) ENGINE=InnoDB`,
    'CREATE TABLE deals (id bigint AUTO_INCREMENT PRIMARY KEY, title text NOT NULL, contact_id int, updated_at datetime(3), FOREIGN KEY (contact_id) REFERENCES contacts(id)) ENGINE=InnoDB',
    'CREATE TABLE people (id int PRIMARY KEY, name varchar(100)) ENGINE=InnoDB',
    `CREATE TABLE deal_people (deal_id bigint NOT NULL, person_id int NOT NULL, role varchar(40), updated_at datetime(3), PRIMARY KEY (deal_id, person_id),
       FOREIGN KEY (deal_id) REFERENCES deals(id), FOREIGN KEY (person_id) REFERENCES people(id)) ENGINE=InnoDB`,
  ],
};

async function sqliteBackend(): Promise<Backend> {
  const directory = mkdtempSync(join(tmpdir(), 'ferry-sql-contract-'));
  const path = join(directory, 'crm.db');
  const database = new Database(path);
  for (const statement of SCHEMAS.sqlite) database.exec(statement);
  return {
    config: { dialect: 'sqlite', path },
    execute: async (sql, params) => void database.prepare(sql).run(...params),
    storedInstant: (iso) => iso,
    drop: async () => {
      database.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const database = await createPostgresDatabase('ferry_contract');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  for (const statement of SCHEMAS.postgres) await client.query(statement);
  return {
    config: { dialect: 'postgres', url: database.url },
    execute: async (sql, params) => {
      let index = 0;
      await client.query(
        sql.replace(/\?/g, () => `$${(index += 1)}`),
        params,
      );
    },
    storedInstant: (iso) => iso,
    drop: async () => {
      await client.end();
      await database.drop();
    },
  };
}

async function mysqlBackend(): Promise<Backend> {
  const database = await createMysqlDatabase('ferry_contract');
  const connection = await mysql.createConnection(database.url);
  for (const statement of SCHEMAS.mysql) await connection.query(statement);
  return {
    config: { dialect: 'mysql', url: database.url },
    execute: async (sql, params) => void (await connection.execute(sql, params as never[])),
    // datetime(3) holds UTC wall-clock time (timeZone defaults to UTC).
    storedInstant: (iso) => iso.replace('T', ' ').replace('Z', ''),
    drop: async () => {
      await connection.end();
      await database.drop();
    },
  };
}

const BACKENDS = { sqlite: sqliteBackend, postgres: postgresBackend, mysql: mysqlBackend };

function contactFields(seed: number): Record<string, FieldValue> {
  const day = String((seed % 28) + 1).padStart(2, '0');
  return {
    first_name: `Person ${seed}`,
    email: `person${seed}@example.com`,
    age: 20 + (seed % 50),
    score: seed + 0.25,
    active: seed % 2 === 0,
    birthday: `1990-02-${day}`,
    last_contacted_at: `2024-03-${day}T10:11:12.345Z`,
    status: seed % 2 === 0 ? 'customer' : 'lead',
  };
}

for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) {
  describeConnectorContract(`sql (${dialect})`, async (): Promise<ContractFixture> => {
    const backend = await BACKENDS[dialect]();
    const connector = createSqlConnector(backend.config);
    let badSeed = 100_000;
    return {
      connector,
      object: 'contacts',
      makeFields: contactFields,
      updateField: (seed) => ({ field: 'first_name', value: `Renamed ${seed}` }),
      badRecords: (valid) => {
        const fresh = (): Record<string, FieldValue> => contactFields((badSeed += 1));
        return [
          { fields: { ...fresh(), age: 'abc' }, field: 'age', code: 'INVALID_VALUE' },
          { fields: { ...fresh(), first_name: 'x'.repeat(101) }, field: 'first_name', code: 'INVALID_VALUE' },
          { fields: { ...fresh(), status: 'vip' }, field: 'status', code: 'INVALID_VALUE' },
          { fields: { ...fresh(), nickname: 'Bob' }, field: 'nickname', code: 'UNKNOWN_FIELD' },
          { fields: { ...fresh(), first_name: null }, field: 'first_name', code: 'REQUIRED_MISSING' },
          // Only the database can tell these two.
          { fields: { ...fresh(), email: valid.email ?? null }, field: 'email', code: 'UNIQUE_VIOLATION' },
          { fields: { ...fresh(), age: -5 }, field: 'age', code: 'INVALID_VALUE' },
        ];
      },
      missingId: '987654321',
      child: {
        object: 'deals',
        referenceField: 'contact_id',
        makeFields: (seed, parentId) => ({ title: `Deal ${seed}`, contact_id: parentId }),
      },
      modifyOutside: async (object, ids, modifiedAt) => {
        const placeholders = ids.map(() => '?').join(', ');
        const quote = dialect === 'mysql' ? '`' : '"';
        await backend.execute(`UPDATE ${quote}${object}${quote} SET updated_at = ? WHERE id IN (${placeholders})`, [
          backend.storedInstant(modifiedAt),
          ...ids.map(Number),
        ]);
      },
      readOnlyConnector: async () => createSqlConnector({ ...backend.config, readOnly: true }),
      teardown: () => backend.drop(),
    };
  });
}

/**
 * A junction object (docs/connectors/sql.md, "Join tables as objects"): deal_people(deal_id, person_id, role,
 * updated_at), keyed by its two foreign keys, ids `<deal>|<person>`. Seed n links deal 1 + n / 1000 (200 deals)
 * and person 1 + n % 1000 (1,000 people), so every seed below 200,000 is a pair of its own.
 */
const DEALS = 200;
const PEOPLE = 1000;
const pairOf = (seed: number) => ({ deal_id: String(1 + (Math.floor(seed / PEOPLE) % DEALS)), person_id: String(1 + (seed % PEOPLE)) });

for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) {
  describeConnectorContract(`sql junction object (${dialect})`, async (): Promise<ContractFixture> => {
    const backend = await BACKENDS[dialect]();
    const rows = (count: number, row: (index: number) => unknown[]) => Array.from({ length: count }, (_, index) => row(index + 1));
    await backend.execute(`INSERT INTO deals (id, title) VALUES ${rows(DEALS, () => []).map(() => '(?, ?)').join(', ')}`, rows(DEALS, (id) => [id, `Deal ${id}`]).flat());
    await backend.execute(`INSERT INTO people (id, name) VALUES ${rows(PEOPLE, () => []).map(() => '(?, ?)').join(', ')}`, rows(PEOPLE, (id) => [id, `Person ${id}`]).flat());
    const connector = createSqlConnector(backend.config);
    let badSeed = 150_000;
    return {
      connector,
      object: 'deal_people',
      makeFields: (seed) => ({ ...pairOf(seed), role: `Role ${seed}` }),
      updateField: (seed) => ({ field: 'role', value: `Renamed ${seed}` }),
      badRecords: () => {
        const fresh = (): Record<string, FieldValue> => ({ ...pairOf((badSeed += 1)), role: 'Buyer' });
        return [
          { fields: { ...fresh(), role: 'x'.repeat(41) }, field: 'role', code: 'INVALID_VALUE' },
          { fields: { ...fresh(), nickname: 'Bob' }, field: 'nickname', code: 'UNKNOWN_FIELD' },
          { fields: { ...fresh(), deal_id: null }, field: 'deal_id', code: 'REQUIRED_MISSING' },
          { fields: { ...fresh(), person_id: 'abc' }, field: 'person_id', code: 'INVALID_VALUE' },
        ];
      },
      missingId: '999999|999999',
      modifyOutside: async (object, ids, modifiedAt) => {
        for (const id of ids) {
          const [deal, person] = id.split('|').map(Number);
          await backend.execute(`UPDATE ${object} SET updated_at = ? WHERE deal_id = ? AND person_id = ?`, [backend.storedInstant(modifiedAt), deal, person]);
        }
      },
      readOnlyConnector: async () => createSqlConnector({ ...backend.config, readOnly: true }),
      teardown: () => backend.drop(),
    };
  });
}
