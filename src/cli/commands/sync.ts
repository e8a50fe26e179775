import { InvalidArgumentError, Option, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { CONFLICT_POLICIES, type ConflictPolicy } from '../../engine/types.js';
import { SYNC_MODES, SyncStore, type Sync, type SyncMode, type SyncQueue } from '../../ledger/sync.js';
import { formatNumber, formatValue, shorten } from '../../report/index.js';
import type { CycleOutcome } from '../../sync/cycle.js';
import { formatDuration, parseDuration } from '../../sync/timer.js';
import { positiveInteger, projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../io.js';
import { withLedger, withProject, type OpenProject } from '../open-project.js';
import { failureLine } from '../summary.js';
import { withGracefulStop } from '../signals.js';

function duration(what: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new InvalidArgumentError(`${what} must be a duration such as 30s, 5m or 1h, got "${value}".`);
    return ms;
  };
}

function instant(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) {
    throw new InvalidArgumentError(`--until must be an ISO instant with a zone (e.g. 2026-03-02T18:00:00Z), got "${value}".`);
  }
  return ms;
}

/** The conflict policy: --on-conflict, else the project's options.onConflict, else source-wins. */
function conflictPolicy(project: OpenProject, flag: ConflictPolicy | undefined): ConflictPolicy {
  return flag ?? project.project.options.onConflict ?? 'source-wins';
}

/** `created 4, updated 7, conflicts 1, failed 0` of a cycle. */
function cycleCounts(counts: { created: number; updated: number; conflicts: number; failed: number }): string {
  return `created ${formatNumber(counts.created)}, updated ${formatNumber(counts.updated)}, conflicts ${formatNumber(counts.conflicts)}, failed ${formatNumber(counts.failed)}`;
}

function printCycle(out: Output, cycle: number, outcome: CycleOutcome, nextDueAt: string, skipped: number): void {
  const run = outcome.runId === null ? '' : ` (run ${outcome.runId}${outcome.resumed ? ', resumed' : ''})`;
  if (outcome.status === 'failed') {
    out.line(`Cycle ${cycle}${run} failed: ${outcome.error?.code}: ${outcome.error?.message}`);
    out.line(`  It is retried on the next tick (${nextDueAt}).`);
  } else if (outcome.status === 'paused') {
    out.line(`Cycle ${cycle}${run} paused after its current page; \`ferry sync\` (or \`ferry cutover\`) resumes it.`);
  } else {
    out.line(`Cycle ${cycle}${run}: ${cycleCounts(outcome.totals)}. Next at ${nextDueAt}.`);
  }
  if (skipped > 0) out.line(`  The cycle outlasted the interval: ${skipped} tick${skipped === 1 ? '' : 's'} skipped (never run twice at once).`);
  for (const failure of outcome.failures) out.line(`  failed: ${failureLine(failure)}`);
  if (outcome.failureCount > outcome.failures.length) out.line(`  ... and ${formatNumber(outcome.failureCount - outcome.failures.length)} more: \`ferry report ${outcome.runId}\`.`);
  const earlier = outcome.earlierOpenFailures;
  if (earlier > 0) {
    out.line(`  ${formatNumber(earlier)} record${earlier === 1 ? '' : 's'} failed in earlier runs and ${earlier === 1 ? 'is' : 'are'} still not migrated: \`ferry runs\` lists them, \`ferry retry <run>\` re-attempts them.`);
  }
}

export function syncJson(sync: Sync | undefined): Record<string, unknown> | null {
  if (!sync) return null;
  return { ...sync, interval: formatDuration(sync.intervalMs) };
}

