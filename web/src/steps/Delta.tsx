import { useEffect, useState } from 'react';
import type { ConflictPolicy } from '../../../src/engine/types.js';
import type { Run } from '../../../src/ledger/ledger.js';
import type { StartJobRequest } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { JobPanel } from '../components/JobPanel.js';
import { ErrorBox, TableWrap } from '../components/common.js';
import { isActive, useWizard } from '../context.js';
import { dateTime, num, runStatusLabel, totalCounts } from '../format.js';

const POLICIES: { value: ConflictPolicy; label: string; hint: string }[] = [
  { value: 'source-wins', label: 'The source wins', hint: 'The value from the old CRM is written.' },
  { value: 'target-wins', label: 'The target wins', hint: 'The edit made in the new CRM is kept.' },
  { value: 'skip-record', label: 'Skip the record', hint: 'The record is not written and is listed for you to decide.' },
];

export function DeltaStep() {
  const { state, job, jobGeneration, startJob, selectRun } = useWizard();
  const [createNew, setCreateNew] = useState(true);
  const [updateChanged, setUpdateChanged] = useState(true);
  const [policy, setPolicy] = useState<ConflictPolicy>('source-wins');
  const [error, setError] = useState<string | null>(null);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const running = isActive(job);
  const deltaJob = job?.kind === 'delta' ? job : null;
  const valid = createNew || updateChanged;

  useEffect(() => {
    let cancelled = false;
    api
      .runs()
      .then((answer) => !cancelled && setRuns(answer.runs))
      .catch((err: unknown) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [jobGeneration]);

  const start = async (dryRun: boolean) => {
    setError(null);
    const request: StartJobRequest = { kind: 'delta', createNew, updateChanged, onConflict: policy, ...(dryRun ? { dryRun } : {}) };
    try {
      await startJob(request);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const deltas = (runs ?? []).filter((r) => r.kind === 'delta' && !r.dryRun);

  return (
    <>
      <p className="lead">
        After the full migration, people keep working in the old CRM. A delta brings over what was created or changed
        there since the last run. It never deletes anything. Run it as often as you need until you switch over.
      </p>
      {!state?.steps.full ? (
        <p className="notice notice-warn">A delta picks up where the full migration ended: run the <a href="#/migrate">full migration</a> first.</p>
      ) : null}
      <form
        className="delta-form"
        onSubmit={(event) => {
          event.preventDefault();
          void start(false);
        }}
      >
        <fieldset className="checks">
          <legend>What to bring over</legend>
          <div className="field checkbox">
            <input id="create-new" type="checkbox" checked={createNew} onChange={(e) => setCreateNew(e.target.checked)} />
            <label htmlFor="create-new">Create new records (created in the source since the last run)</label>
          </div>
          <div className="field checkbox">
            <input id="update-changed" type="checkbox" checked={updateChanged} onChange={(e) => setUpdateChanged(e.target.checked)} />
            <label htmlFor="update-changed">Update changed records (changed in the source since the last run)</label>
          </div>
          {!valid ? (
            <p className="notice notice-error" role="alert">
              Choose at least one.
            </p>
          ) : null}
        </fieldset>
        <fieldset className="radios" disabled={!updateChanged}>
          <legend>When a field was changed in both CRMs</legend>
          {POLICIES.map((p) => (
            <label key={p.value} className="radio">
              <input type="radio" name="conflict-policy" value={p.value} checked={policy === p.value} onChange={() => setPolicy(p.value)} />{' '}
              <span>
                {p.label}
                <span className="hint block">{p.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="actions">
          <button type="button" className="secondary" disabled={running || !valid} onClick={() => void start(true)}>
            Calculate what would happen (dry run)
          </button>
          <button type="submit" disabled={running || !valid}>
            Run the delta
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {deltaJob ? <JobPanel job={deltaJob} /> : null}
      <section aria-labelledby="deltas-heading">
        <h2 id="deltas-heading">Deltas so far</h2>
        {deltas.length === 0 ? (
          <p>No delta has been run yet.</p>
        ) : (
          <TableWrap label="Deltas so far">
            <table className="data" data-testid="delta-list">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Started</th>
                  <th scope="col">Mode</th>
                  <th scope="col" className="num">Created</th>
                  <th scope="col" className="num">Updated</th>
                  <th scope="col" className="num">Conflicts</th>
                  <th scope="col" className="num">Failed</th>
                  <th scope="col">Report</th>
                </tr>
              </thead>
              <tbody>
                {deltas.map((run) => {
                  const total = totalCounts(run.counts);
                  const policyUsed = typeof run.options.onConflict === 'string' ? run.options.onConflict : undefined;
                  return (
                    <tr key={run.id} data-run={run.id}>
                      <th scope="row">{run.id}</th>
                      <td>{dateTime(run.startedAt)}</td>
                      <td>
                        {[run.creates ? 'create new' : null, run.updates ? 'update changed' : null].filter(Boolean).join(' + ')}
                        {policyUsed ? `, ${policyUsed}` : ''}
                        {run.status !== 'completed' ? ` (${runStatusLabel(run.status)})` : ''}
                      </td>
                      <td className="num">{num(total.created)}</td>
                      <td className="num">{num(total.updated)}</td>
                      <td className="num">{num(total.conflicts)}</td>
                      <td className="num">{num(total.failed)}</td>
                      <td>
                        <a href="#/reports" onClick={() => selectRun(run.id)}>
                          Report of run {run.id}
                        </a>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </>
  );
}
