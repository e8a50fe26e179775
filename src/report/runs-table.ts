import type { Run } from '../ledger/index.js';
import { formatNumber, formatSeconds, formatTable } from './format.js';

function sum(run: Run, key: 'read' | 'created' | 'updated' | 'matched' | 'failed' | 'conflicts' | 'deleted'): number {
  let total = 0;
  for (const counts of Object.values(run.counts)) total += counts[key] ?? 0;
  return total;
}

function kindLabel(run: Run): string {
  if (run.kind !== 'delta') return run.kind;
  const modes = [run.creates ? 'create-new' : '', run.updates ? 'update-changed' : ''].filter(Boolean);
  const scope = run.options.scanAll === true ? ', scan-all' : '';
  return modes.length > 0 ? `delta (${modes.join(' + ')}${scope})` : 'delta';
}

function notes(run: Run): string {
  const out: string[] = [];
  if (run.dryRun) out.push('dry run');
  if (run.parentRunId !== null) out.push(`of run ${run.parentRunId}`);
  if (run.undoneByRunId !== null) out.push(`undone by run ${run.undoneByRunId}`);
  return out.join(', ');
}

/** The table `ferry runs` prints: one line per run, oldest first, with its totals. */
export function listRunsTable(runs: Run[]): string {
  if (runs.length === 0) return 'No runs yet. Start with `ferry match`, `ferry demo` or `ferry migrate`.';
  const rows = runs.map((run) => {
    const seconds = run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000 : null;
    return [
      String(run.id),
      kindLabel(run),
      run.status,
      // ISO UTC, to the second: the same wherever the ledger is read.
      `${run.startedAt.slice(0, 19).replace('T', ' ')}Z`,
      formatSeconds(seconds),
      formatNumber(sum(run, 'read')),
      formatNumber(sum(run, 'created')),
      formatNumber(sum(run, 'updated')),
      formatNumber(sum(run, 'matched')),
      formatNumber(sum(run, 'failed')),
      formatNumber(sum(run, 'conflicts')),
      formatNumber(sum(run, 'deleted')),
      notes(run),
    ];
  });
  return formatTable(
    [
      { header: 'run', align: 'right' },
      { header: 'kind' },
      { header: 'status' },
      { header: 'started (UTC)' },
      { header: 'took', align: 'right' },
      { header: 'read', align: 'right' },
      { header: 'created', align: 'right' },
      { header: 'updated', align: 'right' },
      { header: 'matched', align: 'right' },
      { header: 'failed', align: 'right' },
      { header: 'conflicts', align: 'right' },
      { header: 'deleted', align: 'right' },
      { header: 'notes' },
    ],
    rows,
  );
}
