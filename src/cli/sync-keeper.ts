import type { Command } from 'commander';
import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import { toFerryError } from '../core/errors.js';
import type { ConflictPolicy } from '../engine/types.js';
import { SyncStore, type Sync } from '../ledger/sync.js';
import { runSyncCycle } from '../sync/cycle.js';
import { runSyncLoop, staleAfterMs, syncAlive } from '../sync/loop.js';
import { formatDuration } from '../sync/timer.js';
import { projectOptions, type CommandContext } from './context.js';
import { withLedger, withProject } from './open-project.js';
import { queuedCycleDelta } from './queued-cycle.js';

/**
 * The part of `ferry worker` that keeps the schedules of syncs the workers keep (`ferry sync --queue`):
 * every few seconds it looks for such a sync whose keeper is gone (its process ended on this host, or its
 * heartbeat is older than the stale time elsewhere; `--detach` starts one with no keeper) and takes it over
 * with a conditional update of the sync's row, so of several workers trying at once one wins. It then runs the
 * sync's loop here, from the row's next tick, with queued cycles; when the worker stops it lets go of the
 * sync (the next worker takes it at once) instead of stopping it. docs/workers.md, "Continuous sync".
 */
export function startSyncKeeper(options: { context: CommandContext; command: Command; boss: PgBoss; location: string; stop: AbortSignal }): { close: () => Promise<void> } {
  const { context, command, boss, location, stop } = options;
  const holder = `${hostname()}:${process.pid}`;
  const say = (line: string) => context.out.line(`worker ${holder}: ${line}`);
  let keeping: Promise<void> | undefined;
  const look = () => {
    if (keeping || stop.aborted) return;
    keeping = keepOne()
      .catch((error: unknown) => say(`keeping a sync: ${toFerryError(error).message}`))
      .finally(() => {
        keeping = undefined;
      });
  };
  const timer = setInterval(look, Math.max(250, Math.min(5_000, Math.floor(staleAfterMs() / 4))));
  timer.unref();
  look();

  async function keepOne(): Promise<void> {
    const taken = await withLedger(projectOptions(context, command), async (ledger) => {
      const store = new SyncStore(ledger.kysely);
      for (const sync of await store.active()) {
        if (!sync.queue || syncAlive(sync)) continue;
        if (await store.claim(sync, holder, new Date().toISOString())) return store.get(sync.id);
      }
      return undefined;
    });
    if (!taken || stop.aborted) {
      if (taken) await withLedger(projectOptions(context, command), (ledger) => new SyncStore(ledger.kysely).release(taken.id, holder));
      return;
    }
    say(`took over the schedule of sync ${taken.id} (every ${formatDuration(taken.intervalMs)}, ${taken.mode}; ${taken.cycles} cycle(s) so far, kept before by ${taken.holder === holder ? 'nobody' : 'a process that is gone'}).`);
    await withProject(projectOptions(context, command), async (project) => {
      const store = new SyncStore(project.ledger.kysely);
      await runSyncLoop({
        store,
        adopt: taken,
        intervalMs: taken.intervalMs,
        mode: taken.mode,
        onConflict: taken.onConflict,
        ...(taken.untilAt ? { untilMs: Date.parse(taken.untilAt) } : {}),
        signal: stop,
        onSignal: 'release',
        cycle: (signal, sync: Sync) =>
          runSyncCycle(project.engine, project.ledger, {
            mode: sync.mode,
            onConflict: sync.onConflict as ConflictPolicy,
            signal,
            delta: queuedCycleDelta({ ledger: project.ledger, boss, location, store, sync, say }),
          }),
        onEvent: (event) => {
          if (event.type === 'cycle-finished') {
            const { outcome } = event;
            say(`sync ${taken.id} cycle ${event.cycle}${outcome.runId === null ? '' : ` (run ${outcome.runId})`}: ${outcome.status}${outcome.error ? ` ${outcome.error.code}: ${outcome.error.message}` : ''}; next at ${event.nextDueAt}.`);
          } else if (event.type === 'stopped') say(event.reason === 'released' ? `let go of sync ${taken.id}: another worker takes it over.` : `sync ${taken.id} stopped (${event.reason}).`);
        },
      });
    });
  }

  return {
    close: async () => {
      clearInterval(timer);
      await keeping;
    },
  };
}
