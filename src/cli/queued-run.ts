import type { Command } from 'commander';
import { FerryError } from '../core/errors.js';
import { Ledger, type Run } from '../ledger/index.js';
import { buildRunReport, formatNumber } from '../report/index.js';
import type PgBoss from 'pg-boss';
import type { RunResult } from '../engine/types.js';
import { DEFAULT_UNIT_TIMEOUT_SECONDS, enqueueRun, FINISH_PART, namesOf, openQueue, partJobId, requirePostgres, type PartJob, type RunJob } from '../workers/queue.js';
import { partsLine, partsProgress, type PartsProgress } from '../workers/progress.js';
import { finalError, isRunOf, jobOutput, runKindOf } from './commands/worker.js';
import { ProgressStream, type Counts } from '../core/progress.js';
import { attachProgressView } from './progress-view.js';
import { positiveInteger, projectOptions, type CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { exitSoon } from './exit-soon.js';
import type { Outcome } from './io.js';
import { ledgerLocation, openLedger } from './open-project.js';
import { printRunSummary, runOutcome } from './summary.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface QueueFlags {
  queue?: boolean;
  detach?: boolean;
  unitTimeout?: number;
  partSize?: number;
}

/** `parts: false`: a command queued as one job (undo, retry, demo), without --part-size. */
export function addQueueFlags(command: Command, options: { parts?: boolean } = {}): Command {
  const flagged = command
    .option('--queue', 'hand the run to `ferry worker` processes through the PostgreSQL ledger instead of running it here')
    .option('--detach', 'with --queue: return at once with the job id instead of waiting for the run')
    .option(
      '--unit-timeout <seconds>',
      `with --queue: after this long without finishing, the queue hands the run to another worker, which resumes it if its worker died (default ${DEFAULT_UNIT_TIMEOUT_SECONDS})`,
      positiveInteger('--unit-timeout'),
    );
  if (options.parts === false) return flagged;
  return flagged.option('--part-size <records>', 'with --queue: records per part when an object is cut into id ranges that workers write side by side (SQL sources; default 20 pages)', positiveInteger('--part-size'));
}

/** Refuses queue flags that make no sense together or with the run's other flags. */
export function checkQueueFlags(flags: QueueFlags & { dryRun?: boolean; restart?: boolean; rerun?: boolean }): void {
  if (!flags.queue) {
    if (flags.detach || flags.unitTimeout !== undefined || flags.partSize !== undefined) throw new FerryError('USAGE', '--detach, --unit-timeout and --part-size go with --queue.');
    return;
  }
  for (const [flag, set] of [['--dry-run', flags.dryRun], ['--restart', flags.restart], ['--rerun', flags.rerun]] as const) {
    if (set) throw new FerryError('USAGE', `${flag} cannot be queued yet: run it in-process (without --queue).`);
  }
}

/** Enqueues the run; without --detach waits for it, printing its progress from the ledger, then its summary. */
export async function queueRun(
  context: CommandContext,
  command: Command,
  name: string,
  job: DistributiveOmit<RunJob, 'afterRunId'>,
  flags: QueueFlags,
  extra: Record<string, unknown> = {},
): Promise<Outcome> {
  const options = projectOptions(context, command);
  const { location, baseDir } = await ledgerLocation(options);
  requirePostgres(location, `ferry ${name} --queue`);
  const ledger = await openLedger(location, baseDir);
  const boss = await openQueue(location, { supervise: false });
  try {
    const { jobId, full, afterRunId } = await enqueueQueued(ledger, boss, job, flags);
    if (flags.detach) {
      context.out.line(`Queued \`ferry ${name}\` as job ${jobId}. A worker (\`ferry worker\`) runs it; \`ferry runs\` shows it once started (a run after ${afterRunId}).`);
      return { exitCode: EXIT.ok, json: { command: name, ...extra, queued: true, jobId, afterRunId } };
    }
    context.out.line(`Queued \`ferry ${name}\` as job ${jobId}; waiting for a worker (Ctrl-C stops waiting, not the run).`);
    // The parts' counts, read from the ledger as the workers checkpoint them, through the progress stream and
    // view an in-process run uses: the same bars (or lines) on the terminal.
    const progress = new ProgressStream();
    const view = attachProgressView(progress, context.out);
    let result: RunResult;
    try {
      result = await waitQueued(ledger, boss, location, jobId, full, (line) => context.out.line(line), undefined, progress);
    } finally {
      view.stop();
    }
    const report = await buildRunReport(ledger, result.runId);
    printRunSummary(context.out, result, report);
    return runOutcome(name, result, report, { ...extra, queued: true, jobId });
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await ledger.close();
    // A bench run saw a finished `migrate --queue` (exit code set) held open by a timer: never hang a script.
    if (context.exitWhenDone) exitSoon(context, `ferry ${name} --queue`);
  }
}

