import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type Selectable,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { FerryError } from '../core/errors.js';
import type { Counts } from '../core/progress.js';
import { nowIso } from '../core/time.js';
import { ledgerMigrations, type LedgerDialect } from './migrations.js';
import type { FilesTable, JournalTable, LedgerDatabase, RunsTable, UnitsTable } from './schema.js';

// PostgreSQL returns int8 (count(*)) as strings; the ledger only counts rows, which fit in a JS number.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type RunKind = 'match' | 'demo' | 'full' | 'delta' | 'retry' | 'undo' | 'rerun-wipe';
/** `interrupted`: stopped by a fatal error; like a killed `running` run, the same command resumes it. */
export type RunStatus = 'running' | 'interrupted' | 'completed' | 'completed_with_failures' | 'failed' | 'abandoned';
export type LinkOrigin = 'created' | 'matched' | 'manual' | 'merged';

export interface Run {
  id: number;
  kind: RunKind;
  status: RunStatus;
  dryRun: boolean;
  creates: boolean;
  updates: boolean;
  options: Record<string, unknown>;
  startedAt: string;
  finishedAt: string | null;
  highWaterMark: string | null;
  parentRunId: number | null;
  counts: Record<string, Counts>;
  error: string | null;
  undoneByRunId: number | null;
}

export interface Link {
  object: string;
  sourceId: string;
  targetId: string | null;
  state: 'pending' | 'linked';
  origin: LinkOrigin;
  fingerprint: string | null;
  written: Record<string, unknown> | null;
  runId: number;
  updatedRunId: number | null;
  leaderSourceId: string | null;
}

/** One source file (one version of it) and the target file it became; see FilesTable. */
export interface FileLink {
  object: string;
  sourceRecordId: string;
  sourceFileId: string;
  version: string;
  name: string;
  stamp: string;
  targetRecordId: string;
  targetFileId: string | null;
  state: 'pending' | 'uploaded' | 'attached';
  bytes: number | null;
  sha256: string | null;
  runId: number;
}

/** A batch of creates sent (or about to be) whose outcome the ledger does not hold yet. */
export interface CreateIntent {
  id: number;
  runId: number;
  object: string;
  sourceIds: string[];
}

/** Where a source record went: what translating a reference needs. */
export type LinkTarget = Pick<Link, 'sourceId' | 'targetId' | 'state'>;

export interface MatchIssue {
  object: string;
  sourceId: string;
  kind: 'ambiguous' | 'duplicate';
  key: string;
  candidates: string[];
  runId: number;
}

export interface Unit {
  runId: number;
  phase: string;
  object: string;
  seq: number;
  cursor: string | null;
  nextCursor: string | null;
  done: boolean;
  counts: Partial<Counts>;
}

export interface Failure {
  id: number;
  /** `error`: the record did not make it. `warning`: it was written, with a problem worth knowing. */
  severity: 'error' | 'warning';
  runId: number;
  object: string;
  sourceId: string;
  code: string;
  field: string | null;
  value: string | null;
  message: string;
  resolvedByRunId: number | null;
}

export interface Conflict {
  id: number;
  runId: number;
  object: string;
  sourceId: string;
  targetId: string;
  field: string;
  sourceValue: unknown;
  targetValue: unknown;
  writtenValue: unknown;
  resolution: string;
}

export interface JournalEntry {
  id: number;
  runId: number;
  object: string;
  sourceId: string;
  targetObject: string;
  targetId: string;
  action: 'create' | 'update' | 'delete' | 'link';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  linkBefore: Link | null;
  undone: boolean;
}

export interface DeferredReference {
  runId: number;
  object: string;
  sourceId: string;
  field: string;
  value: unknown;
}

const CHUNK = 400;
/**
 * Rows per multi-row INSERT on PostgreSQL (at most 10 columns: 10,000 bound values of the 65,535 allowed):
 * a page's links, journal or failures in one statement, one round trip each, where 200 took three.
 */
const ROWS_PER_INSERT = 1000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** Removes a password from a connection URL before it is shown anywhere. */
function toFileLink(row: Selectable<FilesTable>): FileLink {
  return {
    object: row.object,
    sourceRecordId: row.source_record_id,
    sourceFileId: row.source_file_id,
    version: row.version,
    name: row.name,
    stamp: row.stamp,
    targetRecordId: row.target_record_id,
    targetFileId: row.target_file_id,
    state: row.state as FileLink['state'],
    bytes: row.bytes === null ? null : Number(row.bytes),
    sha256: row.sha256,
    runId: row.run_id,
  };
}

export function redactUrl(location: string): string {
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return location;
  }
}

/**
 * Queries over one Kysely handle: the database itself or an open transaction. Every method works the
 * same on SQLite and PostgreSQL.
 */
export class LedgerStore {
  constructor(
    protected readonly db: Kysely<LedgerDatabase> | Transaction<LedgerDatabase>,
    /** SQLite only: the per-record statements, prepared once and run on the same connection (see SqliteStatements). */
    protected readonly fast?: FastPath,
    /**
     * Inside one transaction: the JSON text of each object already written in it. A created record's
     * values are its link's `written` and its create journal's `after`, one object: serialized once.
     */
    private readonly serialized?: WeakMap<object, string>,
    /**
     * PostgreSQL, `transaction(work, { writesOnly: true })`: the statements are collected, not run, and sent
     * together as one statement (see Ledger.transaction); a method that needs an answer from the database
     * cannot run here.
     */
    private readonly collected = false,
  ) {}

  /** JSON text of a value (null for none), computed once per object within a transaction. */
  protected text(value: unknown): string | null {
    if (value === undefined || value === null) return null;
    if (!this.serialized || typeof value !== 'object') return JSON.stringify(value);
    let text = this.serialized.get(value);
    if (text === undefined) {
      text = JSON.stringify(value);
      this.serialized.set(value, text);
    }
    return text;
  }

  // ---- runs

