import { hostname } from 'node:os';
import type { Command } from 'commander';
import type PgBoss from 'pg-boss';
import { FerryError, toFerryError } from '../../core/errors.js';
import type { ConflictPolicy, RunResult } from '../../engine/types.js';
import type { RunKind } from '../../ledger/index.js';
import { openQueue, QUEUE_SCHEMA, requirePostgres, RUN_QUEUE, type RunJob } from '../../workers/queue.js';
import { projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { ledgerLocation, withProject } from '../open-project.js';

/** What a finished job leaves in the queue for the command waiting on it. */
export interface RunJobOutput {
  runId?: number;
  status?: string;
  resumed?: boolean;
  messages?: string[];
  /** A problem no retry can fix (a usage error, another unfinished run): the job ends with it. */
  error?: { code: string; message: string };
}

const CANCEL_CHECK_MS = 250;

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
          // `ferry jobs cancel` (from any machine) cancels the job in the queue: the run pauses after its page.
          const cancelled = new AbortController();
          const watch = setInterval(() => {
            boss
              .getJobById(RUN_QUEUE, job.id)
              .then((current) => {
                if (current?.state === 'cancelled') cancelled.abort();
              })
              .catch(() => undefined);
          }, CANCEL_CHECK_MS);
          let output: RunJobOutput;
          try {
            output = await runJob(context, command, job.data, AbortSignal.any([stop.signal, cancelled.signal]));
          } catch (error) {
            context.out.line(`worker ${name}: job ${job.id}: ${cancelled.signal.aborted ? 'cancelled: the run paused and stays resumable' : toFerryError(error).message}`);
            throw error;
          } finally {
            clearInterval(watch);
          }
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

/**
 * `ferry jobs`: the queue's runs (waiting, running, retried, done) with the process that runs the one in
 * progress; `ferry jobs cancel <id>` pauses a queued run from any machine that reaches the database.
 */
export function registerJobsCommand(program: Command, context: CommandContext): void {
  const jobs = program.command('jobs').description('runs queued with --queue: their state, and the worker process running one (ledger on PostgreSQL)');
  jobs.action(async (_options: unknown, command: Command) => {
    const location = await queueLocation(context, command, 'ferry jobs');
    const boss = await openQueue(location, { supervise: false });
    try {
      const rows = await listJobs(location);
      const { withLedger } = await import('../open-project.js');
      const holder = await withLedger(projectOptions(context, command), (ledger) => ledger.lockHolder());
      for (const row of rows) {
        const worker = row.state === 'active' && holder ? `, run ${holder.runId ?? '(starting)'} in process ${holder.pid} on ${holder.host}` : '';
        context.out.line(`${row.id}  ${row.state}  ${row.data.command}  queued ${row.createdOn}${row.retryCount > 0 ? `, attempt ${row.retryCount + 1}` : ''}${worker}`);
      }
      if (rows.length === 0) context.out.line('No queued runs.');
      context.finish({ exitCode: EXIT.ok, json: { command: 'jobs', jobs: rows, inProgress: holder ?? null } });
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
  });
  jobs
    .command('cancel')
    .description('cancel a queued run: a waiting one never starts, a running one pauses after its current page (resumable: queue or run the command again)')
    .argument('<job>', 'job id (see `ferry jobs`)')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const location = await queueLocation(context, command, 'ferry jobs cancel');
      const boss = await openQueue(location, { supervise: false });
      try {
        const job = await boss.getJobById<RunJob>(RUN_QUEUE, jobId);
        if (!job) throw new FerryError('USAGE', `There is no queued run with job id ${jobId} (\`ferry jobs\` lists them).`);
        if (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled') throw new FerryError('USAGE', `Job ${jobId} has already ended (${job.state}).`);
        await boss.cancel(RUN_QUEUE, jobId);
        context.out.line(`Cancelled job ${jobId}${job.state === 'active' ? ': its run pauses after the current page and stays resumable' : ''}.`);
        context.finish({ exitCode: EXIT.ok, json: { command: 'jobs cancel', jobId, wasRunning: job.state === 'active' } });
      } finally {
        await boss.stop({ graceful: false, wait: true });
      }
    });
}

async function queueLocation(context: CommandContext, command: Command, what: string): Promise<string> {
  const { location } = await ledgerLocation(projectOptions(context, command));
  requirePostgres(location, what);
  return location;
}

interface JobRow {
  id: string;
  state: string;
  data: RunJob;
  createdOn: string;
  retryCount: number;
}

/** The run queue's jobs, newest first (pg-boss 10 has no list call: its job table, read directly). */
async function listJobs(location: string): Promise<JobRow[]> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    const result = await client.query<{ id: string; state: string; data: RunJob; created_on: Date; retry_count: number }>(
      `SELECT id, state, data, created_on, retry_count FROM ${QUEUE_SCHEMA}.job WHERE name = $1 ORDER BY created_on DESC LIMIT 100`,
      [RUN_QUEUE],
    );
    return result.rows.map((row) => ({ id: row.id, state: row.state, data: row.data, createdOn: row.created_on.toISOString(), retryCount: row.retry_count }));
  } finally {
    await client.end();
  }
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
      return { runId: result.runId, status: result.status, resumed: result.resumed, messages: result.messages };
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
