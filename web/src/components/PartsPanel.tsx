import { useEffect, useState } from 'react';
import type { RunPartsResponse } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { ErrorBox, TableHead, TableWrap } from './common.js';
import { dateTime, num, totalCounts } from '../format.js';

/** How often the parts are read again while the run runs (the workers checkpoint with every page). */
const REFRESH_MS = 1000;

const STATE_LABELS: Record<string, string> = { waiting: 'Waiting', running: 'Running', done: 'Done', failed: 'Failed (tried again)' };

/**
 * A queued run's parts and the workers writing them (ledger on PostgreSQL, docs/workers.md), refreshed
 * while the run runs: the same view as `ferry runs <id>`. Shows nothing for a run not written in parts.
 */
export function PartsPanel({ runId, running }: { runId: number; running: boolean }) {
  const [parts, setParts] = useState<RunPartsResponse['parts']>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (): void => {
      api
        .runParts(runId)
        .then((answer) => {
          if (cancelled) return;
          setParts(answer.parts);
          setError(null);
          if (running && answer.parts && answer.parts.done.length < answer.parts.total) timer = setTimeout(load, REFRESH_MS);
        })
        .catch((err: unknown) => {
          if (cancelled) return;
          setError(errorText(err));
          if (running) timer = setTimeout(load, REFRESH_MS);
        });
    };
    load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [runId, running]);
  if (!parts) return <ErrorBox error={error} />;
  return (
    <section className="card" aria-labelledby="parts-heading" data-testid="run-parts">
      <h3 id="parts-heading">Parts and workers</h3>
      <p>
        This run is written in parts by <code>ferry worker</code> processes: {num(parts.done.length)} of {num(parts.total)} done
        {parts.writing.length > 0 ? `, ${num(parts.writing.length)} being written now` : ''}.
      </p>
      <ErrorBox error={error} />
      <TableWrap label="Parts and workers">
        <table className="data">
          <TableHead
            columns={[
              'Part',
              'State',
              'Worker',
              'Last heartbeat',
              { label: 'Read', num: true },
              { label: 'Created', num: true },
              { label: 'Updated', num: true },
              { label: 'Failed', num: true },
              'Notes',
            ]}
          />
          <tbody>
            {parts.parts.map((part) => {
              const total = totalCounts(part.counts);
              const notes = [
                part.attempts !== undefined && part.attempts > 1 ? `attempt ${part.attempts}` : '',
                part.worker?.stale ? 'no heartbeat: another worker takes it over' : '',
                part.error ?? '',
                part.state === 'waiting' && part.after.length > 0 ? `after ${part.after.join(', ')}` : '',
              ].filter(Boolean);
              return (
                <tr key={part.key} data-part={part.key} data-state={part.state}>
                  <th scope="row">{part.key}</th>
                  <td>{STATE_LABELS[part.state] ?? part.state}</td>
                  <td>{part.worker ? `${part.worker.host}, process ${part.worker.pid}` : ''}</td>
                  <td>{part.worker?.heartbeatAt ? dateTime(part.worker.heartbeatAt) : ''}</td>
                  <td className="num">{num(total.read)}</td>
                  <td className="num">{num(total.created)}</td>
                  <td className="num">{num(total.updated)}</td>
                  <td className="num">{num(total.failed)}</td>
                  <td>{notes.join('; ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
}
