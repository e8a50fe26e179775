/**
 * The CSV source's connection form: the folder, then each file the connector finds there with what it
 * detected (id, modified column, delimiter, encoding, references, vendor preset), correctable file by file.
 * The connector's own errors are shown beside the file they are about, with the setting that fixes them.
 * Everything set here is what the CLI reads from ferry.yaml (`source.objects.<object>`, `sourceTimeZone`,
 * `sourceLocale`); the server checks it with the CSV connector's own schema.
 */
import { useState, type FormEvent } from 'react';
import type { CsvFileView, CsvInspectResponse, CsvObjectSettings, SideSummary } from '../../../src/wizard/api.js';
import { api, errorText } from '../api.js';
import { Busy, ErrorBox } from '../components/common.js';
import { useWizard } from '../context.js';
import { plural } from '../format.js';

const DELIMITERS: { value: string; label: string }[] = [
  { value: ',', label: 'comma ,' },
  { value: ';', label: 'semicolon ;' },
  { value: '\t', label: 'tab' },
  { value: '|', label: 'pipe |' },
];
const ENCODINGS = ['utf-8', 'windows-1252', 'utf-16le', 'utf-16be'];

function delimiterLabel(value: string): string {
  return DELIMITERS.find((d) => d.value === value)?.label ?? JSON.stringify(value);
}

/** The settings as they go to the server: empty values dropped, the connector's default id left out. */
function cleaned(objects: Record<string, CsvObjectSettings>): Record<string, CsvObjectSettings> {
  const out: Record<string, CsvObjectSettings> = {};
  for (const [object, settings] of Object.entries(objects)) {
    const entry: CsvObjectSettings = {};
    for (const [key, value] of Object.entries(settings) as [keyof CsvObjectSettings, unknown][]) {
      if (value === undefined || value === '') continue;
      if (key === 'id' && value === 'id') continue;
      if (key === 'references' && Object.keys(value as Record<string, string>).length === 0) continue;
      (entry as Record<string, unknown>)[key] = value;
    }
    if (Object.keys(entry).length > 0) out[object] = entry;
  }
  return out;
}

/**
 * Settings with the detected id filled in where the connector's default (`id`) is not a column: a guess the
 * user sees (and can change) before anything is saved.
 */
function withGuesses(objects: Record<string, CsvObjectSettings>, files: CsvFileView[]): { objects: Record<string, CsvObjectSettings>; changed: boolean } {
  const next = { ...objects };
  let changed = false;
  for (const file of files) {
    if (file.join) continue;
    const settings = next[file.object] ?? {};
    if (settings.id === undefined && !file.columns.includes('id') && file.detected.id) {
      next[file.object] = { ...settings, id: file.detected.id };
      changed = true;
    }
  }
  return { objects: next, changed };
}

