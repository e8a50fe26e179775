import type { Generated } from 'kysely';

/**
 * Ledger tables. JSON values are stored as text on both backends so the two behave the same; instants
 * are ISO UTC strings. `object` is always a mapping's ledger key: the SOURCE object name of the mapping, or the
 * mapping's key under `objects` when several mappings read one source object (project/routing.ts, ledgerKeys).
 * `journal.target_object` is the target object.
 */
export interface RunsTable {
  id: Generated<number>;
  kind: string;
  status: string;
  dry_run: number;
  /** Flags of a delta (or the full migration): whether it created and/or updated. */
  creates: number;
  updates: number;
  options: string;
  started_at: string;
  finished_at: string | null;
  high_water_mark: string | null;
  parent_run_id: number | null;
  counts: string;
  error: string | null;
  undone_by_run_id: number | null;
}

export interface LinksTable {
  object: string;
  source_id: string;
  target_id: string | null;
  /** 'pending' = create intent written, result not yet known; 'linked' = target id known. */
  state: string;
  /** created | matched | manual | merged */
  origin: string;
  fingerprint: string | null;
  /** JSON: target field -> value last written by Ferry (what conflict detection compares against). */
  written: string | null;
  run_id: number;
  updated_run_id: number | null;
  /** For origin 'merged': the source record whose target record this one shares. */
  leader_source_id: string | null;
}

/**
 * Creates sent (or about to be sent) whose outcome is not recorded yet: one row per batch, the batch's
 * source ids as a JSON array. Deleted with the batch's links; a row left by a crash is resolved by
 * external id when its object starts again (writer.ts, resolvePendingCreates).
 */
export interface CreateIntentsTable {
  id: Generated<number>;
  run_id: number;
  object: string;
  /** JSON: the source ids of the batch. */
  source_ids: string;
}

export interface MatchIssuesTable {
  object: string;
  source_id: string;
  /** ambiguous | duplicate */
  kind: string;
  key: string;
  /** JSON: candidate target ids (ambiguous) or the duplicate group's leader source id (duplicate). */
  candidates: string;
  run_id: number;
}

export interface UnitsTable {
  run_id: number;
  phase: string;
  object: string;
  seq: number;
  cursor: string | null;
  next_cursor: string | null;
  done: number;
  counts: string;
}

export interface FailuresTable {
  id: Generated<number>;
  run_id: number;
  object: string;
  source_id: string;
  code: string;
  field: string | null;
  value: string | null;
  message: string;
  resolved_by_run_id: number | null;
  severity: Generated<string>;
}

export interface ConflictsTable {
  id: Generated<number>;
  run_id: number;
  object: string;
  source_id: string;
  target_id: string;
  field: string;
  source_value: string | null;
  target_value: string | null;
  written_value: string | null;
  resolution: string;
}

export interface JournalTable {
  id: Generated<number>;
  run_id: number;
  object: string;
  source_id: string;
  target_object: string;
  target_id: string;
  /** create | update | delete | link */
  action: string;
  /** JSON: target values before the write (update/delete), null for create. */
  before: string | null;
  /** JSON: values written. */
  after: string | null;
  /** JSON: the ledger link row before this write, to restore it on undo (null: there was none). */
  link_before: string | null;
  undone: number;
}

export interface DeferredReferencesTable {
  run_id: number;
  object: string;
  source_id: string;
  field: string;
  value: string;
}

export interface LocksTable {
  name: string;
  run_id: number | null;
  holder: string;
  acquired_at: string;
  heartbeat_at: string;
}

/** One version of one source file of a record, and the target file it became (docs/attachments.md). */
export interface FilesTable {
  object: string;
  source_record_id: string;
  source_file_id: string;
  /** The source's SHA-256 of the file, or `size:<bytes>` when the source has none: a changed file is a new version. */
  version: string;
  name: string;
  /** Unique name the upload carries (connector-specific place), to find a file whose upload answer was lost. */
  stamp: string;
  target_record_id: string;
  /** Null while `pending`. */
  target_file_id: string | null;
  /** pending (intent recorded, upload not known to be done) | uploaded | attached */
  state: string;
  bytes: number | string | null;
  /** SHA-256 of the bytes sent, computed while streaming. */
  sha256: string | null;
  /** The run that uploaded the file (undo of that run deletes it). */
  run_id: number;
}

/**
 * One `ferry sync` (continuous sync until cut-over): its schedule, its last cycle, and the stop request
 * `ferry cutover` or the wizard writes and the loop polls between cycles (src/sync). Cycles themselves are
 * ordinary delta runs in `runs`.
 */
export interface SyncsTable {
  id: Generated<number>;
  started_at: string;
  interval_ms: number;
  /** create-new | update-changed | both */
  mode: string;
  on_conflict: string;
  /** ISO instant of --until, or null (until stopped or cut over). */
  until_at: string | null;
  /** running | stopping | stopped */
  state: string;
  stop_requested: number;
  /** Who asked it to stop, and why: cutover | wizard | signal | until | error. */
  stop_reason: string | null;
  /** host:pid of the process running the loop (in-process scheduling). */
  holder: string;
  heartbeat_at: string;
  cycles: number;
  failed_cycles: number;
  skipped_ticks: number;
  last_run_id: number | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  /** The last cycle's run status, or `failed` when the cycle stopped on an error. */
  last_status: string | null;
  last_created: number;
  last_updated: number;
  last_conflicts: number;
  last_failed: number;
  last_error: string | null;
  next_due_at: string | null;
  stopped_at: string | null;
  /** 1 until the sync stops, then null (a unique index keeps one active sync per ledger). */
  active: number | null;
  /** JSON SyncQueue of a sync the workers keep (`ferry sync --queue`); null: scheduled in its own process. */
  queue: string | null;
}

export interface LedgerDatabase {
  files: FilesTable;
  runs: RunsTable;
  links: LinksTable;
  create_intents: CreateIntentsTable;
  match_issues: MatchIssuesTable;
  units: UnitsTable;
  failures: FailuresTable;
  conflicts: ConflictsTable;
  journal: JournalTable;
  deferred_references: DeferredReferencesTable;
  locks: LocksTable;
  syncs: SyncsTable;
}
