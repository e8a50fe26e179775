import { useEffect, useState } from 'react';
import type { SyncResponse } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { ErrorBox, TableHead, TableWrap } from './common.js';
import { dateTime, num, runStatusLabel } from '../format.js';

/** How often the panel reads the sync's state: `ferry sync` runs in a terminal, not in this server. */
const POLL_MS = 3000;

/**
 * Continuous sync (`ferry sync --every 5m`): its state, last and next cycle, records per cycle, and a stop
 * button (a stop request the sync reads between cycles; it finishes the cycle it is in).
 */
export function SyncPanel() {
  const [data, setData] = useState<SyncResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stopping, setStopping] = useState(false);

  useEffect(() => {
    let live = true;
    const load = () =>
      api
        .sync()
        .then((next) => live && setData(next))
        .catch((caught: unknown) => live && setError(errorText(caught)));
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  const sync = data?.sync;
  const stop = async () => {
    setStopping(true);
    try {
      setData(await api.stopSync());
      setError(null);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setStopping(false);
    }
  };

  return (
    <section aria-labelledby="sync-heading" data-testid="sync-panel">
      <h2 id="sync-heading">Continuous sync</h2>
      {!sync ? (
        <p>
          No sync has run yet. <code>ferry sync --every 5m</code> in a terminal runs a delta every five minutes until{' '}
          <code>ferry cutover</code>; it shows here.
        </p>
      ) : (
        <>
          <p data-testid="sync-state">
            Sync {sync.id}: {sync.state === 'stopped' ? `stopped (${sync.stopReason ?? 'unknown'})` : data?.alive ? sync.state : `${sync.state}, but its process is gone`}
            {' · '}every {Math.round(sync.intervalMs / 1000)} s, {sync.mode}, on conflict {sync.onConflict} · {num(sync.cycles)} cycles ({num(sync.failedCycles)} failed,{' '}
            {num(sync.skippedTicks)} ticks skipped)
          </p>
          {sync.lastCycle ? (
            <p>
              Last cycle: run {sync.lastCycle.runId ?? '-'}, {dateTime(sync.lastCycle.finishedAt)}, {runStatusLabel(sync.lastCycle.status)}
              {sync.lastCycle.error ? ` (${sync.lastCycle.error})` : ''}.
            </p>
          ) : null}
          {sync.state !== 'stopped' ? <p>Next cycle: {dateTime(sync.nextDueAt)}{sync.stopRequested ? ' (stop requested: it stops after the current cycle)' : ''}.</p> : null}
          {sync.state === 'running' && data?.alive ? (
            <div className="actions">
              <button type="button" className="secondary" disabled={stopping} onClick={() => void stop()}>
                Stop the sync after its current cycle
              </button>
            </div>
          ) : null}
          {data && data.cycles.length > 0 ? (
            <TableWrap label="Records per cycle">
              <table className="data" data-testid="sync-cycles">
                <TableHead columns={['Run', 'Started', 'Status', { label: 'Created', num: true }, { label: 'Updated', num: true }, { label: 'Conflicts', num: true }, { label: 'Failed', num: true }]} />
                <tbody>
                  {data.cycles.map((cycle) => (
                    <tr key={cycle.runId}>
                      <th scope="row">{cycle.runId}</th>
                      <td>{dateTime(cycle.startedAt)}</td>
                      <td>{runStatusLabel(cycle.status)}</td>
                      <td className="num">{num(cycle.created)}</td>
                      <td className="num">{num(cycle.updated)}</td>
                      <td className="num">{num(cycle.conflicts)}</td>
                      <td className="num">{num(cycle.failed)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ) : null}
        </>
      )}
      <ErrorBox error={error} />
    </section>
  );
}
