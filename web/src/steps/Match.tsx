import { useEffect, useState } from 'react';
import type { MatchResponse } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { jobStarter } from '../hooks.js';
import { JobPanel } from '../components/JobPanel.js';
import { Busy, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { isActive, useWizard } from '../context.js';
import { num, plural } from '../format.js';

export function MatchStep() {
  const { state, job, jobGeneration, startJob } = useWizard();
  const [match, setMatch] = useState<MatchResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const matchJob = job?.kind === 'match' ? job : null;
  const running = isActive(job);

  useEffect(() => {
    if (!state?.steps.matched) return;
    let cancelled = false;
    setLoading(true);
    api
      .match()
      .then((answer) => !cancelled && setMatch(answer))
      .catch((err: unknown) => !cancelled && setError(errorText(err)))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [state?.steps.matched, jobGeneration]);

  const startMatch = jobStarter(startJob, setError);
  const run = () => startMatch({ kind: 'match' });

  const totals = match?.objects.reduce(
    (sum, o) => ({ matched: sum.matched + o.matched, ambiguous: sum.ambiguous + o.ambiguous, duplicates: sum.duplicates + o.duplicates }),
    { matched: 0, ambiguous: 0, duplicates: 0 },
  );
  const ambiguous = match?.issues.filter((i) => i.kind === 'ambiguous') ?? [];
  const duplicates = match?.issues.filter((i) => i.kind === 'duplicate') ?? [];

  return (
    <>
      <p className="lead">
        Before writing anything, Ferry looks for records the target already has (by e-mail, web domain, phone or name, as
        set in the mapping) and links them, so nothing is created twice. Running it again keeps every link found before.
      </p>
      <div className="actions">
        <button type="button" onClick={() => void run()} disabled={running || !state?.steps.connected}>
          {state?.steps.matched ? 'Refresh matching' : 'Run matching'}
        </button>
        {!state?.steps.connected ? <span className="hint">Connect both sides first.</span> : null}
      </div>
      <ErrorBox error={error} />
      {matchJob ? <JobPanel job={matchJob} showResult={false} /> : null}
      {loading && !match ? <Busy>Loading what matching found…</Busy> : null}
      {match && totals ? (
        <>
          <p className="summary" data-testid="match-summary">
            {plural(totals.matched, 'record')} already exist in the target and are linked; {plural(totals.ambiguous, 'record')}{' '}
            with several possible records (held back, never guessed); {plural(totals.duplicates, 'duplicate')} in the source
            (merged).
          </p>
          <TableWrap label="Matching per object">
            <table className="data" data-testid="match-table">
              <caption>What matching found, per object</caption>
              <TableHead columns={['Object', { label: 'Matched', num: true }, { label: 'Ambiguous', num: true }, { label: 'Duplicates', num: true }, { label: 'Not in the target yet', num: true }]} />
              <tbody>
                {match.objects.map((o) => (
                  <tr key={o.object} data-object={o.object}>
                    <th scope="row">{o.object}</th>
                    <td className="num" data-count="matched">{num(o.matched)}</td>
                    <td className="num" data-count="ambiguous">{num(o.ambiguous)}</td>
                    <td className="num" data-count="duplicates">{num(o.duplicates)}</td>
                    <td className="num" data-count="unlinked">{num(o.unlinked)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <IssueList
            title={`Ambiguous: several possible records (${num(ambiguous.length)})`}
            help="These records are held back by the migration until someone decides. Link them by hand in ferry.yaml (links:) or set “Several possible records” to “Create a new record” in the mapping."
            issues={ambiguous}
            testId="ambiguous-list"
            candidates="Records in the target with this key"
          />
          <IssueList
            title={`Duplicates in the source (${num(duplicates.length)})`}
            help="Several source records share the same key; they are merged into one target record, written with the most recently changed one."
            issues={duplicates}
            testId="duplicate-list"
            candidates="Source records with the same key"
          />
        </>
      ) : null}
    </>
  );
}

function IssueList({
  title,
  help,
  issues,
  testId,
  candidates,
}: {
  title: string;
  help: string;
  issues: MatchResponse['issues'];
  testId: string;
  candidates: string;
}) {
  return (
    <details className="issue-list" data-testid={testId}>
      <summary>{title}</summary>
      <p className="hint">{help}</p>
      {issues.length === 0 ? (
        <p>None.</p>
      ) : (
        <TableWrap label={title} long={issues.length > 12}>
          <table className="data">
            <TableHead columns={['Object', 'Source record', 'Key', candidates]} />
            <tbody>
              {issues.map((issue, i) => (
                <tr key={`${issue.object}-${issue.sourceId}-${i}`}>
                  <td>{issue.object}</td>
                  <td>{issue.sourceId}</td>
                  <td>{issue.key}</td>
                  <td>{issue.candidates.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </details>
  );
}
