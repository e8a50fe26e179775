import { memo, useCallback, useState } from 'react';
import type { JobView } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { isActive } from '../context.js';
import { KIND_LABELS, bytes, duration, num } from '../format.js';
import { CountsTable, ErrorBox, TableHead, TableWrap } from './common.js';

const STATUS_TEXT: Record<JobView['status'], string> = {
  running: 'Running',
  pausing: 'Pausing after the current page…',
  paused: 'Paused',
  finished: 'Finished',
  failed: 'Stopped by an error',
};

function jobTitle(job: JobView): string {
  return `${KIND_LABELS[job.kind]}${job.request.dryRun ? ' (dry run: nothing is written)' : ''}${job.runId ? `, run ${job.runId}` : ''}`;
}

/** What screen readers hear: a short summary that changes every 10 % (not every event). */
function liveSummary(job: JobView): string {
  const processed = job.objects.reduce((sum, o) => sum + o.processed, 0);
  const totals = job.objects.map((o) => o.total);
  const failed = job.objects.reduce((sum, o) => sum + o.counts.failed, 0);
  if (!isActive(job) && job.kind === 'verify' && job.verify) {
    // Verify reads records but writes none: its figures are the check's, not a run's counts (was "finished: 0 records").
    const objects = Object.values(job.verify.objects);
    const checked = objects.reduce((sum, o) => sum + o.checked, 0);
    const problems = objects.reduce((sum, o) => sum + o.missing + o.mismatched + o.brokenReferences + o.notMigrated + (o.filesMissing ?? 0) + (o.filesUnattached ?? 0) + (o.filesMismatched ?? 0), 0);
    return `${KIND_LABELS[job.kind]} finished: ${num(checked)} records checked, ${num(problems)} problems.`;
  }
  if (!isActive(job)) {
    return `${KIND_LABELS[job.kind]} ${job.status === 'failed' ? 'stopped by an error' : 'finished'}: ${num(processed)} records, ${num(failed)} failed.`;
  }
  if (job.status === 'paused') return `${KIND_LABELS[job.kind]} paused after ${num(processed)} records.`;
  if (totals.length > 0 && totals.every((t) => t !== undefined)) {
    const total = totals.reduce<number>((sum, t) => sum + (t ?? 0), 0);
    if (total > 0) {
      const tenth = Math.floor((processed / total) * 10) * 10;
      return `${KIND_LABELS[job.kind]}: about ${tenth} % done, ${num(failed)} failed so far.`;
    }
  }
  return `${KIND_LABELS[job.kind]} is running${job.phase ? ` (${job.phase})` : ''}.`;
}