/** Sends the command to the queue as a run job; the runs after afterRunId are its run's candidates. */
export async function enqueueQueued(
  ledger: Ledger,
  boss: PgBoss,
  job: DistributiveOmit<RunJob, 'afterRunId'>,
  flags: QueueFlags,
): Promise<{ jobId: string; full: RunJob; afterRunId: number }> {
  // Runs after this id are the queued run's: how the waiting command and a worker tell it apart from earlier
  // ones. An unfinished run (paused, interrupted) is not counted: the queued command may be the one resuming it.
  const afterRunId = Math.max(0, ...(await ledger.listRuns()).filter((run) => run.status !== 'running' && run.status !== 'interrupted').map((run) => run.id));
  const full = { ...job, afterRunId, ...(flags.partSize !== undefined ? { partSize: flags.partSize } : {}), ...(flags.unitTimeout !== undefined ? { unitTimeout: flags.unitTimeout } : {}) } as RunJob;
  const jobId = await enqueueRun(boss, full, flags.unitTimeout ?? DEFAULT_UNIT_TIMEOUT_SECONDS);
  return { jobId, full, afterRunId };
}

/**
 * Waits for a queued run to end on the workers, saying its progress (from the ledger) as it changes; its
 * result as the engine's in-process run returns it. `signal`: stop waiting (the run goes on on the workers).
 */
