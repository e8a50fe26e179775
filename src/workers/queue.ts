import type PgBoss from 'pg-boss';
import { FerryError } from '../core/errors.js';

/**
 * The job queue that carries queued runs to `ferry worker` processes: pg-boss 10.x (docs/workers.md says
 * why pg-boss and not graphile-worker). Its tables live in their own schema of the ledger's database, so
 * one database holds the ledger and the queue and a throw-away database takes both with it.
 */
export const QUEUE_SCHEMA = 'ferry_queue';
export const RUN_QUEUE = 'ferry-runs';

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
export type RunJob =
  | { command: 'migrate'; noMatch: boolean; afterRunId: number }
  | { command: 'delta'; createNew: boolean; updateChanged: boolean; onConflict: string; noMatch: boolean; scanAll: boolean; afterRunId: number };

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
  if (!(await boss.getQueue(RUN_QUEUE))) {
    try {
      await boss.createQueue(RUN_QUEUE, { name: RUN_QUEUE, retryLimit: RETRY_LIMIT, retryDelay: RETRY_DELAY_SECONDS });
    } catch (error) {
      // Two processes creating the queue at the same moment: the other one won.
      if (!(await boss.getQueue(RUN_QUEUE))) throw error;
    }
  }
  return boss;
}

export async function enqueueRun(boss: PgBoss, job: RunJob, unitTimeoutSeconds: number): Promise<string> {
  const id = await boss.send(RUN_QUEUE, job, { expireInSeconds: unitTimeoutSeconds, retryLimit: RETRY_LIMIT, retryDelay: RETRY_DELAY_SECONDS });
  if (!id) throw new FerryError('INTERNAL', 'The queue did not accept the run.');
  return id;
}
