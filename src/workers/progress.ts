import type { Ledger } from '../ledger/index.js';
import { runKey } from './projects.js';
import { WORKERS_SCHEMA } from './queue.js';

/** Where a queued run in parts stands: its parts, which are done, and which worker writes which now. */
export interface PartsProgress {
  runId: number;
  total: number;
  done: string[];
  /** Parts being written now, with the worker (`host:pid`) holding each one's lease. */
  writing: { part: string; worker: string; heartbeatAt: string }[];
}

export async function partsProgress(ledger: Ledger, location: string, runId: number): Promise<PartsProgress | undefined> {
  const [unit] = await ledger.getUnits(runId, 'parts', '*');
  if (!unit?.cursor) return undefined;
  const parts = JSON.parse(unit.cursor) as { key: string }[];
  const done: string[] = [];
  for (const part of parts) if ((await ledger.getUnits(runId, 'part-done', part.key)).some((row) => row.done)) done.push(part.key);
  return { runId, total: parts.length, done, writing: await partLeases(location, runId) };
}

async function partLeases(location: string, runId: number): Promise<PartsProgress['writing']> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    const exists = await client.query(`SELECT to_regclass('${WORKERS_SCHEMA}.part_leases') AS t`);
    if (!exists.rows[0]?.t) return [];
    const rows = await client.query<{ part: string; holder: string; heartbeat_at: Date }>(
      `SELECT part, holder, heartbeat_at FROM ${WORKERS_SCHEMA}.part_leases WHERE run_key = $1 ORDER BY part`,
      [runKey(location, runId)],
    );
    return rows.rows.map((row) => ({ part: row.part, worker: row.holder, heartbeatAt: row.heartbeat_at.toISOString() }));
  } finally {
    await client.end();
  }
}

export function partsLine(progress: PartsProgress): string {
  const writing = progress.writing.map((entry) => `${entry.part} on ${entry.worker}`).join(', ');
  return `run ${progress.runId} running: ${progress.done.length}/${progress.total} part(s) done${writing ? `; writing ${writing}` : ''}`;
}
