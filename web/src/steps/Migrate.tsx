import { useEffect, useState } from 'react';
import { api, errorText } from '../api.js';
import { jobStarter } from '../hooks.js';
import { JobPanel } from '../components/JobPanel.js';
import { ErrorBox } from '../components/common.js';
import { MappingGate, mappingBlocks } from '../components/MappingGate.js';
import { isActive, useWizard } from '../context.js';
import { num, totalCounts } from '../format.js';

export function MigrateStep() {
  const { state, job, startJob, selectRun } = useWizard();
  const [error, setError] = useState<string | null>(null);
  const [rerun, setRerun] = useState(false);
  const [preview, setPreview] = useState<Record<string, number> | null>(null);
  const [kept, setKept] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!rerun) {
      setPreview(null);
      return;
    }
    let cancelled = false;
    api
      .rerunPreview()
      .then((answer) => {
        if (cancelled) return;
        setPreview(answer.objects);
        setKept(answer.kept);
      })
      .catch((err: unknown) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [rerun]);
  const toDelete = preview ? Object.values(preview).reduce((sum, n) => sum + n, 0) : null;
  const toKeep = Object.values(kept).reduce((sum, n) => sum + n, 0);
  const running = isActive(job);
  const fullJob = job?.kind === 'full' ? job : null;
  const ready = !!state?.steps.connected;

  const start = jobStarter(startJob, setError);

  const result = fullJob && !isActive(fullJob) ? fullJob.result : undefined;
  const total = result ? totalCounts(result.counts) : null;

  return (
    <>
      <p className="lead">
        First see what the migration would do (nothing is written), then run it. It writes objects in the right order
        (companies before contacts before deals), records every step, and can be paused and resumed. Closing this page
        does not stop it.
      </p>
      {state?.steps.full ? (
        <p className="notice notice-ok">
          A full migration has been run already. Running it again updates what changed instead of creating records twice;
          for what changed since, a <a href="#/delta">delta</a> is usually what you want.
        </p>
      ) : null}
      <MappingGate state={state} />
      <div className="actions">
        <button type="button" className="secondary" disabled={running || !ready} onClick={() => void start({ kind: 'full', dryRun: true })}>
          Calculate what would happen (dry run)
        </button>
        <button type="button" disabled={running || !ready || mappingBlocks(state)} onClick={() => void start({ kind: 'full', rerun: rerun || undefined })}>
          {rerun ? 'Delete what earlier runs created, then migrate again' : 'Start the full migration'}
        </button>
      </div>
      {state?.steps.full ? (
        <div className="field checkbox">
          <input id="rerun" type="checkbox" checked={rerun} onChange={(e) => setRerun(e.target.checked)} aria-describedby="rerun-hint" />
          <label htmlFor="rerun">Start over: delete the records earlier runs created first</label>
          <p className="hint" id="rerun-hint">
            Records that existed in the target before are kept. Use this only when the mapping changed a lot.
          </p>
          {rerun && preview && toDelete !== null ? (
            <p className="notice notice-warn" role="status" data-testid="rerun-preview">
              Starting over first deletes {num(toDelete)} records from the target
              {toDelete > 0
                ? `: ${Object.entries(preview)
                    .filter(([, n]) => n > 0)
                    .map(([object, n]) => `${object} ${num(n)}`)
                    .join(', ')}`
                : ''}
              . They are created again by the migration; an undo of the run cannot bring the deleted ones back as they were.
              {toKeep > 0
                ? ` It keeps ${num(toKeep)} created records (${Object.entries(kept)
                    .filter(([, n]) => n > 0)
                    .map(([object, n]) => `${object} ${num(n)}`)
                    .join(', ')}) that records Ferry did not create still refer to, and updates them instead.`
                : ''}
            </p>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={error} />
      {fullJob ? <JobPanel job={fullJob} /> : null}
      {result && total && !result.dryRun ? (
        <section className="card result-card" aria-labelledby="result-heading" data-testid="full-result">
          <h2 id="result-heading">Result of run {result.runId}</h2>
          <p>
            {num(total.read)} records read: {num(total.created)} created, {num(total.updated)} updated, {num(total.matched)}{' '}
            linked to existing records, {num(total.failed)} failed.
          </p>
          {total.failed > 0 ? (
            <p>
              Failed records did not stop the run: each has its reason in the report. Fix the cause (in the source or in
              the mapping), then retry them from the report.
            </p>
          ) : null}
          <a href="#/reports" className="button" onClick={() => selectRun(result.runId)}>
            Open the report of run {result.runId}
          </a>
        </section>
      ) : null}
    </>
  );
}
