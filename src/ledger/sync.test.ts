import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_BACKENDS } from '../../test/support/databases.js';
import { emptyCounts } from '../core/progress.js';
import type { CycleOutcome } from '../sync/cycle.js';
import { runSyncLoop, stopRunningSyncs } from '../sync/loop.js';
import { VirtualTimer } from '../sync/timer.js';
import { Ledger } from './ledger.js';
import { SyncStore } from './sync.js';


const START = Date.parse('2026-03-02T09:00:00.000Z');
const at = (minutes: number) => new Date(START + minutes * 60_000).toISOString();

/** A cycle's outcome as runSyncCycle gives it, for loops whose cycles the test scripts. */
function outcome(runId: number, created: number): CycleOutcome {
  return { runId, status: 'completed', resumed: false, totals: { ...emptyCounts(), created }, counts: {}, failures: [], failureCount: 0, earlierOpenFailures: 0, error: null, messages: [] };
}

for (const backend of LEDGER_BACKENDS) {
  describe(`the sync table on ${backend.name}`, () => {
    let location: string;
    let cleanup: () => Promise<void>;
    let ledger: Ledger;

    beforeEach(async () => {
      ({ location, cleanup } = await backend.open());
      ledger = await Ledger.open(location);
    });
    afterEach(async () => {
      await ledger.close();
      await cleanup();
    });

    it('keeps a sync, its last cycle, its schedule and a stop request, and reopens with them', async () => {
      const store = new SyncStore(ledger.kysely);
      expect(await store.latest()).toBeUndefined();
      const sync = await store.create({ startedAt: at(0), intervalMs: 300_000, mode: 'both', onConflict: 'source-wins', untilAt: null, holder: 'elsewhere:1' });
      expect(sync).toMatchObject({ state: 'running', stopRequested: false, cycles: 0, lastCycle: null, nextDueAt: at(0), intervalMs: 300_000 });
      await store.recordCycle(sync.id, { runId: 7, startedAt: at(0), finishedAt: at(1), status: 'completed_with_failures', created: 3, updated: 4, conflicts: 1, failed: 2, error: null }, false);
      await store.recordCycle(sync.id, { runId: null, startedAt: at(5), finishedAt: at(5), status: 'failed', created: 0, updated: 0, conflicts: 0, failed: 0, error: 'LEDGER_LOCKED: in use' }, true);
      await store.schedule(sync.id, { nextDueAt: at(10), skippedTicks: 1 });
      expect((await store.active()).map((row) => row.id)).toEqual([sync.id]);
      await store.requestStop(sync.id, 'cutover');

      await ledger.close();
      ledger = await Ledger.open(location);
      const reopened = new SyncStore(ledger.kysely);
      expect(await reopened.get(sync.id)).toMatchObject({
        state: 'stopping',
        stopRequested: true,
        stopReason: 'cutover',
        cycles: 2,
        failedCycles: 1,
        skippedTicks: 1,
        nextDueAt: at(10),
        lastCycle: { runId: null, status: 'failed', error: 'LEDGER_LOCKED: in use', startedAt: at(5) },
      });
      // One sync per ledger: a second one is refused by the ledger itself until the first has stopped.
      await expect(reopened.create({ startedAt: at(6), intervalMs: 1000, mode: 'both', onConflict: 'source-wins', untilAt: null, holder: 'elsewhere:2' })).rejects.toMatchObject({
        code: 'LEDGER_LOCKED',
      });
      await reopened.stopped(sync.id, at(11), 'signal');
      // The stop request's reason is kept.
      expect(await reopened.latest()).toMatchObject({ state: 'stopped', stopReason: 'cutover', stoppedAt: at(11), nextDueAt: null });
      expect(await reopened.active()).toEqual([]);
      expect((await reopened.create({ startedAt: at(12), intervalMs: 1000, mode: 'both', onConflict: 'source-wins', untilAt: null, holder: 'elsewhere:2' })).state).toBe('running');
    });

    it('another connection asks the running loop to stop and waits for it; a second loop is refused while one runs', async () => {
      const timer = new VirtualTimer(START);
      const other = await Ledger.open(location);
      try {
        let cycles = 0;
        let refused: unknown;
        const loop = runSyncLoop({
          store: new SyncStore(ledger.kysely),
          intervalMs: 60_000,
          mode: 'create-new',
          onConflict: 'target-wins',
          timer,
          pollMs: 10_000,
          cycle: async () => {
            cycles += 1;
            if (cycles === 1) {
              refused = await runSyncLoop({ store: new SyncStore(other.kysely), intervalMs: 1000, mode: 'both', onConflict: 'source-wins', timer, cycle: async () => outcome(0, 0) }).catch((error: unknown) => error);
            }
            return outcome(cycles, cycles);
          },
        });
        // Let it run a few cycles, then cut over from the other connection.
        while (cycles < 3) await new Promise((resolve) => setImmediate(resolve));
        const stopped = await stopRunningSyncs(new SyncStore(other.kysely), 'cutover', { timer, pollMs: 10_000 });
        const summary = await loop;
        expect(refused).toMatchObject({ code: 'LEDGER_LOCKED' });
        expect(String((refused as Error).message)).toMatch(/^Sync 1 is already running on this ledger/);
        expect(stopped.map((sync) => [sync.id, sync.state, sync.stopReason])).toEqual([[summary.syncId, 'stopped', 'cutover']]);
        expect(summary).toMatchObject({ reason: 'cutover', failedCycles: 0 });
        const row = (await new SyncStore(other.kysely).get(summary.syncId))!;
        expect(row).toMatchObject({ mode: 'create-new', onConflict: 'target-wins', cycles: summary.cycles, lastCycle: { runId: summary.cycles, created: summary.cycles } });
        // A sync whose process is gone (same host, no such pid) is marked stopped instead of waited for.
        const gone = await new SyncStore(other.kysely).create({ startedAt: at(0), intervalMs: 1000, mode: 'both', onConflict: 'source-wins', untilAt: null, holder: `${(await import('node:os')).hostname()}:999999999` });
        expect(await stopRunningSyncs(new SyncStore(other.kysely), 'cutover', { timer })).toEqual([]);
        expect(await new SyncStore(other.kysely).get(gone.id)).toMatchObject({ state: 'stopped', stopReason: 'process-gone' });
      } finally {
        await other.close();
      }
    });
  });
}
