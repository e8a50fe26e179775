import type PgBoss from 'pg-boss';
import { toFerryError } from '../core/errors.js';
import type { ConflictPolicy, RunResult } from '../engine/types.js';
import type { Ledger } from '../ledger/index.js';
import type { Sync, SyncStore } from '../ledger/sync.js';
import type { RunJob } from '../workers/queue.js';
import { enqueueQueued, waitQueued } from './queued-run.js';

/**
 * The delta of one cycle of a sync the workers keep (`ferry sync --queue`): queued like `ferry delta --queue`,
 * written by the worker fleet in parts, waited for. The job is noted in the sync's row before the wait, so a
 * keeper that dies (or a worker that lets go of the sync) leaves it to the next keeper, which waits for that
 * same job instead of queuing a second delta; the note is cleared once the cycle's outcome is known.
 */
export function queuedCycleDelta(options: {
  ledger: Ledger;
  boss: PgBoss;
  location: string;
  store: SyncStore;
  /** The sync whose cycle this is (its queue settings: unit timeout, part size). */
  sync: Sync;
  say?: (line: string) => void;
}): (delta: { createNew: boolean; updateChanged: boolean; onConflict: ConflictPolicy; signal?: AbortSignal }) => Promise<RunResult> {
  const { ledger, boss, location, store } = options;
  const syncId = options.sync.id;
  const queue = options.sync.queue ?? {};
  return async (delta) => {
    const pending = (await store.get(syncId))?.queue?.cycle ?? null;
    let jobId: string;
    let full: RunJob;
    if (pending) {
      jobId = pending.jobId;
      full = pending.job as unknown as RunJob;
      options.say?.(`Cycle: waiting for job ${jobId}, queued by the sync's previous keeper.`);
    } else {
      const job = { command: 'delta' as const, createNew: delta.createNew, updateChanged: delta.updateChanged, onConflict: delta.onConflict, noMatch: false, scanAll: false };
      const flags = { ...(queue.unitTimeout !== undefined ? { unitTimeout: queue.unitTimeout } : {}), ...(queue.partSize !== undefined ? { partSize: queue.partSize } : {}) };
      ({ jobId, full } = await enqueueQueued(ledger, boss, job, flags));
      await store.setQueuedCycle(syncId, { jobId, job: full as unknown as Record<string, unknown> });
      options.say?.(`Cycle queued as job ${jobId}.`);
    }
    try {
      const result = await waitQueued(ledger, boss, location, jobId, full, () => undefined, delta.signal);
      await store.setQueuedCycle(syncId, null);
      return result;
    } catch (error) {
      // Stopped waiting (this keeper stops): the job goes on, and stays noted for the next keeper. Any other
      // end (the run failed, the job is gone): the cycle is over, and the next tick queues a new delta.
      if (!(delta.signal?.aborted && toFerryError(error).code === 'RUN_PAUSED')) await store.setQueuedCycle(syncId, null);
      throw error;
    }
  };
}
