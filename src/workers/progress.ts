import { addCounts, emptyCounts, type Counts } from '../core/progress.js';
import { formatNumber, formatTable } from '../report/format.js';
import type { Ledger } from '../ledger/index.js';
import { queueNames, runKey } from './projects.js';
import { LEASE_STALE_SECONDS, QUEUE_SCHEMA, WORKERS_SCHEMA } from './queue.js';

/** Where one part of a queued run stands (docs/workers.md "Who does what"). */
export type PartState = 'waiting' | 'running' | 'done' | 'failed';

/** The worker holding a part's lease (or, for a done part, the one that wrote it). */
export interface PartWorker {
  /** `host:pid`, as the worker names itself in its log and in `ferry jobs`. */
  id: string;
  host: string;
  pid: number;
  /** The lease's last renewal (a live worker renews it every 2 s); absent for a done part. */
  heartbeatAt?: string;
  /** The heartbeat is older than the lease's stale time: the worker is gone, another takes the part over. */
  stale?: boolean;
}

export interface PartView {
  key: string;
  object: string;
  state: PartState;
  /** Parts it waits for (those of the objects it refers to). */
  after: string[];
  /** The part's own counts, per object, as its worker checkpointed them with its last recorded page. */
  counts: Record<string, Counts>;
  worker?: PartWorker;
  /** Attempts of the part's job in the queue so far (a part taken over after its worker died: 2 or more). */
  attempts?: number;
  /** A failed part: why its last attempt ended (the queue tries it again unless it has no retry left). */
  error?: string;
}

/** Where a queued run in parts stands: its parts, which are done, and which worker writes which now. */
export interface PartsProgress {
  runId: number;
  total: number;
  done: string[];
  /** Parts being written now, with the worker (`host:pid`) holding each one's lease. */
  writing: { part: string; worker: string; heartbeatAt: string }[];
  parts: PartView[];
  /** The run's counts so far: its plan stage's (matching) plus every part's. The finish stage sets the same sum. */
  counts: Record<string, Counts>;
}

/**
 * Reads a queued run's parts from the ledger (its plan, each part's checkpointed counts, which are done and
 * by whom) and from the workers' tables (who holds which lease) and the queue (attempts, errors). Undefined
 * when the run is not written in parts.
 */
export async function partsProgress(ledger: Ledger, location: string, runId: number): Promise<PartsProgress | undefined> {
  const units = await ledger.getUnitsByPhasePrefix(runId, 'part');
  const plan = units.find((unit) => unit.phase === 'parts' && unit.object === '*');
  if (!plan?.cursor) return undefined;
  const planned = JSON.parse(plan.cursor) as { key: string; object: string; after: string[] }[];
  const done = new Map<string, string | undefined>();
  const partCounts = new Map<string, Record<string, Counts>>();
  for (const unit of units) {
    if (unit.phase === 'part-done' && unit.done) done.set(unit.object, unit.cursor ? (JSON.parse(unit.cursor) as { by?: string }).by : undefined);
    if (unit.phase.startsWith('part:')) {
      const key = unit.phase.slice('part:'.length);
      const counts = partCounts.get(key) ?? {};
      counts[unit.object] = addCounts(emptyCounts(), unit.counts);
      partCounts.set(key, counts);
    }
  }
  const { leases, jobs } = await workerTables(location, runId);
  const total: Record<string, Counts> = {};
  const add = (counts: Record<string, Partial<Counts>>): void => {
    for (const [object, value] of Object.entries(counts)) addCounts((total[object] ??= emptyCounts()), value);
  };
  add(plan.nextCursor ? (JSON.parse(plan.nextCursor) as Record<string, Counts>) : {});
  const parts = planned.map((part): PartView => {
    const counts = partCounts.get(part.key) ?? {};
    add(counts);
    const lease = leases.get(part.key);
    const job = jobs.get(part.key);
    const view: PartView = { key: part.key, object: part.object, state: 'waiting', after: part.after, counts };
    if (job) view.attempts = job.attempts;
    if (done.has(part.key)) {
      view.state = 'done';
      const by = done.get(part.key);
      if (by) view.worker = workerOf(by);
    } else if (lease) {
      view.state = 'running';
      view.worker = { ...workerOf(lease.holder), heartbeatAt: lease.heartbeatAt, stale: lease.stale };
    } else if (job && (job.state === 'failed' || job.state === 'retry') && job.error) {
      view.state = 'failed';
      view.error = job.error;
    }
    return view;
  });
  return {
    runId,
    total: parts.length,
    done: parts.filter((part) => part.state === 'done').map((part) => part.key),
    writing: parts.filter((part) => part.state === 'running').map((part) => ({ part: part.key, worker: part.worker!.id, heartbeatAt: part.worker!.heartbeatAt! })),
    parts,
    counts: total,
  };
}

