import { useEffect, useState, type FormEvent } from 'react';
import type { ConnectorSpec, SideSummary } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { Busy, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { useWizard } from '../context.js';
import { num, plural } from '../format.js';
import { CsvConnectForm } from './CsvConnect.js';

type Side = 'source' | 'target';
const SIDE_TEXT: Record<Side, { title: string; intro: string }> = {
  source: { title: 'Source: the CRM you leave', intro: 'Ferry only reads from it.' },
  target: { title: 'Target: the new CRM', intro: 'Ferry writes here, and first checks what it already holds.' },
};

export function ConnectStep() {
  const { state, reloadState } = useWizard();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [contacts, setContacts] = useState('1000');
  if (!state) return null;
  const contactCount = Number(contacts);
  const contactsValid = Number.isInteger(contactCount) && contactCount >= 10 && contactCount <= 200000;

  const useDemo = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await api.demoData({ contacts: contactCount });
      await reloadState();
      setDone('The demo data is ready: a "legacy CRM" as the source and a "new CRM" that already holds some of the same people as the target.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p className="lead">
        Tell Ferry where your data is now (the source) and where it should go (the target). Ferry tests each connection
        and shows what each side holds. Passwords and API keys are kept out of <code>ferry.yaml</code>.
      </p>
      <section className="card demo-card" aria-labelledby="demo-heading">
        <h2 id="demo-heading">Just looking?</h2>
        <p>
          Use the demo data: a sample “legacy CRM” (contacts, companies, deals, tasks and notes, with the mess real CRMs
          have) and a “new CRM” that already holds some of the same people. It is written into this project’s folder;
          nothing else is touched.
        </p>
        <form
          className="inline-fields"
          onSubmit={(event) => {
            event.preventDefault();
            if (contactsValid) void useDemo();
          }}
        >
          <div className="field">
            <label htmlFor="demo-contacts">Contacts in the demo data</label>
            <input
              id="demo-contacts"
              type="number"
              min={10}
              max={200000}
              value={contacts}
              aria-invalid={!contactsValid}
              aria-describedby="demo-contacts-hint"
              onChange={(e) => setContacts(e.target.value)}
            />
            <p className="hint" id="demo-contacts-hint">
              From 10 to 200,000; companies, deals, tasks and notes grow with it.
            </p>
          </div>
          <button type="submit" disabled={busy || !contactsValid}>
            Use the demo data
          </button>
        </form>
        {state.projectExists && !done ? (
          <p className="hint">
            This project already has a <code>ferry.yaml</code>: the demo data replaces both connections in it and proposes
            the mapping again.
          </p>
        ) : null}
        {busy ? <Busy>Writing the demo data and connecting to it…</Busy> : null}
        {done ? (
          <p className="notice notice-ok" role="status">
            {done}
          </p>
        ) : null}
        <ErrorBox error={error} title="The demo data could not be prepared." />
      </section>
      <div className="sides">
        {(['source', 'target'] as const).map((side) => (
          <SidePanel key={side} side={side} summary={state[side]} connectors={state.connectors} />
        ))}
      </div>
    </>
  );
}

function SidePanel({ side, summary, connectors }: { side: Side; summary?: SideSummary; connectors: ConnectorSpec[] }) {
  const [editing, setEditing] = useState(!summary);
  const headingId = `${side}-heading`;
  useEffect(() => {
    if (summary) setEditing(false);
  }, [summary]);
  return (
    <section className="card side" aria-labelledby={headingId} data-side={side}>
      <h2 id={headingId}>{SIDE_TEXT[side].title}</h2>
      <p className="hint">{SIDE_TEXT[side].intro}</p>
      {summary ? <SideStatus side={side} summary={summary} connectors={connectors} /> : <p>Not connected yet.</p>}
      {editing ? (
        <ConnectForm side={side} summary={summary} connectors={connectors} onCancel={summary ? () => setEditing(false) : undefined} />
      ) : (
        <button type="button" className="secondary" onClick={() => setEditing(true)}>
          Change the {side} connection
        </button>
      )}
    </section>
  );
}

function SideStatus({ side, summary, connectors }: { side: Side; summary: SideSummary; connectors: ConnectorSpec[] }) {
  const spec = connectors.find((c) => c.kind === summary.connector);
  const objects = summary.objects ?? [];
  const total = objects.reduce((sum, o) => sum + (o.count ?? 0), 0);
  return (
    <div className="side-status">
      <p>
        <span className={`status-pill ${summary.connected ? 'status-finished' : 'status-failed'}`}>
          {summary.connected ? 'Connected' : 'Not connected'}
        </span>{' '}
        {spec?.label ?? summary.connector}
        {describeSettings(summary, spec)}
      </p>
      {summary.error ? (
        <div className="notice notice-error" role="alert">
          <strong>The {side} does not answer: </strong>
          {summary.error.message}
        </div>
      ) : null}
      {objects.length > 0 ? (
        <TableWrap label={`What the ${side} holds`}>
          <table className="data" data-testid={`${side}-objects`}>
            <caption>
              What the {side} holds: {plural(objects.length, 'object')},{' '}
              {objects.some((o) => o.count !== undefined) ? plural(total, 'record') : 'record counts not reported by this CRM'}
            </caption>
            <TableHead columns={['Object', { label: 'Fields', num: true }, { label: 'Records', num: true }]} />
            <tbody>
              {objects.map((object) => (
                <tr key={object.name} data-object={object.name}>
                  <th scope="row">
                    {object.label && object.label.toLowerCase() !== object.name.toLowerCase() ? `${object.label} (${object.name})` : (object.label ?? object.name)}
                  </th>
                  <td className="num">{num(object.fields)}</td>
                  <td className="num" data-count="records">
                    {num(object.count)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </div>
  );
}

function describeSettings(summary: SideSummary, spec: ConnectorSpec | undefined): string {
  const parts = Object.entries(summary.settings)
    .filter(([, value]) => value !== '' && value !== undefined)
    .flatMap(([key, value]) => {
      const setting = spec?.settings.find((s) => s.name === key);
      // A form-only choice (how HubSpot is signed in to) is named only when it is not the plain first one.
      if (setting?.formOnly) return value === setting.options?.[0] ? [] : [setting.optionLabels?.[String(value)] ?? String(value)];
      return [`${key}: ${String(value)}`];
    });
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function ConnectForm({
  side,
  summary,
  connectors,
  onCancel,
}: {
  side: Side;
  summary?: SideSummary;
  connectors: ConnectorSpec[];
  onCancel?: () => void;
}) {
  const { reloadState } = useWizard();
  const available = connectors.filter((c) => c.roles.includes(side));
  const [kind, setKind] = useState(summary?.connector ?? available[0]?.kind ?? '');
  const [values, setValues] = useState<Record<string, string | number | boolean>>(summary?.settings ?? {});
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<null | 'test' | 'save'>(null);
  const [error, setError] = useState<string | null>(null);
  const [tested, setTested] = useState<SideSummary | null>(null);
  /** The setting the connection error is about (a rejected token): shown and marked at that field. */
  const [errorField, setErrorField] = useState<string | null>(null);
  const spec = available.find((c) => c.kind === kind);
  // A setting that only applies for some values of another (the path of a SQLite file, the URL of a server).
  const valueOf = (name: string): string | number | boolean | undefined => {
    const setting = spec?.settings.find((s) => s.name === name);
    const value = values[name];
    if ((value === undefined || value === '') && setting?.kind === 'select' && setting.required) return setting.options?.[0];
    return value;
  };
  const visible = (spec?.settings ?? []).filter(
    (setting) => !setting.when || setting.when.values.includes(String(valueOf(setting.when.setting) ?? '')),
  );

  const submit = async (testOnly: boolean) => {
    if (!spec) return;
    setBusy(testOnly ? 'test' : 'save');
    setError(null);
    setErrorField(null);
    setTested(null);
    try {
      const settings: Record<string, string | number | boolean> = {};
      for (const setting of visible) {
        if (setting.secret) continue;
        const value = valueOf(setting.name);
        if (value === undefined || value === '') continue;
        settings[setting.name] = setting.kind === 'number' ? Number(value) : value;
      }
      const secretValues = Object.fromEntries(
        Object.entries(secrets).filter(([name, value]) => value !== '' && visible.some((s) => s.name === name)),
      );
      const result = await api.connect({ side, connector: kind, settings, secrets: secretValues, testOnly });
      const field = result.error?.details?.field;
      setErrorField(typeof field === 'string' && visible.some((s) => s.name === field) ? field : null);
      if (result.error || !result.connected) {
        setError(result.error?.message ?? 'The connection did not work.');
      } else if (testOnly) {
        setTested(result);
      } else {
        await reloadState();
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(false);
  };

  const kindSelect = (
    <div className="field">
      <label htmlFor={`${side}-connector`}>Kind of CRM or data</label>
      <select id={`${side}-connector`} value={kind} onChange={(e) => setKind(e.target.value)}>
        {available.map((c) => (
          <option key={c.kind} value={c.kind}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
  // A CSV export has a folder and, per file, its own settings: a form of its own (not the flat settings list).
  if (kind === 'csv' && side === 'source') {
    return (
      <div className="connect-form" role="group" aria-label={`${side} connection`}>
        {kindSelect}
        <CsvConnectForm summary={summary} onCancel={onCancel} />
      </div>
    );
  }

  return (
    <form className="connect-form" onSubmit={onSubmit} aria-label={`${side} connection`}>
      {kindSelect}
      {visible.map((setting) => {
        const id = `${side}-setting-${setting.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
        const hintId = [setting.help || setting.secret ? `${id}-hint` : '', errorField === setting.name ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
        const invalid = errorField === setting.name;
        const stored = summary?.secretsSet.includes(setting.name);
        const value = valueOf(setting.name);
        const hint = [setting.help, setting.secret ? (stored ? 'Stored already: leave empty to keep it.' : 'Kept in the local secrets file, never in ferry.yaml.') : undefined]
          .filter(Boolean)
          .join(' ');
        if (setting.kind === 'boolean') {
          return (
            <div className="field checkbox" key={setting.name}>
              <input
                id={id}
                type="checkbox"
                checked={value === true || value === 'true'}
                onChange={(e) => setValues({ ...values, [setting.name]: e.target.checked })}
                aria-describedby={hintId}
              />
              <label htmlFor={id}>{setting.label}</label>
              {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
            </div>
          );
        }
        return (
          <div className="field" key={setting.name}>
            <label htmlFor={id}>
              {setting.label}
              {setting.required ? <span className="required"> (required)</span> : null}
            </label>
            {setting.kind === 'select' ? (
              <select
                id={id}
                value={String(value ?? '')}
                required={setting.required}
                aria-describedby={hintId}
                onChange={(e) => setValues({ ...values, [setting.name]: e.target.value })}
              >
                {!setting.required ? <option value="">(none)</option> : null}
                {(setting.options ?? []).map((option) => (
                  <option key={option} value={option}>
                    {setting.optionLabels?.[option] ?? option}
                  </option>
                ))}
              </select>
            ) : setting.secret ? (
              <input
                id={id}
                type="password"
                autoComplete="off"
                value={secrets[setting.name] ?? ''}
                aria-invalid={invalid}
                required={setting.required && !stored}
                aria-describedby={hintId}
                onChange={(e) => setSecrets({ ...secrets, [setting.name]: e.target.value })}
              />
            ) : (
              <input
                id={id}
                type={setting.kind === 'number' ? 'number' : setting.kind === 'url' ? 'url' : 'text'}
                value={String(value ?? '')}
                required={setting.required}
                aria-describedby={hintId}
                spellCheck={false}
                onChange={(e) => setValues({ ...values, [setting.name]: e.target.value })}
              />
            )}
            {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
            {invalid && error ? (
              <p className="field-error" id={`${id}-error`} data-testid="field-error">
                {error}
              </p>
            ) : null}
          </div>
        );
      })}
      <div className="actions">
        <button type="button" className="secondary" disabled={busy !== null || !spec} onClick={() => void submit(true)}>
          Test the connection
        </button>
        <button type="submit" disabled={busy !== null || !spec}>
          Save and connect
        </button>
        {onCancel ? (
          <button type="button" className="link-button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
      {busy ? <Busy>{busy === 'test' ? 'Testing the connection…' : 'Connecting and saving…'}</Busy> : null}
      <ErrorBox error={errorField ? `See “${visible.find((s) => s.name === errorField)?.label ?? errorField}” above.` : error} title="The connection did not work." />
      {tested ? (
        <p className="notice notice-ok" role="status">
          The connection works: {plural(tested.objects?.length ?? 0, 'object')} found. Nothing was saved yet.
        </p>
      ) : null}
    </form>
  );
}