export function CsvConnectForm({ summary, onCancel }: { summary?: SideSummary; onCancel?: () => void }) {
  const { state, reloadState } = useWizard();
  const [path, setPath] = useState(String(summary?.connector === 'csv' ? (summary.settings.path ?? '') : ''));
  const [objects, setObjects] = useState<Record<string, CsvObjectSettings>>(summary?.connector === 'csv' ? (summary.csvObjects ?? {}) : {});
  const [timeZone, setTimeZone] = useState(state?.sourceSettings?.sourceTimeZone ?? '');
  const [locale, setLocale] = useState(state?.sourceSettings?.sourceLocale ?? '');
  const [inspection, setInspection] = useState<CsvInspectResponse | null>(null);
  const [busy, setBusy] = useState<null | 'inspect' | 'save'>(null);
  const [error, setError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);

  const inspect = async (nextObjects = objects, guess = true): Promise<CsvInspectResponse | null> => {
    if (path.trim() === '') {
      setError('Enter the folder that holds the CSV files first.');
      return null;
    }
    setBusy('inspect');
    setError(null);
    try {
      let answer = await api.csvInspect({ path, csvObjects: cleaned(nextObjects) });
      if (guess) {
        const guessed = withGuesses(nextObjects, answer.files);
        if (guessed.changed) {
          nextObjects = guessed.objects;
          setObjects(nextObjects);
          answer = await api.csvInspect({ path, csvObjects: cleaned(nextObjects) });
        }
      }
      setInspection(answer);
      return answer;
    } catch (err) {
      setError(errorText(err));
      return null;
    } finally {
      setBusy(null);
    }
  };

  const change = (object: string, patch: Partial<CsvObjectSettings>, reinspect = false) => {
    const settings: CsvObjectSettings = { ...(objects[object] ?? {}), ...patch };
    for (const key of Object.keys(patch) as (keyof CsvObjectSettings)[]) if (patch[key] === undefined || patch[key] === '') delete settings[key];
    const next = { ...objects, [object]: settings };
    setObjects(next);
    setSaveError(null);
    // The delimiter and the encoding change what the header's columns are: read them again.
    if (reinspect) void inspect(next, false);
  };

  const save = async (testOnly: boolean) => {
    setBusy('save');
    setSaveError(null);
    try {
      const result = await api.connect({
        side: 'source',
        connector: 'csv',
        settings: { path },
        csvObjects: cleaned(objects),
        project: { ...(timeZone.trim() ? { sourceTimeZone: timeZone.trim() } : {}), ...(locale.trim() ? { sourceLocale: locale.trim() } : {}) },
        testOnly,
      });
      if (result.error || !result.connected) {
        setSaveError(result.error?.message ?? 'The connection did not work.');
        setBusy(null);
        await inspect(objects, false);
        return;
      }
      if (!testOnly) await reloadState();
      else setSaveError(null);
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!inspection) void inspect();
    else void save(false);
  };

  const perFile = new Set(inspection?.objectKeys ?? ['file', 'id', 'updatedAt', 'createdAt', 'references', 'listSeparator']);
  const names = inspection ? [...new Set(inspection.files.map((file) => file.object))] : [];
  const problems = inspection?.files.reduce((sum, file) => sum + file.problems.length, 0) ?? 0;

  return (
    <div className="csv-form" data-testid="csv-form">
      <div className="inline-fields">
        <div className="field">
          <label htmlFor="csv-path">
            Folder<span className="required"> (required)</span>
          </label>
          <input
            id="csv-path"
            type="text"
            value={path}
            required
            spellCheck={false}
            aria-describedby="csv-path-hint"
            onChange={(e) => {
              setPath(e.target.value);
              setInspection(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void inspect();
              }
            }}
          />
          <p className="hint" id="csv-path-hint">
            The folder of the export, one file per object; relative to the folder of ferry.yaml.
          </p>
        </div>
        <button type="button" className="secondary" disabled={busy !== null} onClick={() => void inspect()}>
          {inspection ? 'Read the files again' : 'Look at the files'}
        </button>
      </div>
      <ErrorBox error={error} title="The folder could not be read." />
      {inspection?.error ? (
        <div className="notice notice-error" role="alert">
          <strong>The CSV connector cannot read the folder yet: </strong>
          {inspection.error.message}
        </div>
      ) : null}
      {inspection ? (
        <form onSubmit={onSubmit} aria-label="CSV files">
          <p className={`notice ${problems > 0 ? 'notice-error' : 'notice-ok'}`} role="status" data-testid="csv-summary">
            {plural(inspection.files.length, 'file')} in {inspection.folder}
            {problems > 0 ? `: ${plural(problems, 'problem')} to fix below before connecting.` : ': every file can be read.'}
          </p>
          {!perFile.has('delimiter') ? (
            <p className="hint">
              This version of the CSV connector reads one delimiter and one encoding for the whole folder: what is chosen
              for a file applies to all of them (ferry.yaml: <code>source.delimiter</code>).
            </p>
          ) : null}
          {inspection.files.map((file) => (
            <CsvFileCard key={file.file} file={file} settings={objects[file.object] ?? {}} names={names} perFile={perFile} onChange={change} />
          ))}
          <fieldset>
            <legend>The whole export</legend>
            <div className="inline-fields">
              <div className="field">
                <label htmlFor="csv-time-zone">Time zone of date-times written without one</label>
                <input
                  id="csv-time-zone"
                  type="text"
                  value={timeZone}
                  placeholder="UTC"
                  spellCheck={false}
                  aria-describedby="csv-time-zone-hint"
                  onChange={(e) => setTimeZone(e.target.value)}
                />
                <p className="hint" id="csv-time-zone-hint">
                  An IANA name such as Europe/Berlin: the zone the CRM wrote its dates in (ferry.yaml: <code>sourceTimeZone</code>
                  ). Default UTC.
                </p>
              </div>
              <div className="field">
                <label htmlFor="csv-locale">Number format (locale)</label>
                <input
                  id="csv-locale"
                  type="text"
                  value={locale}
                  placeholder="none: 1234.56"
                  spellCheck={false}
                  disabled={state?.acceptsSourceLocale === false}
                  aria-describedby="csv-locale-hint"
                  onChange={(e) => setLocale(e.target.value)}
                />
                <p className="hint" id="csv-locale-hint">
                  {state?.acceptsSourceLocale === false
                    ? 'This version of Ferry reads numbers with a “.” decimal point only.'
                    : 'A BCP-47 tag such as de-DE when numbers are written like 1.234,56 (ferry.yaml: sourceLocale).'}
                </p>
              </div>
            </div>
          </fieldset>
          <div className="actions">
            <button type="button" className="secondary" disabled={busy !== null} onClick={() => void save(true)}>
              Test the connection
            </button>
            <button type="submit" disabled={busy !== null}>
              Save and connect
            </button>
            {onCancel ? (
              <button type="button" className="link-button" onClick={onCancel}>
                Cancel
              </button>
            ) : null}
          </div>
          <ErrorBox error={saveError} title="The connection did not work." />
        </form>
      ) : null}
      {busy ? <Busy>{busy === 'inspect' ? 'Reading the files…' : 'Connecting and saving…'}</Busy> : null}
    </div>
  );
}

