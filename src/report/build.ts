import { addCounts, emptyCounts, type Counts } from '../core/progress.js';
import type { Failure, LedgerStore, MatchIssue, Run, RunKind, RunStatus } from '../ledger/index.js';

/**
 * One record that did not go through (or, in `warnings`, went through with a problem), with the target's
 * reason: a ledger failure row without its storage id. `value` is the offending value as the ledger stored
 * it (already cut short by the engine); `resolvedByRunId` the run that later wrote the record, if any.
 */
export type ReportFailure = Omit<Failure, 'id' | 'severity'>;

/** One field changed on both sides since Ferry last wrote it, and how it was settled. */
export interface ReportConflict {
  object: string;
  sourceId: string;
  targetId: string;
  field: string;
  sourceValue: unknown;
  targetValue: unknown;
  /** What Ferry wrote last time (the common ancestor of both edits). */
  writtenValue: unknown;
  resolution: string;
}

export interface ReportMatchIssue {
  object: string;
  sourceId: string;
  kind: MatchIssue['kind'];
  key: string;
  /** Ambiguous: the candidate target ids. Duplicate: the group's leader source id. */
  candidates: string[];
}

export interface ObjectReport {
  object: string;
  counts: Counts;
  failures: number;
  conflicts: number;
}

/**
 * Everything known about one run, read from the ledger (the one source of truth): the same data behind
 * `ferry report`, the wizard's report page and the summary printed after a run.
 */
export interface RunReport {
  run: {
    id: number;
    kind: RunKind;
    status: RunStatus;
    dryRun: boolean;
    creates: boolean;
    updates: boolean;
    startedAt: string;
    finishedAt: string | null;
    /** Wall-clock seconds between start and finish (null while running). */
    durationSeconds: number | null;
    highWaterMark: string | null;
    parentRunId: number | null;
    undoneByRunId: number | null;
    options: Record<string, unknown>;
    error: string | null;
  };
  /** Per object, in the order the run stored them. */
  objects: ObjectReport[];
  totals: Counts;
  failures: ReportFailure[];
  /** Per code, the distinct records that failed with it (a record with two codes is under both). */
  failuresByCode: Record<string, number>;
  /** Records that were written, with a problem worth knowing (e.g. a reference left out). */
  warnings: ReportFailure[];
  /** Per code, the distinct records written with that warning. */
  warningsByCode: Record<string, number>;
  conflicts: ReportConflict[];
  conflictsByResolution: Record<string, number>;
  /** Ambiguous matches and source duplicates found by this run (match runs, and runs that refresh matching). */
  matchIssues: ReportMatchIssue[];
  /** Failures of earlier runs that no later run has settled: what `ferry retry` would still have to do. */
  outstandingFailures: ReportFailure[];
  /** Distinct records (object + source id) this run recorded a failure for; `failures` has one row per failure. */
  failedRecords: number;
  /** Distinct records this run wrote with a warning. */
  warnedRecords: number;
  /**
   * Open failures when the report was built, from the ledger's one count (LedgerStore.openFailureCounts):
   * distinct records with an unsettled failure of severity error, from any run (`total`, per object), and
   * of them those recorded by runs before this one (`fromEarlierRuns`).
   */
  openFailures: { total: number; byObject: Record<string, number>; fromEarlierRuns: number };
}

const toReportFailure = ({ id: _id, severity: _severity, ...failure }: Failure): ReportFailure => failure;

function durationSeconds(run: Run): number | null {
  if (!run.finishedAt) return null;
  const millis = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return Number.isFinite(millis) ? Math.max(0, millis) / 1000 : null;
}

/** How many distinct records (object + source id) these rows are about. */
function distinctRecords(rows: Pick<ReportFailure, 'object' | 'sourceId'>[]): number {
  return new Set(rows.map((row) => `${row.object}\u0000${row.sourceId}`)).size;
}

/** Per code, how many distinct records have a row of that code (a record failing on two fields counts once). */
function recordsByCode(rows: ReportFailure[]): Record<string, number> {
  const seen = new Set<string>();
  const out: Record<string, number> = {};
  for (const row of rows) {
    const key = `${row.code}\u0000${row.object}\u0000${row.sourceId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out[row.code] = (out[row.code] ?? 0) + 1;
  }
  return out;
}

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[value] = (out[value] ?? 0) + 1;
  return out;
}

/** Reads one run's report from the ledger. Throws RUN_NOT_FOUND for an unknown id. */
export async function buildRunReport(ledger: LedgerStore, runId: number): Promise<RunReport> {
  const run = await ledger.requireRun(runId);
  const [failureRows, conflictRows, issueRows, openRows, open, openBefore] = await Promise.all([
    ledger.listFailures({ runId }),
    ledger.listConflicts(runId),
    ledger.listMatchIssues(),
    ledger.listFailures({ unresolved: true }),
    ledger.openFailureCounts(),
    ledger.openFailureCounts({ beforeRunId: runId }),
  ]);

  const failures = failureRows.filter((failure) => failure.severity === 'error').map(toReportFailure);
  const warnings = failureRows.filter((failure) => failure.severity === 'warning').map(toReportFailure);
  const conflicts: ReportConflict[] = conflictRows.map((conflict) => ({
    object: conflict.object,
    sourceId: conflict.sourceId,
    targetId: conflict.targetId,
    field: conflict.field,
    sourceValue: conflict.sourceValue,
    targetValue: conflict.targetValue,
    writtenValue: conflict.writtenValue,
    resolution: conflict.resolution,
  }));
  const matchIssues: ReportMatchIssue[] = issueRows
    .filter((issue) => issue.runId === runId)
    .map((issue) => ({ object: issue.object, sourceId: issue.sourceId, kind: issue.kind, key: issue.key, candidates: issue.candidates }));
  const outstandingFailures = openRows.filter((failure) => failure.runId < runId && failure.severity === 'error').map(toReportFailure);

  // Objects in the run's own order; objects that only appear in failures or conflicts are added after.
  const objectNames = [...Object.keys(run.counts)];
  for (const name of [...failures.map((failure) => failure.object), ...conflicts.map((conflict) => conflict.object)]) {
    if (!objectNames.includes(name)) objectNames.push(name);
  }
  const failuresPerObject = tally(failures.map((failure) => failure.object));
  const conflictsPerObject = tally(conflicts.map((conflict) => conflict.object));
  const totals = emptyCounts();
  const objects = objectNames.map((object) => {
    // Ledgers written before a counter existed lack it: fill every counter so renderers never see undefined.
    const counts = addCounts(emptyCounts(), run.counts[object] ?? {});
    addCounts(totals, counts);
    return { object, counts, failures: failuresPerObject[object] ?? 0, conflicts: conflictsPerObject[object] ?? 0 };
  });

  return {
    run: {
      id: run.id,
      kind: run.kind,
      status: run.status,
      dryRun: run.dryRun,
      creates: run.creates,
      updates: run.updates,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      durationSeconds: durationSeconds(run),
      highWaterMark: run.highWaterMark,
      parentRunId: run.parentRunId,
      undoneByRunId: run.undoneByRunId,
      options: run.options,
      error: run.error,
    },
    objects,
    totals,
    failures,
    failuresByCode: recordsByCode(failures),
    warnings,
    warningsByCode: recordsByCode(warnings),
    conflicts,
    conflictsByResolution: tally(conflicts.map((conflict) => conflict.resolution)),
    matchIssues,
    outstandingFailures,
    failedRecords: distinctRecords(failures),
    warnedRecords: distinctRecords(warnings),
    openFailures: { ...open, fromEarlierRuns: openBefore.total },
  };
}
