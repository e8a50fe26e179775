import { useEffect, useState } from 'react';
import type { RunSampleResponse } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { JobPanel } from '../components/JobPanel.js';
import { UndoButton } from '../components/UndoConfirm.js';
import { Busy, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { isActive, useWizard } from '../context.js';
import { MappingGate, mappingBlocks } from '../components/MappingGate.js';
import { jobStarter, useRuns } from '../hooks.js';
import { num, plural, valueText } from '../format.js';

export function DemoStep() {
  const { state, job, jobGeneration, startJob } = useWizard();
  const [sample, setSample] = useState<RunSampleResponse | null>(null);
  const [size, setSize] = useState('5');
  const [error, setError] = useState<string | null>(null);
  const runs = useRuns(jobGeneration, setError);
  const running = isActive(job);


  const demoRun = runs?.find((r) => r.kind === 'demo' && !r.dryRun) ?? null;
  const demoRunId = demoRun && demoRun.undoneByRunId === null ? demoRun.id : null;

  useEffect(() => {
    if (demoRunId === null) {
      setSample(null);
      return;
    }
    let cancelled = false;
    api
      .runSample(demoRunId)
      .then((answer) => !cancelled && setSample(answer))
      .catch((err: unknown) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [demoRunId, jobGeneration]);

  const start = jobStarter(startJob, setError);

  const shownJob = job && (job.kind === 'demo' || (job.kind === 'undo' && demoRun && job.request.runId === demoRun.id)) ? job : null;
  const sampleSize = Number(size);
  const sizeValid = Number.isInteger(sampleSize) && sampleSize >= 1 && sampleSize <= 1000;

  return (
    <>
      <p className="lead">
        Migrate a few records per object (with the companies, owners and deals they need) and compare them with the
        source before moving everything. The sample stays linked: the full migration updates these records instead of
        creating them twice. You can also undo it.
      </p>
      <MappingGate state={state} />
      <form
        className="inline-fields"
        onSubmit={(event) => {
          event.preventDefault();
          if (sizeValid) void start({ kind: 'demo', sampleSize });
        }}
      >
        <div className="field">
          <label htmlFor="sample-size">Records per object</label>
          <input
            id="sample-size"
            type="number"
            min={1}
            max={1000}
            value={size}
            onChange={(e) => setSize(e.target.value)}
            aria-invalid={!sizeValid}
            aria-describedby="sample-size-hint"
          />
          <p className="hint" id="sample-size-hint">
            Between 1 and 1,000.
          </p>
        </div>
        <button type="submit" disabled={running || !sizeValid || !state?.steps.connected || mappingBlocks(state)}>
          Migrate a sample
        </button>
      </form>
      <ErrorBox error={error} />
      {shownJob ? <JobPanel job={shownJob} /> : null}
      {demoRun && demoRun.undoneByRunId !== null ? (
        <p className="notice notice-ok" role="status">
          The demo sample of run {demoRun.id} was undone (by run {demoRun.undoneByRunId}).
        </p>
      ) : null}
      {demoRunId !== null ? (
        <section aria-labelledby="sample-heading">
          <h2 id="sample-heading">The sample of run {demoRunId}, side by side</h2>
          <div className="actions">
            {demoRun ? (
              <UndoButton run={demoRun} label={`Undo the demo (run ${demoRunId})`} disabled={running} onConfirm={() => void start({ kind: 'undo', runId: demoRunId })} />
            ) : null}
            <span className="hint">Deletes what the demo created and restores what it changed, unless people changed it since.</span>
          </div>
          {sample ? <SampleView sample={sample} /> : <Busy>Reading the sampled records from both sides…</Busy>}
        </section>
      ) : null}
    </>
  );
}

function SampleView({ sample }: { sample: RunSampleResponse }) {
  const [object, setObject] = useState(sample.objects[0]?.object ?? '');
  const shown = sample.objects.find((o) => o.object === object) ?? sample.objects[0];
  if (!shown) return <p>The demo wrote no records.</p>;
  return (
    <div className="sample-view">
      <div className="field">
        <label htmlFor="sample-object">Object</label>
        <select id="sample-object" value={shown.object} onChange={(e) => setObject(e.target.value)}>
          {sample.objects.map((o) => (
            <option key={o.object} value={o.object}>
              {o.object} → {o.targetObject} ({plural(o.records.length, 'record')})
            </option>
          ))}
        </select>
      </div>
      {shown.records.map((record) => (
        <TableWrap key={record.sourceId} label={`${shown.object} ${record.sourceId}`}>
          <table className="data side-by-side" data-source-id={record.sourceId}>
            <caption>
              {shown.object} {record.sourceId} →{' '}
              {record.targetId ? `${shown.targetObject} ${record.targetId}` : `not written to ${shown.targetObject}`}
            </caption>
            <TableHead columns={['Source field', 'Source value', 'Target field', 'Target value']} />
            <tbody>
              {record.fields.map((field) => {
                const same = valueText(field.sourceValue) === valueText(field.targetValue);
                return (
                  <tr key={`${field.source}-${field.target}`} className={same ? undefined : 'changed'}>
                    <th scope="row">{field.source}</th>
                    <td>
                      <span className="value">{valueText(field.sourceValue)}</span>
                    </td>
                    <td>{field.target}</td>
                    <td>
                      <span className="value">{valueText(field.targetValue)}</span>
                      {same ? null : <span className="visually-hidden"> (differs from the source value)</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      ))}
      <p className="hint">
        {num(shown.records.length)} {shown.object} shown. Rows with a different value in the target are marked; this is
        expected where a value map or a transform changes the value.
      </p>
    </div>
  );
}