export function JobPanel({ job, showResult = true }: { job: JobView; showResult?: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const active = isActive(job);
  const canPause = !job.request.dryRun && (job.kind === 'full' || job.kind === 'delta' || job.kind === 'retry' || job.kind === 'demo');

  const act = useCallback(async (action: 'pause' | 'resume') => {
    setBusy(true);
    setError(null);
    try {
      await (action === 'pause' ? api.pause() : api.resume());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }, []);

  return (
    <section className="job-panel" aria-labelledby={`job-${job.id}`} data-job-status={job.status} data-job-kind={job.kind} data-job-id={job.id}>
      <h3 id={`job-${job.id}`}>{jobTitle(job)}</h3>
      <p className="job-status">
        <span className={`status-pill status-${job.status}`}>{STATUS_TEXT[job.status]}</span>
        {job.phase && active ? <span className="phase"> · {job.phase}</span> : null}
      </p>
      <p className="visually-hidden" aria-live="polite" aria-atomic="true">
        {liveSummary(job)}
      </p>
      {active && canPause ? <PauseControl status={job.status} busy={busy} onAct={act} /> : null}
      <ErrorBox error={error} />
      {job.objects.length > 0 && (active || !job.result) ? <ProgressTable job={job} /> : null}
      {job.recentFailures.length > 0 ? (
        <details className="failures" open={active}>
          <summary>
            {job.recentFailures.length === 50 ? 'The latest 50 failed records' : `${num(job.recentFailures.length)} failed records`}{' '}
            (the run's report has them all)
          </summary>
          <TableWrap label="Failed records">
            <table className="data">
              <TableHead columns={['Object', 'Record', 'Field', 'Reason']} />
              <tbody>
                {job.recentFailures.map((failure, i) => (
                  <tr key={`${failure.object}-${failure.sourceId}-${i}`}>
                    <td>{failure.object}</td>
                    <td>{failure.sourceId}</td>
                    <td>{failure.field ?? ''}</td>
                    <td>
                      <code>{failure.code}</code> {failure.message}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </details>
      ) : null}
      {job.error ? (
        <div className="notice notice-error" role="alert">
          <strong>{job.error.code}: </strong>
          {job.error.message}
        </div>
      ) : null}
      {showResult && job.result ? (
        <div className="job-result">
          <CountsTable counts={job.result.counts} caption={job.result.dryRun ? 'What would happen, per object' : 'Result per object'} dryRun={job.result.dryRun} />
          {job.result.estimate ? (
            <dl className="estimate">
              <div>
                <dt>API calls</dt>
                <dd data-testid="estimate-calls">{num(job.result.estimate.apiCalls)}</dd>
              </div>
              <div>
                <dt>Estimated time</dt>
                <dd data-testid="estimate-time">{duration(job.result.estimate.seconds)}</dd>
              </div>
            </dl>
          ) : null}
        </div>
      ) : null}
      {job.result && !isActive(job) && (job.kind === 'delta' || job.kind === 'retry') && Object.values(job.result.counts).every((c) => c.read === 0) ? (
        <p className="notice notice-ok">
          {job.kind === 'delta'
            ? `Nothing to bring over: no record was created or changed in the source since the last run${job.result.dryRun ? '' : ', and nothing was written'}.`
            : 'There was no open failed record to write again.'}
        </p>
      ) : null}
      {[...job.messages, ...(job.result?.messages ?? [])].length > 0 ? (
        <ul className="messages">
          {[...new Set([...job.messages, ...(job.result?.messages ?? [])])].map((message) => (
            <li key={message}>{message}</li>
          ))}
          {job.kind !== 'retry' && [...job.messages, ...(job.result?.messages ?? [])].some((m) => /ferry retry/.test(m)) ? (
            <li>
              <a href="#/reports">Open the reports</a> to see why each record failed and to retry them.
            </li>
          ) : null}
        </ul>
      ) : null}
    </section>
  );
}

/**
 * One button for pause and resume: the same element for the whole job (its text and action follow the status),
 * memoised on the status, so the progress events that re-render the panel several times a second neither
 * replace nor move it under the pointer.
 */
const PauseControl = memo(function PauseControl({ status, busy, onAct }: { status: JobView['status']; busy: boolean; onAct: (action: 'pause' | 'resume') => Promise<void> }) {
  const paused = status === 'paused';
  return (
    <div className="actions pause-control">
      <button
        type="button"
        className={paused ? undefined : 'secondary'}
        data-testid="pause-button"
        disabled={busy || status === 'pausing'}
        onClick={() => void onAct(paused ? 'resume' : 'pause')}
      >
        {paused ? 'Resume' : status === 'pausing' ? 'Pausing…' : 'Pause'}
      </button>
      <span className="hint">
        {paused
          ? 'Paused: nothing is being written. Resuming carries on from where it stopped.'
          : 'Pausing stops after the page of records being written; resuming carries on from there.'}
      </span>
    </div>
  );
});

function ProgressTable({ job }: { job: JobView }) {
  // Files show once a run copies some (docs/attachments.md): how many, and their bytes.
  const files = job.objects.some((object) => (object.counts.files ?? 0) > 0);
  return (
    <TableWrap label="Progress per object">
      <table className="data progress-table">
        <caption>Progress per object</caption>
        <thead>
          <tr>
            <th scope="col">Object</th>
            <th scope="col">Progress</th>
            <th scope="col" className="num">Records</th>
            <th scope="col" className="num">Records/s</th>
            <th scope="col" className="num">Time left</th>
            <th scope="col" className="num">Created</th>
            <th scope="col" className="num">Updated</th>
            <th scope="col" className="num">Failed</th>
            {files ? (
              <th scope="col" className="num">
                Files
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {job.objects.map((object) => (
            <tr key={object.object} data-object={object.object}>
              <th scope="row">{object.object}</th>
              <td>
                <progress
                  max={object.total ?? 1}
                  value={object.finished ? (object.total ?? 1) : object.total ? Math.min(object.processed, object.total) : undefined}
                  aria-label={`${object.object}: ${num(object.processed)} of ${object.total === undefined ? 'unknown' : num(object.total)} records`}
                />
              </td>
              <td className="num">
                {num(object.processed)}
                {object.total !== undefined ? ` / ${num(object.total)}` : ''}
              </td>
              <td className="num">{object.finished ? '–' : num(Math.round(object.rate))}</td>
              <td className="num">{object.finished ? 'done' : duration(object.etaSeconds)}</td>
              <td className="num">{num(object.counts.created)}</td>
              <td className="num">{num(object.counts.updated)}</td>
              <td className={`num${object.counts.failed > 0 ? ' bad' : ''}`}>{num(object.counts.failed)}</td>
              {files ? (
                <td className="num" data-count="files">
                  {num(object.counts.files)} ({bytes(object.counts.fileBytes ?? 0)})
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
