import { addCounts, emptyCounts, type Counts } from '../core/progress.js';
import { toFerryError } from '../core/errors.js';
import type { Engine } from '../engine/engine.js';
import type { ConflictPolicy, RunResult } from '../engine/types.js';
import type { Failure, Ledger } from '../ledger/index.js';
import type { SyncMode } from '../ledger/sync.js';

/** A per-record failure of a cycle's run, as the cycle's summary lists it (record, field, value, why). */
export type CycleFailure = Omit<Failure, 'id' | 'severity'>;

/** What one sync cycle did: an ordinary delta run, or the error that stopped it. */
export interface CycleOutcome {
  /** The delta run (null when the cycle failed before it had one, e.g. the ledger was in use). */
  runId: number | null;
  /** The run's status; `failed`: an error stopped it (it is resumed on the next tick); `paused`: stopped on request. */
  status: RunResult['status'] | 'failed' | 'paused';
  resumed: boolean;
  /** Totals over every object. */
  totals: Counts;
  counts: Record<string, Counts>;
  /** Per-record failures of the run (the first MAX_LISTED), and how many there are. */
  failures: CycleFailure[];
  failureCount: number;
  /**
   * Records that failed in earlier runs, did not fail again in this one, and are still not migrated: a
   * delta re-reads only what the source changed again, so these wait for `ferry retry` (or a source edit).
   */
  earlierOpenFailures: number;
  error: { code: string; message: string } | null;
  messages: string[];
}

export const MAX_LISTED = 20;

export interface CycleOptions {
  mode: SyncMode;
  onConflict: ConflictPolicy;
  signal?: AbortSignal;
  /** Runs the cycle's delta; default the engine in this process. `ferry sync --queue`: a queued delta, waited for. */
  delta?: (options: { createNew: boolean; updateChanged: boolean; onConflict: ConflictPolicy; signal?: AbortSignal }) => Promise<RunResult>;
}

export function modeFlags(mode: SyncMode): { createNew: boolean; updateChanged: boolean } {
  return { createNew: mode !== 'update-changed', updateChanged: mode !== 'create-new' };
}

/**
 * One cycle of a sync: the delta `ferry delta` runs, with the sync's mode and conflict policy. This is the
 * unit a scheduler drives: the in-process loop (runSyncLoop) calls it on every tick, and a queue-based
 * scheduler can call the same function from a worker's job. A cycle that an error stopped leaves its
 * delta run `interrupted`, so the next cycle (same flags) resumes it where it stopped.
 */
export async function runSyncCycle(engine: Engine, ledger: Ledger, options: CycleOptions): Promise<CycleOutcome> {
  const flags = modeFlags(options.mode);
  try {
    const delta = options.delta ?? ((deltaOptions) => engine.delta(deltaOptions));
    const result = await delta({ ...flags, onConflict: options.onConflict, ...(options.signal ? { signal: options.signal } : {}) });
    return await outcomeOf(ledger, result.runId, result.status, result.resumed, result.counts, null, result.messages);
  } catch (thrown) {
    const error = toFerryError(thrown);
    // The run the error stopped, if it got that far: the newest unfinished delta with the cycle's flags.
    const unfinished = (await ledger.unfinishedRuns().catch(() => [])).filter(
      (run) => run.kind === 'delta' && run.options.createNew === flags.createNew && run.options.updateChanged === flags.updateChanged,
    );
    const run = unfinished[unfinished.length - 1];
    const status = error.code === 'RUN_PAUSED' ? 'paused' : 'failed';
    return await outcomeOf(ledger, run?.id ?? null, status, false, run?.counts ?? {}, { code: error.code, message: error.message }, []);
  }
}

async function outcomeOf(
  ledger: Ledger,
  runId: number | null,
  status: CycleOutcome['status'],
  resumed: boolean,
  counts: Record<string, Counts>,
  error: CycleOutcome['error'],
  messages: string[],
): Promise<CycleOutcome> {
  const totals = emptyCounts();
  for (const count of Object.values(counts)) addCounts(totals, count);
  const failures = runId === null ? [] : (await ledger.listFailures({ runId, severity: 'error' }).catch(() => [])).filter((failure) => failure.resolvedByRunId === null);
  return {
    runId,
    status,
    resumed,
    totals,
    counts,
    failures: failures.slice(0, MAX_LISTED).map(({ id: _id, severity: _severity, ...failure }) => failure),
    failureCount: failures.length,
    earlierOpenFailures: await earlierOpenFailures(ledger, runId),
    error,
    messages,
  };
}

async function earlierOpenFailures(ledger: Ledger, runId: number | null): Promise<number> {
  try {
    const all = await ledger.openFailureCounts();
    const mine = runId === null ? 0 : (await ledger.openFailureCounts({ runId })).total;
    return all.total - mine;
  } catch {
    return 0;
  }
}