  async createRun(input: {
    kind: RunKind;
    dryRun?: boolean;
    creates?: boolean;
    updates?: boolean;
    options?: Record<string, unknown>;
    highWaterMark?: string | null;
    parentRunId?: number | null;
  }): Promise<Run> {
    const row = await this.db
      .insertInto('runs')
      .values({
        kind: input.kind,
        status: 'running',
        dry_run: input.dryRun ? 1 : 0,
        creates: input.creates ? 1 : 0,
        updates: input.updates ? 1 : 0,
        options: JSON.stringify(input.options ?? {}),
        started_at: nowIso(),
        high_water_mark: input.highWaterMark ?? null,
        parent_run_id: input.parentRunId ?? null,
        counts: '{}',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRun(row);
  }

  async getRun(id: number): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  async requireRun(id: number): Promise<Run> {
    const run = await this.getRun(id);
    if (!run) throw new FerryError('RUN_NOT_FOUND', `There is no run ${id} in this ledger. \`ferry runs\` lists them.`);
    return run;
  }

  async listRuns(): Promise<Run[]> {
    const rows = await this.db.selectFrom('runs').selectAll().orderBy('id', 'asc').execute();
    return rows.map(toRun);
  }

  async unfinishedRuns(): Promise<Run[]> {
    const rows = await this.db.selectFrom('runs').selectAll().where('status', 'in', ['running', 'interrupted']).where('dry_run', '=', 0).orderBy('id', 'asc').execute();
    return rows.map(toRun);
  }

  async updateRun(
    id: number,
    patch: Partial<Pick<Run, 'status' | 'counts' | 'error' | 'finishedAt' | 'highWaterMark' | 'undoneByRunId' | 'options'>>,
  ): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.counts !== undefined ? { counts: JSON.stringify(patch.counts) } : {}),
        ...(patch.error !== undefined ? { error: patch.error } : {}),
        ...(patch.finishedAt !== undefined ? { finished_at: patch.finishedAt } : {}),
        ...(patch.highWaterMark !== undefined ? { high_water_mark: patch.highWaterMark } : {}),
        ...(patch.undoneByRunId !== undefined ? { undone_by_run_id: patch.undoneByRunId } : {}),
        ...(patch.options !== undefined ? { options: JSON.stringify(patch.options) } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * The newest finished, non-dry-run, not undone full or delta run that created (or updated): its
   * high-water mark is the lower bound of the next delta for that kind of change.
   */
  async lastWindowRun(change: 'creates' | 'updates'): Promise<Run | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('kind', 'in', ['full', 'delta'])
      .where('status', 'in', ['completed', 'completed_with_failures'])
      .where('dry_run', '=', 0)
      .where('undone_by_run_id', 'is', null)
      .where(change, '=', 1)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  // ---- links

  async getLinks(object: string, sourceIds: string[]): Promise<Map<string, Link>> {
    const links = new Map<string, Link>();
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() => {
        for (const row of statements.byIds<LinkRow>('select * from links where object = ? and source_id in (select value from json_each(?))', object, sourceIds)) {
          links.set(row.source_id, toLink(row));
        }
        return links;
      });
    }
    // PostgreSQL (SQLite always has the fast path): one statement, the ids as one array parameter.
    if (sourceIds.length === 0) return links;
    const rows = await this.db.selectFrom('links').selectAll().where('object', '=', object).where('source_id', '=', anyOf(sourceIds)).execute();
    for (const row of rows) links.set(row.source_id, toLink(row));
    return links;
  }

