import { hostname } from 'node:os';
import type { Command } from 'commander';
import type PgBoss from 'pg-boss';
import { FerryError, toFerryError } from '../../core/errors.js';
import type { ConflictPolicy, RunResult } from '../../engine/types.js';
import type { RunKind } from '../../ledger/index.js';
import { openQueue, requirePostgres, RUN_QUEUE, type RunJob } from '../../workers/queue.js';
import { projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { ledgerLocation, withProject } from '../open-project.js';

/** What a finished job leaves in the queue for the command waiting on it. */
export interface RunJobOutput {
  runId?: number;
  status?: string;
  messages?: string[];
  /** A problem no retry can fix (a usage error, another unfinished run): the job ends with it. */
  error?: { code: string; message: string };
}

/** Errors another attempt cannot fix: the job completes with the error instead of being retried. */
const FINAL_CODES = new Set(['USAGE', 'CONFIG_MISSING', 'CONFIG_INVALID', 'MAPPING_INVALID', 'RUN_UNFINISHED']);

export function runKindOf(job: RunJob): RunKind {
  return job.command === 'migrate' ? 'full' : 'delta';
}

/**
 * `ferry worker`: takes queued runs one at a time and runs them with the engine, in this process, with
 * the project file, environment and secrets file of this machine. The ledger's lock keeps one run per
 * ledger; a job delivered again (its worker died, or it outlived its timeout while still running) finds
 * the run either finished (done), locked by a live worker (tried again later) or unfinished (resumed).
 */
export function registerWorkerCommand(program: Command, context: CommandContext): void {
  program
    .command('worker')
    .description('take runs queued with --queue from the PostgreSQL ledger and run them, until stopped (Ctrl-C or SIGTERM)')
    .action(async (_options: unknown, command: Command) => {
      const options = projectOptions(context, command);
      const { location } = await ledgerLocation(options);
      requirePostgres(location, 'ferry worker');
      const name = `${hostname()}:${process.pid}`;
      const stop = new AbortController();
      const boss = await openQueue(location, { supervise: true });
      const onSignal = () => stop.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await boss.work<RunJob>(RUN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
          if (!job) return undefined;
          context.out.line(`worker ${name}: job ${job.id}: ${job.data.command}`);
          const output = await runJob(context, command, job.data, stop.signal);
          context.out.line(`worker ${name}: job ${job.id}: ${output.error ? `${output.error.code}: ${output.error.message}` : `run ${output.runId} ${output.status}`}`);
          return output;
        });
        context.out.line(`worker ${name} is waiting for runs (queue ${RUN_QUEUE}); Ctrl-C stops it.`);
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
        context.out.line(`worker ${name}: stopping after the current page.`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A job still running sees the abort, pauses after its page and fails back to the queue for another worker.
        await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
      }
      context.finish({ exitCode: EXIT.ok, json: { command: 'worker', stopped: true } });
    });
}

async function runJob(context: CommandContext, command: Command, job: RunJob, signal: AbortSignal): Promise<RunJobOutput> {
  try {
    return await withProject(projectOptions(context, command), async (project) => {
      // Delivered again after its run finished (the worker that ran it died before telling the queue).
      const kind = runKindOf(job);
      const finished = (await project.ledger.listRuns()).find(
        (run) => run.id > job.afterRunId && run.kind === kind && !run.dryRun && (run.status === 'completed' || run.status === 'completed_with_failures'),
      );
      if (finished) return { runId: finished.id, status: finished.status, messages: [] };
      let result: RunResult;
      if (job.command === 'migrate') result = await project.engine.migrate({ noMatch: job.noMatch, signal });
      else {
        result = await project.engine.delta({
          createNew: job.createNew,
          updateChanged: job.updateChanged,
          onConflict: job.onConflict as ConflictPolicy,
          noMatch: job.noMatch,
          scanAll: job.scanAll,
          signal,
        });
      }
      return { runId: result.runId, status: result.status, messages: result.messages };
    });
  } catch (error) {
    const fatal = toFerryError(error);
    if (FINAL_CODES.has(fatal.code)) return { error: { code: fatal.code, message: fatal.message } };
    // Locked by the worker still running it, paused by a stopping worker, interrupted: the queue tries again.
    throw fatal;
  }
}

/** The job's output as pg-boss returns it (a job that threw holds the error instead). */
export function jobOutput(job: PgBoss.JobWithMetadata<RunJob>): RunJobOutput {
  const output = (job.output ?? {}) as RunJobOutput & { message?: string };
  if (job.state === 'failed' && !output.error) return { error: { code: 'INTERNAL', message: output.message ?? 'the job failed' } };
  return output;
}

export function finalError(output: RunJobOutput): FerryError | undefined {
  if (!output.error) return undefined;
  return new FerryError(output.error.code as FerryError['code'], output.error.message);
}