function CsvFileCard({
  file,
  settings,
  names,
  perFile,
  onChange,
}: {
  file: CsvFileView;
  settings: CsvObjectSettings;
  names: string[];
  perFile: Set<string>;
  onChange: (object: string, patch: Partial<CsvObjectSettings>, reinspect?: boolean) => void;
}) {
  const base = `csv-${file.object}`;
  const hasProblem = (setting: keyof CsvObjectSettings) => file.problems.some((p) => p.setting === setting);
  const references = settings.references ?? {};
  const detectedRefs = Object.entries(file.detected.references).filter(([column]) => !(column in references));
  const [newColumn, setNewColumn] = useState('');
  const [newObject, setNewObject] = useState('');
  const ofFile = <span className="visually-hidden"> of {file.file}</span>;
  const idValue = settings.id ?? (file.columns.includes('id') ? 'id' : '');
  return (
    <fieldset className={`csv-file${file.problems.length > 0 ? ' has-problem' : ''}`} data-file={file.file} data-object={file.object}>
      <legend>
        {file.file} → <span className="field-name">{file.object}</span>
        {file.detected.preset ? (
          <span className="badge badge-ok">
            {file.detected.preset.vendor} export: {file.detected.preset.object}
          </span>
        ) : null}
      </legend>
      <p className="hint" data-testid="csv-detected">
        Detected: {delimiterLabel(file.detected.delimiter)} delimiter, {file.detected.encoding},{' '}
        {file.join
          ? `links ${file.join.object} to ${file.join.target} (no records of its own)`
          : `id ${file.detected.id ? `“${file.detected.id}”` : 'not found'}, modified ${file.detected.updatedAt ? `“${file.detected.updatedAt}”` : 'not found'}`}
        {Object.keys(file.detected.references).length > 0
          ? `, references ${Object.entries(file.detected.references)
              .map(([column, object]) => `${column} → ${object}`)
              .join(', ')}`
          : ''}
        . {plural(file.columns.length, 'column')}.
      </p>
      {file.problems.length > 0 ? (
        <ul className="problems" role="alert">
          {file.problems.map((problem, i) => (
            <li key={i} className="problem problem-error">
              <strong>Problem: </strong>
              {problem.message}
            </li>
          ))}
        </ul>
      ) : null}
      {file.warnings.length > 0 ? (
        <ul className="problems">
          {file.warnings.map((warning, i) => (
            <li key={i} className="problem problem-warn">
              <strong>Warning: </strong>
              {warning}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="inline-fields">
        <div className="field">
          <label htmlFor={`${base}-delimiter`}>Delimiter{ofFile}</label>
          <select
            id={`${base}-delimiter`}
            value={settings.delimiter ?? ''}
            aria-invalid={hasProblem('delimiter')}
            onChange={(e) => onChange(file.object, { delimiter: e.target.value }, true)}
          >
            <option value="">detected ({delimiterLabel(file.detected.delimiter)})</option>
            {DELIMITERS.map((d) => (
              <option key={d.label} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${base}-encoding`}>Encoding{ofFile}</label>
          <select id={`${base}-encoding`} value={settings.encoding ?? ''} onChange={(e) => onChange(file.object, { encoding: e.target.value }, true)}>
            <option value="">detected ({file.detected.encoding})</option>
            {ENCODINGS.map((encoding) => (
              <option key={encoding} value={encoding}>
                {encoding}
              </option>
            ))}
          </select>
        </div>
        {!file.join ? (
          <>
            <div className="field">
              <label htmlFor={`${base}-id`}>Id column{ofFile}</label>
              <select id={`${base}-id`} value={idValue} aria-invalid={hasProblem('id')} onChange={(e) => onChange(file.object, { id: e.target.value })}>
                {idValue === '' ? <option value="">Choose…</option> : null}
                {file.columns.map((column) => (
                  <option key={column} value={column}>
                    {column}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${base}-updatedAt`}>Modified column{ofFile}</label>
              <select
                id={`${base}-updatedAt`}
                value={settings.updatedAt ?? ''}
                aria-invalid={hasProblem('updatedAt')}
                onChange={(e) => onChange(file.object, { updatedAt: e.target.value })}
              >
                <option value="">{file.detected.updatedAt ? `detected (${file.detected.updatedAt})` : 'none (a delta reads every record)'}</option>
                {file.columns.map((column) => (
                  <option key={column} value={column}>
                    {column}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${base}-listSeparator`}>List separator in reference cells{ofFile}</label>
              <input
                id={`${base}-listSeparator`}
                type="text"
                value={settings.listSeparator ?? ''}
                placeholder="none: one id per cell"
                aria-describedby={`${base}-listSeparator-hint`}
                onChange={(e) => onChange(file.object, { listSeparator: e.target.value })}
              />
              <p className="hint" id={`${base}-listSeparator-hint`}>
                Only when a reference cell holds several ids (e.g. <code>;</code>).
              </p>
            </div>
            {perFile.has('locale') ? (
              <div className="field">
                <label htmlFor={`${base}-locale`}>Number format{ofFile}</label>
                <input
                  id={`${base}-locale`}
                  type="text"
                  value={settings.locale ?? ''}
                  placeholder="the export's"
                  onChange={(e) => onChange(file.object, { locale: e.target.value })}
                />
              </div>
            ) : null}
          </>
        ) : null}
      </div>
      {!file.join ? (
        <div className="csv-references">
          <h4 className="small-heading">References to other files{ofFile}</h4>
          {detectedRefs.length > 0 ? (
            <p className="hint">Detected from the column names: {detectedRefs.map(([column, object]) => `${column} → ${object}`).join(', ')}.</p>
          ) : null}
          {Object.entries(references).length > 0 ? (
            <ul className="plain-list">
              {Object.entries(references).map(([column, object]) => (
                <li key={column}>
                  {column} → {object}{' '}
                  <button
                    type="button"
                    className="link-button danger"
                    onClick={() => {
                      const next = { ...references };
                      delete next[column];
                      onChange(file.object, { references: next });
                    }}
                  >
                    Remove<span className="visually-hidden"> the reference {column} of {file.file}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="inline-fields">
            <div className="field">
              <label htmlFor={`${base}-ref-column`}>Column{ofFile}</label>
              <select id={`${base}-ref-column`} value={newColumn} onChange={(e) => setNewColumn(e.target.value)}>
                <option value="">Choose…</option>
                {file.columns
                  .filter((column) => column !== idValue && !(column in references))
                  .map((column) => (
                    <option key={column} value={column}>
                      {column}
                    </option>
                  ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${base}-ref-object`}>holds ids of{ofFile}</label>
              <select id={`${base}-ref-object`} value={newObject} onChange={(e) => setNewObject(e.target.value)}>
                <option value="">Choose…</option>
                {names.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </div>
            <button
              type="button"
              className="secondary"
              disabled={!newColumn || !newObject}
              onClick={() => {
                onChange(file.object, { references: { ...references, [newColumn]: newObject } });
                setNewColumn('');
                setNewObject('');
              }}
            >
              Add the reference<span className="visually-hidden"> to {file.file}</span>
            </button>
          </div>
        </div>
      ) : null}
    </fieldset>
  );
}