  /**
   * Where source records went, without what was written to them: the narrow read that translating
   * references needs (no JSON to parse).
   */
  async getLinkTargets(object: string, sourceIds: string[]): Promise<Map<string, LinkTarget>> {
    const out = new Map<string, LinkTarget>();
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() => {
        // A first migration's matching asks about every record of an object that has no link yet: one probe.
        if (sourceIds.length > 1 && statements.prepare('select 1 from links where object = ? limit 1').get(object) === undefined) return out;
        const sql = 'select source_id, target_id, state from links where object = ? and source_id in (select value from json_each(?))';
        for (const row of statements.byIds<{ source_id: string; target_id: string | null; state: Link['state'] }>(sql, object, sourceIds)) {
          out.set(row.source_id, { sourceId: row.source_id, targetId: row.target_id, state: row.state });
        }
        return out;
      });
    }
    if (sourceIds.length === 0) return out;
    const rows = await this.db.selectFrom('links').select(['source_id', 'target_id', 'state']).where('object', '=', object).where('source_id', '=', anyOf(sourceIds)).execute();
    for (const row of rows) out.set(row.source_id, { sourceId: row.source_id, targetId: row.target_id, state: row.state as Link['state'] });
    return out;
  }

  /**
   * getLinkTargets of several objects (a page's references to companies, contacts, owners...): one
   * statement on PostgreSQL, one read per object on SQLite.
   */
  async getLinkTargetsOf(wanted: [object: string, sourceIds: string[]][]): Promise<Map<string, Map<string, LinkTarget>>> {
    const out = new Map<string, Map<string, LinkTarget>>();
    const asked = wanted.filter(([, ids]) => ids.length > 0);
    for (const [object] of wanted) out.set(object, new Map());
    if (this.fast || asked.length < 2) {
      for (const [object, ids] of asked) out.set(object, await this.getLinkTargets(object, ids));
      return out;
    }
    const parts = asked.map(
      ([object, ids]) => sql`select object, source_id, target_id, state from links where object = ${object} and source_id = any(${[...new Set(ids)]}::text[])`,
    );
    const { rows } = await sql<{ object: string; source_id: string; target_id: string | null; state: string }>`${sql.join(parts, sql` union all `)}`.execute(this.db);
    for (const row of rows) out.get(row.object)!.set(row.source_id, { sourceId: row.source_id, targetId: row.target_id, state: row.state as Link['state'] });
    return out;
  }

  /**
   * What writing a page needs from the ledger: its records' links and match issues and, with `leaders`, the
   * links of the leaders of its source duplicates (in `links`, by their own source ids). One statement on
   * PostgreSQL (each a round trip), the same reads as getLinks and getMatchIssues on SQLite.
   */
  async getPageLinks(object: string, sourceIds: string[], leaders: boolean): Promise<{ links: Map<string, Link>; issues: Map<string, MatchIssue> }> {
    if (this.fast || sourceIds.length === 0) {
      const links = await this.getLinks(object, sourceIds);
      const issues = await this.getMatchIssues(object, sourceIds);
      const wanted = leaders ? leaderIds(issues).filter((id) => !links.has(id)) : [];
      if (wanted.length > 0) for (const [id, link] of await this.getLinks(object, wanted)) links.set(id, link);
      return { links, issues };
    }
    const ids = [...new Set(sourceIds)];
    // Leaders outside the page: a semi-join on the primary key (an OR in one WHERE would scan the object's links).
    const others = leaders
      ? sql`union all select to_jsonb(l), null::jsonb from links l where l.object = ${object} and not (l.source_id = any(${ids}::text[]))
          and l.source_id in (select i.candidates::jsonb->>0 from issues i where i.kind = 'duplicate')`
      : sql``;
    const { rows } = await sql<{ link: LinkRow | null; issue: LedgerDatabase['match_issues'] | null }>`
      with issues as (select * from match_issues where object = ${object} and source_id = any(${ids}::text[]))
      select to_jsonb(l) as link, null::jsonb as issue from links l where l.object = ${object} and l.source_id = any(${ids}::text[])
      ${others}
      union all select null::jsonb, to_jsonb(i) from issues i`.execute(this.db);
    const links = new Map<string, Link>();
    const issues = new Map<string, MatchIssue>();
    for (const row of rows) {
      if (row.link) links.set(row.link.source_id, toLink(row.link));
      else if (row.issue) issues.set(row.issue.source_id, toMatchIssue(row.issue));
    }
    return { links, issues };
  }

  async getLink(object: string, sourceId: string): Promise<Link | undefined> {
    return (await this.getLinks(object, [sourceId])).get(sourceId);
  }

  async linksByTarget(object: string, targetIds: string[]): Promise<Link[]> {
    const out: Link[] = [];
    for (const part of chunks([...new Set(targetIds)])) {
      if (part.length === 0) continue;
      const rows = await this.db.selectFrom('links').selectAll().where('object', '=', object).where('target_id', 'in', part).execute();
      out.push(...rows.map(toLink));
    }
    return out;
  }

  async putLinks(links: Link[]): Promise<void> {
    if (links.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const upsert = statements.prepare(
            'insert into links (object, source_id, target_id, state, origin, fingerprint, written, run_id, updated_run_id, leader_source_id) ' +
              'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (object, source_id) do update set target_id = excluded.target_id, ' +
              'state = excluded.state, origin = excluded.origin, fingerprint = excluded.fingerprint, written = excluded.written, ' +
              'run_id = excluded.run_id, updated_run_id = excluded.updated_run_id, leader_source_id = excluded.leader_source_id',
          );
          for (const link of links) {
            upsert.run(link.object, link.sourceId, link.targetId, link.state, link.origin, link.fingerprint, this.text(link.written), link.runId, link.updatedRunId, link.leaderSourceId);
          }
        }),
      );
    }
    // One statement may not upsert a row twice (PostgreSQL refuses it): the last write of a record wins,
    // as it would one statement after the other.
    const last = new Map<string, Link>();
    for (const link of links) last.set(`${link.object}\u0000${link.sourceId}`, link);
    for (const part of chunks([...last.values()], ROWS_PER_INSERT)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('links')
        .values(part.map((link) => ({ ...fromLink(link), written: this.text(link.written) })))
        .onConflict((conflict) =>
          conflict.columns(['object', 'source_id']).doUpdateSet((eb) => ({
            target_id: eb.ref('excluded.target_id'),
            state: eb.ref('excluded.state'),
            origin: eb.ref('excluded.origin'),
            fingerprint: eb.ref('excluded.fingerprint'),
            written: eb.ref('excluded.written'),
            run_id: eb.ref('excluded.run_id'),
            updated_run_id: eb.ref('excluded.updated_run_id'),
            leader_source_id: eb.ref('excluded.leader_source_id'),
          })),
        )
        .execute();
    }
  }

  async deleteLinks(object: string, sourceIds: string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const remove = statements.prepare('delete from links where object = ? and source_id = ?');
          for (const id of sourceIds) remove.run(object, id);
        }),
      );
    }
    for (const part of chunks(sourceIds)) {
      if (part.length === 0) continue;
      await this.db.deleteFrom('links').where('object', '=', object).where('source_id', 'in', part).execute();
    }
  }

  async pendingLinks(object: string): Promise<Link[]> {
    // `'pending'` as a literal, so the partial index links_pending is used (migrations.ts).
    const rows = await this.db.selectFrom('links').selectAll().where('object', '=', object).where('state', '=', sql.lit('pending')).execute();
    return rows.map(toLink);
  }

  // ---- create intents (one row per batch of creates in flight; see CreateIntentsTable)

  /** Records that a batch of creates is about to be sent; returns the intent's id, to settle with the outcome. */
  async addCreateIntent(runId: number, object: string, sourceIds: string[]): Promise<number> {
    const text = JSON.stringify(sourceIds);
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        Number(statements.prepare('insert into create_intents (run_id, object, source_ids) values (?, ?, ?)').run(runId, object, text).lastInsertRowid),
      );
    }
    const row = await this.db.insertInto('create_intents').values({ run_id: runId, object, source_ids: text }).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Intents whose outcome was never recorded (a crash between the create and its commit), oldest first. */
  async createIntents(object: string): Promise<CreateIntent[]> {
    const rows = await this.db.selectFrom('create_intents').selectAll().where('object', '=', object).orderBy('id').execute();
    return rows.map((row) => ({ id: Number(row.id), runId: Number(row.run_id), object: row.object, sourceIds: JSON.parse(row.source_ids) as string[] }));
  }

  async deleteCreateIntents(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const remove = statements.prepare('delete from create_intents where id = ?');
          for (const id of ids) remove.run(id);
        }),
      );
    }
    await this.db.deleteFrom('create_intents').where('id', 'in', ids).execute();
  }

  /** Links of an object in source-id order, a page at a time (bounded memory). */
  async *iterateLinks(
    object: string,
    filter: { origin?: LinkOrigin[]; runId?: number; beforeRunId?: number } = {},
    pageSize = 1000,
  ): AsyncGenerator<Link[]> {
    let after: string | null = null;
    for (;;) {
      let query = this.db.selectFrom('links').selectAll().where('object', '=', object);
      if (filter.origin) query = query.where('origin', 'in', filter.origin);
      if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
      if (filter.beforeRunId !== undefined) query = query.where('run_id', '<', filter.beforeRunId);
      if (after !== null) query = query.where('source_id', '>', after);
      const rows = await query.orderBy('source_id').limit(pageSize).execute();
      if (rows.length === 0) return;
      yield rows.map(toLink);
      after = rows[rows.length - 1]!.source_id;
      if (rows.length < pageSize) return;
    }
  }

  /** Links this run made (run id) or changed (updated run id), with their current values. */
  async linksTouchedByRun(object: string, runId: number): Promise<Link[]> {
    const rows = await this.db
      .selectFrom('links')
      .selectAll()
      .where('object', '=', object)
      .where((eb) => eb.or([eb('run_id', '=', runId), eb('updated_run_id', '=', runId)]))
      .execute();
    return rows.map(toLink);
  }

  async countLinks(object: string, origins?: LinkOrigin[]): Promise<number> {
    let query = this.db.selectFrom('links').select((eb) => eb.fn.countAll<number>().as('n')).where('object', '=', object);
    if (origins) query = query.where('origin', 'in', origins);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- files

  /** The file links of these source records (every version of every file). */
  async getFileLinks(object: string, sourceRecordIds: string[]): Promise<FileLink[]> {
    const out: FileLink[] = [];
    for (const part of chunks([...new Set(sourceRecordIds)])) {
      if (part.length === 0) continue;
      const rows = await this.db.selectFrom('files').selectAll().where('object', '=', object).where('source_record_id', 'in', part).execute();
      out.push(...rows.map(toFileLink));
    }
    return out;
  }

  async putFileLinks(links: FileLink[]): Promise<void> {
    for (const part of chunks(links, 200)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('files')
        .values(
          part.map((link) => ({
            object: link.object,
            source_record_id: link.sourceRecordId,
            source_file_id: link.sourceFileId,
            version: link.version,
            name: link.name,
            stamp: link.stamp,
            target_record_id: link.targetRecordId,
            target_file_id: link.targetFileId,
            state: link.state,
            bytes: link.bytes,
            sha256: link.sha256,
            run_id: link.runId,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(['object', 'source_record_id', 'source_file_id', 'version']).doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            stamp: eb.ref('excluded.stamp'),
            target_record_id: eb.ref('excluded.target_record_id'),
            target_file_id: eb.ref('excluded.target_file_id'),
            state: eb.ref('excluded.state'),
            bytes: eb.ref('excluded.bytes'),
            sha256: eb.ref('excluded.sha256'),
            run_id: eb.ref('excluded.run_id'),
          })),
        )
        .execute();
    }
  }

  async deleteFileLinks(links: Pick<FileLink, 'object' | 'sourceRecordId' | 'sourceFileId' | 'version'>[]): Promise<void> {
    for (const link of links) {
      await this.db
        .deleteFrom('files')
        .where('object', '=', link.object)
        .where('source_record_id', '=', link.sourceRecordId)
        .where('source_file_id', '=', link.sourceFileId)
        .where('version', '=', link.version)
        .execute();
    }
  }

  /**
   * Every file link of an object, a page at a time in key order (`ferry verify`): pass the last link of a
   * page as `after` for the next one.
   */
  async fileLinksPage(object: string, after: Pick<FileLink, 'sourceRecordId' | 'sourceFileId' | 'version'> | undefined, limit = 500): Promise<FileLink[]> {
    let query = this.db.selectFrom('files').selectAll().where('object', '=', object);
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('source_record_id', '>', after.sourceRecordId),
          eb.and([
            eb('source_record_id', '=', after.sourceRecordId),
            eb.or([eb('source_file_id', '>', after.sourceFileId), eb.and([eb('source_file_id', '=', after.sourceFileId), eb('version', '>', after.version)])]),
          ]),
        ]),
      );
    }
    const rows = await query.orderBy('source_record_id').orderBy('source_file_id').orderBy('version').limit(limit).execute();
    return rows.map(toFileLink);
  }

  /** Files a run uploaded (or meant to: pending ones too), of one object, a page at a time. */
  async fileLinksOfRun(runId: number, object: string, limit = 500): Promise<FileLink[]> {
    const rows = await this.db.selectFrom('files').selectAll().where('run_id', '=', runId).where('object', '=', object).orderBy('source_record_id').limit(limit).execute();
    return rows.map(toFileLink);
  }

  // ---- match issues

  async putMatchIssues(issues: MatchIssue[]): Promise<void> {
    for (const part of chunks(issues, 200)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('match_issues')
        .values(
          part.map((issue) => ({
            object: issue.object,
            source_id: issue.sourceId,
            kind: issue.kind,
            key: issue.key,
            candidates: JSON.stringify(issue.candidates),
            run_id: issue.runId,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(['object', 'source_id']).doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            key: eb.ref('excluded.key'),
            candidates: eb.ref('excluded.candidates'),
            run_id: eb.ref('excluded.run_id'),
          })),
        )
        .execute();
    }
  }

  async clearMatchIssues(object: string, sourceIds?: string[]): Promise<void> {
    if (!sourceIds) {
      await this.db.deleteFrom('match_issues').where('object', '=', object).execute();
      return;
    }
    if (sourceIds.length === 0) return;
    if (!(await this.db.selectFrom('match_issues').select('object').where('object', '=', object).limit(1).executeTakeFirst())) return;
    for (const part of chunks(sourceIds)) {
      if (part.length === 0) continue;
      await this.db.deleteFrom('match_issues').where('object', '=', object).where('source_id', 'in', part).execute();
    }
  }

  async getMatchIssues(object: string, sourceIds: string[]): Promise<Map<string, MatchIssue>> {
    const out = new Map<string, MatchIssue>();
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() => {
        // Most objects have none: one probe instead of one per record.
        if (statements.prepare('select 1 from match_issues where object = ? limit 1').get(object) === undefined) return out;
        for (const row of statements.byIds<LedgerDatabase['match_issues']>('select * from match_issues where object = ? and source_id in (select value from json_each(?))', object, sourceIds)) {
          out.set(row.source_id, toMatchIssue(row));
        }
        return out;
      });
    }
    if (sourceIds.length === 0) return out;
    const rows = await this.db.selectFrom('match_issues').selectAll().where('object', '=', object).where('source_id', '=', anyOf(sourceIds)).execute();
    for (const row of rows) out.set(row.source_id, toMatchIssue(row));
    return out;
  }

  async listMatchIssues(object?: string): Promise<MatchIssue[]> {
    let query = this.db.selectFrom('match_issues').selectAll();
    if (object) query = query.where('object', '=', object);
    const rows = await query.orderBy('object').orderBy('source_id').execute();
    return rows.map(toMatchIssue);
  }

  // ---- units of work

  async getUnits(runId: number, phase: string, object: string): Promise<Unit[]> {
    const rows = await this.db
      .selectFrom('units')
      .selectAll()
      .where('run_id', '=', runId)
      .where('phase', '=', phase)
      .where('object', '=', object)
      .orderBy('seq')
      .execute();
    return rows.map(toUnit);
  }

  /** Every unit of a run whose phase starts with `prefix` (a queued run's parts: `part:`, `part-done`), one query. */
  async getUnitsByPhasePrefix(runId: number, prefix: string): Promise<Unit[]> {
    const rows = await this.db
      .selectFrom('units')
      .selectAll()
      .where('run_id', '=', runId)
      // Exact prefix, not LIKE: an object's name may hold `_` or `%`.
      .where((eb) => eb(eb.fn('substr', [eb.ref('phase'), eb.lit(1), eb.lit(prefix.length)]), '=', prefix))
      .orderBy('phase')
      .orderBy('object')
      .orderBy('seq')
      .execute();
    return rows.map(toUnit);
  }

  async putUnit(unit: Unit): Promise<void> {
    await this.db
      .insertInto('units')
      .values({
        run_id: unit.runId,
        phase: unit.phase,
        object: unit.object,
        seq: unit.seq,
        cursor: unit.cursor,
        next_cursor: unit.nextCursor,
        done: unit.done ? 1 : 0,
        counts: JSON.stringify(unit.counts),
      })
      .onConflict((conflict) =>
        conflict.columns(['run_id', 'phase', 'object', 'seq']).doUpdateSet((eb) => ({
          cursor: eb.ref('excluded.cursor'),
          next_cursor: eb.ref('excluded.next_cursor'),
          done: eb.ref('excluded.done'),
          counts: eb.ref('excluded.counts'),
        })),
      )
      .execute();
  }

  // ---- failures

  /**
   * `resolvedByRunId` is normally absent (an open failure). A dry run stores its would-be failures settled
   * by itself: the report lists them like any run's, and no open-failure figure, retry or reattach sees them.
   */
  async addFailures(
    failures: (Omit<Failure, 'id' | 'resolvedByRunId' | 'severity'> & { severity?: Failure['severity']; resolvedByRunId?: number | null })[],
  ): Promise<void> {
    if (failures.length === 0) return;
    // A failure the same run has already recorded, word for word, is not recorded again: a resumed run reads
    // the page it stopped in again and fails the same records again (their failures were committed with the
    // batches written before the stop), and its report must list each of them once.
    const same = (a: { runId: number; object: string; sourceId: string; code: string; field: string | null; value: string | null; message: string; severity?: string }) =>
      JSON.stringify([a.runId, a.object, a.sourceId, a.code, a.field, a.value, a.message, a.severity ?? 'error']);
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const insert = statements.prepare(
            'insert into failures (run_id, object, source_id, code, field, value, message, resolved_by_run_id, severity) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          );
          const recorded = statements.prepare(
            'select 1 from failures where object = ? and source_id = ? and run_id = ? and code = ? and field is ? and value is ? and message = ? and severity = ? limit 1',
          );
          const seen = new Set<string>();
          for (const failure of failures) {
            const key = same(failure);
            if (seen.has(key)) continue;
            seen.add(key);
            if (recorded.get(failure.object, failure.sourceId, failure.runId, failure.code, failure.field, failure.value, failure.message, failure.severity ?? 'error') !== undefined) continue;
            insert.run(failure.runId, failure.object, failure.sourceId, failure.code, failure.field, failure.value, failure.message, failure.resolvedByRunId ?? null, failure.severity ?? 'error');
          }
        }),
      );
    }
    if (this.collected) {
      // No answer to read here: the statement itself leaves out what is recorded already.
      const byKey = new Map<string, (typeof failures)[number]>();
      for (const failure of failures) if (!byKey.has(same(failure))) byKey.set(same(failure), failure);
      for (const part of chunks([...byKey.values()], ROWS_PER_INSERT)) {
        const rows = part.map(
          (f) =>
            sql`(${f.runId}::integer, ${f.object}::text, ${f.sourceId}::text, ${f.code}::text, ${f.field}::text, ${f.value}::text, ${f.message}::text, ${f.resolvedByRunId ?? null}::integer, ${f.severity ?? 'error'}::text)`,
        );
        await sql`insert into failures (run_id, object, source_id, code, field, value, message, resolved_by_run_id, severity)
          select * from (values ${sql.join(rows)}) as v (run_id, object, source_id, code, field, value, message, resolved_by_run_id, severity)
          where not exists (select 1 from failures f where f.object = v.object and f.source_id = v.source_id and f.run_id = v.run_id and f.code = v.code
            and f.field is not distinct from v.field and f.value is not distinct from v.value and f.message = v.message and f.severity = v.severity)`.execute(this.db);
      }
      return;
    }
    const seen = new Set<string>();
    for (const part of chunks([...new Set(failures.map((failure) => failure.runId))], CHUNK)) {
      for (const ids of chunks([...new Set(failures.map((failure) => failure.sourceId))], CHUNK)) {
        const rows = await this.db.selectFrom('failures').select(['run_id', 'object', 'source_id', 'code', 'field', 'value', 'message', 'severity']).where('run_id', 'in', part).where('source_id', 'in', ids).execute();
        for (const row of rows) seen.add(same({ runId: row.run_id, object: row.object, sourceId: row.source_id, code: row.code, field: row.field, value: row.value, message: row.message, severity: row.severity }));
      }
    }
    const fresh = failures.filter((failure) => {
      const key = same(failure);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    for (const part of chunks(fresh, ROWS_PER_INSERT)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('failures')
        .values(
          part.map((failure) => ({
            run_id: failure.runId,
            object: failure.object,
            source_id: failure.sourceId,
            code: failure.code,
            field: failure.field,
            value: failure.value,
            message: failure.message,
            resolved_by_run_id: failure.resolvedByRunId ?? null,
            severity: failure.severity ?? 'error',
          })),
        )
        .execute();
    }
  }

  async listFailures(
    filter: { runId?: number; unresolved?: boolean; object?: string; severity?: Failure['severity']; code?: string; exceptRunId?: number } = {},
  ): Promise<Failure[]> {
    let query = this.db.selectFrom('failures').selectAll();
    if (filter.code !== undefined) query = query.where('code', '=', filter.code);
    if (filter.exceptRunId !== undefined) query = query.where('run_id', '<>', filter.exceptRunId);
    if (filter.severity !== undefined) query = query.where('severity', '=', filter.severity);
    if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
    if (filter.object !== undefined) query = query.where('object', '=', filter.object);
    if (filter.unresolved) query = query.where('resolved_by_run_id', 'is', null);
    const rows = await query.orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      severity: row.severity === 'warning' ? 'warning' : 'error',
      runId: row.run_id,
      object: row.object,
      sourceId: row.source_id,
      code: row.code,
      field: row.field,
      value: row.value,
      message: row.message,
      resolvedByRunId: row.resolved_by_run_id,
    }));
  }

  /** Marks every open failure of these records (from any run but `runId`), or those of `codes`, as settled by `runId`. */
  async resolveFailures(object: string, sourceIds: string[], runId: number, codes?: string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    if (codes?.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      const byCode = codes ? ` and code in (${codes.map(() => '?').join(', ')})` : '';
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const update = statements.prepare(
            `update failures set resolved_by_run_id = ? where object = ? and source_id = ? and resolved_by_run_id is null and run_id != ?${byCode}`,
          );
          for (const id of sourceIds) update.run(runId, object, id, runId, ...(codes ?? []));
        }),
      );
    }
    for (const part of chunks([...new Set(sourceIds)])) {
      if (part.length === 0) continue;
      let query = this.db
        .updateTable('failures')
        .set({ resolved_by_run_id: runId })
        .where('object', '=', object)
        .where('source_id', 'in', part)
        .where('resolved_by_run_id', 'is', null)
        .where('run_id', '!=', runId);
      if (codes) query = query.where('code', 'in', codes);
      await query.execute();
    }
  }

  /** Settles the open failures that run `runId` itself recorded (and no other run's), by `byRunId`. */
  async resolveRunFailures(runId: number, byRunId: number): Promise<void> {
    await this.db.updateTable('failures').set({ resolved_by_run_id: byRunId }).where('run_id', '=', runId).where('resolved_by_run_id', 'is', null).execute();
  }

  /** Failures (of earlier runs) that this run settled are open again: what an undo of the run owes the ledger. */
  async reopenFailuresResolvedBy(runId: number): Promise<void> {
    await this.db.updateTable('failures').set({ resolved_by_run_id: null }).where('resolved_by_run_id', '=', runId).execute();
  }

  /** Whether an object has unresolved failures (or warnings) recorded by runs other than `exceptRunId`. */
  async hasOpenFailures(object: string, exceptRunId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('failures')
      .select('id')
      .where('object', '=', object)
      .where('resolved_by_run_id', 'is', null)
      .where('run_id', '!=', exceptRunId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Open failures: DISTINCT records (object + source id) with a failure no later run settled, of severity
   * `error` unless asked for warnings. A record that failed in several runs, or on several fields, counts
   * once. The one query behind every "open failures" figure (the delta's closing note, the CLI summary,
   * `--json`, `ferry report`, `ferry runs`, the wizard). Filters: only failures recorded by `runId`, or by
   * runs before `beforeRunId`.
   */
  async openFailureCounts(
    filter: { runId?: number; beforeRunId?: number; severity?: Failure['severity'] } = {},
  ): Promise<{ total: number; byObject: Record<string, number> }> {
    let query = this.db
      .selectFrom('failures')
      .select(['object', (eb) => eb.fn.count<number>('source_id').distinct().as('n')])
      .where('resolved_by_run_id', 'is', null)
      .where('severity', '=', filter.severity ?? 'error');
    if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
    if (filter.beforeRunId !== undefined) query = query.where('run_id', '<', filter.beforeRunId);
    const rows = await query.groupBy('object').orderBy('object').execute();
    const byObject: Record<string, number> = {};
    let total = 0;
    for (const row of rows) {
      byObject[row.object] = Number(row.n);
      total += Number(row.n);
    }
    return { total, byObject };
  }

  /** How many records have an open failure (see openFailureCounts), in all objects or in one. */
  async countOpenFailures(object?: string): Promise<number> {
    const { total, byObject } = await this.openFailureCounts();
    return object === undefined ? total : (byObject[object] ?? 0);
  }

  // ---- conflicts

  async addConflicts(conflicts: Omit<Conflict, 'id'>[]): Promise<void> {
    for (const part of chunks(conflicts, 200)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('conflicts')
        .values(
          part.map((conflict) => ({
            run_id: conflict.runId,
            object: conflict.object,
            source_id: conflict.sourceId,
            target_id: conflict.targetId,
            field: conflict.field,
            source_value: json(conflict.sourceValue),
            target_value: json(conflict.targetValue),
            written_value: json(conflict.writtenValue),
            resolution: conflict.resolution,
          })),
        )
        .execute();
    }
  }

  async listConflicts(runId: number): Promise<Conflict[]> {
    const rows = await this.db.selectFrom('conflicts').selectAll().where('run_id', '=', runId).orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      runId: row.run_id,
      object: row.object,
      sourceId: row.source_id,
      targetId: row.target_id,
      field: row.field,
      sourceValue: parse(row.source_value),
      targetValue: parse(row.target_value),
      writtenValue: parse(row.written_value),
      resolution: row.resolution,
    }));
  }

  // ---- journal

  async addJournal(entries: Omit<JournalEntry, 'id' | 'undone'>[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const insert = statements.prepare(
            'insert into journal (run_id, object, source_id, target_object, target_id, action, before, after, link_before, undone) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)',
          );
          for (const entry of entries) {
            insert.run(entry.runId, entry.object, entry.sourceId, entry.targetObject, entry.targetId, entry.action, this.text(entry.before), this.text(entry.after), this.text(entry.linkBefore));
          }
        }),
      );
    }
    for (const part of chunks(entries, ROWS_PER_INSERT)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('journal')
        .values(
          part.map((entry) => ({
            run_id: entry.runId,
            object: entry.object,
            source_id: entry.sourceId,
            target_object: entry.targetObject,
            target_id: entry.targetId,
            action: entry.action,
            before: this.text(entry.before),
            after: this.text(entry.after),
            link_before: this.text(entry.linkBefore),
            undone: 0,
          })),
        )
        .execute();
    }
  }

  /** A run's journal, newest first, a page at a time. */
  async *iterateJournal(runId: number, object: string, pageSize = 500): AsyncGenerator<JournalEntry[]> {
    let before: number | null = null;
    for (;;) {
      let query = this.db.selectFrom('journal').selectAll().where('run_id', '=', runId).where('object', '=', object);
      if (before !== null) query = query.where('id', '<', before);
      const rows = await query.orderBy('id', 'desc').limit(pageSize).execute();
      if (rows.length === 0) return;
      yield rows.map(toJournalEntry);
      before = rows[rows.length - 1]!.id;
      if (rows.length < pageSize) return;
    }
  }

  async markJournalUndone(ids: number[]): Promise<void> {
    for (const part of chunks(ids)) {
      if (part.length === 0) continue;
      await this.db.updateTable('journal').set({ undone: 1 }).where('id', 'in', part).execute();
    }
  }

  /** Removes a run's journal entries of writes that the target refused (they never happened). */
  async deleteJournalEntries(runId: number, object: string, sourceIds: string[], action: JournalEntry['action']): Promise<void> {
    for (const part of chunks(sourceIds)) {
      if (part.length === 0) continue;
      await this.db
        .deleteFrom('journal')
        .where('run_id', '=', runId)
        .where('object', '=', object)
        .where('action', '=', action)
        .where('source_id', 'in', part)
        .execute();
    }
  }

  /** Runs after `runId` that wrote to the target and were not undone (undo goes newest first). */
  async laterWritingRuns(runId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('journal')
      .innerJoin('runs', 'runs.id', 'journal.run_id')
      .select('journal.run_id')
      .distinct()
      .where('journal.run_id', '>', runId)
      .where('runs.undone_by_run_id', 'is', null)
      .where('runs.kind', '!=', 'undo')
      .execute();
    // A run that only uploaded files (a delta that found new attachments on unchanged records) wrote too.
    const uploads = await this.db
      .selectFrom('files')
      .innerJoin('runs', 'runs.id', 'files.run_id')
      .select('files.run_id')
      .distinct()
      .where('files.run_id', '>', runId)
      .where('runs.undone_by_run_id', 'is', null)
      .where('runs.kind', '!=', 'undo')
      .execute();
    return [...new Set([...rows, ...uploads].map((row) => Number(row.run_id)))].sort((a, b) => a - b);
  }

  /**
   * The actions run `runId` journaled for these records of `object` (not undone): how a resumed run tells
   * what its earlier attempt did to the records of the page it stopped in. Reads only at a resume.
   */
  async journalActions(runId: number, object: string, sourceIds: string[]): Promise<Map<string, Set<JournalEntry['action']>>> {
    const out = new Map<string, Set<JournalEntry['action']>>();
    for (const part of chunks([...new Set(sourceIds)])) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('journal')
        .select(['source_id', 'action'])
        .where('run_id', '=', runId)
        .where('object', '=', object)
        .where('source_id', 'in', part)
        .where('undone', '=', 0)
        .execute();
      for (const row of rows) {
        const actions = out.get(row.source_id) ?? new Set<JournalEntry['action']>();
        actions.add(row.action as JournalEntry['action']);
        out.set(row.source_id, actions);
      }
    }
    return out;
  }

  async journalObjects(runId: number): Promise<string[]> {
    const rows = await this.db.selectFrom('journal').select('object').distinct().where('run_id', '=', runId).execute();
    return rows.map((row) => row.object);
  }

  // ---- deferred references (the link pass)

  async addDeferredReferences(references: DeferredReference[]): Promise<void> {
    if (references.length === 0) return;
    if (this.fast) {
      const { statements } = this.fast;
      return this.fast.exclusive(() =>
        statements.atomically(() => {
          const upsert = statements.prepare(
            'insert into deferred_references (run_id, object, source_id, field, value) values (?, ?, ?, ?, ?) ' +
              'on conflict (run_id, object, source_id, field) do update set value = excluded.value',
          );
          for (const reference of references) upsert.run(reference.runId, reference.object, reference.sourceId, reference.field, JSON.stringify(reference.value));
        }),
      );
    }
    // One statement may not upsert a row twice: the last of a record's field wins, as one after the other.
    const last = new Map<string, DeferredReference>();
    for (const reference of references) last.set(JSON.stringify([reference.runId, reference.object, reference.sourceId, reference.field]), reference);
    for (const part of chunks([...last.values()], ROWS_PER_INSERT)) {
      if (part.length === 0) continue;
      await this.db
        .insertInto('deferred_references')
        .values(
          part.map((reference) => ({
            run_id: reference.runId,
            object: reference.object,
            source_id: reference.sourceId,
            field: reference.field,
            value: JSON.stringify(reference.value),
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(['run_id', 'object', 'source_id', 'field']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
        )
        .execute();
    }
  }

  async *iterateDeferredReferences(runId: number, object: string, pageSize = 500): AsyncGenerator<DeferredReference[]> {
    let after: string | null = null;
    for (;;) {
      let query = this.db.selectFrom('deferred_references').selectAll().where('run_id', '=', runId).where('object', '=', object);
      if (after !== null) query = query.where('source_id', '>', after);
      // Whole records per page: fetch by source id, so every field of one record lands in one page.
      const ids = await query.select('source_id').distinct().orderBy('source_id').limit(pageSize).execute();
      if (ids.length === 0) return;
      const sourceIds = ids.map((row) => row.source_id);
      const rows = await this.db
        .selectFrom('deferred_references')
        .selectAll()
        .where('run_id', '=', runId)
        .where('object', '=', object)
        .where('source_id', 'in', sourceIds)
        .execute();
      yield rows.map((row) => ({
        runId: row.run_id,
        object: row.object,
        sourceId: row.source_id,
        field: row.field,
        value: JSON.parse(row.value) as unknown,
      }));
      after = sourceIds[sourceIds.length - 1]!;
      if (ids.length < pageSize) return;
    }
  }

  async deleteDeferredReferences(runId: number, object: string, sourceIds: string[]): Promise<void> {
    for (const part of chunks(sourceIds)) {
      if (part.length === 0) continue;
      await this.db
        .deleteFrom('deferred_references')
        .where('run_id', '=', runId)
        .where('object', '=', object)
        .where('source_id', 'in', part)
        .execute();
    }
  }
}

const LOCK_NAME = 'ledger';
const STALE_AFTER_MS = 60_000;

export interface LedgerLock {
  holder: string;
  release(): Promise<void>;
  heartbeat(runId?: number): Promise<void>;
}

/** The ledger: a SQLite file by default, or a PostgreSQL database for shared use. */
export class Ledger extends LedgerStore {
  private constructor(
    readonly kysely: Kysely<LedgerDatabase>,
    readonly dialect: LedgerDialect,
    /** Where it lives, safe to print (no password). */
    readonly location: string,
    private readonly statements?: SqliteStatements,
  ) {
    // Outside a transaction, a statement waits for the connection like every Kysely query does, so it
    // never lands inside a transaction another async task holds open.
    super(kysely, statements && { statements, exclusive: (work) => kysely.connection().execute(async () => work()) });
  }

  static async open(location: string, options: { baseDir?: string } = {}): Promise<Ledger> {
    let kysely: Kysely<LedgerDatabase>;
    let dialect: LedgerDialect;
    let shown: string;
    let statements: SqliteStatements | undefined;
    if (/^postgres(ql)?:\/\//i.test(location)) {
      dialect = 'postgres';
      shown = redactUrl(location);
      const pool = new pg.Pool({ connectionString: location, max: 4 });
      // An idle connection the server drops (a restart, an administrator's terminate) must not crash the
      // process with an unhandled 'error' event; the pool replaces it and the next statement reconnects.
      pool.on('error', () => undefined);
      kysely = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
    } else {
      dialect = 'sqlite';
      const path = isAbsolute(location) ? location : resolve(options.baseDir ?? process.cwd(), location);
      shown = path;
      mkdirSync(dirname(path), { recursive: true });
      const database = new SqliteDatabase(path);
      // WAL keeps readers (the wizard, `ferry runs`) unblocked while a run writes; every commit is on disk
      // before the next write to the target, which is what crash safety needs (a killed process, not a
      // lost machine).
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      database.pragma('busy_timeout = 10000');
      // The write-ahead log is copied back into the database (a checkpoint) every 20,000 pages (~80 MB) instead
      // of SQLite's 1,000: a created record's link lands at a random place of the links' primary key, and the
      // larger the ledger, the more of each checkpoint is pages written once since the last one. A synthetic
      // 1M-link load cost 31 CPU µs a link at the default, 22 at 20,000 (16 at 100k either way); the log is
      // truncated back to 64 MB after each checkpoint. Durability: docs/performance.md, "The SQLite ledger's durability".
      database.pragma('wal_autocheckpoint = 20000');
      database.pragma('journal_size_limit = 67108864');
      statements = new SqliteStatements(database);
      kysely = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    }
    const ledger = new Ledger(kysely, dialect, shown, statements);
    try {
      await ledger.migrate();
    } catch (error) {
      await kysely.destroy();
      const message = error instanceof Error ? error.message : String(error);
      throw new FerryError('LEDGER_ERROR', `Cannot open the ledger at ${shown}: ${message.replaceAll(location, shown)}`);
    }
    return ledger;
  }

  private async migrate(): Promise<void> {
    // PostgreSQL: the migrator's own tables in the connection's schema, named, because Kysely looks for them
    // in every schema of the database, and another project's ledger in the same database (its own schema,
    // src/workers/projects.ts) would otherwise pass for this one's.
    const schema = this.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.kysely)).rows[0]?.schema : undefined;
    const migrator = new Migrator({
      db: this.kysely,
      provider: ledgerMigrations(this.dialect),
      migrationTableName: 'ferry_migrations',
      migrationLockTableName: 'ferry_migrations_lock',
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    // Kysely runs SQLite migrations outside a transaction (its SQLite adapter says DDL is not
    // transactional, though in SQLite it is): a process killed between two CREATE TABLEs of a new ledger
    // left it half made, and every later open failed with "table ... already exists". The SQLite ledger
    // therefore migrates inside one BEGIN IMMEDIATE on its only connection: a kill rolls it all back, and a
    // second process opening the same new ledger waits (busy_timeout) instead of racing the first.
    const database = this.statements?.database;
    database?.exec('BEGIN IMMEDIATE');
    try {
      const { error } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      if (database?.inTransaction) database.exec('COMMIT');
    } finally {
      if (database?.inTransaction) database.exec('ROLLBACK');
    }
  }

  /**
   * Runs `work` atomically. `writesOnly`: the work only writes (no statement of it needs an answer, and no
   * two of its statements touch the same row). On PostgreSQL its statements are then collected and sent as
   * one statement (each a data-modifying `WITH` part: one snapshot, all or nothing), one round trip where
   * a transaction takes one per statement plus BEGIN and COMMIT. SQLite runs it as any transaction.
   */
  async transaction<T>(work: (store: LedgerStore) => Promise<T>, options: { writesOnly?: boolean } = {}): Promise<T> {
    if (options.writesOnly && this.dialect === 'postgres') {
      const collected: CompiledQuery[] = [];
      const result = await work(new LedgerStore(collecting(collected), undefined, new WeakMap(), true));
      await this.executeAtomically(collected);
      return result;
    }
    const statements = this.statements;
    // Inside, the transaction holds the one connection: its statements run directly, in the transaction.
    return this.kysely.transaction().execute((trx) => work(new LedgerStore(trx, statements && { statements, exclusive: async (run) => run() }, new WeakMap())));
  }

  /** Collected statements as one: alone as it is, several as the parts of one `WITH`, too many in a transaction. */
  private async executeAtomically(queries: CompiledQuery[]): Promise<void> {
    if (queries.length === 0) return;
    if (queries.length === 1) {
      await this.kysely.executeQuery(queries[0]!);
      return;
    }
    if (queries.reduce((total, query) => total + query.parameters.length, 0) > MAX_PARAMETERS) {
      await this.kysely.transaction().execute(async (trx) => {
        for (const query of queries) await trx.executeQuery(query);
      });
      return;
    }
    const parameters: unknown[] = [];
    const parts = queries.map((query, index) => {
      const offset = parameters.length;
      parameters.push(...query.parameters);
      // The ledger's statements hold no `$` but their placeholders (values are always bound).
      return `w${index} as (${query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
    });
    await this.kysely.executeQuery(CompiledQuery.raw(`with ${parts.join(', ')} select 1`, parameters));
  }

  /**
   * Takes the ledger for one run. A second run on the same ledger is refused while the first is alive;
   * a holder whose process is gone (same host) or whose heartbeat stopped is stale and is taken over, so
   * a run killed with SIGKILL can be resumed.
   */
  async acquireLock(description: string): Promise<LedgerLock> {
    // host:pid:nonce:what — `what` (the command, URI-encoded) names the holder to a command refused before
    // the holder has created its run row.
    const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}:${encodeURIComponent(description.replace(/^run /, ''))}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = nowIso();
      const inserted = await this.kysely
        .insertInto('locks')
        .values({ name: LOCK_NAME, run_id: null, holder, acquired_at: now, heartbeat_at: now })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .returning('holder')
        .executeTakeFirst();
      if (inserted) {
        return {
          holder,
          release: async () => {
            await this.kysely.deleteFrom('locks').where('name', '=', LOCK_NAME).where('holder', '=', holder).execute();
          },
          heartbeat: async (runId?: number) => {
            await this.kysely
              .updateTable('locks')
              .set({ heartbeat_at: nowIso(), ...(runId !== undefined ? { run_id: runId } : {}) })
              .where('name', '=', LOCK_NAME)
              .where('holder', '=', holder)
              .execute();
          },
        };
      }
      const current = await this.kysely.selectFrom('locks').selectAll().where('name', '=', LOCK_NAME).executeTakeFirst();
      if (!current) continue;
      if (isStale(current.holder, current.heartbeat_at)) {
        await this.kysely.deleteFrom('locks').where('name', '=', LOCK_NAME).where('holder', '=', current.holder).execute();
        continue;
      }
      const [host, pid, , command] = current.holder.split(':');
      const starting = command ? decodeURIComponent(command) : '';
      const what = current.run_id !== null ? `run ${current.run_id}` : starting ? `${starting} (starting, no run yet)` : 'another command';
      throw new FerryError(
        'LEDGER_LOCKED',
        `The ledger at ${this.location} is in use by ${what} (process ${pid} on ${host}, since ${current.acquired_at}). ` +
          `Only one run at a time can use a ledger: wait for it to finish, or stop it, then ${description} again.`,
      );
    }
    throw new FerryError('LEDGER_LOCKED', `Could not take the ledger at ${this.location}; try again.`);
  }

  /** Who holds the ledger's lock (a run in progress, in-process or on a worker): host, pid, run and last heartbeat. */
  async lockHolder(): Promise<{ host: string; pid: number; runId: number | null; acquiredAt: string; heartbeatAt: string } | undefined> {
    const row = await this.kysely.selectFrom('locks').selectAll().where('name', '=', LOCK_NAME).executeTakeFirst();
    if (!row) return undefined;
    const [host = '', pid = ''] = row.holder.split(':');
    return { host, pid: Number(pid), runId: row.run_id === null ? null : Number(row.run_id), acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at };
  }

  async close(): Promise<void> {
    await this.kysely.destroy();
  }
}

/** The leaders of the source duplicates among `issues` (a duplicate's first candidate). */
export function leaderIds(issues: Map<string, MatchIssue>): string[] {
  return [...new Set([...issues.values()].filter((issue) => issue.kind === 'duplicate').map((issue) => issue.candidates[0]!))];
}

/** Bound values of one PostgreSQL statement (the protocol allows 65,535), with room to spare. */
const MAX_PARAMETERS = 60_000;

/** `= any($n)` with the ids as one text[] parameter (PostgreSQL): one statement whatever their number. */
function anyOf(ids: readonly string[]) {
  return sql<string>`any(${[...new Set(ids)]}::text[])`;
}

/**
 * A Kysely on PostgreSQL's compiler whose driver runs nothing: every statement is compiled and kept in
 * `into`, to be sent later (Ledger.transaction with `writesOnly`). A read, or a write whose returned rows
 * the caller would use, would be answered wrongly, so it is refused.
 */
function collecting(into: CompiledQuery[]): Kysely<LedgerDatabase> {
  const refuse = (what: string) => new Error(`ledger: a writes-only transaction cannot ${what}`);
  const connection: DatabaseConnection = {
    executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const node = query.query as { kind: string; returning?: unknown };
      const reads = node.kind === 'SelectQueryNode' || node.returning !== undefined || (node.kind === 'RawNode' && /^\s*(select|with)\b/i.test(query.sql));
      if (reads) return Promise.reject(refuse('read'));
      into.push(query);
      return Promise.resolve({ rows: [] });
    },
    // eslint-disable-next-line require-yield
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw refuse('read');
    },
  };
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: () => Promise.reject(refuse('open a transaction')),
    commitTransaction: () => Promise.reject(refuse('open a transaction')),
    rollbackTransaction: () => Promise.reject(refuse('open a transaction')),
    releaseConnection: async () => undefined,
    destroy: async () => undefined,
  };
  return new Kysely<LedgerDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

interface FastPath {
  statements: SqliteStatements;
  /** Runs synchronous work on the connection when no one else (a transaction) holds it. */
  exclusive<T>(work: () => T): Promise<T>;
}

/** Ids per statement of SqliteStatements.byIds. */
const IDS_PER_STATEMENT = 500;

/**
 * The SQLite ledger's per-record statements (links, journal, failures), prepared once and run
 * synchronously on the ledger's own connection. Through Kysely, every row of every batch was turned into
 * a query tree and compiled again: most of a full migration's time. PostgreSQL keeps the Kysely path,
 * where the round trip, not the building, is the cost.
 */
class SqliteStatements {
  private readonly prepared = new Map<string, SqliteDatabase.Statement>();

  constructor(readonly database: SqliteDatabase.Database) {}

  /**
   * The rows of `sql` (`... where object = ? and <key> in (select value from json_each(?))`) for `ids`, a
   * few hundred ids per statement: one call into SQLite per chunk instead of one per id, which cost
   * about 8x more (a microbenchmark of 100k lookups: 2.5 s against 0.3 s). SQLite still probes the
   * primary key for each id (the plan is `SEARCH ... USING INDEX ... (object=? AND source_id=?)`).
   */
  byIds<Row>(sql: string, object: string, ids: readonly string[]): Row[] {
    const statement = this.prepare(sql);
    const unique = [...new Set(ids)];
    const rows: Row[] = [];
    for (let start = 0; start < unique.length; start += IDS_PER_STATEMENT) {
      rows.push(...(statement.all(object, JSON.stringify(unique.slice(start, start + IDS_PER_STATEMENT))) as Row[]));
    }
    return rows;
  }

  prepare(sql: string): SqliteDatabase.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  /** Runs `work` in one transaction, or inside the one already open on the connection. */
  atomically(work: () => void): void {
    if (this.database.inTransaction) work();
    else this.database.transaction(work)();
  }
}

/**
 * Kysely prepares every query anew; the ledger repeats a handful of statements per page, so preparing
 * each once is a large share of a run's time on SQLite.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDatabase.Database {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property === 'prepare') {
        return (sql: string) => {
          let statement = statements.get(sql);
          if (!statement) {
            if (statements.size >= 1000) statements.clear();
            statement = target.prepare(sql);
            statements.set(sql, statement);
          }
          return statement;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function isStale(holder: string, heartbeatAt: string): boolean {
  const [host, pidText] = holder.split(':');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid)) {
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
  }
  return Date.now() - Date.parse(heartbeatAt) > STALE_AFTER_MS;
}

type RunRow = Selectable<RunsTable>;

function toRun(row: RunRow): Run {
  return {
    id: Number(row.id),
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    dryRun: row.dry_run === 1,
    creates: row.creates === 1,
    updates: row.updates === 1,
    options: JSON.parse(row.options) as Record<string, unknown>,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    highWaterMark: row.high_water_mark,
    parentRunId: row.parent_run_id,
    counts: JSON.parse(row.counts) as Record<string, Counts>,
    error: row.error,
    undoneByRunId: row.undone_by_run_id,
  };
}

type LinkRow = LedgerDatabase['links'];

function toUnit(row: Selectable<UnitsTable>): Unit {
  return {
    runId: row.run_id,
    phase: row.phase,
    object: row.object,
    seq: row.seq,
    cursor: row.cursor,
    nextCursor: row.next_cursor,
    done: row.done === 1,
    counts: JSON.parse(row.counts) as Partial<Counts>,
  };
}

function toLink(row: LinkRow): Link {
  return {
    object: row.object,
    sourceId: row.source_id,
    targetId: row.target_id,
    state: row.state as Link['state'],
    origin: row.origin as LinkOrigin,
    fingerprint: row.fingerprint,
    written: parse<Record<string, unknown>>(row.written),
    runId: Number(row.run_id),
    updatedRunId: row.updated_run_id === null ? null : Number(row.updated_run_id),
    leaderSourceId: row.leader_source_id,
  };
}

function fromLink(link: Link): LinkRow {
  return {
    object: link.object,
    source_id: link.sourceId,
    target_id: link.targetId,
    state: link.state,
    origin: link.origin,
    fingerprint: link.fingerprint,
    written: json(link.written),
    run_id: link.runId,
    updated_run_id: link.updatedRunId,
    leader_source_id: link.leaderSourceId,
  };
}

function toMatchIssue(row: LedgerDatabase['match_issues']): MatchIssue {
  return {
    object: row.object,
    sourceId: row.source_id,
    kind: row.kind as MatchIssue['kind'],
    key: row.key,
    candidates: JSON.parse(row.candidates) as string[],
    runId: Number(row.run_id),
  };
}

type JournalRow = Selectable<JournalTable>;

function toJournalEntry(row: JournalRow): JournalEntry {
  return {
    id: Number(row.id),
    runId: Number(row.run_id),
    object: row.object,
    sourceId: row.source_id,
    targetObject: row.target_object,
    targetId: row.target_id,
    action: row.action as JournalEntry['action'],
    before: parse(row.before),
    after: parse(row.after),
    linkBefore: parse(row.link_before),
    undone: row.undone === 1,
  };
}