/** `host:pid` into its host and pid (a host name may hold `:`; the pid is after the last one). */
function workerOf(id: string): PartWorker {
  const at = id.lastIndexOf(':');
  return { id, host: at > 0 ? id.slice(0, at) : id, pid: at > 0 ? Number(id.slice(at + 1)) : 0 };
}

interface LeaseRow {
  holder: string;
  heartbeatAt: string;
  stale: boolean;
}

interface JobRow {
  state: string;
  attempts: number;
  error?: string;
}

async function workerTables(location: string, runId: number): Promise<{ leases: Map<string, LeaseRow>; jobs: Map<string, JobRow> }> {
  const leases = new Map<string, LeaseRow>();
  const jobs = new Map<string, JobRow>();
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    const exists = await client.query<{ leases: string | null; jobs: string | null }>(`SELECT to_regclass('${WORKERS_SCHEMA}.part_leases') AS leases, to_regclass('${QUEUE_SCHEMA}.job') AS jobs`);
    if (exists.rows[0]?.leases) {
      const rows = await client.query<{ part: string; holder: string; heartbeat_at: Date; stale: boolean }>(
        `SELECT part, holder, heartbeat_at, heartbeat_at < now() - make_interval(secs => $2) AS stale FROM ${WORKERS_SCHEMA}.part_leases WHERE run_key = $1 ORDER BY part`,
        [runKey(location, runId), LEASE_STALE_SECONDS],
      );
      for (const row of rows.rows) leases.set(row.part, { holder: row.holder, heartbeatAt: row.heartbeat_at.toISOString(), stale: row.stale });
    }
    if (exists.rows[0]?.jobs) {
      // The newest job of each part (a run queued again sends its parts anew, under a new group).
      const rows = await client.query<{ key: string; state: string; retry_count: number; output: { message?: string; error?: { message?: string } } | null }>(
        `SELECT DISTINCT ON (data->>'key') data->>'key' AS key, state, retry_count, output FROM ${QUEUE_SCHEMA}.job
         WHERE name = $1 AND data->>'runId' = $2 ORDER BY data->>'key', created_on DESC`,
        [queueNames(location).parts, String(runId)],
      );
      for (const row of rows.rows) {
        const error = row.output?.error?.message ?? row.output?.message;
        jobs.set(row.key, { state: row.state, attempts: row.retry_count + (row.state === 'created' ? 0 : 1), ...(error ? { error } : {}) });
      }
    }
  } finally {
    await client.end();
  }
  return { leases, jobs };
}

export function partsLine(progress: PartsProgress, status = 'running'): string {
  const writing = progress.parts
    .filter((part) => part.state === 'running')
    .map((part) => {
      const read = Object.values(part.counts).reduce((sum, counts) => sum + counts.read, 0);
      return `${part.key} on ${part.worker!.id}${read > 0 ? ` (${read} read)` : ''}`;
    })
    .join(', ');
  const failed = progress.parts.filter((part) => part.state === 'failed').map((part) => part.key);
  return `run ${progress.runId} ${status.replaceAll('_', ' ')}: ${progress.done.length}/${progress.total} part(s) done${writing ? `; writing ${writing}` : ''}${failed.length > 0 ? `; failed (tried again): ${failed.join(', ')}` : ''}`;
}

/** `ferry runs`: a queued run's parts, one line each, with the worker of each and its counts. */
export function partsTable(progress: PartsProgress): string {
  const total = (part: PartView, key: 'read' | 'created' | 'updated' | 'matched' | 'failed'): string =>
    formatNumber(Object.values(part.counts).reduce((sum, counts) => sum + counts[key], 0));
  const rows = progress.parts.map((part) => [
    part.key,
    part.state,
    part.worker ? `${part.worker.host} pid ${part.worker.pid}` : '',
    part.worker?.heartbeatAt ? `${part.worker.heartbeatAt.slice(0, 19).replace('T', ' ')}Z${part.worker.stale ? ' (stale)' : ''}` : '',
    total(part, 'read'),
    total(part, 'created'),
    total(part, 'updated'),
    total(part, 'matched'),
    total(part, 'failed'),
    [part.attempts !== undefined && part.attempts > 1 ? `attempt ${part.attempts}` : '', part.error ?? '', part.state === 'waiting' && part.after.length > 0 ? `after ${part.after.join(', ')}` : '']
      .filter(Boolean)
      .join('; '),
  ]);
  return formatTable(
    [
      { header: 'part' },
      { header: 'state' },
      { header: 'worker' },
      { header: 'heartbeat (UTC)' },
      { header: 'read', align: 'right' },
      { header: 'created', align: 'right' },
      { header: 'updated', align: 'right' },
      { header: 'matched', align: 'right' },
      { header: 'failed', align: 'right' },
      { header: 'notes' },
    ],
    rows,
  );
}
