import { FerryError } from '../core/errors.js';
import type { Engine } from '../engine/engine.js';
import type { ConflictPolicy, VerifyIssue, VerifyResult } from '../engine/types.js';
import type { Conflict, Ledger } from '../ledger/index.js';
import { SyncStore, type Sync, type SyncCycleRecord, type SyncMode } from '../ledger/sync.js';
import { MAX_LISTED, runSyncCycle, type CycleOutcome } from './cycle.js';
import { stopRunningSyncs } from './loop.js';
import type { SyncTimer } from './timer.js';

/** A target record people edited since Ferry last wrote it, with the fields they changed. */
export interface TargetEdit {
  object: string;
  sourceId: string;
  targetId: string;
  fields: { field: string; value: unknown; sourceValue: unknown }[];
}

export interface CutoverResult {
  /** Syncs that were running and were asked to stop (their ids). */
  stoppedSyncs: number[];
  /** The last cycle of the newest sync before the final delta (null: this ledger never synced). */
  lastCycle: SyncCycleRecord | null;
  /** The run the final delta picks up from: the newest finished full or delta run before it (a cycle, usually). */
  since: { runId: number; finishedAt: string | null } | null;
  mode: SyncMode;
  /** The final delta. Its counts are the source changes since the last cycle. */
  final: CycleOutcome;
  /** Fields changed on both sides, settled by the conflict policy (the final delta's conflicts). */
  conflicts: Conflict[];
  conflictCount: number;
  /** Target records edited by people since Ferry's last write (kept as they are: verify's `editedInTarget`). */
  targetEdits: TargetEdit[];
  targetEditCount: number;
  verify: VerifyResult;
  /** The final delta had no failed record and verify is clean. */
  ok: boolean;
}

/**
 * `ferry cutover`: stops a running sync (a stop request in the ledger, which the loop reads between
 * cycles; it finishes the cycle it is in), then runs the final delta with the sync's mode and a verify, and
 * says what changed on both sides since the last cycle. Runs alone when no sync is running.
 *
 * "Changed on both sides" uses what the engine already keeps for conflict detection: the source side is
 * what the final delta wrote (fingerprints that changed since the last cycle), the target side is every
 * field whose value differs from what Ferry wrote last (link.written), as verify reports it, plus the
 * final delta's conflicts (fields changed on both sides).
 */
export async function runCutover(
  engine: Engine,
  ledger: Ledger,
  options: { mode?: SyncMode; onConflict: ConflictPolicy; timer?: SyncTimer; pollMs?: number; onWaiting?: (sync: Sync) => void },
): Promise<CutoverResult> {
  const store = new SyncStore(ledger.kysely);
  const stopped = await stopRunningSyncs(store, 'cutover', { timer: options.timer, pollMs: options.pollMs, onWaiting: options.onWaiting });
  const latest = await store.latest();
  const mode = options.mode ?? latest?.mode ?? 'both';
  const previous = [await ledger.lastWindowRun('creates'), await ledger.lastWindowRun('updates')]
    .filter((run) => run !== undefined)
    .sort((a, b) => b.id - a.id)[0];
  const final = await runSyncCycle(engine, ledger, { mode, onConflict: options.onConflict });
  if (final.status === 'failed' || final.status === 'paused') {
    throw new FerryError(
      (final.error?.code as FerryError['code'] | undefined) ?? 'INTERNAL',
      `The final delta of the cut-over did not finish${final.runId !== null ? ` (run ${final.runId})` : ''}: ${final.error?.message ?? 'unknown error'} ` +
        'Fix the cause and run `ferry cutover` again: it resumes the run.',
      { runId: final.runId },
    );
  }
  const conflicts = final.runId === null ? [] : await ledger.listConflicts(final.runId);
  const verify = await engine.verify();
  const edits = new Map<string, TargetEdit>();
  for (const issue of verify.issues.filter((entry: VerifyIssue) => entry.reason === 'edited-in-target')) {
    const key = `${issue.object}\u0000${issue.sourceId}`;
    const edit = edits.get(key) ?? { object: issue.object, sourceId: issue.sourceId, targetId: issue.targetId ?? '', fields: [] };
    edit.fields.push({ field: issue.field ?? '', value: issue.actual, sourceValue: issue.expected });
    edits.set(key, edit);
  }
  return {
    stoppedSyncs: stopped.map((sync) => sync.id),
    lastCycle: latest?.lastCycle ?? null,
    since: previous ? { runId: previous.id, finishedAt: previous.finishedAt } : null,
    mode,
    final,
    conflicts: conflicts.slice(0, MAX_LISTED),
    conflictCount: conflicts.length,
    targetEdits: [...edits.values()].slice(0, MAX_LISTED),
    targetEditCount: edits.size,
    verify,
    ok: verify.ok && final.totals.failed === 0 && final.status === 'completed',
  };
}
