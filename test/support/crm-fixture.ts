import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createConnector, createSourceConnector } from '../../src/connectors/registry.js';
import type { Connector, ReadOptions } from '../../src/core/connector.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import type { ProjectFile } from '../../src/project/types.js';
import { createPostgresDatabase, type TempDatabase } from './databases.js';

/**
 * A small, hand-made pair of CRMs for end-to-end tests of the engine: a "legacy" source and a "new"
 * target with other names, on SQLite files or PostgreSQL databases, plus the project that maps them.
 * Every instant is explicit, so tests never depend on the clock or the machine's time zone.
 */
export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export interface Db {
  run(sql: string, params?: unknown[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

class SqliteDb implements Db {
  private readonly db: SqliteDatabase.Database;
  constructor(path: string) {
    this.db = new SqliteDatabase(path);
    this.db.pragma('busy_timeout = 10000');
  }
  run(sql: string, params: unknown[] = []): Promise<void> {
    if (params.length === 0) this.db.exec(sql);
    else this.db.prepare(sql).run(...params);
    return Promise.resolve();
  }
  all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return Promise.resolve(this.db.prepare(sql).all(...params) as T[]);
  }
  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

class PostgresDb implements Db {
  private constructor(private readonly client: pg.Client) {}
  static async open(url: string): Promise<PostgresDb> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresDb(client);
  }
  private numbered(sql: string): string {
    let index = 0;
    return sql.replace(/\?/g, () => `$${++index}`);
  }
  async run(sql: string, params: unknown[] = []): Promise<void> {
    await this.client.query(this.numbered(sql), params);
  }
  async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.client.query(this.numbered(sql), params);
    return result.rows as T[];
  }
  async close(): Promise<void> {
    await this.client.end();
  }
}

const T0 = '2026-01-01T00:00:00.000Z';

function sourceDdl(backend: Backend): string {
  const id = backend === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  const ts = backend === 'sqlite' ? 'TEXT' : 'TIMESTAMPTZ';
  return `
CREATE TABLE owners (id ${id}, email TEXT, first_name TEXT, last_name TEXT, updated_at ${ts});
CREATE TABLE companies (id ${id}, name TEXT, domain TEXT, parent_company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES owners(id), updated_at ${ts});
CREATE TABLE contacts (id ${id}, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, job_title TEXT, birthday DATE, company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES owners(id), updated_at ${ts});
CREATE TABLE deals (id ${id}, name TEXT, amount NUMERIC, stage TEXT, company_id INTEGER REFERENCES companies(id), updated_at ${ts});
CREATE TABLE deal_contacts (deal_id INTEGER NOT NULL REFERENCES deals(id), contact_id INTEGER NOT NULL REFERENCES contacts(id), PRIMARY KEY (deal_id, contact_id));
CREATE TABLE notes (id ${id}, body TEXT, contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), company_id INTEGER REFERENCES companies(id), updated_at ${ts});
`;
}

function targetDdl(backend: Backend): string {
  const id = backend === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'SERIAL PRIMARY KEY';
  const ts = backend === 'sqlite' ? 'TEXT' : 'TIMESTAMPTZ';
  return `
CREATE TABLE users (id ${id}, email TEXT NOT NULL UNIQUE, name TEXT, created_at ${ts}, updated_at ${ts});
CREATE TABLE companies (id ${id}, name TEXT NOT NULL, domain TEXT, parent_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), created_at ${ts}, updated_at ${ts});
CREATE TABLE contacts (id ${id}, firstname TEXT, lastname TEXT, email TEXT, phone TEXT, jobtitle TEXT, date_of_birth DATE, company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), created_at ${ts}, updated_at ${ts});
CREATE TABLE deals (id ${id}, dealname TEXT NOT NULL, amount NUMERIC, dealstage TEXT NOT NULL CHECK (dealstage IN ('open','closedwon','closedlost')), company_id INTEGER REFERENCES companies(id), created_at ${ts}, updated_at ${ts});
CREATE TABLE deal_contacts (deal_id INTEGER NOT NULL REFERENCES deals(id), contact_id INTEGER NOT NULL REFERENCES contacts(id), PRIMARY KEY (deal_id, contact_id));
CREATE TABLE notes (id ${id}, body TEXT, contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), company_id INTEGER REFERENCES companies(id), created_at ${ts}, updated_at ${ts});
`;
}

const copy = copyField;
const mapping = objectMapping;

export function fixtureProject(source: ProjectFile['source'], target: ProjectFile['target']): ProjectFile {
  return {
    version: 1,
    source,
    target,
    sourceTimeZone: 'UTC',
    options: { demoSampleSize: 2, pageSize: 3 },
    objects: [
      mapping({
        source: 'owners',
        target: 'users',
        matchOnly: true,
        matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
        fields: [copy('email'), { source: ['first_name', 'last_name'], target: 'name', transform: { kind: 'join', separator: ' ' } }],
      }),
      mapping({
        source: 'companies',
        target: 'companies',
        matchKeys: [{ source: 'domain', target: 'domain', kind: 'domain' }],
        fields: [copy('name'), copy('domain'), copy('parent_company_id', 'parent_id'), copy('owner_id')],
      }),
      mapping({
        source: 'contacts',
        target: 'contacts',
        matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
        fields: [
          copy('first_name', 'firstname'),
          copy('last_name', 'lastname'),
          copy('email'),
          copy('phone'),
          copy('job_title', 'jobtitle'),
          copy('birthday', 'date_of_birth'),
          copy('company_id'),
          copy('owner_id'),
        ],
      }),
      mapping({
        source: 'deals',
        target: 'deals',
        fields: [
          copy('name', 'dealname'),
          copy('amount'),
          {
            source: ['stage'],
            target: 'dealstage',
            transform: { kind: 'map', values: { Open: 'open', 'Closed Won': 'closedwon', 'Closed Lost': 'closedlost' }, unmapped: 'fail' },
          },
          copy('company_id'),
          copy('contacts'),
        ],
      }),
      mapping({
        source: 'notes',
        target: 'notes',
        fields: [copy('body'), copy('contact_id'), copy('deal_id'), copy('company_id')],
      }),
    ],
  };
}

export interface Hooks {
  /** Awaited before every source page read: lets a test change the source at an exact moment of a run. */
  beforeSourceRead?: (object: string, options: ReadOptions) => Promise<void>;
  /** The source's clock (a run's high-water mark), fixed by the test instead of the database's or the machine's. */
  sourceNow?: () => string;
  /** Awaited before every target page read (not readByIds): lets a test see what a run reads of the target. */
  beforeTargetRead?: (object: string, options: ReadOptions) => Promise<void>;
  /** Changes the target connector before the engine gets it (a test's faults: a stop or a lost answer mid-page). */
  wrapTarget?: (connector: Connector) => void;
}

export interface Fixture {
  backend: Backend;
  dir: string;
  source: Db;
  target: Db;
  project: ProjectFile;
  ledgerLocation: string;
  /** A new engine over fresh connectors and ledger handles (what one CLI invocation gets). */
  open(project?: ProjectFile, hooks?: Hooks): Promise<{ engine: Engine; ledger: Ledger; progress: ProgressStream; close(): Promise<void> }>;
  /** Opens a session, does `work` with it, and closes it whatever happens. */
  withSession<T>(work: (session: { engine: Engine; ledger: Ledger }) => Promise<T>, project?: ProjectFile, hooks?: Hooks): Promise<T>;
  cleanup(): Promise<void>;
}

/** Awaits `hook` before each page the connector reads. */
function hookReads(connector: Connector, hook: (object: string, options: ReadOptions) => Promise<void>): void {
  const read = connector.read.bind(connector);
  connector.read = async (object, options = {}) => {
    await hook(object, options);
    return read(object, options);
  };
}

export async function createFixture(backend: Backend): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), `ferry-e2e-${backend}-`));
  const databases: TempDatabase[] = [];
  let source: Db;
  let target: Db;
  let sourceConfig: ProjectFile['source'];
  let targetConfig: ProjectFile['target'];
  let ledgerLocation: string;
  if (backend === 'sqlite') {
    source = new SqliteDb(join(dir, 'source.db'));
    target = new SqliteDb(join(dir, 'target.db'));
    sourceConfig = { connector: 'sql', dialect: 'sqlite', path: 'source.db' };
    targetConfig = { connector: 'sql', dialect: 'sqlite', path: 'target.db' };
    ledgerLocation = join(dir, '.ferry', 'state.db');
  } else {
    const sourceDb = await createPostgresDatabase('ferry_src');
    const targetDb = await createPostgresDatabase('ferry_tgt');
    const ledgerDb = await createPostgresDatabase('ferry_state');
    databases.push(sourceDb, targetDb, ledgerDb);
    source = await PostgresDb.open(sourceDb.url);
    target = await PostgresDb.open(targetDb.url);
    sourceConfig = { connector: 'sql', dialect: 'postgres', url: sourceDb.url };
    targetConfig = { connector: 'sql', dialect: 'postgres', url: targetDb.url };
    ledgerLocation = ledgerDb.url;
  }
  for (const statement of sourceDdl(backend).split(';').map((s) => s.trim()).filter(Boolean)) await source.run(statement);
  for (const statement of targetDdl(backend).split(';').map((s) => s.trim()).filter(Boolean)) await target.run(statement);
  const project = fixtureProject(sourceConfig, targetConfig);
  project.state = ledgerLocation;

  const fixture: Fixture = {
    backend,
    dir,
    source,
    target,
    project,
    ledgerLocation,
    async open(override?: ProjectFile, hooks: Hooks = {}) {
      const effective = override ?? project;
      const ledger = await Ledger.open(ledgerLocation, { baseDir: dir });
      const sourceConnector = createSourceConnector(effective, { baseDir: dir });
      if (hooks.beforeSourceRead) hookReads(sourceConnector, hooks.beforeSourceRead);
      if (hooks.sourceNow) {
        const now = hooks.sourceNow;
        sourceConnector.now = () => Promise.resolve(now());
      }
      const targetConnector = createConnector(effective.target, { baseDir: dir, role: 'target' });
      if (hooks.beforeTargetRead) hookReads(targetConnector, hooks.beforeTargetRead);
      hooks.wrapTarget?.(targetConnector);
      const progress = new ProgressStream();
      const engine = new Engine({ project: effective, source: sourceConnector, target: targetConnector, ledger, progress });
      return {
        engine,
        ledger,
        progress,
        async close() {
          await sourceConnector.close();
          await targetConnector.close();
          await ledger.close();
        },
      };
    },
    async withSession(work, override, hooks) {
      const session = await fixture.open(override, hooks);
      try {
        return await work(session);
      } finally {
        await session.close();
      }
    },
    async cleanup() {
      await source.close();
      await target.close();
      for (const database of databases) await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** An instant `minutes` after the fixture's epoch (2026-01-01T00:00Z). */
export function at(minutes: number): string {
  return new Date(Date.parse(T0) + minutes * 60_000).toISOString();
}

/** The standard small data set: 2 owners, 3 companies (one a child of another), 5 contacts, 2 deals, 3 notes. */
/** A fixture with the small seeded source CRM and the target's users: what most end-to-end tests start from. */
export async function createSeededFixture(backend: Backend): Promise<Fixture> {
  const fixture = await createFixture(backend);
  await seedSource(fixture.source);
  await seedTargetUsers(fixture.target);
  return fixture;
}

export async function seedSource(db: Db): Promise<void> {
  const t = at(0);
  await db.run(`INSERT INTO owners (id, email, first_name, last_name, updated_at) VALUES (1, 'ann@acme.test', 'Ann', 'Owner', ?), (2, 'bob@acme.test', 'Bob', 'Owner', ?)`, [t, t]);
  await db.run(
    `INSERT INTO companies (id, name, domain, parent_company_id, owner_id, updated_at) VALUES (1, 'Globex', 'globex.test', NULL, 1, ?), (2, 'Initech', 'initech.test', 3, 2, ?), (3, 'Initech Holding', 'holding.initech.test', NULL, 2, ?)`,
    [t, t, t],
  );
  await db.run(
    `INSERT INTO contacts (id, first_name, last_name, email, phone, job_title, birthday, company_id, owner_id, updated_at) VALUES
     (1, 'Jane', 'Doe', 'jane@globex.test', '+1 555 0100', 'CEO', '1985-07-01', 1, 1, ?),
     (2, 'John', 'Roe', 'john@globex.test', NULL, 'CTO', NULL, 1, 1, ?),
     (3, 'Mia', 'Wong', 'mia@initech.test', NULL, 'Buyer', NULL, 2, 2, ?),
     (4, 'Zoë', 'Ødegård', 'zoe@initech.test', NULL, NULL, NULL, 2, NULL, ?),
     (5, 'Lone', 'Wolf', 'lone@example.test', NULL, NULL, NULL, NULL, NULL, ?)`,
    [t, t, t, t, t],
  );
  await db.run(`INSERT INTO deals (id, name, amount, stage, company_id, updated_at) VALUES (1, 'Big deal', 1000.5, 'Open', 1, ?), (2, 'Other deal', 20, 'Closed Won', 2, ?)`, [t, t]);
  await db.run(`INSERT INTO deal_contacts (deal_id, contact_id) VALUES (1, 1), (1, 2), (2, 3)`);
  await db.run(
    `INSERT INTO notes (id, body, contact_id, deal_id, company_id, updated_at) VALUES (1, 'Called Jane', 1, NULL, NULL, ?), (2, '<b>Deal</b> note', NULL, 1, NULL, ?), (3, 'Company note', NULL, NULL, 3, ?)`,
    [t, t, t],
  );
}

/** Target users for both owners: owners are matched, never created. */
export async function seedTargetUsers(db: Db): Promise<void> {
  const t = at(0);
  await db.run(`INSERT INTO users (email, name, created_at, updated_at) VALUES ('ANN@acme.test', 'Ann O.', ?, ?), ('bob@acme.test', 'Bob O.', ?, ?)`, [t, t, t, t]);
}

export async function count(db: Db, table: string, where = '1=1', params: unknown[] = []): Promise<number> {
  const rows = await db.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params);
  return Number(rows[0]!.n);
}
