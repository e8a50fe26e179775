import { useId, type ReactNode } from 'react';
import type { Counts } from '../../../src/core/progress.js';
import { COUNT_KEYS, COUNT_LABELS, countText, totalCounts } from '../format.js';

/** A table that scrolls inside its own box on a narrow window, reachable by keyboard. */
export function TableWrap({ label, children, long = false }: { label: string; children: ReactNode; long?: boolean }) {
  return (
    <div className={long ? 'table-wrap long-list' : 'table-wrap'} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A column of a table's head: plain text, a right-aligned number, or a label only screen readers read. */
export type TableColumn = string | { label: string; num?: boolean; hidden?: boolean };

/** The `<thead>` every data table shares: one row of column headers. */
export function TableHead({ columns }: { columns: readonly TableColumn[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column, i) => {
          const { label, num = false, hidden = false } = typeof column === 'string' ? { label: column } : column;
          return (
            <th scope="col" className={num ? 'num' : undefined} key={i}>
              {hidden ? <span className="visually-hidden">{label}</span> : label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

export function ErrorBox({ error, title }: { error: string | null | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title ? <strong>{title} </strong> : null}
      {error}
    </div>
  );
}

export function Busy({ children }: { children: ReactNode }) {
  return (
    <p className="busy" role="status">
      <span className="spinner" aria-hidden="true" /> {children}
    </p>
  );
}

/** Per-object counts as a table, only the columns that say something (plus a total row). */
export function CountsTable({
  counts,
  caption,
  keys,
  dryRun = false,
}: {
  counts: Record<string, Counts>;
  caption: string;
  keys?: (keyof Counts)[];
  dryRun?: boolean;
}) {
  const objects = Object.keys(counts);
  const total = totalCounts(counts);
  const columns = keys ?? COUNT_KEYS.filter((key) => key === 'read' || total[key] > 0);
  const label = (key: keyof Counts) => (dryRun && (key === 'created' || key === 'updated' || key === 'deleted') ? `To be ${COUNT_LABELS[key].toLowerCase()}` : COUNT_LABELS[key]);
  return (
    <TableWrap label={caption}>
      <table className="data counts">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Object</th>
            {columns.map((key) => (
              <th scope="col" className="num" key={key}>
                {label(key)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {objects.map((object) => (
            <tr key={object} data-object={object}>
              <th scope="row">{object}</th>
              {columns.map((key) => (
                <td className="num" key={key} data-count={key}>
                  {countText(key, counts[object]?.[key] ?? 0)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        {objects.length > 1 ? (
          <tfoot>
            <tr data-object="total">
              <th scope="row">Total</th>
              {columns.map((key) => (
                <td className="num" key={key} data-count={key}>
                  {countText(key, total[key])}
                </td>
              ))}
            </tr>
          </tfoot>
        ) : null}
      </table>
    </TableWrap>
  );
}

/** A labelled control: the label is always visible, the hint read with the control. */
export function Field({
  label,
  hint,
  children,
  htmlFor,
}: {
  label: string;
  hint?: string;
  children: (props: { id: string; describedBy?: string }) => ReactNode;
  htmlFor?: string;
}) {
  const generated = useId();
  const id = htmlFor ?? generated;
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy: hintId })}
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}
