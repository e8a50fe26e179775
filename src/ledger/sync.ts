import type { Kysely, Selectable } from 'kysely';
import { FerryError } from '../core/errors.js';
import type { LedgerDatabase, SyncsTable } from './schema.js';

export type SyncState = 'running' | 'stopping' | 'stopped';
export type SyncMode = 'create-new' | 'update-changed' | 'both';
export const SYNC_MODES: readonly SyncMode[] = ['create-new', 'update-changed', 'both'];

/** The last cycle of a sync, as the ledger keeps it. */
export interface SyncCycleRecord {
  runId: number | null;
  startedAt: string;
  finishedAt: string;
  /** The delta run's status, or `failed` when the cycle stopped on an error (it is retried on the next tick). */
  status: string;
  created: number;
  updated: number;
  conflicts: number;
  failed: number;
  error: string | null;
}

/**
 * A sync whose schedule the workers keep (`ferry sync --queue`): any `ferry worker` takes it over when the
 * process keeping it is gone. Its cycles are queued deltas; `cycle` is the one queued and not yet recorded
 * (a keeper that died while waiting for it leaves it for the next keeper to wait for). Never a secret.
 */
export interface SyncQueue {
  unitTimeout?: number;
  partSize?: number;
  /** The queued delta of the cycle in flight: its run job's id and payload (the payload tells its run apart). */
  cycle?: { jobId: string; job: Record<string, unknown> } | null;
}

/** The holder of a sync its keeper let go of (a worker that stopped): any worker takes it over at once. */
export const RELEASED_HOLDER = 'released:0';

/** One `ferry sync` loop (a row of `syncs`). Times are ISO UTC. */
export interface Sync {
  id: number;
  startedAt: string;
  intervalMs: number;
  mode: SyncMode;
  onConflict: string;
  untilAt: string | null;
  state: SyncState;
  stopRequested: boolean;
  stopReason: string | null;
  holder: string;
  heartbeatAt: string;
  cycles: number;
  failedCycles: number;
  skippedTicks: number;
  lastCycle: SyncCycleRecord | null;
  nextDueAt: string | null;
  stoppedAt: string | null;
  /** Set for a sync the workers keep (`ferry sync --queue`); null: scheduled by its own process only. */
  queue: SyncQueue | null;
}

/**
 * The sync table's queries. Kept apart from LedgerStore: a sync is scheduling state around runs, not run
 * state, and its rows are written by the loop (in-process today, a queue scheduler later) and by whoever
 * asks it to stop (`ferry cutover`, the wizard) from another process.
 */
export class SyncStore {
  constructor(private readonly db: Kysely<LedgerDatabase>) {}

  /** A new running sync; LEDGER_LOCKED when another sync of this ledger has not stopped. */
  async create(input: { startedAt: string; intervalMs: number; mode: SyncMode; onConflict: string; untilAt: string | null; holder: string; heartbeatAt?: string; queue?: SyncQueue }): Promise<Sync> {
    const row = await this.db
      .insertInto('syncs')
      .values({
        started_at: input.startedAt,
        interval_ms: input.intervalMs,
        mode: input.mode,
        on_conflict: input.onConflict,
        until_at: input.untilAt,
        state: 'running',
        stop_requested: 0,
        holder: input.holder,
        heartbeat_at: input.heartbeatAt ?? input.startedAt,
        queue: input.queue ? JSON.stringify(input.queue) : null,
        cycles: 0,
        failed_cycles: 0,
        skipped_ticks: 0,
        last_created: 0,
        last_updated: 0,
        last_conflicts: 0,
        last_failed: 0,
        next_due_at: input.startedAt,
        active: 1,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        const text = `${(error as { code?: unknown }).code ?? ''} ${error instanceof Error ? error.message : String(error)}`;
        if (/23505|UNIQUE constraint failed/i.test(text)) {
          throw new FerryError('LEDGER_LOCKED', 'Another sync is running on this ledger (it started at the same moment): stop it first (`ferry cutover`).');
        }
        throw error;
      });
    return toSync(row);
  }

