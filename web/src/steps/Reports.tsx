import { useEffect, useMemo, useState } from 'react';
import type { Counts } from '../../../src/core/progress.js';
import type { VerifyResult } from '../../../src/engine/types.js';
import type { RunDetailResponse, StartJobRequest } from '../../../src/wizard/api.js';
import { api, errorText, reportUrl } from '../api.js';
import { BarChart, StackedBarChart } from '../components/Charts.js';
import { JobPanel } from '../components/JobPanel.js';
import { PartsPanel } from '../components/PartsPanel.js';
import { UndoButton } from '../components/UndoConfirm.js';
import { Busy, CountsTable, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { isActive, useWizard } from '../context.js';
import { jobStarter, useRuns } from '../hooks.js';
import { dateTime, num, plural, runKindLabel, runStatusLabel, totalCounts, valueText } from '../format.js';

const written = (c: Counts) => c.created + c.updated;

/** How a conflict was settled (the delta's conflict policy), in words. */
const RESOLUTION_TEXT: Record<string, string> = {
  'source-wins': 'The source wins: its value was written',
  'target-wins': 'The target wins: its edit was kept',
  'skip-record': 'Record skipped: nothing written',
};

export function ReportsStep() {
  const { job, jobGeneration, selectedRun, selectRun, startJob } = useWizard();
  const [detail, setDetail] = useState<RunDetailResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runs = useRuns(jobGeneration, setError);
  const running = isActive(job);
  const reportJob = job && (job.kind === 'retry' || job.kind === 'undo' || job.kind === 'verify') ? job : null;


  const shownRunId = selectedRun ?? runs?.find((r) => !r.dryRun && r.kind !== 'match')?.id ?? runs?.[0]?.id ?? null;

  useEffect(() => {
    if (shownRunId === null) return;
    let cancelled = false;
    setDetail((current) => (current?.run.id === shownRunId ? current : null));
    api
      .run(shownRunId)
      .then((answer) => !cancelled && setDetail(answer))
      .catch((err: unknown) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [shownRunId, jobGeneration]);

  const start = jobStarter(startJob, setError);

  const chartRuns = useMemo(() => (runs ?? []).filter((r) => !r.dryRun && r.kind !== 'match' && r.kind !== 'undo' && written(totalCounts(r.counts)) > 0).slice().reverse(), [runs]);
  const chartObjects = useMemo(() => [...new Set(chartRuns.flatMap((r) => Object.keys(r.counts)))], [chartRuns]);

  if (!runs) return error ? <ErrorBox error={error} /> : <Busy>Loading the runs…</Busy>;

  return (
    <>
      <p className="lead">
        Every run with its numbers, the records that failed and why, and the fields that were changed on both sides. From
        here you can retry failed records once the cause is fixed, undo a run, and download a report to share.
      </p>
      <ErrorBox error={error} />
      {runs.some((r) => !r.dryRun && (r.kind === 'full' || r.kind === 'delta' || r.kind === 'demo')) ? (
        <section className="card verify-card" aria-labelledby="verify-heading">
          <h2 id="verify-heading">Check the target against the source</h2>
          <p>
            Reads every migrated record on both sides and compares them field by field, as <code>ferry verify</code> does:
            records missing in the target, values that differ, references that point nowhere. It writes nothing.
          </p>
          <div className="actions">
            <button type="button" className="secondary" disabled={running} onClick={() => void start({ kind: 'verify' })}>
              Check the target against the source
            </button>
          </div>
        </section>
      ) : null}
      {reportJob ? <JobPanel job={reportJob} /> : null}
      {reportJob?.kind === 'verify' && reportJob.verify ? <VerifyView result={reportJob.verify} /> : null}
      {runs.length === 0 ? (
        <p>No run yet. Runs appear here as soon as you match, try a sample or migrate.</p>
      ) : (
        <>
          <section aria-labelledby="runs-heading">
            <h2 id="runs-heading">All runs</h2>
            <TableWrap label="All runs">
              <table className="data" data-testid="runs-table">
                <TableHead columns={['Run', 'Kind', 'Started', 'Status', { label: 'Created', num: true }, { label: 'Updated', num: true }, { label: 'Failed', num: true }, { label: 'Details', hidden: true }]} />
                <tbody>
                  {runs.map((run) => {
                    const total = totalCounts(run.counts);
                    const current = run.id === shownRunId;
                    return (
                      <tr key={run.id} data-run={run.id} className={current ? 'current' : undefined}>
                        <th scope="row">{run.id}</th>
                        <td>
                          {runKindLabel(run.kind)}
                          {run.dryRun ? ' (dry run)' : ''}
                        </td>
                        <td>{dateTime(run.startedAt)}</td>
                        <td>
                          {runStatusLabel(run.status)}
                          {run.undoneByRunId !== null ? `, undone by run ${run.undoneByRunId}` : ''}
                        </td>
                        <td className="num">{num(total.created)}</td>
                        <td className="num">{num(total.updated)}</td>
                        <td className="num">{num(total.failed)}</td>
                        <td>
                          <button type="button" className="link-button" aria-pressed={current} onClick={() => selectRun(run.id)}>
                            Show run {run.id}
                          </button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableWrap>
          </section>
          {chartRuns.length > 0 ? (
            <StackedBarChart
              title="Records written per object, per run"
              description={chartRuns
                .map((r) => `Run ${r.id} (${runKindLabel(r.kind)}): ${Object.entries(r.counts).map(([o, c]) => `${o} ${written(c)}`).join(', ')}`)
                .join('. ')}
              rows={chartRuns.map((r) => ({
                label: `Run ${r.id} · ${runKindLabel(r.kind)}`,
                values: Object.fromEntries(Object.entries(r.counts).map(([o, c]) => [o, written(c)])),
              }))}
              series={chartObjects}
              unit="records created or updated"
            />
          ) : null}
        </>
      )}
      {shownRunId !== null ? (
        detail && detail.run.id === shownRunId ? (
          <RunDetail detail={detail} running={running} onStart={start} />
        ) : (
          <Busy>Loading run {shownRunId}…</Busy>
        )
      ) : null}
    </>
  );
}

function RunDetail({ detail, running, onStart }: { detail: RunDetailResponse; running: boolean; onStart: (request: StartJobRequest) => Promise<void> }) {
  const { run, failures, conflicts } = detail;
  const total = totalCounts(run.counts);
  const errors = failures.filter((f) => f.severity === 'error');
  const warnings = failures.filter((f) => f.severity === 'warning');
  const byReason = Object.entries(
    errors.reduce<Record<string, number>>((acc, f) => {
      acc[f.code] = (acc[f.code] ?? 0) + 1;
      return acc;
    }, {}),
  )
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value);

  return (
    <section className="run-detail" aria-labelledby="run-heading" data-run={run.id}>
      <h2 id="run-heading">
        Run {run.id}: {runKindLabel(run.kind)}
        {run.dryRun ? ' (dry run)' : ''}
      </h2>
      <p>
        Started {dateTime(run.startedAt)}
        {run.finishedAt ? `, finished ${dateTime(run.finishedAt)}` : ''}; {runStatusLabel(run.status)}.{' '}
        {num(total.read)} records read, {num(total.created)} created, {num(total.updated)} updated, {num(total.failed)} failed,{' '}
        {plural(total.conflicts, 'conflict')}.
        {run.undoneByRunId !== null ? ` Undone by run ${run.undoneByRunId}.` : ''}
      </p>
      {run.kind === 'full' || run.kind === 'delta' ? <PartsPanel runId={run.id} running={run.status === 'running'} /> : null}
      {run.error ? (
        <p className="notice notice-error">
          <strong>The run stopped: </strong>
          {run.error}
        </p>
      ) : null}
      <div className="actions downloads">
        <span>Download the report:</span>
        <a className="button secondary" href={reportUrl(run.id, 'csv')} download={`ferry-run-${run.id}.csv`}>
          CSV (spreadsheet)
        </a>
        <a className="button secondary" href={reportUrl(run.id, 'html')} download={`ferry-run-${run.id}.html`}>
          HTML (web page)
        </a>
        <a className="button secondary" href={reportUrl(run.id, 'json')} download={`ferry-run-${run.id}.json`}>
          JSON
        </a>
      </div>
      <div className="actions">
        {detail.retry.possible ? (
          <button type="button" disabled={running} onClick={() => void onStart({ kind: 'retry', runId: run.id })}>
            {detail.retry.openFailures > 0
              ? `Retry the ${plural(detail.retry.openFailures, 'failed record')}${detail.retry.openWarnings ? ` (and the ${plural(detail.retry.openWarnings, 'record')} written with a warning)` : ''} of run ${run.id}`
              : `Write the ${plural(detail.retry.openWarnings ?? 0, 'record')} written with a warning again (run ${run.id})`}
          </button>
        ) : detail.retry.openFailures === 0 && errors.length > 0 ? (
          <span className="hint">Every failed record of this run has been written since.</span>
        ) : null}
        {detail.undo.possible ? (
          <UndoButton run={run} label={`Undo run ${run.id}`} disabled={running} onConfirm={() => void onStart({ kind: 'undo', runId: run.id })} />
        ) : run.kind !== 'undo' && run.kind !== 'match' && !run.dryRun ? (
          <span className="hint">Undo is not possible now{detail.undo.reason ? `: ${detail.undo.reason}` : '.'}</span>
        ) : null}
      </div>
      {Object.keys(run.counts).length > 0 ? <CountsTable counts={run.counts} caption={`Counts of run ${run.id}, per object`} dryRun={run.dryRun} /> : null}
      {byReason.length > 0 ? (
        <BarChart
          title={`Failed records of run ${run.id}, by reason`}
          description={byReason.map((b) => `${b.label}: ${b.value}`).join(', ')}
          bars={byReason}
          unit="failed records"
        />
      ) : null}
      <section aria-labelledby="failures-heading">
        <h3 id="failures-heading">Failed records ({num(errors.length)})</h3>
        {errors.length === 0 ? <p>None.</p> : <FailureTable failures={errors} label={`Failed records of run ${run.id}`} testId="failures-table" />}
      </section>
      {warnings.length > 0 ? (
        <details>
          <summary>Written with a warning ({num(warnings.length)})</summary>
          <FailureTable failures={warnings} label={`Warnings of run ${run.id}`} testId="warnings-table" />
        </details>
      ) : null}
      <section aria-labelledby="conflicts-heading">
        <h3 id="conflicts-heading">Conflicts: changed in both CRMs ({num(conflicts.length)})</h3>
        {conflicts.length > 0 ? (
          <p className="hint">
            A field whose value changed in the source and was also edited in the target since Ferry last wrote it (the last
            migrated value).
          </p>
        ) : null}
        {conflicts.length === 0 ? (
          <p>None.</p>
        ) : (
          <TableWrap label={`Conflicts of run ${run.id}`} long={conflicts.length > 12}>
            <table className="data" data-testid="conflicts-table">
              <TableHead columns={['Object', 'Record', 'Field', 'Source value', 'Target value', 'Last migrated value', 'Settled']} />
              <tbody>
                {conflicts.map((c) => (
                  <tr key={c.id}>
                    <td>{c.object}</td>
                    <td>
                      {c.sourceId} → {c.targetId}
                    </td>
                    <td>{c.field}</td>
                    <td>{valueText(c.sourceValue)}</td>
                    <td>{valueText(c.targetValue)}</td>
                    <td>{valueText(c.writtenValue)}</td>
                    <td data-resolution={c.resolution}>{RESOLUTION_TEXT[c.resolution] ?? c.resolution}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </section>
  );
}

function FailureTable({ failures, label, testId }: { failures: RunDetailResponse['failures']; label: string; testId: string }) {
  return (
    <TableWrap label={label} long={failures.length > 12}>
      <table className="data" data-testid={testId}>
        <TableHead columns={['Object', 'Record', 'Field', 'Value', 'Reason', 'Now']} />
        <tbody>
          {failures.map((f) => (
            <tr key={f.id} data-source-id={f.sourceId}>
              <td>{f.object}</td>
              <td>{f.sourceId}</td>
              <td>{f.field ?? ''}</td>
              <td>{f.value ?? ''}</td>
              <td>
                <code>{f.code}</code> {f.message}
              </td>
              <td>{f.resolvedByRunId !== null ? `written by run ${f.resolvedByRunId}` : 'still open'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

const ISSUE_TEXT: Record<VerifyResult['issues'][number]['kind'], string> = {
  'missing-in-target': 'Missing in the target',
  'not-migrated': 'Not migrated',
  'field-mismatch': 'Value differs',
  'broken-reference': 'Reference points nowhere',
  'file-missing': 'File gone from the target',
  'file-not-attached': 'File not attached to its record',
  'file-mismatch': 'File differs from the copied one',
};
const REASON_TEXT: Record<string, string> = {
  'source-changed-since-last-run': 'changed in the source since the last run (a delta brings it over)',
  'edited-in-target': 'edited in the target since Ferry wrote it',
  unknown: 'reason unknown',
  'deleted-in-target': 'deleted in the target',
  detached: 'taken off the record in the target',
  'size-differs': 'another size',
  'sha256-differs': 'other content (SHA-256)',
};
/** Issues shown on the page; `ferry verify --json` has them all. */
const ISSUES_SHOWN = 20;

function VerifyView({ result }: { result: VerifyResult }) {
  const objects = Object.entries(result.objects);
  const sum = (key: 'checked' | 'missing' | 'mismatched' | 'brokenReferences' | 'notMigrated' | 'filesChecked' | 'filesMissing' | 'filesUnattached' | 'filesMismatched') =>
    objects.reduce((total, [, o]) => total + (o[key] ?? 0), 0);
  const fileProblems = (o: VerifyResult['objects'][string]) => (o.filesMissing ?? 0) + (o.filesUnattached ?? 0) + (o.filesMismatched ?? 0);
  const files = sum('filesChecked') > 0;
  // Fields edited in the target since Ferry wrote them are listed, but are no problem (people work in the new CRM):
  // the engine does not count them, and the page lists the real problems first.
  const edits = result.issues.filter((issue) => issue.reason === 'edited-in-target');
  const problems = result.issues.filter((issue) => issue.reason !== 'edited-in-target');
  const problemCount = sum('missing') + sum('mismatched') + sum('brokenReferences') + sum('notMigrated') + sum('filesMissing') + sum('filesUnattached') + sum('filesMismatched');
  const shown = [...problems, ...edits].slice(0, ISSUES_SHOWN);
  const editsText = edits.length > 0 ? `${plural(edits.length, 'field')} edited in the target since Ferry wrote ${edits.length === 1 ? 'it' : 'them'} (people working in the new CRM; not a problem)` : '';
  return (
    <section className="verify-result" aria-labelledby="verify-result-heading" data-testid="verify-result" data-ok={result.ok}>
      <h2 id="verify-result-heading">What the check found</h2>
      <p className={`notice ${result.ok ? 'notice-ok' : 'notice-warn'}`} role="status">
        {result.ok
          ? `All ${plural(sum('checked'), 'record')} checked match the source${editsText ? `, apart from ${editsText}` : ''}.`
          : `${plural(sum('checked'), 'record')} checked: ${plural(problemCount, 'problem')} (${num(sum('missing'))} missing in the target, ${num(sum('mismatched'))} with values that differ, ${num(sum('brokenReferences'))} broken references, ${num(sum('notMigrated'))} not migrated${files ? `, ${num(sum('filesMissing') + sum('filesUnattached') + sum('filesMismatched'))} of ${plural(sum('filesChecked'), 'file')} missing, detached or changed` : ''})${editsText ? `; and ${editsText}` : ''}.`}
      </p>
      <TableWrap label="Check per object">
        <table className="data" data-testid="verify-table">
          <caption>Check per object</caption>
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col" className="num">Checked</th>
              <th scope="col" className="num">Missing</th>
              <th scope="col" className="num">Values differ</th>
              <th scope="col" className="num">Broken references</th>
              <th scope="col" className="num">Not migrated</th>
              {files ? (
                <th scope="col" className="num">
                  Files (problems)
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {objects.map(([object, o]) => (
              <tr key={object} data-object={object}>
                <th scope="row">{object}</th>
                <td className="num" data-count="checked">{num(o.checked)}</td>
                <td className={`num${o.missing > 0 ? ' bad' : ''}`} data-count="missing">{num(o.missing)}</td>
                <td className={`num${o.mismatched > 0 ? ' bad' : ''}`} data-count="mismatched">{num(o.mismatched)}</td>
                <td className={`num${o.brokenReferences > 0 ? ' bad' : ''}`} data-count="brokenReferences">{num(o.brokenReferences)}</td>
                <td className="num" data-count="notMigrated">{num(o.notMigrated)}</td>
                {files ? (
                  <td className={`num${fileProblems(o) > 0 ? ' bad' : ''}`} data-count="files">
                    {num(o.filesChecked ?? 0)} ({num(fileProblems(o))})
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {shown.length > 0 ? (
        <>
          <h3>
            {result.issues.length > shown.length ? `The first ${num(shown.length)} of ${plural(result.issues.length, 'finding')}` : plural(result.issues.length, 'finding')}
            {problems.length > 0 && edits.length > 0 ? ' (problems first)' : ''}
          </h3>
          {result.issues.length > shown.length ? (
            <p className="hint">
              <code>ferry verify --json</code> lists them all.
            </p>
          ) : null}
          <TableWrap label="Issues found by the check" long={shown.length > 12}>
            <table className="data" data-testid="verify-issues">
              <TableHead columns={['Object', 'Record', 'Issue', 'Field', 'Source', 'Target']} />
              <tbody>
                {shown.map((issue, i) => (
                  <tr key={`${issue.object}-${issue.sourceId}-${issue.field ?? ''}-${i}`} data-kind={issue.kind}>
                    <td>{issue.object}</td>
                    <td>
                      {issue.sourceId}
                      {issue.targetId ? ` → ${issue.targetId}` : ''}
                    </td>
                    <td>
                      {ISSUE_TEXT[issue.kind] ?? issue.kind}
                      {issue.reason ? `: ${REASON_TEXT[issue.reason] ?? issue.reason}` : ''}
                    </td>
                    <td>{issue.file ? `${issue.field ?? 'file'}: ${issue.file}` : (issue.field ?? '')}</td>
                    <td>{issue.expected === undefined ? '' : valueText(issue.expected)}</td>
                    <td>{issue.actual === undefined ? '' : valueText(issue.actual)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      ) : null}
    </section>
  );
}
