import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type LedgerDialect = 'sqlite' | 'postgres';

/**
 * The ledger's own schema migrations, in code so they ship with the package. Never edit a released
 * migration: add a new one. The auto-increment column differs per backend, everything else is shared.
 */
export function ledgerMigrations(dialect: LedgerDialect): MigrationProvider {
  const serial = (db: Kysely<unknown>, table: string) => {
    const builder = db.schema.createTable(table);
    return dialect === 'postgres'
      ? builder.addColumn('id', 'serial', (c) => c.primaryKey())
      : builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  };

  const initial: Migration = {
    async up(db: Kysely<unknown>) {
      await serial(db, 'runs')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('creates', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updates', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('high_water_mark', 'text')
        .addColumn('parent_run_id', 'integer')
        .addColumn('counts', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('error', 'text')
        .addColumn('undone_by_run_id', 'integer')
        .execute();

      await db.schema
        .createTable('links')
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text')
        .addColumn('written', 'text')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('updated_run_id', 'integer')
        .addColumn('leader_source_id', 'text')
        .addPrimaryKeyConstraint('links_pk', ['object', 'source_id'])
        .execute();
      await db.schema.createIndex('links_target').on('links').columns(['object', 'target_id']).execute();

      await db.schema
        .createTable('match_issues')
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('candidates', 'text', (c) => c.notNull())
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('match_issues_pk', ['object', 'source_id'])
        .execute();

      await db.schema
        .createTable('units')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('cursor', 'text')
        .addColumn('next_cursor', 'text')
        .addColumn('done', 'integer', (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('units_pk', ['run_id', 'phase', 'object', 'seq'])
        .execute();

      await serial(db, 'failures')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('field', 'text')
        .addColumn('value', 'text')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('resolved_by_run_id', 'integer')
        .execute();
      await db.schema.createIndex('failures_run').on('failures').columns(['run_id', 'object']).execute();
      await db.schema.createIndex('failures_record').on('failures').columns(['object', 'source_id']).execute();

      await serial(db, 'conflicts')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('source_value', 'text')
        .addColumn('target_value', 'text')
        .addColumn('written_value', 'text')
        .addColumn('resolution', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('conflicts_run').on('conflicts').column('run_id').execute();

      await serial(db, 'journal')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('target_object', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .addColumn('link_before', 'text')
        .addColumn('undone', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('journal_run').on('journal').columns(['run_id', 'object']).execute();

      await db.schema
        .createTable('deferred_references')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deferred_references_pk', ['run_id', 'object', 'source_id', 'field'])
        .execute();

      await db.schema
        .createTable('locks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'integer')
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('acquired_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .execute();
    },
  };

  // A failure row is an `error` (the record did not make it) or a `warning` (the record was written, with
  // a problem worth knowing, e.g. a reference to a record that is not in the target).
  const failureSeverity: Migration = {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('failures').addColumn('severity', 'text', (c) => c.notNull().defaultTo('error')).execute();
    },
  };

  // Partial indexes for two questions each run asks per object: its creates a crash left pending (asked
  // when an object starts), and its unresolved failures of one code (a run's end reattaches references
  // that were missing). Both were scans of the whole table: 90 ms of a 0.6 s delta over a 100k ledger.
  // Only pending links and open failures are in them, so they stay small, and the queries must spell the
  // same conditions (`state = 'pending'` as a literal, `resolved_by_run_id is null`) for SQLite and
  // PostgreSQL to use them.
  const partialIndexes: Migration = {
    async up(db: Kysely<unknown>) {
      await sql`create index links_pending on links (object) where state = 'pending'`.execute(db);
      await sql`create index failures_open on failures (object, code) where resolved_by_run_id is null`.execute(db);
    },
  };

  // Files attached to records (docs/attachments.md): one row per source file version, written as
  // `pending` with its stamp before the upload, so an upload whose answer was lost is found, not repeated.
  const files: Migration = {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('files')
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_record_id', 'text', (c) => c.notNull())
        .addColumn('source_file_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('stamp', 'text', (c) => c.notNull())
        .addColumn('target_record_id', 'text', (c) => c.notNull())
        .addColumn('target_file_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint')
        .addColumn('sha256', 'text')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('files_pk', ['object', 'source_record_id', 'source_file_id', 'version'])
        .execute();
      await db.schema.createIndex('files_run').on('files').columns(['run_id', 'object']).execute();
    },
  };

  // Continuous sync (`ferry sync`): one row per sync loop; see SyncsTable.
  const syncs: Migration = {
    async up(db: Kysely<unknown>) {
      await serial(db, 'syncs')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('interval_ms', 'bigint', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('on_conflict', 'text', (c) => c.notNull())
        .addColumn('until_at', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('stop_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('stop_reason', 'text')
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .addColumn('cycles', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_cycles', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('skipped_ticks', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_run_id', 'integer')
        .addColumn('last_started_at', 'text')
        .addColumn('last_finished_at', 'text')
        .addColumn('last_status', 'text')
        .addColumn('last_created', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_updated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_conflicts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_failed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('next_due_at', 'text')
        .addColumn('stopped_at', 'text')
        .addColumn('active', 'integer')
        .execute();
      await db.schema.createIndex('syncs_state').on('syncs').column('state').execute();
      // `active` is 1 until the sync stops, then null: at most one sync per ledger is not stopped, even when
      // two start at the same moment (NULLs never collide in a unique index, on SQLite and PostgreSQL).
      await db.schema.createIndex('syncs_one_active').on('syncs').column('active').unique().execute();
    },
  };

  // One intent row per batch of creates (docs/guarantees.md): written and committed before the batch is
  // sent, deleted in the transaction that records the batch's outcome. It replaces a pending link per
  // record (two B-tree writes of `links` per created record, one of them an update in place): a crash
  // between the two leaves the row, whose source ids are looked up by external id when the object starts
  // again. The table only ever holds the batches in flight, so it needs no index beyond its key. Pending
  // links of a ledger written before this migration are still read and resolved (writer.ts).
  const createIntents: Migration = {
    async up(db: Kysely<unknown>) {
      await serial(db, 'create_intents')
        .addColumn('run_id', 'integer', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('source_ids', 'text', (c) => c.notNull())
        .execute();
    },
  };

  // A sync whose schedule the worker fleet keeps (`ferry sync --queue`): its queue settings and the cycle
  // job in flight, as JSON; null for a sync scheduled in its own process only (docs/workers.md).
  const syncQueue: Migration = {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('syncs').addColumn('queue', 'text').execute();
    },
  };

  return {
    getMigrations: () =>
      Promise.resolve({
        '0001_initial': initial,
        '0002_failure_severity': failureSeverity,
        '0003_partial_indexes': partialIndexes,
        '0004_files': files,
        '0005_syncs': syncs,
        '0006_create_intents': createIntents,
        '0007_sync_queue': syncQueue,
      }),
  };
}
