import { useCallback, useEffect, useMemo, useState } from 'react';
import type { FieldValue } from '../../../src/core/schema.js';
import type { MappingProblem } from '../../../src/project/project-file.js';
import type { MatchKeyKind, MatchedRecordOption } from '../../../src/project/types.js';
import type {
  FieldMappingView,
  FieldView,
  MappingResponse,
  MatchKeyView,
  ObjectMappingView,
  ObjectView,
  SchemasResponse,
  TransformView,
} from '../../../src/wizard/api.js';
import { ApiRequestError, api, errorText } from '../api.js';
import { Busy, ErrorBox, TableHead, TableWrap } from '../components/common.js';
import { useWizard } from '../context.js';
import { num, plural } from '../format.js';

const MATCHED_OPTIONS: { value: MatchedRecordOption; label: string; hint: string }[] = [
  { value: 'fill-empty', label: 'Fill empty fields only', hint: 'Fields that already hold a value in the new CRM are left as they are (recommended).' },
  { value: 'update', label: 'Overwrite every mapped field', hint: 'The values from the source replace what the new CRM holds.' },
  { value: 'skip', label: 'Leave matched records alone', hint: 'Only empty links (company, owner) are filled in, so the record stays attached.' },
];

const KEY_KINDS: { value: MatchKeyKind; label: string }[] = [
  { value: 'email', label: 'E-mail address' },
  { value: 'domain', label: 'Web domain' },
  { value: 'phone', label: 'Phone number' },
  { value: 'name', label: 'Name' },
  { value: 'exact', label: 'Exact value' },
];

type SampleCache = Record<string, string[] | 'loading' | 'error'>;

