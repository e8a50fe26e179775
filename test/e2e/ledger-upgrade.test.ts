import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerMigrations } from '../../src/ledger/migrations.js';
import { runChild } from '../support/child.js';
import { CLEAN, compareCopy } from '../support/compare.js';
import { at, BACKENDS, count, createSeededFixture, type Db, type Fixture } from '../support/crm-fixture.js';

/**
 * A ledger written by the previous release (migrations up to 0005: a pending link per record of a batch of
 * creates in flight, no create_intents table) keeps working: the new code migrates it, resolves the
 * creates a killed run left pending, and resumes, deltas and undoes on it.
 *
 * The previous release's data is made the way that release made it: a run killed in the middle of a batch
 * of creates, whose in-flight batch is then written as that release wrote it (one `pending` link per
 * record, `origin = created`, no target id) and whose 0006 table (and the later 0007 column) and migration rows are removed. The
 * SQLite ledger's schema after that is compared, statement by statement, with a ledger made by migrations
 * 0001-0005 alone, so the test starts from the previous layout exactly.
 */
const PREVIOUS = '0005_syncs';

function upTo(last: string, provider: MigrationProvider): MigrationProvider {
  return {
    getMigrations: async () => Object.fromEntries(Object.entries(await provider.getMigrations()).filter(([name]) => name <= last)),
  };
}

/** The schema (tables and indexes, as SQLite keeps their CREATE statements) of a SQLite ledger file. */
function sqliteSchema(path: string): string[] {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return (db.prepare(`select sql from sqlite_master where sql is not null and name not like 'sqlite_%' order by name`).all() as { sql: string }[]).map((row) => row.sql);
  } finally {
    db.close();
  }
}

