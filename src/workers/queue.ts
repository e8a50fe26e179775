import { createHash } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { queueNames } from './projects.js';

const queues = new WeakMap<PgBoss, { runs: string; parts: string }>();

/** The queues of the project the queue was opened for (openQueue). */
export function namesOf(boss: PgBoss): { runs: string; parts: string } {
  const names = queues.get(boss);
  if (!names) throw new FerryError('INTERNAL', 'The queue was not opened with openQueue.');
  return names;
}
import { FerryError } from '../core/errors.js';

/**
 * The job queue that carries queued runs to `ferry worker` processes: pg-boss 10.x (docs/workers.md says
 * why pg-boss and not graphile-worker). Its tables live in their own schema of the ledger's database, so
 * one database holds the ledger and the queue and a throw-away database takes both with it.
 */
export const QUEUE_SCHEMA = 'ferry_queue';
/** The unnamed project's queues; a named project's are queueNames(url) (src/workers/projects.ts). */
export const RUN_QUEUE = 'ferry-runs';
/** Parts of queued runs (docs/workers.md): objects and id ranges, each sent once the parts before it are done. */
export const PART_QUEUE = 'ferry-parts';
/** Ferry's own tables next to the queue: who holds which part (leases) and the shared rate-limit buckets. */
export const WORKERS_SCHEMA = 'ferry_workers';
/** A part's lease is free again this long after its holder's last heartbeat (a worker that died). */
export const LEASE_STALE_SECONDS = 10;
export const LEASE_HEARTBEAT_MS = 2_000;

/** How often a worker's pg-boss looks for expired jobs (a worker that died mid-run). */
const MAINTENANCE_SECONDS = 2;
/** A job that fails (ledger held by the worker still running it, a run interrupted) is tried again this often. */
const RETRY_LIMIT = 1000;
const RETRY_DELAY_SECONDS = 2;
export const DEFAULT_UNIT_TIMEOUT_SECONDS = 60;

/**
 * What a queued run carries: the command and its flags, never a secret. A worker opens its own project
 * file, with its own environment and secrets file, to reach the source and the target.
 */
export type RunJob = (
  | { command: 'migrate'; noMatch: boolean; afterRunId: number }
  | { command: 'delta'; createNew: boolean; updateChanged: boolean; onConflict: string; noMatch: boolean; scanAll: boolean; afterRunId: number }
  // Whole-run jobs (WholeRunJob): one worker runs the whole command, resumable like a run in-process.
  | { command: 'undo'; runId: number; afterRunId: number }
  | { command: 'retry'; runId: number; afterRunId: number }
  | { command: 'demo'; sampleSize?: number; afterRunId: number }
) & {
  /** Records per id-range part (`--part-size`); absent: the engine's default. */
  partSize?: number;
  /** `--unit-timeout` of the run's parts; absent: DEFAULT_UNIT_TIMEOUT_SECONDS. */
  unitTimeout?: number;
};

/**
 * One part of a queued run (src/engine/engine.ts RunPart), or its last stage (`key` FINISH_PART). `group` is
 * the run job that planned it: a run queued again plans again under a new group, so a cancelled group's
 * jobs never block it.
 */
export interface PartJob {
  group: string;
  runId: number;
  key: string;
  run: PartedRunJob;
}

export const FINISH_PART = '$finish';

/** The commands a worker runs as one job (no parts): undo, retry and a project's demo. */
export type WholeRunJob = Extract<RunJob, { command: 'undo' | 'retry' | 'demo' }>;
/** The commands cut into parts (plan, parts, finish). */
export type PartedRunJob = Extract<RunJob, { command: 'migrate' | 'delta' }>;

export function isWholeRunJob(job: RunJob): job is WholeRunJob {
  return job.command === 'undo' || job.command === 'retry' || job.command === 'demo';
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export function requirePostgres(location: string, what: string): void {
  if (!isPostgresUrl(location)) {
    throw new FerryError('USAGE', `${what} needs the ledger on PostgreSQL (--state postgres://...): workers share the ledger and the queue through that database; the ledger here is ${location}.`);
  }
}

/** Opens pg-boss on the ledger's database, creating its schema and the run queue on first use. */
export async function openQueue(connectionString: string, options: { supervise: boolean }): Promise<PgBoss> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startQueue(connectionString, options);
    } catch (error) {
      // Two processes installing pg-boss's schema at the same moment (a worker and the first queued run):
      // PostgreSQL aborts one with a deadlock or a duplicate; the other's schema is there a moment later.
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== '40P01' && code !== '23505' && code !== '42P06' && code !== '42P07')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function startQueue(connectionString: string, options: { supervise: boolean }): Promise<PgBoss> {
  // Loaded only by the commands that use the queue, so every other command starts without it.
  const { default: Boss } = await import('pg-boss');
  const boss = new Boss({
    connectionString,
    schema: QUEUE_SCHEMA,
    max: 4,
    supervise: options.supervise,
    schedule: false,
    maintenanceIntervalSeconds: MAINTENANCE_SECONDS,
    monitorStateIntervalSeconds: 60,
  });
  boss.on('error', () => undefined);
  try {
    await boss.start();
  } catch (error) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw error;
  }
  const names = queueNames(connectionString);
  queues.set(boss, names);
  for (const name of [names.runs, names.parts]) {
    if (await boss.getQueue(name)) continue;
    try {
      await boss.createQueue(name, { name, retryLimit: RETRY_LIMIT, retryDelay: RETRY_DELAY_SECONDS });
    } catch (error) {
      // Two processes creating the queue at the same moment: the other one won.
      if (!(await boss.getQueue(name))) throw error;
    }
  }
  await createWorkerTables(connectionString);
  return boss;
}

export async function createWorkerTables(connectionString: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${WORKERS_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${WORKERS_SCHEMA}.part_leases (run_key text NOT NULL, part text NOT NULL, holder text NOT NULL, heartbeat_at timestamptz NOT NULL, PRIMARY KEY (run_key, part))`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${WORKERS_SCHEMA}.rate_buckets (identity text PRIMARY KEY, tokens double precision NOT NULL, refilled_at timestamptz NOT NULL, taken bigint NOT NULL DEFAULT 0, waited bigint NOT NULL DEFAULT 0)`,
    );
  } finally {
    await client.end();
  }
}

/** A deterministic job id (UUID form) for a part of a run group: sending it twice queues it once. */
export function partJobId(group: string, key: string): string {
  const hex = createHash('sha256').update(`${group}\u0000${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function enqueuePart(boss: PgBoss, job: PartJob, unitTimeoutSeconds: number): Promise<void> {
  await boss.send(namesOf(boss).parts, job, { id: partJobId(job.group, job.key), expireInSeconds: unitTimeoutSeconds, retryLimit: RETRY_LIMIT, retryDelay: RETRY_DELAY_SECONDS });
}

export async function enqueueRun(boss: PgBoss, job: RunJob, unitTimeoutSeconds: number): Promise<string> {
  const id = await boss.send(namesOf(boss).runs, job, { expireInSeconds: unitTimeoutSeconds, retryLimit: RETRY_LIMIT, retryDelay: RETRY_DELAY_SECONDS });
  if (!id) throw new FerryError('INTERNAL', 'The queue did not accept the run.');
  return id;
}
