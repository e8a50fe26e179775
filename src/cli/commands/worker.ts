import { hostname } from 'node:os';
import type { Command } from 'commander';
import type PgBoss from 'pg-boss';
import { FerryError, toFerryError } from '../../core/errors.js';
import type { ConflictPolicy, RunResult } from '../../engine/types.js';
import type { Run, RunKind } from '../../ledger/index.js';
import { useSharedPacing } from '../../core/http.js';
import type { RunPart } from '../../engine/engine.js';
import { PostgresPacing } from '../../workers/pacing.js';
import { projectOf, queueNames, runKey } from '../../workers/projects.js';
import {
  DEFAULT_UNIT_TIMEOUT_SECONDS,
  enqueuePart,
  FINISH_PART,
  isWholeRunJob,
  LEASE_HEARTBEAT_MS,
  LEASE_STALE_SECONDS,
  namesOf,
  openQueue,
  QUEUE_SCHEMA,
  requirePostgres,
  WORKERS_SCHEMA,
  type PartedRunJob,
  type PartJob,
  type RunJob,
  type WholeRunJob,
} from '../../workers/queue.js';
import { projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { exitSoon } from '../exit-soon.js';
import { ledgerLocation, withProject, type OpenProject } from '../open-project.js';

/** What a finished job leaves in the queue for the command waiting on it. */
export interface RunJobOutput {
  runId?: number;
  status?: string;
  resumed?: boolean;
  messages?: string[];
  /** The plan stage of a queued run: how many parts it was cut into. */
  parts?: number;
  /** A problem no retry can fix (a usage error, another unfinished run): the job ends with it. */
  error?: { code: string; message: string };
}

const CANCEL_CHECK_MS = 250;
/** How long a stopping worker waits for the job it runs to pause after its page (then the job fails back to the queue). */
export const GRACEFUL_STOP_MS = 30_000;
/** A pool's end, bounded: it waits for the queries of a job still running. */
const CLOSE_BOUND_MS = 5_000;

/** A job pg-boss fetched in the moment the worker began to stop: back to the queue, untouched, for another worker. */
function refuseWhileStopping(stop: AbortSignal): void {
  if (stop.aborted) throw new FerryError('RUN_PAUSED', 'This worker is stopping; the job goes back to the queue for another worker.');
}

async function bounded(step: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([step.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Errors another attempt cannot fix: the job completes with the error instead of being retried. */
const FINAL_CODES = new Set(['USAGE', 'CONFIG_MISSING', 'CONFIG_INVALID', 'MAPPING_INVALID', 'RUN_UNFINISHED']);

export function runKindOf(job: RunJob): RunKind {
  return job.command === 'migrate' ? 'full' : job.command;
}

/** The queued job's run among the ledger's runs: after job.afterRunId, of its kind (an undo or retry: of its run). */
export function isRunOf(job: RunJob, run: Run): boolean {
  if (run.id <= job.afterRunId || run.kind !== runKindOf(job) || run.dryRun) return false;
  return job.command === 'undo' || job.command === 'retry' ? run.parentRunId === job.runId : true;
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
      const leases = new PartLeases(location, name);
      // Every connection's pacer of this worker takes its tokens from the account's bucket in the database
      // too, so N workers together stay inside the vendor's limit (docs/workers.md).
      const pacing = process.env.FERRY_SHARED_PACING === 'off' ? undefined : new PostgresPacing(location);
      useSharedPacing(pacing);
      let keeper: { close: () => Promise<void> } | undefined;
      try {
        const watchJob = (queue: string, id: string): { signal: AbortSignal; cancelled: () => boolean; stop: () => void } => {
          // `ferry jobs cancel` (from any machine) cancels the job in the queue: the work pauses after its page.
          const cancelled = new AbortController();
          const watch = setInterval(() => {
            boss
              .getJobById(queue, id)
              .then((current) => {
                if (current?.state === 'cancelled') cancelled.abort();
              })
              .catch(() => undefined);
          }, CANCEL_CHECK_MS);
          // Never what keeps the process alive: it lives only as long as its job, which is awaited.
          watch.unref();
          return { signal: AbortSignal.any([stop.signal, cancelled.signal]), cancelled: () => cancelled.signal.aborted, stop: () => clearInterval(watch) };
        };
        const queues = namesOf(boss);
        await boss.work<RunJob>(queues.runs, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
          if (!job) return undefined;
          refuseWhileStopping(stop.signal);
          const whole = isWholeRunJob(job.data);
          context.out.line(`worker ${name}: job ${job.id}: ${job.data.command}${whole ? '' : ' (plan)'}`);
          const watch = watchJob(queues.runs, job.id);
          let output: RunJobOutput;
          try {
            output = isWholeRunJob(job.data) ? await wholeJob(context, command, job.data, watch.signal) : await planJob(context, command, boss, job.id, job.data, watch.signal);
          } catch (error) {
            context.out.line(`worker ${name}: job ${job.id}: ${watch.cancelled() ? 'cancelled: the run paused and stays resumable' : toFerryError(error).message}`);
            throw error;
          } finally {
            watch.stop();
          }
          const said = output.error ? `${output.error.code}: ${output.error.message}` : whole ? `run ${output.runId} ${output.status}` : `run ${output.runId} planned in ${output.parts ?? 0} part(s)`;
          context.out.line(`worker ${name}: job ${job.id}: ${said}`);
          return output;
        });
        await boss.work<PartJob>(queues.parts, { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true }, async ([job]) => {
          if (!job) return undefined;
          refuseWhileStopping(stop.signal);
          const { data } = job;
          const what = data.key === FINISH_PART ? 'finish' : `part ${data.key}`;
          context.out.line(`worker ${name}: run ${data.runId} ${what}: started`);
          const watch = watchJob(queues.parts, job.id);
          try {
            const output = await partJob(context, command, boss, leases, data, { signal: watch.signal, retried: job.retryCount > 0 || job.data.key === FINISH_PART });
            context.out.line(
              `worker ${name}: run ${data.runId} ${what}: ${output.error ? `${output.error.code}: ${output.error.message}` : data.key === FINISH_PART ? `run ${output.runId} ${output.status}` : 'done'}`,
            );
            return output;
          } catch (error) {
            const fatal = toFerryError(error);
            if (watch.cancelled()) await pauseRun(context, command, data.runId, fatal).catch(() => undefined);
            context.out.line(`worker ${name}: run ${data.runId} ${what}: ${watch.cancelled() ? 'cancelled: the run paused and stays resumable' : fatal.message}`);
            // A run paused from elsewhere (ferry jobs cancel): this part waits for the run to be queued again,
            // which sends its parts anew; not retried. A stopping worker's part goes back to the queue.
            if (fatal.code === 'RUN_PAUSED' && !stop.signal.aborted) return { error: { code: fatal.code, message: fatal.message } };
            throw error;
          } finally {
            watch.stop();
          }
        });
        // Syncs the workers keep (`ferry sync --queue`): this worker takes over the schedule of one whose keeper is gone.
        const { startSyncKeeper } = await import('../sync-keeper.js');
        keeper = startSyncKeeper({ context, command, boss, location, stop: stop.signal });
        context.out.line(`worker ${name} is waiting for runs (queue ${queues.runs}); Ctrl-C stops it.`);
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
        context.out.line(`worker ${name}: stopping after the current page.`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A job still running sees the abort, pauses after its page and fails back to the queue for another worker.
        // Every step runs whatever the one before it did, each within a bound: a step that throws or hangs
        // (a pool waiting for a query of a job past the graceful timeout) must not leave the others open.
        // A sync this worker keeps lets go first (it needs the queue to stop waiting for its cycle).
        if (keeper) await bounded(keeper.close(), GRACEFUL_STOP_MS);
        await bounded(boss.stop({ graceful: true, wait: true, timeout: GRACEFUL_STOP_MS }), GRACEFUL_STOP_MS + CLOSE_BOUND_MS);
        await bounded(leases.close(), CLOSE_BOUND_MS);
        useSharedPacing(undefined);
        if (pacing) await bounded(pacing.close(), CLOSE_BOUND_MS);
        // The safety net of one SIGTERM: nothing of the worker's should hold the process now; a job that
        // outlived the graceful timeout (already failed back to the queue, idempotent in the ledger) or
        // anything else that does is named on stderr and the process exits anyway.
        if (context.exitWhenDone) exitSoon(context, 'worker');
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
        // A part being written names the worker holding its lease; a run job or a finish stage, the ledger's lock holder.
        const worker = row.state !== 'active' ? '' : row.worker ? `, on worker ${row.worker}` : holder ? `, run ${holder.runId ?? '(starting)'} in process ${holder.pid} on ${holder.host}` : '';
        const what = row.part ? `run ${row.part.runId} ${row.part.key === FINISH_PART ? 'finish' : `part ${row.part.key}`} of job ${row.part.group}` : row.data.command;
        context.out.line(`${row.id}  ${row.state}  ${what}  queued ${row.createdOn}${row.retryCount > 0 ? `, attempt ${row.retryCount + 1}` : ''}${worker}`);
      }
      if (rows.length === 0) context.out.line('No queued runs.');
      context.finish({ exitCode: EXIT.ok, json: { command: 'jobs', jobs: rows, inProgress: holder ?? null } });
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
  });
  jobs
    .command('cancel')
    .description('cancel a queued run: a waiting one never starts, a running one pauses after its current pages (resumable: queue or run the command again)')
    .argument('<job>', 'job id of the run (see `ferry jobs`)')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const location = await queueLocation(context, command, 'ferry jobs cancel');
      const boss = await openQueue(location, { supervise: false });
      try {
        const job = await boss.getJobById<RunJob>(namesOf(boss).runs, jobId);
        if (!job) throw new FerryError('USAGE', `There is no queued run with job id ${jobId} (\`ferry jobs\` lists them).`);
        // Its parts: those waiting never start, those being written pause after their page.
        const parts = (await listJobs(location)).filter((row) => row.part?.group === jobId && (row.state === 'created' || row.state === 'retry' || row.state === 'active'));
        const ended = job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled';
        if (ended && parts.length === 0) throw new FerryError('USAGE', `Job ${jobId} has already ended (${job.state}).`);
        if (!ended) await boss.cancel(namesOf(boss).runs, jobId);
        if (parts.length > 0) {
          // Paused first, whether or not a worker was writing one of its parts (those stop after their page): a
          // part finishing meanwhile then sends no next part (sendReady), and the parts listed again below are all.
          await pauseRun(context, command, parts[0]!.part!.runId, new FerryError('RUN_PAUSED', `Run ${parts[0]!.part!.runId} was paused (ferry jobs cancel ${jobId}); queue its command again to resume it.`));
          const now = (await listJobs(location)).filter((row) => row.part?.group === jobId && (row.state === 'created' || row.state === 'retry' || row.state === 'active'));
          await boss.cancel(namesOf(boss).parts, [...new Set([...parts, ...now].map((row) => row.id))]);
        }
        if (job.state === 'active' && parts.length === 0) {
          // Still planning: its run (once started) is paused now, so parts sent at the last moment wait too.
          const { withLedger } = await import('../open-project.js');
          // (An undo, retry or demo is one job: its run, under way, is paused the same way.)
          const planning = await withLedger(projectOptions(context, command), async (ledger) => (await ledger.listRuns()).find((run) => isRunOf(job.data, run) && run.status === 'running'));
          if (planning) await pauseRun(context, command, planning.id, new FerryError('RUN_PAUSED', `Run ${planning.id} was paused (ferry jobs cancel ${jobId}); queue its command again to resume it.`));
        }
        // Under way: planning, or parts of it waiting or being written.
        const wasRunning = job.state === 'active' || parts.length > 0;
        context.out.line(`Cancelled job ${jobId}${parts.length > 0 ? ` and ${parts.length} of its part(s)` : ''}${wasRunning ? ': its run pauses after the current pages and stays resumable' : ''}.`);
        context.finish({ exitCode: EXIT.ok, json: { command: 'jobs cancel', jobId, wasRunning, parts: parts.length } });
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
  /** A part of a queued run (queue ferry-parts); absent for the run's own job. */
  part?: Omit<PartJob, 'run'>;
  /** The worker writing the part now (its lease). */
  worker?: string;
  createdOn: string;
  retryCount: number;
}

/** The queue's runs and their parts, newest first (pg-boss 10 has no list call: its job table, read directly). */
async function listJobs(location: string): Promise<JobRow[]> {
  const queues = queueNames(location);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    const result = await client.query<{ id: string; name: string; state: string; data: RunJob | PartJob; created_on: Date; retry_count: number; worker: string | null }>(
      `SELECT j.id, j.name, j.state, j.data, j.created_on, j.retry_count, l.holder AS worker
       FROM ${QUEUE_SCHEMA}.job j
       LEFT JOIN ${WORKERS_SCHEMA}.part_leases l ON j.name = $2 AND j.state = 'active'
         AND l.run_key = CASE WHEN $3 = '' THEN j.data->>'runId' ELSE $3 || '/' || (j.data->>'runId') END AND l.part = j.data->>'key'
       WHERE j.name IN ($1, $2) ORDER BY j.created_on DESC LIMIT 200`,
      [queues.runs, queues.parts, projectOf(location) ?? ''],
    );
    return result.rows.map((row) => {
      const base = { id: row.id, state: row.state, createdOn: row.created_on.toISOString(), retryCount: row.retry_count, ...(row.worker ? { worker: row.worker } : {}) };
      if (row.name !== queues.parts) return { ...base, data: row.data as RunJob };
      const { run, ...part } = row.data as PartJob;
      return { ...base, data: run, part };
    });
  } finally {
    await client.end();
  }
}

/** Runs a queued command in this process: its whole run, or (`stage`) the plan or finish stage of its parts. */
async function runCommand(project: OpenProject, job: PartedRunJob, signal: AbortSignal, stage?: 'plan' | 'finish'): Promise<RunResult> {
  const staged = stage ? { stage, ...(job.partSize !== undefined ? { partSize: job.partSize } : {}) } : {};
  if (job.command === 'migrate') return project.engine.migrate({ noMatch: job.noMatch, signal, ...staged });
  return project.engine.delta({
    createNew: job.createNew,
    updateChanged: job.updateChanged,
    onConflict: job.onConflict as ConflictPolicy,
    noMatch: job.noMatch,
    scanAll: job.scanAll,
    signal,
    ...staged,
  });
}

/** Delivered again after its run finished (the worker that ran it died before telling the queue). */
async function finishedRun(project: OpenProject, job: RunJob): Promise<RunJobOutput | undefined> {
  const finished = (await project.ledger.listRuns()).find((run) => isRunOf(job, run) && (run.status === 'completed' || run.status === 'completed_with_failures'));
  return finished ? { runId: finished.id, status: finished.status, messages: [] } : undefined;
}

function finalOrThrow(error: unknown): RunJobOutput {
  const fatal = toFerryError(error);
  if (FINAL_CODES.has(fatal.code)) return { error: { code: fatal.code, message: fatal.message } };
  // Locked by the worker still running it, paused by a stopping worker, interrupted: the queue tries again.
  throw fatal;
}

/**
 * An undo, retry or demo: one job, run whole by this worker like the command in-process. Delivered again
 * (its worker died, or the job outlived --unit-timeout), it finds its run finished, locked by the worker
 * still running it (tried again later), or unfinished, which the engine resumes.
 */
async function wholeJob(context: CommandContext, command: Command, job: WholeRunJob, signal: AbortSignal): Promise<RunJobOutput> {
  try {
    return await withProject(projectOptions(context, command), async (project) => {
      const finished = await finishedRun(project, job);
      if (finished) return finished;
      const result =
        job.command === 'undo'
          ? await project.engine.undo(job.runId, { signal })
          : job.command === 'retry'
            ? await project.engine.retry(job.runId, { signal })
            : await project.engine.demo({ signal, ...(job.sampleSize !== undefined ? { sampleSize: job.sampleSize } : {}) });
      return { runId: result.runId, status: result.status, resumed: result.resumed, messages: result.messages };
    });
  } catch (error) {
    return finalOrThrow(error);
  }
}

/**
 * The plan stage of a queued run: starts (or resumes) the run, matches, cuts it into parts and sends the
 * parts that can start (those that wait for none); each finished part sends the ones it unblocks.
 */
async function planJob(context: CommandContext, command: Command, boss: PgBoss, group: string, job: PartedRunJob, signal: AbortSignal): Promise<RunJobOutput> {
  try {
    return await withProject(projectOptions(context, command), async (project) => {
      const finished = await finishedRun(project, job);
      if (finished) return finished;
      const planned = await runCommand(project, job, signal, 'plan');
      // Asked here too, not only through the signal (the cancel watch looks four times a second): a job
      // cancelled in the last moments of planning must not send its parts.
      const now = await boss.getJobById(namesOf(boss).runs, group).catch(() => undefined);
      if (signal.aborted || now?.state === 'cancelled') {
        // Cancelled (or the worker stopping) while it planned: no part is sent; the run waits, resumable.
        const paused = new FerryError('RUN_PAUSED', `Run ${planned.runId} was paused before its parts were sent; queue its command again to resume it.`);
        await project.ledger.updateRun(planned.runId, { status: 'interrupted', error: `${paused.code}: ${paused.message}`, finishedAt: new Date().toISOString() });
        throw paused;
      }
      const parts = (await project.engine.runParts(planned.runId)) ?? [];
      await sendReady(project, boss, { group, runId: planned.runId, run: job }, parts);
      return { runId: planned.runId, status: planned.status, resumed: planned.resumed, messages: planned.messages, parts: parts.length };
    });
  } catch (error) {
    return finalOrThrow(error);
  }
}

/** One part (or the finish stage) of a queued run, under the part's lease. */
async function partJob(
  context: CommandContext,
  command: Command,
  boss: PgBoss,
  leases: PartLeases,
  job: PartJob,
  options: { signal: AbortSignal; retried: boolean },
): Promise<RunJobOutput> {
  try {
    return await withProject(projectOptions(context, command), async (project) => {
      if (job.key === FINISH_PART) {
        const finished = await finishedRun(project, job.run);
        if (finished) return finished;
        // The finish stage takes the ledger's lock like a run: delivered twice, the second waits for the first.
        const result = await runCommand(project, job.run, options.signal, 'finish');
        return { runId: result.runId, status: result.status, resumed: result.resumed, messages: result.messages };
      }
      const lease = await leases.take(job.runId, job.key);
      try {
        await project.engine.runPart(job.runId, job.key, { signal: AbortSignal.any([options.signal, lease.lost]), retried: options.retried, by: leases.holder });
      } finally {
        await lease.release();
      }
      await sendReady(project, boss, job, (await project.engine.runParts(job.runId)) ?? []);
      return { runId: job.runId, status: 'running' };
    });
  } catch (error) {
    return finalOrThrow(error);
  }
}

/**
 * Sends every part whose parts before it are done and which is not done itself, and the finish stage once
 * every part is done. Two parts finishing at the same moment both look, after recording themselves done,
 * so at least one sees the other: nothing waits forever; a part sent twice is queued once (its job id).
 */
async function sendReady(project: OpenProject, boss: PgBoss, run: Omit<PartJob, 'key'>, parts: RunPart[]): Promise<void> {
  // A run paused meanwhile (`ferry jobs cancel`) gets no next part: queued again, it plans and sends them anew.
  if ((await project.ledger.getRun(run.runId))?.status !== 'running') return;
  const done = new Set<string>();
  for (const part of parts) if (await project.engine.partDone(run.runId, part.key)) done.add(part.key);
  const timeout = run.run.unitTimeout ?? DEFAULT_UNIT_TIMEOUT_SECONDS;
  for (const part of parts) {
    if (done.has(part.key) || !part.after.every((key) => done.has(key))) continue;
    await enqueuePart(boss, { ...run, key: part.key }, timeout);
  }
  if (done.size === parts.length) await enqueuePart(boss, { ...run, key: FINISH_PART }, timeout);
}

/** A part cancelled with `ferry jobs cancel`: the run is paused (interrupted), resumable by queueing it again. */
async function pauseRun(context: CommandContext, command: Command, runId: number, error: FerryError): Promise<void> {
  const { withLedger } = await import('../open-project.js');
  await withLedger(projectOptions(context, command), async (ledger) => {
    const run = await ledger.getRun(runId);
    if (run?.status === 'running') await ledger.updateRun(runId, { status: 'interrupted', error: `${error.code}: ${error.message}`, finishedAt: new Date().toISOString() });
  });
}

/**
 * Who writes which part: a row per part being written, taken with one INSERT ... ON CONFLICT that only
 * wins over a holder whose heartbeat is older than LEASE_STALE_SECONDS (a worker that died). A part whose
 * job outlived its timeout while its worker still writes it is refused to the second worker (tried again
 * later), so no two workers ever write the same part. A holder that cannot renew its lease stops.
 */
export class PartLeases {
  private pool: Promise<import('pg').Pool> | undefined;

  constructor(
    private readonly location: string,
    /** This worker's name (`host:pid`), which its leases carry. */
    readonly holder: string,
  ) {}

  private async db(): Promise<import('pg').Pool> {
    this.pool ??= import('pg').then(({ default: pg }) => {
      const pool = new pg.Pool({ connectionString: this.location, max: 2 });
      pool.on('error', () => undefined);
      return pool;
    });
    return this.pool;
  }

  /**
   * Parts this process writes now. pg-boss gives up on a handler whose job outlived its expiry
   * (--unit-timeout) and may hand the re-delivered job to this same worker while the first attempt still
   * writes: the lease's holder is then this worker's own name, so the database alone would let the second
   * attempt in, and two attempts would write (and count) the same part at once.
   */
  private readonly writing = new Set<string>();

  async take(runId: number, part: string): Promise<{ lost: AbortSignal; release: () => Promise<void> }> {
    const db = await this.db();
    const key = runKey(this.location, runId);
    const mine = `${key}\u0000${part}`;
    if (this.writing.has(mine)) {
      throw new FerryError('LEDGER_LOCKED', `Part ${part} of run ${runId} is still being written by this worker (${this.holder}), by an earlier delivery of its job; the queue tries again later.`);
    }
    const taken = await db.query(
      `INSERT INTO ${WORKERS_SCHEMA}.part_leases (run_key, part, holder, heartbeat_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (run_key, part) DO UPDATE SET holder = EXCLUDED.holder, heartbeat_at = now()
       WHERE part_leases.holder = EXCLUDED.holder OR part_leases.heartbeat_at < now() - make_interval(secs => $4)
       RETURNING holder`,
      [key, part, this.holder, LEASE_STALE_SECONDS],
    );
    if (taken.rowCount !== 1) {
      const current = await db.query<{ holder: string }>(`SELECT holder FROM ${WORKERS_SCHEMA}.part_leases WHERE run_key = $1 AND part = $2`, [key, part]);
      throw new FerryError('LEDGER_LOCKED', `Part ${part} of run ${runId} is being written by worker ${current.rows[0]?.holder ?? '(unknown)'}; the queue tries again later.`);
    }
    this.writing.add(mine);
    const lost = new AbortController();
    const beat = setInterval(() => {
      db.query(`UPDATE ${WORKERS_SCHEMA}.part_leases SET heartbeat_at = now() WHERE run_key = $1 AND part = $2 AND holder = $3`, [key, part, this.holder])
        .then((result) => {
          if (result.rowCount !== 1) lost.abort();
        })
        .catch(() => undefined);
    }, LEASE_HEARTBEAT_MS);
    // Lives as long as the part's write, which is awaited: never what keeps a stopping worker alive.
    beat.unref();
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(beat);
        this.writing.delete(mine);
        await db.query(`DELETE FROM ${WORKERS_SCHEMA}.part_leases WHERE run_key = $1 AND part = $2 AND holder = $3`, [key, part, this.holder]).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    if (this.pool) await (await this.pool).end();
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
