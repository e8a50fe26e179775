import type { Connector } from '../core/connector.js';
import type { Counts, ProgressStream } from '../core/progress.js';
import type { SchemaDescription } from '../core/schema.js';
import type { Ledger, RunKind, RunStatus } from '../ledger/index.js';
import type { ProjectFile } from '../project/types.js';

export type ConflictPolicy = 'source-wins' | 'target-wins' | 'skip-record';
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = ['source-wins', 'target-wins', 'skip-record'];

/** Everything a run needs. The engine gets connectors already built: it never knows which vendor. */
export interface EngineContext {
  project: ProjectFile;
  source: Connector;
  target: Connector;
  ledger: Ledger;
  progress: ProgressStream;
  /** Schemas, read once per engine (describe() can be slow on APIs). */
  sourceSchema?: SchemaDescription;
  targetSchema?: SchemaDescription;
}

export interface CommonRunOptions {
  dryRun?: boolean;
  /** Abandon an unfinished run of this command instead of resuming it. */
  restart?: boolean;
  /**
   * Pauses the run: once aborted, the run stops at its next checkpoint (after the page being written is
   * recorded), ends `interrupted` with code RUN_PAUSED, and the same command resumes it.
   */
  signal?: AbortSignal;
}

export interface MigrateOptions extends CommonRunOptions {
  /** Delete what earlier runs created (never matched records) and migrate everything again. */
  rerun?: boolean;
  /** Skip the refresh matching that precedes the run. */
  noMatch?: boolean;
}

export interface DeltaOptions extends CommonRunOptions {
  createNew: boolean;
  updateChanged: boolean;
  onConflict?: ConflictPolicy;
  noMatch?: boolean;
  /**
   * Read every source record of every object (no modified-since window, refresh matching included), for
   * changes that do not move a record's modified timestamp (a join-table row, a parent nulled by ON DELETE
   * SET NULL). Only records whose fingerprint differs are written. A resumed delta keeps the scope it
   * started with.
   */
  scanAll?: boolean;
}

export interface DemoOptions extends CommonRunOptions {
  sampleSize?: number;
}

/** What `migrate --rerun` will do with one object's records that earlier runs created. */
export interface RerunObjectPreview {
  /** Deleted from the target (and created again by the rerun). */
  delete: number;
  /** Kept and updated instead: still referenced by records Ferry did not create (matched or linked by hand). */
  keep: number;
}

/** A dry run's forecast of the work. */
export interface Estimate {
  apiCalls: number;
  /** Seconds the writes would take, from the target's pacing or the latency measured while reading. */
  seconds: number;
  /**
   * The run's cost of a vendor's daily request budget (Pipedrive tokens), when source or target has one:
   * what the dry run's reads spent plus what the writes it forecast would spend, and what is left today.
   */
  cost?: { unit: string; amount: number; remaining?: number };
}

export interface RunResult {
  runId: number;
  kind: RunKind;
  status: RunStatus;
  dryRun: boolean;
  /** True when this call resumed an unfinished run instead of starting one. */
  resumed: boolean;
  counts: Record<string, Counts>;
  estimate?: Estimate;
  /** Things worth telling the user (outstanding failures, source deletions seen, ...). */
  messages: string[];
}

export interface VerifyIssue {
  object: string;
  sourceId: string;
  targetId?: string;
  kind: 'missing-in-target' | 'not-migrated' | 'field-mismatch' | 'broken-reference' | 'file-missing' | 'file-not-attached' | 'file-mismatch';
  field?: string;
  expected?: unknown;
  actual?: unknown;
  /**
   * For field mismatches: why they differ, when the ledger can tell. For files: `deleted-in-target` (the
   * target file is gone), `detached` (no longer among the record's attachments), `size-differs` or
   * `sha256-differs` (expected: what Ferry copied, actual: what the target has).
   */
  reason?: 'source-changed-since-last-run' | 'edited-in-target' | 'unknown' | 'deleted-in-target' | 'detached' | 'size-differs' | 'sha256-differs';
  /** For files: the file's name and its id in the target. */
  file?: string;
  fileId?: string;
}

/**
 * Per object, every finding counted: `checked` records with a target record to compare, `missing` of them
 * gone from the target, `mismatched` fields whose value differs, `brokenReferences` reference fields pointing
 * at the wrong record, `notMigrated` source records without a target record, `editedInTarget` fields people
 * changed in the target since Ferry wrote them (kept on purpose: no problem, `ok` stays true). Each count
 * is one entry of `issues` (a field, a record for missing / not migrated, a file for the file counts), which lists the first 1,000,
 * problems first.
 */
export interface VerifyObjectCounts {
  checked: number;
  missing: number;
  mismatched: number;
  brokenReferences: number;
  notMigrated: number;
  editedInTarget: number;
  /**
   * Copied files (every version the ledger holds as uploaded or attached) checked against the target:
   * gone from it, no longer attached to their record, or with another size / SHA-256 than Ferry copied.
   */
  filesChecked: number;
  filesMissing: number;
  filesUnattached: number;
  filesMismatched: number;
}

/** Verify's figures of an object before it is checked (also the start of the CLI's totals). */
export function emptyVerifyCounts(): VerifyObjectCounts {
  return { checked: 0, missing: 0, mismatched: 0, brokenReferences: 0, notMigrated: 0, editedInTarget: 0, filesChecked: 0, filesMissing: 0, filesUnattached: 0, filesMismatched: 0 };
}

export interface VerifyResult {
  objects: Record<string, VerifyObjectCounts>;
  issues: VerifyIssue[];
  ok: boolean;
}

/**
 * The note a delta ends with, and the CLI's summary line, when records have open failures: one wording
 * and one figure (LedgerStore.openFailureCounts, distinct records) wherever open failures are shown.
 */
export function openFailuresNote(records: number): string {
  const many = records !== 1;
  return `${records} record${many ? 's' : ''} failed in this or earlier runs and ${many ? 'are' : 'is'} not migrated: see \`ferry report\` and \`ferry retry <run>\`.`;
}