  async get(id: number): Promise<Sync | undefined> {
    const row = await this.db.selectFrom('syncs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSync(row) : undefined;
  }

  /** The newest sync (any state), or undefined when this ledger never synced. */
  async latest(): Promise<Sync | undefined> {
    const row = await this.db.selectFrom('syncs').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? toSync(row) : undefined;
  }

  /** Syncs not stopped yet (running or stopping), oldest first. */
  async active(): Promise<Sync[]> {
    const rows = await this.db.selectFrom('syncs').selectAll().where('state', 'in', ['running', 'stopping']).orderBy('id', 'asc').execute();
    return rows.map(toSync);
  }

  async heartbeat(id: number, at: string): Promise<void> {
    await this.db.updateTable('syncs').set({ heartbeat_at: at }).where('id', '=', id).execute();
  }

  /**
   * Takes over a sync the workers keep from a keeper that is gone: only if the row still names the holder and
   * heartbeat the caller saw (two workers trying at once: one wins). True when this caller keeps it now.
   */
  async claim(sync: Pick<Sync, 'id' | 'holder' | 'heartbeatAt'>, holder: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('syncs')
      .set({ holder, heartbeat_at: at })
      .where('id', '=', sync.id)
      .where('holder', '=', sync.holder)
      .where('heartbeat_at', '=', sync.heartbeatAt)
      .where('state', 'in', ['running', 'stopping'])
      .where('queue', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A keeper lets go of a sync the workers keep (it is stopping, the sync is not): another takes it at once. */
  async release(id: number, holder: string): Promise<void> {
    await this.db.updateTable('syncs').set({ holder: RELEASED_HOLDER, heartbeat_at: new Date(0).toISOString() }).where('id', '=', id).where('holder', '=', holder).execute();
  }

  /** The queued cycle in flight (null: none) of a sync the workers keep. */
  async setQueuedCycle(id: number, cycle: SyncQueue['cycle']): Promise<void> {
    const current = await this.get(id);
    if (!current?.queue) return;
    await this.db
      .updateTable('syncs')
      .set({ queue: JSON.stringify({ ...current.queue, cycle: cycle ?? null }) })
      .where('id', '=', id)
      .execute();
  }

  /** Asks the loop to stop after its current cycle; it polls this between cycles. */
  async requestStop(id: number, reason: string): Promise<void> {
    await this.db
      .updateTable('syncs')
      .set({ stop_requested: 1, stop_reason: reason, state: 'stopping' })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .execute();
  }

  async recordCycle(id: number, cycle: SyncCycleRecord, failed: boolean): Promise<void> {
    const current = await this.get(id);
    if (!current) return;
    await this.db
      .updateTable('syncs')
      .set({
        cycles: current.cycles + 1,
        failed_cycles: current.failedCycles + (failed ? 1 : 0),
        last_run_id: cycle.runId,
        last_started_at: cycle.startedAt,
        last_finished_at: cycle.finishedAt,
        last_status: cycle.status,
        last_created: cycle.created,
        last_updated: cycle.updated,
        last_conflicts: cycle.conflicts,
        last_failed: cycle.failed,
        last_error: cycle.error,
        heartbeat_at: cycle.finishedAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async schedule(id: number, patch: { nextDueAt: string | null; skippedTicks: number }): Promise<void> {
    await this.db.updateTable('syncs').set({ next_due_at: patch.nextDueAt, skipped_ticks: patch.skippedTicks }).where('id', '=', id).execute();
  }

  /** Marks the sync stopped; `reason` is kept when a stop request already gave one. */
  async stopped(id: number, at: string, reason: string): Promise<void> {
    const current = await this.get(id);
    await this.db
      .updateTable('syncs')
      .set({ state: 'stopped', stopped_at: at, next_due_at: null, stop_reason: current?.stopReason ?? reason, active: null })
      .where('id', '=', id)
      .execute();
  }
}

function toSync(row: Selectable<SyncsTable>): Sync {
  return {
    id: Number(row.id),
    startedAt: row.started_at,
    intervalMs: Number(row.interval_ms),
    mode: row.mode as SyncMode,
    onConflict: row.on_conflict,
    untilAt: row.until_at,
    state: row.state as SyncState,
    stopRequested: Number(row.stop_requested) === 1,
    stopReason: row.stop_reason,
    holder: row.holder,
    heartbeatAt: row.heartbeat_at,
    cycles: Number(row.cycles),
    failedCycles: Number(row.failed_cycles),
    skippedTicks: Number(row.skipped_ticks),
    lastCycle:
      row.last_started_at === null
        ? null
        : {
            runId: row.last_run_id === null ? null : Number(row.last_run_id),
            startedAt: row.last_started_at,
            finishedAt: row.last_finished_at ?? row.last_started_at,
            status: row.last_status ?? 'unknown',
            created: Number(row.last_created),
            updated: Number(row.last_updated),
            conflicts: Number(row.last_conflicts),
            failed: Number(row.last_failed),
            error: row.last_error,
          },
    nextDueAt: row.next_due_at,
    stoppedAt: row.stopped_at,
    queue: row.queue ? (JSON.parse(row.queue) as SyncQueue) : null,
  };
}
