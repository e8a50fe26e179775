import { useState } from 'react';
import type { ConflictPolicy } from '../../../src/engine/types.js';
import type { DemoChangesResponse } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { JobPanel } from '../components/JobPanel.js';
import { SyncPanel } from '../components/SyncPanel.js';
import { Busy, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { isActive, useWizard } from '../context.js';
import { MappingGate, mappingBlocks } from '../components/MappingGate.js';
import { jobStarter, useRuns } from '../hooks.js';
import { dateTime, num, plural, runStatusLabel, totalCounts } from '../format.js';

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
  const runs = useRuns(jobGeneration, setError);
  /** The delta job shown when the demo data was changed: its numbers are out of date. */
  const [outdatedJob, setOutdatedJob] = useState<string | null>(null);
  const running = isActive(job);
  const deltaJob = job?.kind === 'delta' ? job : null;
  const valid = createNew || updateChanged;


  const startDelta = jobStarter(startJob, setError);
  const start = (dryRun: boolean) => startDelta({ kind: 'delta', createNew, updateChanged, onConflict: policy, ...(dryRun ? { dryRun } : {}) });

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
      {state?.demo ? <SimulateChanges running={running} fullDone={state.steps.full} onChanged={() => setOutdatedJob(deltaJob?.id ?? null)} /> : null}
      <MappingGate state={state} />
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
          <button type="submit" disabled={running || !valid || mappingBlocks(state)}>
            Run the delta
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {deltaJob && deltaJob.id === outdatedJob && deltaJob.request.dryRun ? (
        <p className="notice notice-warn" data-testid="dry-run-outdated">
          The dry run below was calculated before the simulated changes: calculate it again for the new numbers.
        </p>
      ) : null}
      {deltaJob ? <JobPanel job={deltaJob} /> : null}
      <SyncPanel />
      <section aria-labelledby="deltas-heading">
        <h2 id="deltas-heading">Deltas so far</h2>
        {deltas.length === 0 ? (
          <p>No delta has been run yet.</p>
        ) : (
          <TableWrap label="Deltas so far">
            <table className="data" data-testid="delta-list">
              <TableHead columns={['Run', 'Started', 'Mode', { label: 'Created', num: true }, { label: 'Updated', num: true }, { label: 'Conflicts', num: true }, { label: 'Failed', num: true }, 'Report']} />
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

/**
 * Demo data only: "time passes" (POST /api/demo-data/changes), so the next delta has something to bring over,
 * including a few conflicts. Never offered on a real project (the server refuses it there too).
 */
function SimulateChanges({ running, fullDone, onChanged }: { running: boolean; fullDone: boolean; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [changes, setChanges] = useState<DemoChangesResponse | null>(null);
  const [rounds, setRounds] = useState(0);

  const simulate = async () => {
    setBusy(true);
    setError(null);
    try {
      setChanges(await api.demoChanges());
      setRounds((n) => n + 1);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const objects = changes ? [...new Set([...Object.keys(changes.created), ...Object.keys(changes.changed)])] : [];
  const newTotal = changes ? Object.values(changes.created).reduce((sum, n) => sum + n, 0) : 0;
  const changedTotal = changes ? Object.values(changes.changed).reduce((sum, n) => sum + n, 0) : 0;

  return (
    <section className="card simulate-card" aria-labelledby="simulate-heading" data-testid="simulate-changes">
      <h2 id="simulate-heading">
        Let time pass <span className="badge badge-warn">demo data only</span>
      </h2>
      <p>
        This project uses the demo data, where nobody is working. This button plays the part of the people who keep working
        in both CRMs during the migration: it adds and changes records in the demo source, and edits records in the target,
        a few of them on fields that also changed in the source (so the next delta has conflicts to settle). It only exists
        for the demo data; on a real project, the changes come from the people using the CRMs.
      </p>
      {!fullDone ? <p className="hint">It works best after the full migration: the conflicting edits need records that were migrated.</p> : null}
      <div className="actions">
        <button type="button" className="secondary" disabled={busy || running} onClick={() => void simulate()}>
          Simulate people working in both CRMs
        </button>
      </div>
      {busy ? <Busy>Changing the demo data…</Busy> : null}
      <ErrorBox error={error} title="The demo data could not be changed." />
      {changes ? (
        <div className="simulated" data-round={rounds}>
          <p role="status">
            <strong>
              {rounds > 1 ? `Round ${rounds}: ` : ''}
              {plural(newTotal, 'new record')} and {plural(changedTotal, 'changed record')} in the source
            </strong>
            ; in the target,{' '}
            {[
              changes.targetEdits > 0 ? `${plural(changes.targetEdits, 'record')} edited` : null,
              changes.conflictingEdits > 0 ? `${plural(changes.conflictingEdits, 'conflicting edit')} (a field that also changed in the source)` : null,
            ]
              .filter(Boolean)
              .join(' and ') || 'nothing edited'}
            . Calculate the dry run again to see what the next delta brings over.
          </p>
          {changes.note ? <p className="hint">{changes.note}</p> : null}
          <TableWrap label="What changed, per object">
            <table className="data" data-testid="simulated-changes">
              <caption>What changed in the source, per object</caption>
              <TableHead columns={['Object', { label: 'New', num: true }, { label: 'Changed', num: true }]} />
              <tbody>
                {objects.map((object) => (
                  <tr key={object} data-object={object}>
                    <th scope="row">{object}</th>
                    <td className="num" data-count="created">
                      {num(changes.created[object] ?? 0)}
                    </td>
                    <td className="num" data-count="changed">
                      {num(changes.changed[object] ?? 0)}
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-object="total">
                  <th scope="row">Total</th>
                  <td className="num" data-count="created">
                    {num(newTotal)}
                  </td>
                  <td className="num" data-count="changed">
                    {num(changedTotal)}
                  </td>
                </tr>
              </tfoot>
            </table>
          </TableWrap>
          <dl className="edit-counts">
            <dt>Records edited in the target</dt>
            <dd data-count="target-edits">{num(changes.targetEdits)}</dd>
            <dt>Conflicting edits (changed in both CRMs)</dt>
            <dd data-count="conflicting-edits">{num(changes.conflictingEdits)}</dd>
          </dl>
        </div>
      ) : null}
    </section>
  );
}