export async function waitQueued(
  ledger: Ledger,
  boss: PgBoss,
  location: string,
  jobId: string,
  full: RunJob,
  say: (line: string) => void,
  signal?: AbortSignal,
  progress?: ProgressStream,
): Promise<RunResult> {
  let shown = '';
  const feed = progress ? new PartsFeed(progress, runKindOf(full)) : undefined;
  // The run job plans the run; its finish stage (a part job with a known id) ends it.
  let finishId: string | undefined;
  let planResumed: boolean | undefined;
  for (;;) {
    const state = finishId
      ? await boss.getJobById<PartJob>(namesOf(boss).parts, finishId, { includeArchive: true })
      : await boss.getJobById<RunJob>(namesOf(boss).runs, jobId, { includeArchive: true });
    const run = await queuedRun(ledger, full);
    const parts = run?.status === 'running' ? await partsProgress(ledger, location, run.id) : undefined;
    // With a progress stream, the parts (and their counts) go through it once the plan stage has said
    // whether it resumed the run; the lines below are then only for a run not in parts yet.
    if (parts && feed && planResumed !== undefined) feed.feed(parts, planResumed);
    const line = parts ? (feed ? '' : partsLine(parts)) : run ? progressLine(run) : state?.state === 'retry' ? 'waiting: the last attempt will be tried again' : '';
    if (line && line !== shown) say(line);
    shown = line;
    if (!state && !finishId) throw new FerryError('INTERNAL', `Job ${jobId} is no longer in the queue.`);
    if (state?.state === 'cancelled' || (finishId && run?.status === 'interrupted')) {
      throw new FerryError('RUN_PAUSED', `Job ${jobId} was cancelled${run ? ` (run ${run.id} stays resumable)` : ''}.`);
    }
    if (state && (state.state === 'completed' || state.state === 'failed')) {
      const output = jobOutput(state as PgBoss.JobWithMetadata<RunJob>);
      const error = finalError(output);
      if (error) throw error;
      if (!finishId && output.parts !== undefined) {
        finishId = partJobId(jobId, FINISH_PART);
        planResumed = output.resumed === true;
        continue;
      }
      const finished = output.runId !== undefined ? await ledger.getRun(output.runId) : undefined;
      if (!finished) throw new FerryError('INTERNAL', `Job ${jobId} ended without a run.`);
      feed?.finish(finished);
      return { runId: finished.id, kind: finished.kind, status: finished.status, dryRun: false, resumed: planResumed ?? output.resumed === true, counts: finished.counts, messages: output.messages ?? [] };
    }
    if (signal?.aborted) throw new FerryError('RUN_PAUSED', `Stopped waiting for job ${jobId}${run ? ` (run ${run.id})` : ''}; the workers carry on with it.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function queuedRun(ledger: Ledger, job: RunJob): Promise<Run | undefined> {
  return (await ledger.listRuns()).find((run) => isRunOf(job, run));
}

/** `run 7 running: companies 120 read, contacts 40 read` from the counts the run checkpoints into the ledger. */
function progressLine(run: Run): string {
  const parts = Object.entries(run.counts)
    .filter(([, counts]) => counts.read > 0)
    .map(([object, counts]) => `${object} ${formatNumber(counts.read)} read`);
  return `run ${run.id} ${run.status.replaceAll('_', ' ')}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/**
 * Turns what the ledger says of a queued run's parts (polled) into the engine's progress events: the run
 * started, each object started once one of its parts has, its counts (the plan stage's plus its parts',
 * as checkpointed with their pages) as they grow, finished once all its parts are; the parts themselves
 * (state, worker, records read) as a `parts` event; at the end, the finished run's own counts.
 */
export class PartsFeed {
  private runId: number | undefined;
  private readonly objects = new Map<string, { counts: string; finished: boolean }>();
  private parts = '';

  constructor(
    private readonly progress: ProgressStream,
    private readonly kind: string,
  ) {}

  feed(parts: PartsProgress, resumed: boolean): void {
    const runId = String(parts.runId);
    const objects = [...new Set(parts.parts.map((part) => part.object))];
    if (this.runId === undefined) {
      this.runId = parts.runId;
      this.progress.emit({ type: 'run-started', runId, kind: this.kind, objects, resumed, dryRun: false });
    }
    for (const object of objects) {
      const mine = parts.parts.filter((part) => part.object === object);
      const counts: Counts | undefined = parts.counts[object];
      if (!counts || !mine.some((part) => part.state !== 'waiting' || part.counts[object] !== undefined)) continue;
      let seen = this.objects.get(object);
      if (!seen) {
        this.objects.set(object, (seen = { counts: '', finished: false }));
        this.progress.emit({ type: 'object-started', runId, object });
      }
      const text = JSON.stringify(counts);
      if (text !== seen.counts) {
        seen.counts = text;
        this.progress.emit({ type: 'object-progress', runId, object, processed: counts.read, counts: { ...counts } });
      }
      if (!seen.finished && mine.every((part) => part.state === 'done')) {
        seen.finished = true;
        this.progress.emit({ type: 'object-finished', runId, object, counts: { ...counts } });
      }
    }
    const event = {
      type: 'parts' as const,
      runId,
      total: parts.total,
      done: parts.done.length,
      parts: parts.parts.map((part) => ({
        key: part.key,
        object: part.object,
        state: part.state,
        ...(part.worker && part.state === 'running' ? { worker: part.worker.id } : {}),
        read: Object.values(part.counts).reduce((sum, counts) => sum + counts.read, 0),
      })),
    };
    const text = JSON.stringify(event);
    if (text !== this.parts) {
      this.parts = text;
      this.progress.emit(event);
    }
  }

  /** The run's end: its objects not reported finished yet (the finish stage's own work), then the run. */
  finish(run: Run): void {
    const runId = String(run.id);
    for (const [object, counts] of Object.entries(run.counts)) {
      const seen = this.objects.get(object);
      if (!seen) continue;
      // The finish stage's own work (duplicates merged in, references re-attached) is in the run's counts.
      if (seen.counts !== JSON.stringify(counts)) this.progress.emit({ type: 'object-progress', runId, object, processed: counts.read, counts: { ...counts } });
      if (!seen.finished) this.progress.emit({ type: 'object-finished', runId, object, counts: { ...counts } });
    }
    this.progress.emit({ type: 'run-finished', runId, status: run.status, counts: run.counts });
  }
}