async function previousLayoutSchema(path: string): Promise<string[]> {
  const database = new SqliteDatabase(path);
  const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  const migrator = new Migrator({
    db: kysely,
    provider: upTo(PREVIOUS, ledgerMigrations('sqlite')),
    migrationTableName: 'ferry_migrations',
    migrationLockTableName: 'ferry_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  await kysely.destroy();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return sqliteSchema(path);
}

/** A ledger handle on the raw tables (the fixture's ledger: SQLite file or PostgreSQL database). */
async function rawLedger(fixture: Fixture): Promise<Db & { columns(table: string): Promise<string[]> }> {
  if (fixture.backend === 'sqlite') {
    const db = new SqliteDatabase(fixture.ledgerLocation);
    return {
      run: (sql, params = []) => Promise.resolve(void db.prepare(sql).run(...params)),
      all: <T,>(sql: string, params: unknown[] = []) => Promise.resolve(db.prepare(sql).all(...params) as T[]),
      columns: (table) => Promise.resolve((db.prepare(`select name from pragma_table_info(?)`).all(table) as { name: string }[]).map((row) => row.name)),
      close: () => Promise.resolve(void db.close()),
    };
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: fixture.ledgerLocation });
  await client.connect();
  const numbered = (sql: string) => {
    let index = 0;
    return sql.replace(/\?/g, () => `$${++index}`);
  };
  return {
    run: async (sql, params = []) => void (await client.query(numbered(sql), params)),
    all: async <T,>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as T[],
    columns: async (table) =>
      (await client.query(`select column_name from information_schema.columns where table_name = $1 order by ordinal_position`, [table])).rows.map((row: { column_name: string }) => row.column_name),
    close: () => client.end(),
  };
}

/** Rewrites the ledger as the previous release left it after the same kill (see the file's comment). */
async function toPreviousRelease(fixture: Fixture): Promise<number> {
  const ledger = await rawLedger(fixture);
  try {
    const intents = await ledger.all<{ run_id: number; object: string; source_ids: string }>('select run_id, object, source_ids from create_intents order by id');
    let pending = 0;
    for (const intent of intents) {
      for (const sourceId of JSON.parse(intent.source_ids) as string[]) {
        await ledger.run(
          `insert into links (object, source_id, target_id, state, origin, fingerprint, written, run_id, updated_run_id, leader_source_id) values (?, ?, null, 'pending', 'created', null, null, ?, null, null)`,
          [intent.object, sourceId, Number(intent.run_id)],
        );
        pending += 1;
      }
    }
    await ledger.run('drop table create_intents');
    await ledger.run(`delete from ferry_migrations where name = '0006_create_intents'`);
    // Later migrations than 0006 were not there either.
    await ledger.run('alter table syncs drop column queue');
    await ledger.run(`delete from ferry_migrations where name = '0007_sync_queue'`);
    expect(await ledger.columns('create_intents')).toEqual([]);
    return pending;
  } finally {
    await ledger.close();
  }
}

for (const backend of BACKENDS) {
  describe(`a ledger of the previous release on ${backend}`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    // `create:2`: right after the target answered the second batch of creates (the records exist there);
    // `create:2:before`: right before it is sent (they do not).
    for (const point of ['create:2', 'create:2:before']) {
      it(`left with creates pending by a run killed at ${point} is migrated, resumed to an exact copy, then deltas and undoes`, async () => {
        fixture = await createSeededFixture(backend);
        const projectPath = join(fixture.dir, 'project.json');
        writeFileSync(projectPath, JSON.stringify({ ...fixture.project, options: { ...fixture.project.options, pageSize: 2 } }));
        const killed = await runChild(projectPath, fixture.dir, 'migrate', { FERRY_TEST_KILL_AT: point, FERRY_TEST_BATCH_SIZE: '2', FERRY_TEST_SOURCE_NOW: at(10) });
        expect(killed.signal).toBe('SIGKILL');
        const pending = await toPreviousRelease(fixture);
        expect(pending).toBeGreaterThan(0);
        if (backend === 'sqlite') expect(sqliteSchema(fixture.ledgerLocation)).toEqual(await previousLayoutSchema(join(fixture.dir, 'previous.db')));

        // The same command, with this release's code: the ledger is migrated and the pending creates
        // resolved by external id (found: linked; not found: created again), with nothing twice.
        const resumed = await fixture.withSession(({ engine }) => engine.migrate(), undefined, { sourceNow: () => at(10) });
        expect(resumed).toMatchObject({ status: 'completed', resumed: true });
        expect(await compareCopy(fixture)).toMatchObject(CLEAN);
        expect(await count(fixture.target, 'contacts')).toBe(5);
        expect(await count(fixture.target, 'companies')).toBe(3);
        const raw = await rawLedger(fixture);
        try {
          expect(await raw.all(`select name from ferry_migrations where name = '0006_create_intents'`)).toHaveLength(1);
          expect(await raw.all(`select * from links where state = 'pending'`)).toEqual([]);
          expect(await raw.all('select * from create_intents')).toEqual([]);
        } finally {
          await raw.close();
        }

        // A delta on the upgraded ledger: a changed contact is updated, a new one created.
        await fixture.source.run(`UPDATE contacts SET job_title = 'Chief', updated_at = ? WHERE id = 2`, [at(60)]);
        await fixture.source.run(`INSERT INTO contacts (id, first_name, last_name, email, company_id, owner_id, updated_at) VALUES (6, 'New', 'Person', 'new@globex.test', 1, 1, ?)`, [at(60)]);
        const delta = await fixture.withSession(({ engine }) => engine.delta({ createNew: true, updateChanged: true }), undefined, { sourceNow: () => at(120) });
        expect(delta.counts.contacts).toMatchObject({ created: 1, updated: 1, failed: 0 });
        expect(await compareCopy(fixture)).toMatchObject(CLEAN);

        // Undo of the delta, then of the full migration (the resumed run): the target holds only its own
        // users again, and the ledger no created link.
        await fixture.withSession(({ engine }) => engine.undo(delta.runId));
        expect(await fixture.target.all(`SELECT jobtitle FROM contacts WHERE ferry_source_id = '2'`)).toEqual([{ jobtitle: 'CTO' }]);
        expect(await count(fixture.target, 'contacts')).toBe(5);
        const undo = await fixture.withSession(({ engine }) => engine.undo(resumed.runId));
        expect(undo.status).toBe('completed');
        for (const table of ['companies', 'contacts', 'deals', 'notes']) expect(await count(fixture.target, table)).toBe(0);
        const after = await rawLedger(fixture);
        try {
          expect(await after.all(`select object, source_id from links where origin = 'created'`)).toEqual([]);
        } finally {
          await after.close();
        }
      });
    }
  });
}