function printStatus(out: Output, sync: Sync | undefined, alive: boolean): void {
  if (!sync) {
    out.line('No sync has run on this ledger. `ferry sync --every 5m` starts one.');
    return;
  }
  const state =
    sync.state === 'stopped'
      ? sync.state
      : sync.queue
        ? `${sync.state}, kept by the workers (${alive ? `now by ${sync.holder}` : 'waiting for a `ferry worker` to take the schedule over'})`
        : alive
          ? sync.state
          : `${sync.state} (its process is gone: it stopped without saying so)`;
  out.line(`Sync ${sync.id}: ${state}, every ${formatDuration(sync.intervalMs)}, mode ${sync.mode}, on conflict ${sync.onConflict}; started ${sync.startedAt}.`);
  out.line(`Cycles: ${formatNumber(sync.cycles)} (${formatNumber(sync.failedCycles)} failed), ticks skipped: ${formatNumber(sync.skippedTicks)}.`);
  if (sync.lastCycle) {
    const last = sync.lastCycle;
    out.line(`Last cycle: run ${last.runId ?? '-'}, ${last.startedAt} -> ${last.finishedAt}, ${last.status}: ${cycleCounts(last)}.`);
    if (last.error) out.line(`  Error: ${last.error}`);
  }
  if (sync.state === 'stopped') out.line(`Stopped ${sync.stoppedAt ?? ''} (${sync.stopReason ?? 'unknown'}).`);
  else {
    out.line(`Next cycle: ${sync.nextDueAt ?? 'now'}.`);
    if (sync.stopRequested) out.line(`Stop requested (${sync.stopReason}): it stops after the current cycle.`);
  }
}

/**
 * `ferry sync --queue`: the schedule (ticks, back-pressure, stop requests, the syncs row) is kept by this
 * process while it runs, and by any `ferry worker` once it is gone (or at once with --detach); each cycle's
 * delta is queued like `ferry delta --queue` and carried by the workers in parts (queued-cycle.ts).
 */
async function openCycleQueue(context: CommandContext, command: Command) {
  const { ledgerLocation } = await import('../open-project.js');
  const { openQueue, requirePostgres } = await import('../../workers/queue.js');
  const { queuedCycleDelta } = await import('../queued-cycle.js');
  const { location } = await ledgerLocation(projectOptions(context, command));
  requirePostgres(location, 'ferry sync --queue');
  const boss = await openQueue(location, { supervise: false });
  return {
    delta: (project: OpenProject, store: SyncStore, sync: Sync) =>
      queuedCycleDelta({ ledger: project.ledger, boss, location, store, sync, say: (line) => context.out.line(line) }),
    close: () => boss.stop({ graceful: false, wait: true }),
  };
}