/** Which entry under `objects` a mapping is: its key, or its source when the key is the source's name (routing may map one source several times). */
function entryOf(mapping: { key?: string; source: string }): string {
  return mapping.key ?? mapping.source;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function splitKey(value: string): string | string[] {
  return value.includes('+') ? value.split('+') : value;
}

function sourceList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

export function MapStep() {
  const { state, reloadState } = useWizard();
  const [schemas, setSchemas] = useState<SchemasResponse | null>(null);
  const [mapping, setMapping] = useState<MappingResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [draft, setDraft] = useState<ObjectMappingView | null>(null);
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [confirmFresh, setConfirmFresh] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [samples, setSamples] = useState<SampleCache>({});
  /** Problems the server found in a save it refused (the draft is not saved). */
  const [refused, setRefused] = useState<MappingProblem[] | null>(null);
  /** An owner table to open (from the list of owner tables with names to fill in). */
  const [openMap, setOpenMap] = useState<{ object: string; index: number; nonce: number } | null>(null);
  const connected = !!state?.source?.connected && !!state?.target?.connected;

  useEffect(() => {
    if (!connected) return;
    let cancelled = false;
    Promise.all([api.schemas(), api.mapping()])
      .then(([nextSchemas, nextMapping]) => {
        if (cancelled) return;
        setSchemas(nextSchemas);
        setMapping(nextMapping);
        setError(null);
      })
      .catch((err: unknown) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [connected]);

  const objects = mapping?.objects ?? [];
  const current = objects.find((o) => entryOf(o) === selected) ?? objects[0];

  useEffect(() => {
    if (current && (!draft || entryOf(draft) !== entryOf(current))) {
      setDraft(clone(current));
      setDirty(false);
    }
  }, [current, draft]);

  const loadSample = useCallback(
    (side: 'source' | 'target', object: string, field: string, limit = 3) => {
      const key = `${side}:${object}:${field}:${limit}`;
      setSamples((cache) => {
        if (cache[key]) return cache;
        api
          .samples(side, object, field, limit)
          .then((answer) => setSamples((c) => ({ ...c, [key]: answer.values })))
          .catch(() => setSamples((c) => ({ ...c, [key]: 'error' })));
        return { ...cache, [key]: 'loading' };
      });
    },
    [],
  );

  const proposeFirst = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const answer = await api.proposeMapping({});
      setMapping(answer);
      setDraft(null);
      setSaved(`Proposed a mapping of ${plural(answer.objects.length, 'object')} and saved it to ferry.yaml: check each object below.`);
      void reloadState();
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setSaving(false);
    }
  };

  if (!connected) {
    return (
      <p className="notice notice-warn">
        Connect both the source and the target first (<a href="#/connect">step 1</a>); the mapping is proposed from what
        both hold.
      </p>
    );
  }
  if (error) return <ErrorBox error={error} title="The mapping could not be loaded." />;
  if (!schemas || !mapping) return <Busy>Reading both schemas and the mapping…</Busy>;
  if (mapping.objects.length === 0) {
    // ferry.yaml has both connections but no object mapping yet (connected here, or by hand): the proposal
    // `ferry map` makes, on request.
    return (
      <section className="card" aria-labelledby="no-mapping-heading" data-testid="no-mapping">
        <h2 id="no-mapping-heading">No mapping yet</h2>
        <p>
          Both sides are connected, but <code>ferry.yaml</code> maps no object yet. Ferry can propose one from both schemas
          (as <code>ferry map</code> does): which source object goes to which target object, field by field, with match
          keys. You check and correct it here before anything is migrated.
        </p>
        <div className="actions">
          <button type="button" disabled={saving} onClick={() => void proposeFirst()}>
            Propose the mapping
          </button>
        </div>
        {saving ? <Busy>Proposing the mapping from both schemas…</Busy> : null}
        <ErrorBox error={saveError} title="The mapping could not be proposed." />
      </section>
    );
  }
  if (!draft || !current) return <Busy>Reading both schemas and the mapping…</Busy>;

  const sourceObject = schemas.source.find((o) => o.name === draft.source);
  const targetObject = schemas.target.find((o) => o.name === draft.target);
  const problemsOf = (object: string) => ({
    errors: mapping.problems.errors.filter((p) => p.object === object),
    warnings: mapping.problems.warnings.filter((p) => p.object === object),
  });
  const problems = refused ? { errors: refused, warnings: problemsOf(draft.source).warnings } : problemsOf(draft.source);

  const update = (next: ObjectMappingView) => {
    setDraft(next);
    setDirty(true);
    setSaved(null);
    // A refusal was about the draft as it was; the next save checks again.
    setRefused(null);
    setSaveError(null);
  };
  const discard = () => {
    setDraft(clone(current));
    setDirty(false);
    setRefused(null);
    setSaveError(null);
  };

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    setRefused(null);
    try {
      const answer = await api.saveObjectMapping(draft);
      setMapping(answer);
      const fresh = answer.objects.find((o) => entryOf(o) === entryOf(draft));
      if (fresh) setDraft(clone(fresh));
      setDirty(false);
      const left = answer.problems.errors.filter((p) => p.object === draft.source).length;
      setSaved(
        `Saved the mapping of ${draft.source} to ferry.yaml.${left > 0 ? ` ${plural(left, 'problem')} still to fix before migrating.` : ''}`,
      );
      void reloadState();
    } catch (err) {
      const listed = err instanceof ApiRequestError ? err.details?.problems : undefined;
      if (err instanceof ApiRequestError && err.code === 'MAPPING_INVALID' && Array.isArray(listed)) {
        setRefused(listed as MappingProblem[]);
        setSaveError(`Not saved: the mapping of ${draft.source} has ${plural(listed.length, 'problem')} to fix first (listed below).`);
      } else {
        setSaveError(errorText(err));
      }
    } finally {
      setSaving(false);
    }
  };

  const propose = async (fresh = false) => {
    setSaving(true);
    setError(null);
    try {
      const answer = await api.proposeMapping(fresh ? { fresh } : {});
      setMapping(answer);
      setDraft(null);
      setRefused(null);
      setSaveError(null);
      setConfirmFresh(false);
      setSaved(fresh ? 'Proposed a fresh mapping from both schemas; the previous one was discarded.' : 'Proposed the mapping again from both schemas; your edits were kept.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  };

  const choose = (source: string) => {
    if (dirty && !window.confirm(`The changes to ${draft.source} are not saved. Leave them?`)) return;
    setSelected(source);
    setDraft(null);
    setSaved(null);
    setRefused(null);
    setSaveError(null);
  };

  return (
    <>
      <p className="lead">
        Ferry proposed where each object and field of the source goes in the target. Check it object by object: pick
        another target field where the guess is wrong, and translate values (stages, picklists, owners) with a value map.
        Changes are saved to <code>ferry.yaml</code>.
      </p>
      <ProblemSummary mapping={mapping} />
      <RequiredUnmapped mapping={mapping} onChoose={(object) => choose(object)} />
      <OpenOwnerTables
        mapping={mapping}
        schemas={schemas}
        onOpen={(object, index) => {
          if (object !== draft.source) choose(object);
          setOpenMap({ object, index, nonce: Date.now() });
        }}
      />
      {mapping.problems.errors.some((p) => p.code === 'UNKNOWN_TARGET_OBJECT') ? (
        <p className="notice notice-warn" data-testid="stale-mapping">
          Some objects are mapped to objects the target does not have: was the target changed to another CRM? “Propose the
          mapping again” keeps what is mapped; <strong>Start over with a fresh proposal</strong> (under the objects) proposes
          one for the target as it is now.
        </p>
      ) : null}
      {mapping.notes.length > 0 ? (
        <details className="notes">
          <summary>How the mapping was proposed ({plural(mapping.notes.length, 'note')})</summary>
          <ul>
            {mapping.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </details>
      ) : null}
      <div className="map-layout">
        <nav className="object-list" aria-label="Objects">
          <h2 className="small-heading">Objects</h2>
          <ul>
            {objects.map((object) => {
              const p = problemsOf(object.source);
              const isCurrent = entryOf(object) === entryOf(draft);
              return (
                <li key={entryOf(object)}>
                  <button
                    type="button"
                    className={`object-button${isCurrent ? ' current' : ''}`}
                    aria-current={isCurrent ? 'true' : undefined}
                    onClick={() => choose(entryOf(object))}
                  >
                    <span>
                      {object.source} → {object.target}
                    </span>
                    {p.errors.length > 0 ? (
                      <span className="badge badge-error">{plural(p.errors.length, 'problem')}</span>
                    ) : p.warnings.length > 0 ? (
                      <span className="badge badge-warn">{plural(p.warnings.length, 'warning')}</span>
                    ) : (
                      <span className="badge badge-ok">OK</span>
                    )}
                  </button>
                </li>
              );
            })}
          </ul>
          <button type="button" className="secondary" onClick={() => void propose()} disabled={saving}>
            Propose the mapping again
          </button>
          {confirmFresh ? (
            <div className="confirm-fresh" role="group" aria-labelledby="fresh-text">
              <p id="fresh-text" className="hint">
                Every object mapping in <code>ferry.yaml</code> is discarded, your edits included, and a new one is proposed
                from both schemas, as for a new project. The connections are kept.
              </p>
              <button type="button" className="danger" onClick={() => void propose(true)} disabled={saving}>
                Discard the mapping and propose afresh
              </button>
              <button type="button" className="link-button" onClick={() => setConfirmFresh(false)}>
                Keep the mapping
              </button>
            </div>
          ) : (
            <button type="button" className="link-button" onClick={() => setConfirmFresh(true)} disabled={saving}>
              Start over with a fresh proposal…
            </button>
          )}
        </nav>
        <section className="object-mapping" aria-labelledby="object-heading" data-object={draft.source}>
          <h2 id="object-heading">
            {draft.source} → {draft.target}
          </h2>
          <p className="hint">
            {num(sourceObject?.count)} records in the source, {num(targetObject?.count)} in the target.
            {draft.matchOnly ? ' These records are only linked to existing ones, never created.' : ''}
          </p>
          <ObjectProblems problems={problems} />
          <FieldTable
            draft={draft}
            sourceObject={sourceObject}
            targetObject={targetObject}
            problems={[...problems.errors, ...problems.warnings]}
            samples={samples}
            loadSample={loadSample}
            onChange={update}
            requestEdit={openMap && openMap.object === draft.source ? openMap : null}
          />
          <MatchOptions draft={draft} sourceObject={sourceObject} targetObject={targetObject} onChange={update} />
          <div className="actions sticky-actions">
            <button type="button" onClick={() => void save()} disabled={saving || !dirty}>
              Save the mapping of {draft.source}
            </button>
            {dirty ? (
              <button
                type="button"
                className="secondary"
                onClick={discard}
              >
                Discard changes
              </button>
            ) : null}
            {dirty ? <span className="hint">Unsaved changes</span> : null}
          </div>
          {saving ? <Busy>Saving…</Busy> : null}
          <ErrorBox error={saveError} />
          {saved ? (
            <p className="notice notice-ok" role="status">
              {saved}
            </p>
          ) : null}
        </section>
      </div>
    </>
  );
}

/**
 * Required target fields no source field fills, over every object: each record would be refused, so runs that
 * write wait until they are mapped (the Full migration, Demo and Delta steps say so too).
 */
function RequiredUnmapped({ mapping, onChoose }: { mapping: MappingResponse; onChoose: (object: string) => void }) {
  const required = mapping.problems.errors.filter((p) => String(p.code).startsWith('REQUIRED'));
  if (required.length === 0) return null;
  return (
    <div className="notice notice-error required-unmapped" role="alert" data-testid="required-unmapped">
      <strong>
        {plural(required.length, 'required target field')} not mapped: no run can write until{' '}
        {required.length === 1 ? 'it is' : 'they are'}.
      </strong>
      <ul>
        {required.map((p, i) => (
          <li key={i}>
            <button type="button" className="link-button" onClick={() => onChoose(p.object)}>
              {p.object}
            </button>
            : {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Owner tables the proposal could not fill (a source owner name no target owner has, or one several share):
 * listed at the top with how many names are open, each opening its table.
 */
function OpenOwnerTables({ mapping, schemas, onOpen }: { mapping: MappingResponse; schemas: SchemasResponse; onOpen: (object: string, index: number) => void }) {
  const open: { object: string; index: number; source: string; target: string; names: string[] }[] = [];
  for (const object of mapping.objects) {
    const target = schemas.target.find((o) => o.name === object.target);
    object.fields.forEach((fm, index) => {
      const field = target?.fields.find((f) => f.name === fm.target);
      if (fm.transform.kind !== 'map' || !field?.references || (field.type !== 'reference' && field.type !== 'reference-list')) return;
      const names = Object.entries(fm.transform.values)
        .filter(([, value]) => value === null || value === '')
        .map(([name]) => name);
      if (names.length > 0) open.push({ object: object.source, index, source: fm.source.join(' + '), target: fm.target, names });
    });
  }
  if (open.length === 0) return null;
  return (
    <div className="notice notice-warn" data-testid="open-owner-tables">
      <strong>Owner names to fill in: </strong>
      these source names have no target owner yet; their records are written without one until you choose it.
      <ul>
        {open.map((entry) => (
          <li key={`${entry.object}-${entry.index}`}>
            {entry.object}.{entry.source} → {entry.target}: {entry.names.slice(0, 5).join(', ')}
            {entry.names.length > 5 ? ` and ${num(entry.names.length - 5)} more` : ''}{' '}
            <button type="button" className="link-button" onClick={() => onOpen(entry.object, entry.index)}>
              Fill in the owner table of {entry.object}.{entry.source}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ProblemSummary({ mapping }: { mapping: MappingResponse }) {
  const { errors, warnings } = mapping.problems;
  if (errors.length === 0 && warnings.length === 0) {
    return (
      <p className="notice notice-ok" role="status" data-testid="problem-summary">
        No problems found in the mapping.
      </p>
    );
  }
  return (
    <div className={`notice ${errors.length > 0 ? 'notice-error' : 'notice-warn'}`} data-testid="problem-summary">
      {errors.length > 0 ? `${plural(errors.length, 'problem')} to fix before migrating` : 'No blocking problems'}
      {warnings.length > 0 ? `, ${plural(warnings.length, 'warning')} to check` : ''}. Each object lists its own below.
    </div>
  );
}

function ObjectProblems({ problems }: { problems: { errors: MappingProblem[]; warnings: MappingProblem[] } }) {
  if (problems.errors.length === 0 && problems.warnings.length === 0) return null;
  return (
    <ul className="problems">
      {problems.errors.map((p, i) => (
        <li key={`e${i}`} className="problem problem-error">
          <strong>Problem: </strong>
          {p.message}
        </li>
      ))}
      {problems.warnings.map((p, i) => (
        <li key={`w${i}`} className="problem problem-warn">
          <strong>Warning: </strong>
          {p.message}
        </li>
      ))}
    </ul>
  );
}

/** Distinct sample values read per field: three are shown; fewer than this many suggests a value map. */
const SAMPLE_PROBE = 25;

function SampleValues({ cache, cacheKey }: { cache: SampleCache; cacheKey: string }) {
  const all = cache[cacheKey];
  const values = Array.isArray(all) ? all.slice(0, 3) : all;
  if (values === undefined || values === 'loading') return <span className="samples muted">…</span>;
  if (values === 'error') return <span className="samples muted">no sample</span>;
  if (values.length === 0) return <span className="samples muted">(all empty)</span>;
  return (
    <span className="samples">
      {values.map((value, i) => (
        <span className="sample" key={i}>
          {value}
        </span>
      ))}
    </span>
  );
}

/**
 * The one convention for naming a field everywhere on this page: its label, then its raw name in parentheses
 * (the name ferry.yaml uses) when the label says something else; the raw name alone when there is no label.
 */
function fieldTitle(f: { name: string; label?: string }): string {
  return hasOwnLabel(f) ? `${f.label} (${f.name})` : f.name;
}

function hasOwnLabel(f: { name: string; label?: string }): f is { name: string; label: string } {
  return !!f.label && f.label.toLowerCase().replace(/[^a-z0-9]/g, '') !== f.name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** fieldTitle in a table cell: the label, the raw name beside it in the secondary style. */
function FieldName({ field }: { field: { name: string; label?: string } }) {
  if (!hasOwnLabel(field)) return <span className="field-name">{field.name}</span>;
  return (
    <>
      <span className="field-name">{field.label}</span> <code className="raw-name">{field.name}</code>
    </>
  );
}

const TEXTISH = new Set(['string', 'text', 'email', 'phone', 'url']);

/** Whether values of one type go into a field of the other as they are (the server's check is the reference). */
function typesFit(source: string, target: string): boolean {
  if (source === target) return true;
  if (TEXTISH.has(target) && (TEXTISH.has(source) || source === 'enum' || source === 'number' || source === 'integer')) return true;
  if ((source === 'integer' && target === 'number') || (source === 'reference' && target === 'reference-list')) return true;
  if ((target === 'date' || target === 'datetime') && (source === 'date' || source === 'datetime' || TEXTISH.has(source))) return true;
  return false;
}

function transformLabel(transform: TransformView): string {
  switch (transform.kind) {
    case 'copy':
      return 'copied as is';
    case 'join':
      return `joined with "${transform.separator}"`;
    case 'split':
      return `split at "${transform.separator}", ${transform.part === 'first' ? 'first part' : transform.part === 'rest' ? 'the rest' : `part ${transform.part}`}`;
    case 'constant':
      return `always "${String(transform.value)}"`;
    case 'map':
      return `value map (${plural(Object.keys(transform.values).length, 'value')})`;
    case 'date':
      return `as a date${transform.zone ? ` (${transform.zone})` : ''}`;
    case 'datetime':
      return `as a date and time${transform.zone ? ` (${transform.zone})` : ''}`;
    case 'lowercase':
      return 'lower-cased';
    case 'trim':
      return 'spaces trimmed';
    case 'domain':
      return 'domain of a URL or e-mail';
    case 'duration':
      return `a duration, ${transform.from} → ${transform.to}`;
  }
}

function FieldTable({
  draft,
  sourceObject,
  targetObject,
  problems,
  samples,
  loadSample,
  onChange,
  requestEdit,
}: {
  draft: ObjectMappingView;
  sourceObject?: ObjectView;
  targetObject?: ObjectView;
  problems: MappingProblem[];
  samples: SampleCache;
  loadSample: (side: 'source' | 'target', object: string, field: string, limit?: number) => void;
  onChange: (next: ObjectMappingView) => void;
  requestEdit?: { index: number; nonce: number } | null;
}) {
  const [editingMap, setEditingMap] = useState<number | null>(null);
  const [newSource, setNewSource] = useState('');
  const [newTarget, setNewTarget] = useState('');

  useEffect(() => {
    setEditingMap(null);
  }, [draft.source]);
  useEffect(() => {
    if (requestEdit) setEditingMap(requestEdit.index);
  }, [requestEdit]);

  useEffect(() => {
    for (const fm of draft.fields) {
      for (const s of fm.source) if (sourceObject?.fields.some((f) => f.name === s)) loadSample('source', draft.source, s, SAMPLE_PROBE);
      if (targetObject?.fields.some((f) => f.name === fm.target)) loadSample('target', draft.target, fm.target, SAMPLE_PROBE);
    }
  }, [draft.fields, draft.source, draft.target, sourceObject, targetObject, loadSample]);

  const sourceField = (name: string) => sourceObject?.fields.find((f) => f.name === name);
  const targetField = (name: string) => targetObject?.fields.find((f) => f.name === name);
  const usedTargets = new Set(draft.fields.map((f) => f.target));
  const mappedSources = new Set(draft.fields.flatMap((f) => f.source));
  const unmappedSources = (sourceObject?.fields ?? []).filter((f) => !mappedSources.has(f.name));
  const unmappedRequired = (targetObject?.fields ?? []).filter((f) => f.required && !f.readOnly && !usedTargets.has(f.name));
  // Fields the target system sets itself (created_at, ...): a mapping cannot write them, so they are not offered.
  const writableTargets = (targetObject?.fields ?? []).filter((f) => !f.readOnly);
  const readOnlyTargets = (targetObject?.fields ?? []).filter((f) => f.readOnly);

  const setField = (index: number, next: FieldMappingView) => {
    const fields = draft.fields.slice();
    fields[index] = next;
    onChange({ ...draft, fields });
  };
  const removeField = (index: number) => {
    onChange({ ...draft, fields: draft.fields.filter((_, i) => i !== index) });
    setEditingMap(null);
  };
  const addField = () => {
    if (!newSource || !newTarget) return;
    onChange({ ...draft, fields: [...draft.fields, { source: [newSource], target: newTarget, transform: { kind: 'copy' } }] });
    setNewSource('');
    setNewTarget('');
  };

  return (
    <section aria-labelledby="fields-heading">
      <h3 id="fields-heading">Fields</h3>
      <TableWrap label={`Fields of ${draft.source}`}>
        <table className="data fields-table">
          <caption className="visually-hidden">
            Field mapping of {draft.source} to {draft.target}, with sample values from both sides
          </caption>
          <TableHead columns={['Source field', 'Target field', 'How', 'Check', { label: 'Actions', hidden: true }]} />
          <tbody>
            {draft.fields.map((fm, index) => {
              const target = targetField(fm.target);
              const rowProblems = problems.filter((p) => p.field !== undefined && (p.field === fm.target || fm.source.includes(p.field)));
              const selectId = `target-${draft.source}-${index}`;
              return (
                <FieldRow
                  key={`${fm.source.join('+')}-${index}`}
                  draft={draft}
                  fm={fm}
                  index={index}
                  selectId={selectId}
                  sourceFields={fm.source.map((s) => sourceField(s) ?? { name: s, type: 'string', required: false })}
                  target={target}
                  targetFields={writableTargets}
                  rowProblems={rowProblems}
                  samples={samples}
                  editing={editingMap === index}
                  onEdit={() => setEditingMap(editingMap === index ? null : index)}
                  onChange={(next) => setField(index, next)}
                  onRemove={() => removeField(index)}
                  loadSample={loadSample}
                />
              );
            })}
          </tbody>
        </table>
      </TableWrap>
      {unmappedRequired.length > 0 ? (
        <p className="notice notice-error">
          Required in the target but not filled by any source field:{' '}
          {unmappedRequired.map((f) => fieldTitle(f)).join(', ')}. Records would be refused without them.
        </p>
      ) : null}
      {unmappedSources.length > 0 && targetObject ? (
        <div className="add-field">
          <h4>Also migrate a field that is not mapped</h4>
          <div className="inline-fields">
            <div className="field">
              <label htmlFor="add-source">Source field</label>
              <select id="add-source" value={newSource} onChange={(e) => setNewSource(e.target.value)}>
                <option value="">Choose…</option>
                {unmappedSources.map((f) => (
                  <option key={f.name} value={f.name}>
                    {fieldTitle(f)} · {f.type}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="add-target">Target field</label>
              <select id="add-target" value={newTarget} onChange={(e) => setNewTarget(e.target.value)}>
                <option value="">Choose…</option>
                {writableTargets
                  .filter((f) => !usedTargets.has(f.name))
                  .map((f) => (
                    <option key={f.name} value={f.name}>
                      {fieldTitle(f)} · {f.type}
                    </option>
                  ))}
              </select>
            </div>
            <button type="button" className="secondary" onClick={addField} disabled={!newSource || !newTarget}>
              Add the field
            </button>
          </div>
          {readOnlyTargets.length > 0 ? (
            <p className="hint" data-testid="read-only-fields">
              Not offered: {readOnlyTargets.map((f) => fieldTitle(f)).join(', ')}. The target sets{' '}
              {readOnlyTargets.length === 1 ? 'this field' : 'these fields'} itself (read-only), so a migration cannot write{' '}
              {readOnlyTargets.length === 1 ? 'it' : 'them'}.
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function FieldRow({
  draft,
  fm,
  index,
  selectId,
  sourceFields,
  target,
  targetFields,
  rowProblems,
  samples,
  editing,
  onEdit,
  onChange,
  onRemove,
  loadSample,
}: {
  draft: ObjectMappingView;
  fm: FieldMappingView;
  index: number;
  selectId: string;
  sourceFields: FieldView[];
  target?: FieldView;
  targetFields: FieldView[];
  rowProblems: MappingProblem[];
  samples: SampleCache;
  editing: boolean;
  onEdit: () => void;
  onChange: (next: FieldMappingView) => void;
  onRemove: () => void;
  loadSample: (side: 'source' | 'target', object: string, field: string, limit?: number) => void;
}) {
  // Value maps make sense for a few distinct values (stages, statuses, picklists), not for ids, numbers or e-mails.
  const mappable = new Set(['string', 'text', 'enum', 'boolean']);
  const distinct = samples[`source:${draft.source}:${fm.source[0] ?? ''}:${SAMPLE_PROBE}`];
  const fewValues = Array.isArray(distinct) && distinct.length > 0 && distinct.length < SAMPLE_PROBE;
  // An owner table: names in the source (Pipedrive's `Deal - Owner`) into a reference to the target's owners.
  const ownerTable =
    fm.source.length === 1 &&
    !!target?.references &&
    (target.type === 'reference' || target.type === 'reference-list') &&
    sourceFields.every((f) => f.type !== 'reference' && f.type !== 'reference-list');
  const unfilled = ownerTable && fm.transform.kind === 'map' ? Object.values(fm.transform.values).filter((value) => value === null || value === '').length : 0;
  const canMap =
    fm.source.length === 1 &&
    (fm.transform.kind === 'map' ||
      ownerTable ||
      ((fm.transform.kind === 'copy' || fm.transform.kind === 'trim' || fm.transform.kind === 'lowercase') &&
        sourceFields.every((f) => mappable.has(f.type)) &&
        (!target || mappable.has(target.type)) &&
        (!!target?.picklist || fewValues)));
  const sourceNames = fm.source.join(' + ');
  return (
    <>
      <tr data-field={fm.source.join('+')} className={rowProblems.some((p) => p.code !== 'ENUM_OPTIONS_DIFFER') ? 'has-problem' : undefined}>
        <td>
          {sourceFields.map((f) => (
            <div key={f.name} className="field-cell">
              <FieldName field={f} />{' '}
              <span className="type">{f.type}</span>
              <SampleValues cache={samples} cacheKey={`source:${draft.source}:${f.name}:${SAMPLE_PROBE}`} />
            </div>
          ))}
        </td>
        <td>
          <label htmlFor={selectId} className="visually-hidden">
            Target field for {sourceNames}
          </label>
          <select id={selectId} className="target-select" value={fm.target} title={target ? fieldTitle(target) : fm.target} onChange={(e) => onChange({ ...fm, target: e.target.value })}>
            {target ? null : <option value={fm.target}>{fm.target} (not in the target)</option>}
            {target?.readOnly ? <option value={fm.target}>{fieldTitle(target)} (read-only: the target sets it)</option> : null}
            {targetFields.map((f) => (
              <option key={f.name} value={f.name}>
                {fieldTitle(f)}
              </option>
            ))}
          </select>
          <div className="field-cell">
            {target ? (
              <>
                <span className="type">{target.type}</span>
                {target.required ? <span className="badge badge-warn">required</span> : null}
                <SampleValues cache={samples} cacheKey={`target:${draft.target}:${target.name}:${SAMPLE_PROBE}`} />
              </>
            ) : null}
          </div>
        </td>
        <td>
          <span>{ownerTable && fm.transform.kind === 'map' ? `owner table (${plural(Object.keys(fm.transform.values).length, 'name')})` : transformLabel(fm.transform)}</span>
          {unfilled > 0 ? (
            <span className="badge badge-warn" data-testid="owners-unfilled">
              {plural(unfilled, 'name')} to fill in
            </span>
          ) : null}
          {canMap ? (
            <button type="button" className="link-button" aria-expanded={editing} onClick={onEdit}>
              {ownerTable
                ? fm.transform.kind === 'map'
                  ? `Fill in the owner table of ${sourceNames}`
                  : `Add an owner table to ${sourceNames}`
                : fm.transform.kind === 'map'
                  ? `Edit the value map of ${sourceNames}`
                  : `Add a value map to ${sourceNames}`}
            </button>
          ) : null}
        </td>
        <td>
          {rowProblems.length === 0 && target && fm.transform.kind === 'copy' && sourceFields.some((f) => !typesFit(f.type, target.type)) ? (
            <span className="warn-text">
              Types differ ({sourceFields.map((f) => f.type).join(' + ')} → {target.type}): check the sample values, or add a value map.
            </span>
          ) : rowProblems.length === 0 ? (
            <span className="ok-text">OK</span>
          ) : (
            <ul className="row-problems">
              {rowProblems.map((p, i) => (
                <li key={i}>{p.message}</li>
              ))}
            </ul>
          )}
        </td>
        <td>
          <button type="button" className="link-button danger" onClick={onRemove}>
            Don’t migrate<span className="visually-hidden"> {sourceNames}</span>
          </button>
        </td>
      </tr>
      {editing ? (
        <tr className="value-map-row">
          <td colSpan={5}>
            <ValueMapEditor
              key={`${draft.source}-${index}`}
              object={draft.source}
              fm={fm}
              target={target}
              samples={samples}
              loadSample={loadSample}
              onChange={onChange}
            />
          </td>
        </tr>
      ) : null}
    </>
  );
}

interface Pair {
  from: string;
  to: string;
}

function toPairs(transform: TransformView): Pair[] {
  if (transform.kind !== 'map') return [];
  return Object.entries(transform.values).map(([from, to]) => ({ from, to: to === null ? '' : String(to) }));
}

function ValueMapEditor({
  object,
  fm,
  target,
  samples,
  loadSample,
  onChange,
}: {
  object: string;
  fm: FieldMappingView;
  target?: FieldView;
  samples: SampleCache;
  loadSample: (side: 'source' | 'target', object: string, field: string, limit?: number) => void;
  onChange: (next: FieldMappingView) => void;
}) {
  const sourceField = fm.source[0] ?? '';
  const [pairs, setPairs] = useState<Pair[]>(() => toPairs(fm.transform));
  const transform = fm.transform.kind === 'map' ? fm.transform : null;
  // A name not in an owner table is written without an owner (the default null), never as the name itself.
  const isReference = !!target?.references && (target.type === 'reference' || target.type === 'reference-list');
  const [unmapped, setUnmapped] = useState<'fail' | 'keep' | 'default'>(transform?.unmapped ?? (isReference ? 'default' : 'keep'));
  const [fallback, setFallback] = useState(transform?.default === undefined || transform.default === null ? '' : String(transform.default));
  const sampleKey = `source:${object}:${sourceField}:100`;
  const sampleValues = samples[sampleKey];
  const referenced = isReference ? target?.references : undefined;
  const [records, setRecords] = useState<{ value: string; label: string; name?: string; email?: string }[] | null>(null);
  const [recordsError, setRecordsError] = useState<string | null>(null);
  useEffect(() => {
    if (!referenced) return;
    let cancelled = false;
    api
      .records('target', referenced)
      .then((answer) => {
        if (cancelled) return;
        setRecords(
          answer.records.map((r) => ({
            value: r.id,
            label: `${r.name ?? r.id}${r.email ? ` <${r.email}>` : ''}`,
            ...(r.name ? { name: r.name } : {}),
            ...(r.email ? { email: r.email } : {}),
          })),
        );
      })
      .catch((err: unknown) => !cancelled && setRecordsError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [referenced]);
  const options: { value: string; label?: string; name?: string; email?: string }[] | undefined = referenced ? (records ?? undefined) : target?.picklist;
  const headingId = `value-map-${object}-${sourceField}`;

  useEffect(() => {
    loadSample('source', object, sourceField, 100);
  }, [loadSample, object, sourceField]);

  const emit = useMemo(
    () => (nextPairs: Pair[], nextUnmapped = unmapped, nextFallback = fallback) => {
      const values: Record<string, FieldValue> = {};
      for (const pair of nextPairs) if (pair.from !== '') values[pair.from] = pair.to === '' ? null : pair.to;
      onChange({
        ...fm,
        transform: {
          kind: 'map',
          values,
          unmapped: nextUnmapped,
          ...(nextUnmapped === 'default' ? { default: nextFallback === '' ? null : nextFallback } : {}),
        },
      });
    },
    [fm, onChange, unmapped, fallback],
  );

  const setPair = (index: number, pair: Pair) => {
    const next = pairs.slice();
    next[index] = pair;
    setPairs(next);
    emit(next);
  };

  const addMissing = () => {
    if (!Array.isArray(sampleValues)) return;
    const known = new Set(pairs.map((p) => p.from));
    const guess = (from: string): string => {
      if (!options) return referenced ? '' : from;
      const norm = (v: string) => v.toLowerCase().replace(/[^a-z0-9]/g, '');
      const found = options.filter(
        (o) => norm(o.value) === norm(from) || norm(o.label ?? '') === norm(from) || norm(o.name ?? '') === norm(from) || norm(o.email ?? '') === norm(from),
      );
      // A name two target records share is left for the user: a guess would be a coin toss.
      return found.length === 1 ? found[0]!.value : '';
    };
    const next = [...pairs, ...sampleValues.filter((v) => !known.has(v)).map((from) => ({ from, to: guess(from) }))];
    setPairs(next);
    emit(next);
  };

  const missing = Array.isArray(sampleValues) ? sampleValues.filter((v) => !pairs.some((p) => p.from === v)) : [];
  const optionLabel = (value: string) => {
    const option = options?.find((o) => o.value === value);
    if (referenced) return option?.label ?? value;
    return option?.label && option.label !== option.value ? `${option.label} (${option.value})` : value;
  };

  return (
    <section className="value-map" aria-labelledby={headingId}>
      <h4 id={headingId}>
        {referenced ? 'Owner table' : 'Value map'}: {sourceField} → {fm.target}
      </h4>
      <p className="hint">
        {referenced
          ? `Each name found in the source becomes the ${referenced} record chosen on the right (listed by name and e-mail).${options ? ` The target has ${plural(options.length, 'record')}.` : ''} A name left empty is written without one.`
          : `Each value found in the source becomes the value on the right in the target.${options ? ` The target accepts ${plural(options.length, 'value')}.` : ''}`}
      </p>
      {referenced && !records && !recordsError ? <Busy>Reading the {referenced} of the target…</Busy> : null}
      <ErrorBox error={recordsError} title={`The ${referenced ?? ''} of the target could not be read.`} />
      <TableWrap label={`Value map of ${sourceField}`}>
        <table className="data">
          <TableHead columns={['Value in the source', 'Becomes in the target', { label: 'Remove', hidden: true }]} />
          <tbody>
            {pairs.map((pair, i) => {
              const fromId = `${headingId}-from-${i}`;
              const toId = `${headingId}-to-${i}`;
              return (
                <tr key={i} data-value={pair.from}>
                  <td>
                    <label htmlFor={fromId} className="visually-hidden">
                      Source value {i + 1}
                    </label>
                    <input id={fromId} type="text" value={pair.from} onChange={(e) => setPair(i, { ...pair, from: e.target.value })} />
                    {pair.from !== pair.from.trim() ? <span className="hint"> (has spaces around it)</span> : null}
                  </td>
                  <td>
                    <label htmlFor={toId} className="visually-hidden">
                      {referenced ? `Target ${referenced} for` : 'Target value for'} “{pair.from}”
                    </label>
                    {options ? (
                      <select id={toId} value={pair.to} onChange={(e) => setPair(i, { ...pair, to: e.target.value })}>
                        <option value="">(leave empty)</option>
                        {pair.to !== '' && !options.some((o) => o.value === pair.to) ? (
                          <option value={pair.to}>
                            {pair.to} ({referenced ? `no such ${referenced} record` : 'not accepted by the target'})
                          </option>
                        ) : null}
                        {options.map((o) => (
                          <option key={o.value} value={o.value}>
                            {optionLabel(o.value)}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input id={toId} type="text" value={pair.to} onChange={(e) => setPair(i, { ...pair, to: e.target.value })} />
                    )}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button danger"
                      onClick={() => {
                        const next = pairs.filter((_, j) => j !== i);
                        setPairs(next);
                        emit(next);
                      }}
                    >
                      Remove “{pair.from}”
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={() => {
            const next = [...pairs, { from: '', to: '' }];
            setPairs(next);
          }}
        >
          Add a value
        </button>
        {missing.length > 0 ? (
          <button type="button" className="secondary" onClick={addMissing}>
            Add the {plural(missing.length, 'source value')} not mapped yet
          </button>
        ) : null}
      </div>
      <fieldset className="radios">
        <legend>A source value that is not in the list</legend>
        {(
          [
            ['keep', 'is written as it is'],
            ['fail', 'makes the record fail, with the value in the report'],
            ['default', 'becomes a default value'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="radio">
            <input
              type="radio"
              name={`${headingId}-unmapped`}
              value={value}
              checked={unmapped === value}
              onChange={() => {
                setUnmapped(value);
                emit(pairs, value);
              }}
            />{' '}
            {label}
          </label>
        ))}
        {unmapped === 'default' ? (
          <div className="field">
            <label htmlFor={`${headingId}-default`}>Default value</label>
            <input
              id={`${headingId}-default`}
              type="text"
              value={fallback}
              onChange={(e) => {
                setFallback(e.target.value);
                emit(pairs, unmapped, e.target.value);
              }}
            />
          </div>
        ) : null}
      </fieldset>
    </section>
  );
}

/** One side of a match key: the object's fields, plus the combined key (first + last name) when it has several. */
function KeyFieldSelect({ id, label, value, object, onChange }: { id: string; label: string; value: string | string[]; object?: ObjectView; onChange: (value: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={sourceList(value).join('+')} onChange={(e) => onChange(e.target.value)}>
        {Array.isArray(value) && value.length > 1 ? <option value={value.join('+')}>{value.join(' + ')}</option> : null}
        {(object?.fields ?? []).map((f) => (
          <option key={f.name} value={f.name}>
            {fieldTitle(f)}
          </option>
        ))}
      </select>
    </div>
  );
}

function MatchOptions({
  draft,
  sourceObject,
  targetObject,
  onChange,
}: {
  draft: ObjectMappingView;
  sourceObject?: ObjectView;
  targetObject?: ObjectView;
  onChange: (next: ObjectMappingView) => void;
}) {
  const setKey = (index: number, key: MatchKeyView) => {
    const matchKeys = draft.matchKeys.slice();
    matchKeys[index] = key;
    onChange({ ...draft, matchKeys });
  };
  const defaultTarget = (source: string) =>
    draft.fields.find((f) => f.source.length === 1 && f.source[0] === source)?.target ?? targetObject?.fields[0]?.name ?? '';
  return (
    <section aria-labelledby="match-options-heading" className="match-options">
      <h3 id="match-options-heading">Finding records the target already has</h3>
      <p className="hint">
        Match keys are tried in order; the first one that finds a record in the target links it. A key that finds several
        records is never guessed: the record is held back and listed.
      </p>
      {draft.matchKeys.length === 0 ? <p>No match keys: every record is created new.</p> : null}
      <ol className="match-keys">
        {draft.matchKeys.map((key, i) => {
          const base = `key-${draft.source}-${i}`;
          return (
            <li key={i} className="inline-fields">
              <KeyFieldSelect
                id={`${base}-source`}
                label="Source field"
                value={key.source}
                object={sourceObject}
                onChange={(value) => setKey(i, { ...key, source: splitKey(value), target: defaultTarget(value) })}
              />
              <KeyFieldSelect
                id={`${base}-target`}
                label="Target field"
                value={key.target}
                object={targetObject}
                onChange={(value) => setKey(i, { ...key, target: splitKey(value) })}
              />
              <div className="field">
                <label htmlFor={`${base}-kind`}>Compared as</label>
                <select id={`${base}-kind`} value={key.kind} onChange={(e) => setKey(i, { ...key, kind: e.target.value as MatchKeyKind })}>
                  {KEY_KINDS.map((k) => (
                    <option key={k.value} value={k.value}>
                      {k.label}
                    </option>
                  ))}
                </select>
              </div>
              <button
                type="button"
                className="link-button danger"
                onClick={() => onChange({ ...draft, matchKeys: draft.matchKeys.filter((_, j) => j !== i) })}
              >
                Remove match key {i + 1}
              </button>
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        className="secondary"
        onClick={() => {
          const first = sourceObject?.fields[0]?.name ?? '';
          onChange({ ...draft, matchKeys: [...draft.matchKeys, { source: first, target: defaultTarget(first), kind: 'exact' }] });
        }}
      >
        Add a match key
      </button>
      <fieldset className="radios">
        <legend>When a record already exists in the target</legend>
        {MATCHED_OPTIONS.map((option) => (
          <label key={option.value} className="radio">
            <input
              type="radio"
              name={`matched-${draft.source}`}
              value={option.value}
              checked={draft.matched === option.value}
              onChange={() => onChange({ ...draft, matched: option.value })}
            />{' '}
            <span>
              {option.label}
              <span className="hint block">{option.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="inline-fields">
        <div className="field">
          <label htmlFor={`dups-${draft.source}`}>Duplicates in the source (same key)</label>
          <select
            id={`dups-${draft.source}`}
            value={draft.duplicates}
            onChange={(e) => onChange({ ...draft, duplicates: e.target.value as 'merge' | 'separate' })}
          >
            <option value="merge">Merge them into one record</option>
            <option value="separate">Create each one</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`amb-${draft.source}`}>Several possible records in the target</label>
          <select
            id={`amb-${draft.source}`}
            value={draft.ambiguous}
            onChange={(e) => onChange({ ...draft, ambiguous: e.target.value as 'hold' | 'create' })}
          >
            <option value="hold">Hold the record back and list it</option>
            <option value="create">Create a new record</option>
          </select>
        </div>
      </div>
    </section>
  );
}
