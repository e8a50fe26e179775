import { useState } from 'react';
import type { Run } from '../../../src/ledger/ledger.js';
import { num, plural, runKindLabel, totalCounts } from '../format.js';

/** What undoing a run does, in its own numbers: the records it created go, the ones it changed get their values back. */
export function undoSummary(run: Run): string {
  const total = totalCounts(run.counts);
  const parts: string[] = [];
  if (total.created > 0) parts.push(`deletes the ${plural(total.created, 'record')} it created`);
  if (total.updated > 0) parts.push(`restores the ${plural(total.updated, 'record')} it updated to their values before`);
  const what = parts.length > 0 ? parts.join(' and ') : 'removes what it wrote';
  const perObject = Object.entries(run.counts)
    .filter(([, counts]) => counts.created + counts.updated > 0)
    .map(([object, counts]) => `${object}: ${num(counts.created)} created, ${num(counts.updated)} updated`)
    .join('; ');
  return `Undoing run ${run.id} (${runKindLabel(run.kind)}) ${what} in the target${perObject ? ` (${perObject})` : ''}. A record someone changed in the target since is left as it is and listed. Links to records that existed before are forgotten; those records stay.`;
}

/**
 * The undo button, asking first: it names the run and its counts, and only "Yes, undo run N" starts the undo.
 */
export function UndoButton({ run, label, disabled, onConfirm }: { run: Run; label: string; disabled: boolean; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  const textId = `undo-confirm-${run.id}`;
  if (!asking) {
    return (
      <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div className="confirm-undo notice notice-warn" role="group" aria-labelledby={textId} data-testid="undo-confirm">
      <p id={textId}>{undoSummary(run)}</p>
      <div className="actions">
        <button
          type="button"
          className="danger"
          disabled={disabled}
          autoFocus
          onClick={() => {
            setAsking(false);
            onConfirm();
          }}
        >
          Yes, undo run {run.id}
        </button>
        <button type="button" className="secondary" onClick={() => setAsking(false)}>
          Keep run {run.id}
        </button>
      </div>
    </div>
  );
}