export function registerSyncCommands(program: Command, context: CommandContext): void {
  program
    .command('sync')
    .description('continuous sync until cut-over: a delta (create-new + update-changed) on every tick, until stopped')
    .option('--every <duration>', 'interval between cycles: 30s, 5m, 1h', duration('--every'))
    .option('--until <time>', 'start no cycle after this ISO instant', instant)
    .option('--until-cutover', 'run until `ferry cutover` (or Ctrl-C) stops it (the default)')
    .addOption(new Option('--mode <mode>', 'what each cycle brings over').choices(SYNC_MODES).default('both'))
    .addOption(new Option('--on-conflict <policy>', "a field changed on both sides: who wins (default: the project's options.onConflict, else source-wins)").choices(CONFLICT_POLICIES))
    .option('--status', 'print the state of the latest sync and exit')
    .option('--queue', 'each cycle is a queued delta that `ferry worker` processes carry (ledger on PostgreSQL); this process keeps the schedule, and a worker takes it over if this process is gone')
    .option('--detach', 'with --queue: leave the schedule to the workers from the first tick and return at once')
    .option('--unit-timeout <seconds>', 'with --queue: the unit timeout of each cycle\'s parts (see `ferry migrate --help`)', positiveInteger('--unit-timeout'))
    .option('--part-size <records>', 'with --queue: records per id-range part of each cycle', positiveInteger('--part-size'))
    .action(
      async (
        options: { every?: number; until?: number; untilCutover?: boolean; mode: SyncMode; onConflict?: ConflictPolicy; status?: boolean; queue?: boolean; detach?: boolean; unitTimeout?: number; partSize?: number },
        command: Command,
      ) => {
        if (options.status) {
          const { syncAlive } = await import('../../sync/loop.js');
          context.finish(
            await withLedger(projectOptions(context, command), async (ledger) => {
              const store = new SyncStore(ledger.kysely);
              const sync = await store.latest();
              const alive = sync ? syncAlive(sync) : false;
              printStatus(context.out, sync, alive);
              return { exitCode: EXIT.ok, json: { command: 'sync', status: syncJson(sync), alive } };
            }),
          );
          return;
        }
        if (options.every === undefined) throw new FerryError('USAGE', 'ferry sync needs --every <duration> (e.g. `ferry sync --every 5m`), or --status.');
        if (options.until !== undefined && options.untilCutover) throw new FerryError('USAGE', '--until and --until-cutover are two ways to end a sync: give one.');
        if (!options.queue && (options.unitTimeout !== undefined || options.partSize !== undefined || options.detach)) throw new FerryError('USAGE', '--detach, --unit-timeout and --part-size go with --queue.');
        const { runSyncLoop, scheduleDetachedSync } = await import('../../sync/loop.js');
        const { runSyncCycle } = await import('../../sync/cycle.js');
        const queueSettings: SyncQueue = { ...(options.unitTimeout !== undefined ? { unitTimeout: options.unitTimeout } : {}), ...(options.partSize !== undefined ? { partSize: options.partSize } : {}) };
        if (options.queue && options.detach) {
          const { ledgerLocation } = await import('../open-project.js');
          const { requirePostgres } = await import('../../workers/queue.js');
          requirePostgres((await ledgerLocation(projectOptions(context, command))).location, 'ferry sync --queue');
          context.finish(
            await withProject(projectOptions(context, command), async (project) => {
              const onConflict = conflictPolicy(project, options.onConflict);
              const sync = await scheduleDetachedSync(new SyncStore(project.ledger.kysely), { intervalMs: options.every!, mode: options.mode, onConflict, untilMs: options.until, queue: queueSettings });
              context.out.line(
                `Sync ${sync.id}: a ${options.mode} delta every ${formatDuration(sync.intervalMs)} (on conflict: ${onConflict}), kept by the workers: a \`ferry worker\` takes the schedule and the worker fleet writes the cycles. ` +
                  '`ferry sync --status` shows it; `ferry cutover` ends it.',
              );
              return { exitCode: EXIT.ok, json: { command: 'sync', queued: true, detached: true, sync: syncJson(sync) } };
            }),
          );
          return;
        }
        const queue = options.queue ? await openCycleQueue(context, command) : undefined;
        // Ctrl-C or SIGTERM: the cycle in progress stops after its current page (recorded, resumable), then
        // the sync stops. A second Ctrl-C stops at once (still resumable: the ledger is written first).
        context.finish(
          await withGracefulStop(
            ['SIGINT', 'SIGTERM'],
            () => context.out.warn('Stopping the sync after the current page (Ctrl-C again to stop at once). `ferry sync` or `ferry cutover` resumes the cycle.'),
            (stopSignal) =>
              withProject(projectOptions(context, command), async (project) => {
                const onConflict = conflictPolicy(project, options.onConflict);
                const every = options.every!;
                const store = new SyncStore(project.ledger.kysely);
                const summary = await runSyncLoop({
                  store,
                  intervalMs: every,
                  mode: options.mode,
                  onConflict,
                  untilMs: options.until,
                  signal: stopSignal,
                  ...(queue ? { queue: queueSettings } : {}),
                  cycle: (signal, sync) =>
                    runSyncCycle(project.engine, project.ledger, {
                      mode: options.mode,
                      onConflict,
                      signal,
                      ...(queue ? { delta: queue.delta(project, store, sync) } : {}),
                    }),
                  onEvent: (event) => {
                    if (event.type === 'started') {
                      context.out.line(
                        `Sync ${event.sync.id}: a ${options.mode} delta every ${formatDuration(every)} (on conflict: ${onConflict})` +
                          `${options.until !== undefined ? `, until ${new Date(options.until).toISOString()}` : ', until `ferry cutover` or Ctrl-C'}.`,
                      );
                    } else if (event.type === 'cycle-finished') printCycle(context.out, event.cycle, event.outcome, event.nextDueAt, event.skipped);
                    else if (event.type === 'stopped') context.out.line(`Sync stopped (${event.reason}).`);
                  },
                });
                const last = summary.last;
                const exitCode = last === null ? EXIT.ok : last.status === 'failed' ? EXIT.fatal : last.totals.failed > 0 ? EXIT.recordsFailed : EXIT.ok;
                const sync = await new SyncStore(project.ledger.kysely).get(summary.syncId);
                return { exitCode, json: { command: 'sync', ...summary, ...(queue ? { queued: true } : {}), sync: syncJson(sync) } };
              }),
          ).finally(() => queue?.close()),
        );
      },
    );

  program
    .command('cutover')
    .description('end continuous sync: stop the running sync after its cycle, run a final delta and a verify, and show what changed on both sides')
    .addOption(new Option('--mode <mode>', "the final delta's mode (default: the last sync's, else both)").choices(SYNC_MODES))
    .addOption(new Option('--on-conflict <policy>', "a field changed on both sides: who wins (default: the project's options.onConflict, else source-wins)").choices(CONFLICT_POLICIES))
    .action(async (options: { mode?: SyncMode; onConflict?: ConflictPolicy }, command: Command) => {
      const { runCutover } = await import('../../sync/cutover.js');
      context.finish(
        await withProject(projectOptions(context, command), async (project) => {
          const result = await runCutover(project.engine, project.ledger, {
            mode: options.mode,
            onConflict: conflictPolicy(project, options.onConflict),
            onWaiting: (sync) => context.out.line(`Asked sync ${sync.id} to stop after its current cycle; waiting for it...`),
          });
          const out = context.out;
          if (result.stoppedSyncs.length === 0) out.line('No sync was running: the cut-over runs alone.');
          else out.line(`Sync ${result.stoppedSyncs.join(', ')} stopped.`);
          const since = result.since
            ? `since ${result.lastCycle?.runId === result.since.runId ? 'the last cycle' : 'the last run'} (run ${result.since.runId}, ${result.since.finishedAt ?? 'unfinished'})`
            : 'since the last run';
          out.line(`Final delta (run ${result.final.runId}, ${result.mode}): ${cycleCounts(result.final.totals)}.`);
          out.line(`Changed in the source ${since}:`);
          const perObject = Object.entries(result.final.counts).filter(([, count]) => count.created + count.updated > 0);
          if (perObject.length === 0) out.line('  nothing');
          for (const [object, count] of perObject) out.line(`  ${object}: ${formatNumber(count.created)} created, ${formatNumber(count.updated)} updated`);
          out.line(`Edited by people in the target since Ferry's last write (kept): ${formatNumber(result.targetEditCount)} record${result.targetEditCount === 1 ? '' : 's'}`);
          for (const edit of result.targetEdits) {
            out.line(`  ${edit.object} ${edit.sourceId} -> ${edit.targetId}: ${edit.fields.map((field) => `${field.field} = ${shorten(formatValue(field.value), 40)} (source: ${shorten(formatValue(field.sourceValue), 40)})`).join('; ')}`);
          }
          if (result.conflictCount > 0) {
            out.line(`Changed on both sides (conflicts, settled ${conflictPolicy(project, options.onConflict)}): ${formatNumber(result.conflictCount)}`);
            for (const conflict of result.conflicts) {
              out.line(`  ${conflict.object} ${conflict.sourceId} ${conflict.field}: source ${shorten(formatValue(conflict.sourceValue), 40)}, target ${shorten(formatValue(conflict.targetValue), 40)} -> ${conflict.resolution}`);
            }
          }
          for (const failure of result.final.failures) out.line(`  failed: ${failureLine(failure)}`);
          const problems = result.verify.issues.filter((issue) => issue.reason !== 'edited-in-target');
          out.line(result.verify.ok ? 'Verify: clean. The target matches the source through the ledger.' : `Verify: ${formatNumber(problems.length)} problem(s); \`ferry verify\` lists them.`);
          return {
            exitCode: result.ok ? EXIT.ok : EXIT.recordsFailed,
            json: {
              command: 'cutover',
              ok: result.ok,
              stoppedSyncs: result.stoppedSyncs,
              lastCycle: result.lastCycle,
              since: result.since,
              final: { runId: result.final.runId, status: result.final.status, totals: result.final.totals, counts: result.final.counts, failures: result.final.failures },
              conflicts: result.conflicts,
              conflictCount: result.conflictCount,
              targetEdits: result.targetEdits,
              targetEditCount: result.targetEditCount,
              verify: { ok: result.verify.ok, objects: result.verify.objects, issues: problems.slice(0, 100) },
            },
          };
        }),
      );
    });
}
